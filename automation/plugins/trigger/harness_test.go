package trigger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	"github.com/google/go-github/v89/github"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/reconcilers/prowjob"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/plugins"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	ghclient "github.com/bowline-ci/bowline/scm/github"
	"github.com/bowline-ci/bowline/scm/webhook"
	"github.com/bowline-ci/bowline/test/envtest"
)

var env *envtest.Env

func TestMain(m *testing.M) { envtest.Main(m, &env) }

const (
	repo       = "acme/widgets"
	hookSecret = "hook-secret"
	botLogin   = "bowline-bot"
)

// seed is the forge's content: alice is an acme member, carol a
// collaborator, bob and carl outsiders, helper[bot] an app's bot.
const seed = `
users:
- {login: bowline-bot, token: bot-token, bot: true}
- {login: alice}
- {login: carol}
- {login: bob}
- {login: carl}
- {login: "helper[bot]", bot: true}
orgs:
- login: acme
  admins: [bowline-bot]
  members: [alice]
  defaultRepoPermission: write
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n", src/main.go: "package main\n", docs/guide.md: "guide\n"}
  collaborators: {carol: write}
  labels: [{name: needs-ok-to-test}, {name: ok-to-test}, {name: lgtm}]
  hooks:
  - {url: "%s", secret: hook-secret}
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

type enabled map[string][]string

func (e enabled) EnabledPlugins(org, _ string) []string { return e[org] }
func (e enabled) Enablement() plugin.Enablement         { return e }

// handled is one event a plugin finished with.
type handled struct {
	ev  *plugin.Event
	err error
}

// recorder tells the test when the trigger plugin has handled an event, so
// that the test can check what it did, and that it did nothing else.
type recorder struct {
	plugin.Plugin
	ch chan handled
	// observe, when set, replaces sending to ch (for benchmarks).
	observe *atomic.Pointer[func(handled)]
}

func (r recorder) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	err := r.Plugin.Handle(ctx, log, ev)
	if f := r.observe.Load(); f != nil {
		(*f)(handled{ev: ev, err: err})
		return err
	}
	r.ch <- handled{ev: ev, err: err}
	return err
}

type harness struct {
	t     testing.TB
	ctx   context.Context
	ns    string
	forge *forgetest.Env
	gh    *github.Client
	done  chan handled
	// seen are handled events no wait has matched yet.
	seen []handled
	// observe replaces done when set.
	observe atomic.Pointer[func(handled)]
	// hookURL is the webhook server's endpoint.
	hookURL string
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
	ctx := t.Context()
	// Defaulting writes to the jobs: work on copies, as parallel tests
	// share their job lists.
	jc := &jobs.Config{Presubmits: map[string][]jobs.Presubmit{repo: slices.Clone(pre)}, Postsubmits: map[string][]jobs.Postsubmit{repo: slices.Clone(post)}}
	jc.SetDefaults(jobs.Defaults{PodNamespace: ns})
	cfg := &trigger.Config{Presubmits: jc.Presubmits[repo], Postsubmits: jc.Postsubmits[repo], Trigger: tr, Namespace: ns}

	h := &harness{t: t, ctx: ctx, ns: ns, done: make(chan handled, 1000)}
	var ghMu sync.Mutex
	ghFor := func(context.Context, string) (*trigger.GitHub, error) {
		ghMu.Lock()
		defer ghMu.Unlock()
		return trigger.FromClient(h.gh), nil
	}
	p := trigger.New(source{cfg: cfg, h: h}, ghFor, kc, botLogin)
	h.plugin = p
	opts := automation.DefaultOptions()
	opts.RetryBackoff, opts.MaxRetryBackoff = 10*time.Millisecond, 50*time.Millisecond
	srv, err := automation.NewServer(opts, automation.Deps{
		Plugins:    []plugin.Plugin{recorder{Plugin: p, ch: h.done, observe: &h.observe}},
		Enablement: enabled{"acme": {trigger.Name}},
		Secrets:    automation.Secrets{"*": {[]byte(hookSecret)}},
		Log:        testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.StartWorkers()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	h.hookURL = hs.URL + automation.HookPath
	sd, err := forge.ParseSeed(fmt.Appendf(nil, seed, h.hookURL))
	if err != nil {
		t.Fatal(err)
	}
	h.forge = forgetest.StartSeed(t, sd, forge.Options{})
	// The plugin talks to the forge through bowline's own GitHub client,
	// as the operator's does (ETag cache, connection pool); the test's
	// own checks use a plain go-github client.
	bot, err := ghclient.New(ghclient.Options{BaseURL: h.forge.URL + "/", Token: "bot-token"})
	if err != nil {
		t.Fatal(err)
	}
	gh, err := bot.ForOrg("acme")
	if err != nil {
		t.Fatal(err)
	}
	ghMu.Lock()
	h.gh = gh
	ghMu.Unlock()
	return h
}

// wait returns once the trigger plugin has handled an event matching
// match, failing the test if that took more than 30s or the plugin failed.
// Events handled meanwhile that do not match are kept for later waits:
// events of one action (a comment, and the label it adds) are handled
// concurrently and may finish in any order.
func (h *harness) wait(what string, match func(*plugin.Event) bool) {
	h.t.Helper()
	check := func(d handled) bool {
		if !match(d.ev) {
			return false
		}
		if d.err != nil {
			h.t.Fatalf("%s: trigger failed: %v", what, d.err)
		}
		return true
	}
	for i, d := range h.seen {
		if check(d) {
			h.seen = slices.Delete(h.seen, i, i+1)
			return
		}
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case d := <-h.done:
			if check(d) {
				return
			}
			h.seen = append(h.seen, d)
		case <-deadline:
			h.t.Fatalf("trigger did not handle %s within 30s", what)
		}
	}
}

func prAction(number int, action string) func(*plugin.Event) bool {
	return func(ev *plugin.Event) bool {
		pe, ok := ev.Payload.(*github.PullRequestEvent)
		return ok && pe.GetAction() == action && pe.GetNumber() == number
	}
}

// prLabeled matches the labeled event of one label: the bot's own labels
// (needs-ok-to-test) send labeled events too.
func prLabeled(number int, label string) func(*plugin.Event) bool {
	return func(ev *plugin.Event) bool {
		pe, ok := ev.Payload.(*github.PullRequestEvent)
		return ok && pe.GetAction() == "labeled" && pe.GetNumber() == number && pe.GetLabel().GetName() == label
	}
}

func commentBody(body string) func(*plugin.Event) bool {
	return func(ev *plugin.Event) bool {
		return ev.Type == plugin.GenericComment && ev.Comment.RawBody == body
	}
}

func pushTo(ref string) func(*plugin.Event) bool {
	return func(ev *plugin.Event) bool {
		pe, ok := ev.Payload.(*github.PushEvent)
		return ok && pe.GetRef() == ref
	}
}

// openPR opens a pull request from branch as author and waits for it to be
// handled; it returns the number and head SHA.
func (h *harness) openPR(author, branch string, files map[string]string, draft bool) (int, string) {
	h.t.Helper()
	fs := map[string][]byte{}
	for k, v := range files {
		fs[k] = []byte(v)
	}
	pr, err := h.forge.As(author).OpenPR(h.ctx, repo, forge.PullRequest{Title: "Change " + branch, Head: branch, Files: fs, Draft: draft})
	if err != nil {
		h.t.Fatalf("open PR: %v", err)
	}
	h.wait("PR opened", prAction(pr.GetNumber(), "opened"))
	return pr.GetNumber(), pr.GetHead().GetSHA()
}

func (h *harness) comment(author string, number int, body string) {
	h.t.Helper()
	if _, err := h.forge.As(author).Comment(h.ctx, repo, number, body); err != nil {
		h.t.Fatalf("comment: %v", err)
	}
	h.wait("comment "+body, commentBody(body))
}

// pushPR pushes a new commit to a pull request's branch and waits for the
// synchronize event to be handled.
func (h *harness) pushPR(author string, number int, branch string, files map[string]string) string {
	h.t.Helper()
	fs := map[string][]byte{}
	for k, v := range files {
		fs[k] = []byte(v)
	}
	sha, err := h.forge.As(author).Push(h.ctx, repo, branch, fs, "more")
	if err != nil {
		h.t.Fatalf("push: %v", err)
	}
	h.wait("synchronize", prAction(number, "synchronize"))
	return sha
}

// runs lists the ProwJobs as "type job state", sorted; state is "-" for
// runs not aborted (those the jobs controller started are pending).
func (h *harness) runs() []string {
	h.t.Helper()
	var list v1alpha1.ProwJobList
	if err := env.Client.List(h.ctx, &list, client.InNamespace(h.ns)); err != nil {
		h.t.Fatal(err)
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
	h.t.Helper()
	var list v1alpha1.ProwJobList
	if err := env.Client.List(h.ctx, &list, client.InNamespace(h.ns)); err != nil {
		h.t.Fatal(err)
	}
	return list.Items
}

// wantRuns waits up to 20s for the runs to be want: superseded runs are
// aborted by the jobs controller shortly after the trigger handled the
// event.
func (h *harness) wantRuns(want ...string) {
	h.t.Helper()
	sort.Strings(want)
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := h.runs()
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("runs:\n got %q\nwant %q", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) labels(number int) []string {
	h.t.Helper()
	pr, err := h.forge.As("alice").PR(h.ctx, repo, number)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, l := range pr.Labels {
		out = append(out, l.GetName())
	}
	sort.Strings(out)
	return out
}

func (h *harness) wantLabels(number int, want ...string) {
	h.t.Helper()
	sort.Strings(want)
	if got := h.labels(number); !slices.Equal(got, want) {
		h.t.Fatalf("labels of #%d: got %q, want %q", number, got, want)
	}
}

// botComments lists what bowline commented on an issue.
func (h *harness) botComments(number int) []string {
	h.t.Helper()
	cs, _, err := h.gh.Issues.ListComments(h.ctx, "acme", "widgets", number, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		if c.GetUser().GetLogin() == botLogin {
			out = append(out, c.GetBody())
		}
	}
	return out
}

func (h *harness) wantBotComment(number int, substr string) {
	h.t.Helper()
	for _, c := range h.botComments(number) {
		if strings.Contains(c, substr) {
			return
		}
	}
	h.t.Fatalf("no comment of %s on #%d contains %q; comments: %q", botLogin, number, substr, h.botComments(number))
}

// redeliver posts a payload to the webhook server as GitHub would redeliver
// it: same delivery ID, signed with the hook's secret. It fails the test
// unless the server answers want (202 when omitted).
func (h *harness) redeliver(delivery, event string, payload any, want ...int) {
	h.t.Helper()
	body, err := json.Marshal(payload)
	if err != nil {
		h.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(h.ctx, http.MethodPost, h.hookURL, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set(webhook.HeaderEvent, event)
	req.Header.Set(webhook.HeaderDelivery, delivery)
	req.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte(hookSecret), body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	code := http.StatusAccepted
	if len(want) > 0 {
		code = want[0]
	}
	if resp.StatusCode != code {
		h.t.Fatalf("redelivery answered %s, want %d", resp.Status, code)
	}
}

// testLogger logs to the test, and nowhere in benchmarks.
func testLogger(t testing.TB) logr.Logger {
	if tt, ok := t.(*testing.T); ok {
		return testr.New(tt)
	}
	return logr.Discard()
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
