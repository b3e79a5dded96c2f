package reporter

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

var env *envtest.Env

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	envtest.Main(m, &env)
}

const seed = `
users:
- {login: bowline-bot, token: bot-token, bot: true}
- {login: alice, token: alice-token}
orgs:
- login: acme
  admins: [bowline-bot]
  members: [alice]
  defaultRepoPermission: write
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
`

type fixture struct {
	t     *testing.T
	ctx   context.Context
	ns    string
	forge *forgetest.Env
	gh    *github.Client
	pr    *github.PullRequest
	head  string
	base  string
}

func setup(t *testing.T) *fixture {
	fx := &fixture{t: t, ctx: context.Background(), ns: env.Namespace(t), forge: forgetest.Start(t, seed)}
	fx.gh = fx.forge.Client(t, "bot-token")
	pr, err := fx.forge.As("alice").OpenPR(fx.ctx, "acme/widgets", forge.PullRequest{
		Title: "Add a feature", Head: "feature", Files: map[string][]byte{"feature.go": []byte("package widgets\n")}})
	if err != nil {
		t.Fatal(err)
	}
	fx.pr, fx.head, fx.base = pr, pr.GetHead().GetSHA(), pr.GetBase().GetSHA()
	return fx
}

// start runs a manager with the reporter until stop or the test's end.
func (fx *fixture) start(cfg Config) (stop func()) {
	t := fx.t
	mgr := env.Manager(t, fx.ns)
	r := &Reconciler{
		GitHub:                  func(string) (*github.Client, error) { return fx.gh, nil },
		Config:                  func() Config { return cfg },
		MaxConcurrentReconciles: 1,
	}
	if err := r.SetupWithManager(fx.ctx, mgr); err != nil {
		t.Fatal(err)
	}
	return envtest.Run(t, mgr)
}

// run creates a reported presubmit run of the pull request's head.
func (fx *fixture) run(name, job string, mut ...func(*v1alpha1.ProwJob)) *v1alpha1.ProwJob {
	fx.t.Helper()
	pj := &v1alpha1.ProwJob{ObjectMeta: metav1.ObjectMeta{Namespace: fx.ns, Name: name}, Spec: v1alpha1.ProwJobSpec{
		Type: v1alpha1.PresubmitJob, Agent: v1alpha1.JenkinsAgent, Job: job, Context: job, Report: true, RerunCommand: "/test " + job,
		Refs: &v1alpha1.Refs{Org: "acme", Repo: "widgets", BaseRef: "main", BaseSHA: fx.base,
			Pulls: []v1alpha1.Pull{{Number: int32(fx.pr.GetNumber()), Author: "alice", SHA: fx.head}}},
	}}
	for _, m := range mut {
		m(pj)
	}
	if err := env.Client.Create(fx.ctx, pj); err != nil {
		fx.t.Fatal(err)
	}
	return pj
}

// setState moves a run as the job controller would.
func (fx *fixture) setState(pj *v1alpha1.ProwJob, s v1alpha1.ProwJobState) {
	fx.t.Helper()
	eventually(fx.t, "update "+pj.Name, func() error {
		if err := env.Client.Get(fx.ctx, client.ObjectKeyFromObject(pj), pj); err != nil {
			return err
		}
		now := metav1.Now()
		pj.Status.State, pj.Status.Description = s, "Job "+string(s)+"."
		pj.Status.URL = "https://ci.example/view/" + pj.Name
		if pj.Status.BuildID == "" {
			pj.Status.BuildID = strconv.FormatInt(time.Now().UnixNano(), 10)
		}
		if pj.Status.StartTime == nil {
			pj.Status.StartTime = &now
		}
		if s != v1alpha1.TriggeredState && s != v1alpha1.PendingState {
			pj.Status.CompletionTime = &now
		}
		return env.Client.Status().Update(fx.ctx, pj)
	})
}

// statuses lists the commit statuses of a context, newest first.
func (fx *fixture) statuses(sha, context string) []*github.RepoStatus {
	fx.t.Helper()
	all, _, err := fx.gh.Repositories.ListStatuses(fx.ctx, "acme", "widgets", sha, &github.ListOptions{PerPage: 100})
	if err != nil {
		fx.t.Fatal(err)
	}
	var out []*github.RepoStatus
	for _, s := range all {
		if s.GetContext() == context {
			out = append(out, s)
		}
	}
	return out
}

func (fx *fixture) waitStatus(sha, context, state string) *github.RepoStatus {
	fx.t.Helper()
	var got *github.RepoStatus
	eventually(fx.t, fmt.Sprintf("status %s=%s", context, state), func() error {
		list := fx.statuses(sha, context)
		if len(list) == 0 || list[0].GetState() != state {
			return fmt.Errorf("statuses %v", list)
		}
		got = list[0]
		return nil
	})
	return got
}

// comments lists the bot's summary comments.
func (fx *fixture) comments() []*github.IssueComment {
	fx.t.Helper()
	all, _, err := fx.gh.Issues.ListComments(fx.ctx, "acme", "widgets", fx.pr.GetNumber(), nil)
	if err != nil {
		fx.t.Fatal(err)
	}
	var out []*github.IssueComment
	for _, c := range all {
		if strings.Contains(c.GetBody(), commentMarker) {
			out = append(out, c)
		}
	}
	return out
}

func TestReportsStatusesAndSummaryComment(t *testing.T) {
	fx := setup(t)
	stop := fx.start(Config{})
	unit, lint := fx.run("unit-1", "unit"), fx.run("lint-1", "lint")
	quiet := fx.run("quiet-1", "quiet", func(pj *v1alpha1.ProwJob) { pj.Spec.Report = false })
	fx.setState(unit, v1alpha1.PendingState)
	fx.setState(lint, v1alpha1.PendingState)
	fx.setState(quiet, v1alpha1.FailureState)

	st := fx.waitStatus(fx.head, "unit", "pending")
	if want := "Job pending. BaseSHA:" + fx.base; st.GetDescription() != want || st.GetTargetURL() != "https://ci.example/view/unit-1" {
		t.Errorf("status = %q → %q, want %q", st.GetDescription(), st.GetTargetURL(), want)
	}
	fx.setState(unit, v1alpha1.FailureState)
	fx.setState(lint, v1alpha1.AbortedState)
	fx.waitStatus(fx.head, "unit", "failure")
	fx.waitStatus(fx.head, "lint", "failure")
	eventually(t, "summary comment lists unit", func() error {
		cs := fx.comments()
		if len(cs) != 1 || !strings.Contains(cs[0].GetBody(), "| unit |") || strings.Contains(cs[0].GetBody(), "| lint |") ||
			!strings.Contains(cs[0].GetBody(), "`/test unit`") || cs[0].GetUser().GetLogin() != "bowline-bot" {
			return fmt.Errorf("comments %v", cs)
		}
		return nil
	})
	if n := len(fx.statuses(fx.head, "quiet")); n != 0 {
		t.Errorf("skip_report run got %d statuses", n)
	}

	// A restart reports nothing twice.
	for _, pj := range []*v1alpha1.ProwJob{unit, lint} {
		eventually(t, "report of "+pj.Name+" recorded", func() error {
			if err := env.Client.Get(fx.ctx, client.ObjectKeyFromObject(pj), pj); err != nil {
				return err
			}
			if lastReported(pj) != pj.Status.State {
				return fmt.Errorf("reports = %+v", pj.Status.Reports)
			}
			return nil
		})
	}
	stop()
	before := map[string]int{"unit": len(fx.statuses(fx.head, "unit")), "lint": len(fx.statuses(fx.head, "lint"))}
	fx.start(Config{})
	sentinel := fx.run("sentinel-1", "sentinel")
	fx.setState(sentinel, v1alpha1.PendingState)
	fx.waitStatus(fx.head, "sentinel", "pending")
	for ctx, n := range before {
		if got := len(fx.statuses(fx.head, ctx)); got != n {
			t.Errorf("%s has %d statuses after a restart, had %d", ctx, got, n)
		}
	}

	// A rerun of unit fails too: the comment is edited, not repeated; then
	// it passes and the comment goes away.
	rerun := fx.run("unit-2", "unit")
	fx.setState(rerun, v1alpha1.ErrorState)
	fx.waitStatus(fx.head, "unit", "error")
	eventually(t, "summary comment edited", func() error {
		cs := fx.comments()
		if len(cs) != 1 || !strings.Contains(cs[0].GetBody(), "[error](https://ci.example/view/unit-2)") {
			return fmt.Errorf("comments %v", cs)
		}
		return nil
	})
	rerun2 := fx.run("unit-3", "unit")
	fx.setState(rerun2, v1alpha1.SuccessState)
	fx.waitStatus(fx.head, "unit", "success")
	eventually(t, "summary comment removed", func() error {
		if cs := fx.comments(); len(cs) != 0 {
			return fmt.Errorf("comments %v", cs)
		}
		return nil
	})
	eventually(t, "report recorded", func() error {
		got := &v1alpha1.ProwJob{}
		if err := env.Client.Get(fx.ctx, client.ObjectKeyFromObject(rerun2), got); err != nil {
			return err
		}
		if lastReported(got) != v1alpha1.SuccessState {
			return fmt.Errorf("reports = %+v", got.Status.Reports)
		}
		return nil
	})
}

func TestPostsubmitOnBaseAndJobTypes(t *testing.T) {
	fx := setup(t)
	fx.start(Config{NoCommentRepos: []string{"acme/widgets"}})
	post := fx.run("build-1", "build", func(pj *v1alpha1.ProwJob) {
		pj.Spec.Type, pj.Spec.Refs.Pulls = v1alpha1.PostsubmitJob, nil
	})
	batch := fx.run("batch-1", "batchjob", func(pj *v1alpha1.ProwJob) { pj.Spec.Type = v1alpha1.BatchJob })
	failing := fx.run("unit-1", "unit")
	fx.setState(batch, v1alpha1.SuccessState)
	fx.setState(failing, v1alpha1.FailureState)
	fx.setState(post, v1alpha1.SuccessState)
	fx.waitStatus(fx.base, "build", "success")
	fx.waitStatus(fx.head, "unit", "failure")
	if n := len(fx.statuses(fx.head, "batchjob")) + len(fx.statuses(fx.base, "batchjob")); n != 0 {
		t.Errorf("batch run reported %d statuses though batch is not a job type to report", n)
	}
	if cs := fx.comments(); len(cs) != 0 {
		t.Errorf("comment on a no_comment repo: %v", cs)
	}
}

func eventually(t *testing.T, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestSupersededRunDoesNotOverwriteNewer: when a /test starts a newer run
// of a job on the same commit, the older run's abort must not replace the
// newer run's status.
func TestSupersededRunDoesNotOverwriteNewer(t *testing.T) {
	fx := setup(t)
	fx.start(Config{})
	old := fx.run("e2e-1", "e2e")
	fx.setState(old, v1alpha1.PendingState)
	fx.waitStatus(fx.head, "e2e", "pending")
	newer := fx.run("e2e-2", "e2e")
	fx.setState(newer, v1alpha1.PendingState)
	eventually(t, "newer run's pending status", func() error {
		if st := fx.statuses(fx.head, "e2e"); len(st) < 2 || st[0].GetTargetURL() != "https://ci.example/view/e2e-2" {
			return fmt.Errorf("statuses %v", st)
		}
		return nil
	})
	fx.setState(old, v1alpha1.AbortedState)
	eventually(t, "superseded run's report recorded", func() error {
		if err := env.Client.Get(fx.ctx, client.ObjectKeyFromObject(old), old); err != nil {
			return err
		}
		if lastReported(old) != v1alpha1.AbortedState {
			return fmt.Errorf("reports = %+v", old.Status.Reports)
		}
		return nil
	})
	if st := fx.statuses(fx.head, "e2e"); st[0].GetState() != "pending" || st[0].GetTargetURL() != "https://ci.example/view/e2e-2" {
		t.Errorf("latest e2e status = %s → %s, want the newer run's pending", st[0].GetState(), st[0].GetTargetURL())
	}
	fx.setState(newer, v1alpha1.SuccessState)
	fx.waitStatus(fx.head, "e2e", "success")
}
