package merge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/google/go-github/v89/github"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	ghclient "github.com/bowline-ci/bowline/scm/github"
	"github.com/bowline-ci/bowline/test/envtest"
)

var env *envtest.Env

func TestMain(m *testing.M) {
	log := logr.Discard()
	if os.Getenv("MERGE_TEST_LOG") != "" {
		log = funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) }, funcr.Options{Verbosity: 1})
	}
	ctrl.SetLogger(log)
	envtest.Main(m, &env)
}

const hookSecret = "s3cret"

// seedYAML is an org with one repository whose file lines.txt lets pull
// requests conflict; %s is the webhook receiver's address.
const seedYAML = `
users:
- {login: bowline-bot, token: bot-token, bot: true}
- {login: alice, token: alice-token}
orgs:
- login: acme
  admins: [bowline-bot]
  members: [alice]
  defaultRepoPermission: write
  hooks: [{url: "%s", secret: ` + hookSecret + `}]
repos:
- name: acme/widgets
  files:
    README.md: "# widgets\n"
    lines.txt: "one\ntwo\nthree\n"
  labels: [{name: lgtm}, {name: approved}]
`

// fixture is one test's world: a forge whose webhooks reach the merge
// controller, a namespace, and a stand-in for the jobs controller that
// finishes the runs the merge controller starts.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	ns    string
	forge *forgetest.Env
	alice *forge.Actor
	bot   *forge.Actor
	gh    *ghclient.Client
	// calls counts requests that reached the forge, by method and path;
	// transport can inject faults.
	calls     *callCounter
	transport *countingTransport

	mu      sync.Mutex
	r       *Reconciler
	outcome func(pj *v1alpha1.ProwJob) v1alpha1.ProwJobState
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{t: t, ctx: context.Background(), ns: env.Namespace(t), calls: &callCounter{counts: map[string]int{}}}
	hooks := httptest.NewServer(http.HandlerFunc(fx.receive))
	t.Cleanup(hooks.Close)
	fx.forge = forgetest.Start(t, fmt.Sprintf(seedYAML, hooks.URL))
	fx.alice, fx.bot = fx.forge.As("alice"), fx.forge.As("bowline-bot")
	var err error
	fx.transport = &countingTransport{next: http.DefaultTransport, counter: fx.calls}
	fx.gh, err = ghclient.New(ghclient.Options{BaseURL: fx.forge.URL + "/", Token: "bot-token", Transport: fx.transport, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

// receive is the webhook server: it hands every delivery to the merge
// controller's event handler, as the hook role does.
func (fx *fixture) receive(w http.ResponseWriter, r *http.Request) {
	payload, err := github.ValidatePayload(r, []byte(hookSecret))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	parsed, err := github.ParseWebHook(github.WebHookType(r), payload)
	if err != nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	fx.mu.Lock()
	rec := fx.r
	fx.mu.Unlock()
	if rec != nil {
		d := plugin.Decode(github.WebHookType(r), github.DeliveryID(r), parsed)
		_ = rec.Events().Handle(r.Context(), logr.Discard(), d.Event)
	}
	w.WriteHeader(http.StatusNoContent)
}

// testSet is a configuration with a tide query for acme/widgets (lgtm and
// approved) and one required job, unit.
func testSet(ns string, mut func(*prowconfig.Tide)) *configset.Set {
	fast := &jobs.Duration{Duration: 300 * time.Millisecond}
	t := prowconfig.Tide{
		SyncPeriod: fast, StatusUpdatePeriod: fast,
		Queries: []prowconfig.TideQuery{{Repos: []string{"acme/widgets"}, Labels: []string{"lgtm", "approved"}}},
	}
	if mut != nil {
		mut(&t)
	}
	unit := jobs.Presubmit{JobBase: jobs.JobBase{Name: "unit", Agent: "jenkins"}, AlwaysRun: true, Reporter: jobs.Reporter{Context: "unit"}}
	return &configset.Set{
		Config: &prowconfig.Config{ProwJobNamespace: ns, Tide: t},
		Jobs:   &jobs.Config{Presubmits: map[string][]jobs.Presubmit{"acme/widgets": {unit}}},
	}
}

// start runs the merge controller and the stand-in jobs controller until
// the test ends. outcome decides how each run ends; "" keeps it running.
func (fx *fixture) start(set *configset.Set, outcome func(*v1alpha1.ProwJob) v1alpha1.ProwJobState) func() {
	fx.mu.Lock()
	fx.outcome = outcome
	fx.mu.Unlock()
	r, stop := fx.controller(set, fx.gh, nil)
	fx.mu.Lock()
	fx.r = r
	fx.mu.Unlock()
	stopRunner := fx.runJobs()
	return func() {
		stop()
		stopRunner()
		fx.mu.Lock()
		fx.r = nil
		fx.mu.Unlock()
	}
}

// controller runs a merge controller (one replica) with its own manager,
// talking to GitHub through gh; mut adjusts the manager's options.
func (fx *fixture) controller(set *configset.Set, gh *ghclient.Client, mut func(*ctrl.Options)) (*Reconciler, func()) {
	t := fx.t
	cfg, err := ConfigFrom(set)
	if err != nil {
		t.Fatal(err)
	}
	mgr := env.Manager(t, fx.ns, func(o *ctrl.Options) {
		o.Logger = ctrl.Log
		if mut != nil {
			mut(o)
		}
	})
	syncer := &Syncer{GitHub: gh.ForOrg, StatusBaseURL: "http://ci.example/pr"}
	syncer.Batcher = &GitBatcher{Dir: t.TempDir(), Remote: func(ctx context.Context, org, repo string) (string, string, error) {
		return syncer.CloneURL(org, repo), "bot-token", nil
	}}
	r := &Reconciler{Syncer: syncer, Config: func() (*Config, error) { return cfg, nil }, MaxConcurrentReconciles: 4}
	if err := r.SetupWithManager(fx.ctx, mgr); err != nil {
		t.Fatal(err)
	}
	return r, envtest.Run(t, mgr)
}

// runJobs plays the jobs controller and the reporter: runs move to
// pending, then to the state outcome gives, and presubmits report their
// status on the pull request with the base they tested, as bowline's
// reporter does.
func (fx *fixture) runJobs() func() {
	ctx, cancel := context.WithCancel(fx.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			var list v1alpha1.ProwJobList
			if err := env.Client.List(ctx, &list, client.InNamespace(fx.ns)); err == nil {
				for i := range list.Items {
					fx.step(ctx, &list.Items[i])
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (fx *fixture) step(ctx context.Context, pj *v1alpha1.ProwJob) {
	if pj.Complete() || pj.Status.State == v1alpha1.AbortedState {
		return
	}
	fx.mu.Lock()
	state := fx.outcome(pj)
	fx.mu.Unlock()
	if state == "" {
		if pj.Status.State == "" {
			orig := pj.DeepCopy()
			pj.Status.State = v1alpha1.PendingState
			_ = env.Client.Status().Patch(ctx, pj, client.MergeFrom(orig))
		}
		return
	}
	orig := pj.DeepCopy()
	now := metav1.Now()
	pj.Status.State, pj.Status.CompletionTime, pj.Status.Description = state, &now, "Job "+string(state)+"."
	if err := env.Client.Status().Patch(ctx, pj, client.MergeFrom(orig)); err != nil {
		return
	}
	if pj.Spec.Type == v1alpha1.PresubmitJob && pj.Spec.Report {
		r := pj.Spec.Refs
		gh := map[v1alpha1.ProwJobState]string{v1alpha1.SuccessState: "success", v1alpha1.FailureState: "failure"}[state]
		_ = fx.bot.SetStatus(ctx, "acme/widgets", r.Pulls[0].SHA, pj.Spec.Context, gh, "Job "+string(state)+". BaseSHA:"+r.BaseSHA)
	}
}

// openPR opens an approved pull request changing files, whose unit job
// passed against an older base (as the trigger's run would have).
func (fx *fixture) openPR(branch string, files map[string]string) (int, string) {
	fx.t.Helper()
	bs := map[string][]byte{}
	for k, v := range files {
		bs[k] = []byte(v)
	}
	pr, err := fx.alice.OpenPR(fx.ctx, "acme/widgets", forge.PullRequest{Title: "Change " + branch, Head: branch, Files: bs})
	if err != nil {
		fx.t.Fatal(err)
	}
	n, sha := pr.GetNumber(), pr.GetHead().GetSHA()
	if err := fx.bot.SetStatus(fx.ctx, "acme/widgets", sha, "unit", "success", "Job succeeded. BaseSHA:"+strings.Repeat("0", 40)); err != nil {
		fx.t.Fatal(err)
	}
	if err := fx.alice.Label(fx.ctx, "acme/widgets", n, "lgtm", "approved"); err != nil {
		fx.t.Fatal(err)
	}
	return n, sha
}

// pull reads a pull request from the forge.
func (fx *fixture) pull(n int) *github.PullRequest {
	fx.t.Helper()
	pr, err := fx.alice.PR(fx.ctx, "acme/widgets", n)
	if err != nil {
		fx.t.Fatal(err)
	}
	return pr
}

// tide reads the tide status of a commit.
func (fx *fixture) tide(sha string) (state, desc, url string) {
	var out github.CombinedStatus
	if err := fx.alice.Do(fx.ctx, http.MethodGet, "/repos/acme/widgets/commits/"+sha+"/status", nil, &out); err != nil {
		return "", "", ""
	}
	for _, s := range out.Statuses {
		if s.GetContext() == "tide" {
			return s.GetState(), s.GetDescription(), s.GetTargetURL()
		}
	}
	return "", "", ""
}

// pool reads the MergePool of acme/widgets:main.
func (fx *fixture) pool() *v1alpha1.MergePool {
	mp := &v1alpha1.MergePool{}
	_ = env.Client.Get(fx.ctx, client.ObjectKey{Namespace: fx.ns, Name: PoolName("acme", "widgets", "main")}, mp)
	return mp
}

// runs lists the runs the merge controller created.
func (fx *fixture) runs() []v1alpha1.ProwJob {
	var list v1alpha1.ProwJobList
	_ = env.Client.List(fx.ctx, &list, client.InNamespace(fx.ns), client.MatchingLabels{v1alpha1.CreatedByMergeLabel: "true"})
	return list.Items
}

// pullsOf lists the pull request numbers a run tests.
func pullNumbers(pj *v1alpha1.ProwJob) []int {
	var out []int
	for _, p := range pj.Spec.Refs.Pulls {
		out = append(out, int(p.Number))
	}
	return out
}

func hasPull(pj *v1alpha1.ProwJob, n int) bool {
	for _, p := range pj.Spec.Refs.Pulls {
		if int(p.Number) == n {
			return true
		}
	}
	return false
}

// eventually polls cond until it holds.
func eventually(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s (last seen: %s)", what, timeout, last)
}

// callCounter counts requests by "METHOD path".
type callCounter struct {
	mu     sync.Mutex
	counts map[string]int
	total  atomic.Int64
}

func (c *callCounter) add(key string) {
	c.total.Add(1)
	c.mu.Lock()
	c.counts[key]++
	c.mu.Unlock()
}

func (c *callCounter) get(match func(string) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, v := range c.counts {
		if match(k) {
			n += v
		}
	}
	return n
}

// countingTransport counts requests and can inject faults: fail answers
// a request in place of the forge when it returns a response.
type countingTransport struct {
	next    http.RoundTripper
	counter *callCounter
	mu      sync.Mutex
	fail    func(*http.Request) *http.Response
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.counter.add(r.Method + " " + r.URL.Path)
	c.mu.Lock()
	fail := c.fail
	c.mu.Unlock()
	if fail != nil {
		if resp := fail(r); resp != nil {
			return resp, nil
		}
	}
	return c.next.RoundTrip(r)
}

// jsonResponse is a canned GitHub answer.
func jsonResponse(r *http.Request, code int, body string) *http.Response {
	return &http.Response{StatusCode: code, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}
}
