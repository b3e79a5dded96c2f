package trigger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/reconcilers/prowjob"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/plugins"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

var env *envtest.Env

func TestMain(m *testing.M) { envtest.Main(m, &env) }

const repo = "acme/widgets"

// seed is the forge's content: alice is an acme member, carol a
// collaborator, bob and carl outsiders, helper[bot] an app's bot.
const seed = `
users:
- {login: alice}
- {login: carol}
- {login: bob}
- {login: carl}
- {login: "helper[bot]", bot: true}
orgs:
- login: acme
  members: [alice]
  defaultRepoPermission: write
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n", src/main.go: "package main\n", docs/guide.md: "guide\n"}
  collaborators: {carol: write}
  labels: [{name: needs-ok-to-test}, {name: ok-to-test}, {name: lgtm}]
`

// source serves one repository's config, with the harness's in-repo
// config source when a test sets one.
type source struct {
	cfg *trigger.Config
	h   *harness
}

func (s source) TriggerConfig(org, r string) *trigger.Config {
	if org+"/"+r != repo {
		return nil
	}
	if in := s.h.inRepo.Load(); in != nil {
		cfg := *s.cfg
		cfg.InRepo = *in
		return &cfg
	}
	return s.cfg
}

// harness is the trigger plugin behind the webhook server, a forge
// delivering to it, and the API server namespace its runs go to.
type harness struct {
	*plugintest.Env
	ns string
	// gh is the bot's client, the one the plugin uses.
	gh *github.Client
	// plugin is the trigger plugin the server runs.
	plugin *trigger.Plugin
	// inRepo, when set, adds in-repo jobs.
	inRepo atomic.Pointer[trigger.InRepo]
}

// job options
type psOpt func(*jobs.Presubmit)

func always(p *jobs.Presubmit)      { p.AlwaysRun = true }
func optional(p *jobs.Presubmit)    { p.Optional = true }
func ifChanged(re string) psOpt     { return func(p *jobs.Presubmit) { p.RunIfChanged = re } }
func unlessOnly(re string) psOpt    { return func(p *jobs.Presubmit) { p.SkipIfOnlyChanged = re } }
func beforeMerge(p *jobs.Presubmit) { p.RunBeforeMerge = true }
func onBranches(b ...string) psOpt {
	return func(p *jobs.Presubmit) { p.Branches = b }
}
func skipBranches(b ...string) psOpt {
	return func(p *jobs.Presubmit) { p.SkipBranches = b }
}

func podSpec() *corev1.PodSpec {
	return &corev1.PodSpec{Containers: []corev1.Container{{Name: "test", Image: "alpine", Command: []string{"true"}}}}
}

func presubmit(name string, opts ...psOpt) jobs.Presubmit {
	p := jobs.Presubmit{JobBase: jobs.JobBase{Name: name, Spec: podSpec()}}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func postsubmit(name string, mod func(*jobs.Postsubmit)) jobs.Postsubmit {
	p := jobs.Postsubmit{JobBase: jobs.JobBase{Name: name, Spec: podSpec()}}
	if mod != nil {
		mod(&p)
	}
	return p
}

// start runs the API server namespace, the webhook server with the trigger
// plugin, and a forge delivering to it.
func start(t testing.TB, pre []jobs.Presubmit, post []jobs.Postsubmit, tr plugins.Trigger) *harness {
	t.Helper()
	ns := env.Namespace(t)
	startJobs(t, ns)
	return startIn(t, ns, kubeClient(t), pre, post, tr)
}

// startJobs runs the jobs controller on a namespace until the test ends:
// it aborts the runs a newer run of the same job supersedes. Pods are
// created but never run (there is no kubelet), so runs stay pending.
func startJobs(t testing.TB, ns string) {
	t.Helper()
	mgr := env.Manager(t, ns, func(o *ctrl.Options) { o.Cache.ByObject = prowjob.CacheByObject() })
	if err := (&prowjob.Reconciler{}).SetupWithManager(t.Context(), mgr); err != nil {
		t.Fatal(err)
	}
	envtest.Run(t, mgr)
}

// startIn is start with the namespace and API server client given.
func startIn(t testing.TB, ns string, kc trigger.Kube, pre []jobs.Presubmit, post []jobs.Postsubmit, tr plugins.Trigger) *harness {
	t.Helper()
	// Defaulting writes to the jobs: work on copies, as parallel tests
	// share their job lists.
	jc := &jobs.Config{Presubmits: map[string][]jobs.Presubmit{repo: slices.Clone(pre)}, Postsubmits: map[string][]jobs.Postsubmit{repo: slices.Clone(post)}}
	jc.SetDefaults(jobs.Defaults{PodNamespace: ns})
	cfg := &trigger.Config{Presubmits: jc.Presubmits[repo], Postsubmits: jc.Postsubmits[repo], Trigger: tr, Namespace: ns}

	h := &harness{ns: ns}
	var botFor func(context.Context, string) (*github.Client, error)
	h.Env = plugintest.Start(t, plugintest.Options{
		Seed:      seed,
		EnableAll: true,
		Plugins: func(d plugintest.Deps) []plugin.Plugin {
			botFor = d.GitHub
			ghFor := func(ctx context.Context, org string) (*trigger.GitHub, error) {
				gh, err := d.GitHub(ctx, org)
				if err != nil {
					return nil, err
				}
				return trigger.FromClient(gh), nil
			}
			h.plugin = trigger.New(source{cfg: cfg, h: h}, ghFor, kc, plugintest.BotLogin)
			return []plugin.Plugin{h.plugin}
		},
	})
	gh, err := botFor(h.Ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	h.gh = gh
	return h
}

func pushTo(ref string) plugintest.Match {
	return plugintest.Match{Type: "push", Fn: func(ev *plugin.Event) bool {
		pe, ok := ev.Payload.(*github.PushEvent)
		return ok && pe.GetRef() == ref
	}}
}

// openPR opens a pull request from branch as author and waits for it to be
// handled; it returns the number and head SHA.
func (h *harness) openPR(author, branch string, files map[string]string, draft bool) (int, string) {
	h.T.Helper()
	pr := h.OpenPR(author, repo, forge.PullRequest{Head: branch, Files: plugintest.Files(files), Draft: draft})
	return pr.GetNumber(), pr.GetHead().GetSHA()
}

// runs lists the ProwJobs as "type job state", sorted; state is "-" for
// runs not aborted (those the jobs controller started are pending).
func (h *harness) runs() []string {
	h.T.Helper()
	var list v1alpha1.ProwJobList
	if err := env.Client.List(h.Ctx, &list, client.InNamespace(h.ns)); err != nil {
		h.T.Fatal(err)
	}
	var out []string
	for _, pj := range list.Items {
		st := "-"
		if pj.Status.State == v1alpha1.AbortedState {
			st = string(pj.Status.State)
		}
		out = append(out, fmt.Sprintf("%s %s %s", pj.Spec.Type, pj.Spec.Job, st))
	}
	sort.Strings(out)
	return out
}

func (h *harness) prowJobs() []v1alpha1.ProwJob {
	h.T.Helper()
	var list v1alpha1.ProwJobList
	if err := env.Client.List(h.Ctx, &list, client.InNamespace(h.ns)); err != nil {
		h.T.Fatal(err)
	}
	return list.Items
}

// wantRuns waits up to 20s for the runs to be want: superseded runs are
// aborted by the jobs controller shortly after the trigger handled the
// event.
func (h *harness) wantRuns(want ...string) {
	h.T.Helper()
	sort.Strings(want)
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := h.runs()
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			h.T.Fatalf("runs:\n got %q\nwant %q", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) wantLabels(number int, want ...string) {
	h.T.Helper()
	sort.Strings(want)
	if got := h.Labels(repo, number); !slices.Equal(got, want) {
		h.T.Fatalf("labels of #%d: got %q, want %q", number, got, want)
	}
}

func (h *harness) wantBotComment(number int, substr string) {
	h.T.Helper()
	for _, c := range h.BotComments(repo, number) {
		if strings.Contains(c, substr) {
			return
		}
	}
	h.T.Fatalf("no comment of %s on #%d contains %q; comments: %q", plugintest.BotLogin, number, substr, h.BotComments(repo, number))
}

// redeliver posts a payload to the webhook server as GitHub would redeliver
// it: same delivery ID, signed with the hook's secret. It fails the test
// unless the server answers want (202 when omitted).
func (h *harness) redeliver(delivery, event string, payload any, want ...int) {
	h.T.Helper()
	body, err := json.Marshal(payload)
	if err != nil {
		h.T.Fatal(err)
	}
	code, err := h.Post(http.DefaultClient, event, delivery, body)
	if err != nil {
		h.T.Fatal(err)
	}
	wantCode := http.StatusAccepted
	if len(want) > 0 {
		wantCode = want[0]
	}
	if code != wantCode {
		h.T.Fatalf("redelivery answered %d, want %d", code, wantCode)
	}
}

var (
	kubeOnce sync.Once
	kube     client.Client
	kubeErr  error
)

// kubeClient is a client without client-go's default throttle of 5
// requests a second, which a webhook server creating a run per event
// cannot live with; deployments raise it the same way.
func kubeClient(t testing.TB) client.Client {
	t.Helper()
	kubeOnce.Do(func() {
		cfg := rest.CopyConfig(env.Config)
		cfg.QPS, cfg.Burst = 1000, 2000
		kube, kubeErr = client.New(cfg, client.Options{Scheme: env.Scheme})
	})
	if kubeErr != nil {
		t.Fatal(kubeErr)
	}
	return kube
}
