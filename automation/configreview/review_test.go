package configreview

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/configplan"
	orgplan "github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/schema/configset"
)

const jobsFile = "config/jobs/demo/hello/hello.yaml"

// TestReviewPostsPlanAndStatus: a pull request gets a bowline/config
// status and one plan comment; each push edits that comment and sets the
// status of the new head; a revision the operator would refuse gets a
// failing status naming the first error's file and line, and a comment
// linking it.
func TestReviewPostsPlanAndStatus(t *testing.T) {
	fx := newFixture(t, nil)
	files := quickstart(t)
	good := strings.Replace(files[jobsFile], "image: alpine:3.22", "image: alpine:3.23", 1)
	n, ev := fx.openPR("newer-alpine", map[string]string{jobsFile: good})
	if err := fx.handle(fx.h, ev); err != nil {
		t.Fatal(err)
	}
	head := ev.GetPullRequest().GetHead().GetSHA()
	st := fx.status(head)
	if st == nil || st.GetState() != "success" || !strings.HasPrefix(st.GetDescription(), "Valid: jobs +0 ~1 -0") {
		t.Fatalf("status of %s: %+v", head, st)
	}
	cs := fx.comments(n)
	if len(cs) != 1 {
		t.Fatalf("%d plan comments, want 1", len(cs))
	}
	body := cs[0].GetBody()
	for _, want := range []string{"### bowline plan: valid", "`pull-hello-test`", "`alpine:3.22` → `alpine:3.23`", "Planned by bowline for " + head[:12]} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	if st.GetTargetURL() != cs[0].GetHTMLURL() {
		t.Errorf("status links %q, want the comment %q", st.GetTargetURL(), cs[0].GetHTMLURL())
	}

	// A push that breaks the revision.
	bad := strings.Replace(good, "    always_run: true\n", "    always_runn: true\n", 1)
	ev = fx.push("newer-alpine", n, map[string]string{jobsFile: bad})
	if err := fx.handle(fx.h, ev); err != nil {
		t.Fatal(err)
	}
	head2 := ev.GetPullRequest().GetHead().GetSHA()
	st = fx.status(head2)
	if st == nil || st.GetState() != "failure" || st.GetDescription() != "Refused: 1 error (first at "+jobsFile+":6:5)" {
		t.Fatalf("status of the bad revision: %+v", st)
	}
	cs2 := fx.comments(n)
	if len(cs2) != 1 || cs2[0].GetID() != cs[0].GetID() {
		t.Fatalf("after a push: %d plan comments, the first #%d; want the same one", len(cs2), cs2[0].GetID())
	}
	body = cs2[0].GetBody()
	// The line the push changed links to the pull request's diff.
	link := fmt.Sprintf("[`%s:6:5`](%s/%s/pull/%d/files#%sR6)", jobsFile, fx.forge.URL, fx.repo, n, configplan.DiffAnchor(jobsFile))
	for _, want := range []string{"### bowline plan: refused", link, `unknown field "always_runn"`} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	// The first head keeps its own status.
	if st := fx.status(head); st.GetState() != "success" {
		t.Errorf("status of the first head became %s", st.GetState())
	}
}

// TestConcurrentReviewsLeaveOneComment: deliveries handled at once, in
// this process and in another replica, leave one plan comment.
func TestConcurrentReviewsLeaveOneComment(t *testing.T) {
	fx := newFixture(t, nil)
	files := quickstart(t)
	n, ev := fx.openPR("concurrent", map[string]string{jobsFile: strings.Replace(files[jobsFile], "interval: 1h", "interval: 2h", 1)})
	// Another replica: its own locks and data directory.
	opts := fx.h.opts
	opts.DataDir = t.TempDir()
	other := New(opts)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		h := fx.h
		if i%2 == 1 {
			h = other
		}
		wg.Go(func() { errs <- fx.handle(h, ev) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if cs := fx.comments(n); len(cs) != 1 {
		t.Fatalf("%d plan comments after concurrent reviews, want 1", len(cs))
	}
	if st := fx.status(ev.GetPullRequest().GetHead().GetSHA()); st.GetState() != "success" {
		t.Fatalf("status %+v", st)
	}
}

// TestReviewComparesWithTheMergeBase: when the base branch moved on since
// the pull request branched off, the plan shows the pull request's own
// change, as GitHub's diff does, not the reverse of what merged since.
func TestReviewComparesWithTheMergeBase(t *testing.T) {
	fx := newFixture(t, nil)
	files := quickstart(t)
	n, ev := fx.openPR("periodic-every-2h", map[string]string{jobsFile: strings.Replace(files[jobsFile], "interval: 1h", "interval: 2h", 1)})
	// main moves on: another job changes and is applied.
	moved := strings.Replace(files[jobsFile], "pull-hello-test", "pull-hello-unit", 1)
	if _, err := fx.forge.As("alice").Push(fx.ctx, fx.repo, "main", map[string][]byte{jobsFile: []byte(moved)}, "Rename the presubmit"); err != nil {
		t.Fatal(err)
	}
	fx.apply(fx.mainSHA())
	if err := fx.handle(fx.h, ev); err != nil {
		t.Fatal(err)
	}
	body := fx.comments(n)[0].GetBody()
	if !strings.Contains(body, "`periodic-hello-test`") || strings.Contains(body, "pull-hello-unit") || !strings.Contains(body, "jobs +0 ~1 -0") {
		t.Fatalf("plan of the pull request's own change:\n%s", body)
	}
}

// TestReviewWhenTheMergeBaseIsInvalid: a pull request that branched off
// a revision the operator refused (main broken since the applied one) is
// compared with the applied revision, says so, and links nothing of the
// base, whose lines are not the merge base's.
func TestReviewWhenTheMergeBaseIsInvalid(t *testing.T) {
	fx := newFixture(t, nil)
	files := quickstart(t)
	broken := strings.Replace(files[jobsFile], "    always_run: true\n", "    always_runn: true\n", 1)
	if _, err := fx.forge.As("alice").Push(fx.ctx, fx.repo, "main", map[string][]byte{jobsFile: []byte(broken)}, "Break the jobs"); err != nil {
		t.Fatal(err)
	}
	fixed := files[jobsFile][:strings.Index(files[jobsFile], "periodics:")]
	n, ev := fx.openPR("fix-and-drop-the-periodic", map[string]string{jobsFile: fixed})
	if err := fx.handle(fx.h, ev); err != nil {
		t.Fatal(err)
	}
	if st := fx.status(ev.GetPullRequest().GetHead().GetSHA()); st == nil || st.GetState() != "success" {
		t.Fatalf("status: %+v", st)
	}
	body := fx.comments(n)[0].GetBody()
	for _, want := range []string{"is not a valid revision: the plan compares with the applied revision", "| removed | `periodic-hello-test` | periodic |"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
}

// TestReviewIgnores: pull requests to other repositories, to branches the
// ConfigRepository does not follow, and closed ones get nothing.
func TestReviewIgnores(t *testing.T) {
	fx := newFixture(t, nil)
	hello := fx.owner + "/hello"
	pr, err := fx.forge.As("alice").OpenPR(fx.ctx, hello, forgePR("other-repo", map[string]string{"test.sh": "exit 1\n"}, ""))
	if err != nil {
		t.Fatal(err)
	}
	ev := fx.event("opened", pr.GetNumber())
	owner, name, _ := strings.Cut(hello, "/")
	if err := fx.h.Handle(fx.ctx, discard, eventOf(owner, name, ev)); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(t, fx, hello, pr.GetHead().GetSHA()); st != nil {
		t.Errorf("a pull request to another repository got %+v", st)
	}

	// A branch that is not main.
	if _, err := fx.forge.As("alice").Push(fx.ctx, fx.repo, "release", map[string][]byte{"NOTES": []byte("x\n")}, "Release branch"); err != nil {
		t.Fatal(err)
	}
	pr, err = fx.forge.As("alice").OpenPR(fx.ctx, fx.repo, forgePR("to-release", map[string]string{"NOTES": "y\n"}, "release"))
	if err != nil {
		t.Fatal(err)
	}
	ev = fx.event("opened", pr.GetNumber())
	if err := fx.handle(fx.h, ev); err != nil {
		t.Fatal(err)
	}
	if st := fx.status(pr.GetHead().GetSHA()); st != nil {
		t.Errorf("a pull request to another branch got %+v", st)
	}
	if cs := fx.comments(pr.GetNumber()); len(cs) != 0 {
		t.Errorf("a pull request to another branch got %d comments", len(cs))
	}

	// A pull request closed before its opened event is handled.
	n, ev := fx.openPR("closed-early", map[string]string{"NOTES": "z\n"})
	if _, _, err := fx.forge.Client(t, "alice-token").PullRequests.Edit(fx.ctx, owner, "config", n, &github.PullRequest{State: github.Ptr("closed")}); err != nil {
		t.Fatal(err)
	}
	if err := fx.handle(fx.h, ev); err != nil {
		t.Fatal(err)
	}
	if st := fx.status(ev.GetPullRequest().GetHead().GetSHA()); st != nil {
		t.Errorf("a closed pull request got %+v", st)
	}
	if cs := fx.comments(n); len(cs) != 0 {
		t.Errorf("a closed pull request got %d comments", len(cs))
	}
}

// TestCommentsOfOthersAreLeftAlone: a comment by someone else that starts
// with the marker is neither edited nor taken for the plan.
func TestCommentsOfOthersAreLeftAlone(t *testing.T) {
	fx := newFixture(t, nil)
	files := quickstart(t)
	n, ev := fx.openPR("impostor", map[string]string{jobsFile: strings.Replace(files[jobsFile], "interval: 1h", "interval: 3h", 1)})
	fake, err := fx.forge.As("mallory").Comment(fx.ctx, fx.repo, n, Marker+"\nnot a plan")
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.handle(fx.h, ev); err != nil {
		t.Fatal(err)
	}
	cs := fx.comments(n)
	if len(cs) != 2 || cs[0].GetID() != fake.GetID() || cs[0].GetBody() != Marker+"\nnot a plan" || cs[1].GetUser().GetLogin() != "bowline-bot" {
		t.Fatalf("comments %d: %+v", len(cs), cs)
	}
}

// stubOrgs counts the orgs it is asked to read.
type stubOrgs struct {
	configplan.OrgStates
	reads int
}

func (s *stubOrgs) Observe(ctx context.Context, d *orgplan.Desired) (*orgplan.State, error) {
	s.reads++
	return &orgplan.State{Org: d.Org}, nil
}

// TestOrgReadsShareOneDeadline: once a plan's time for reading orgs is
// spent, the rest are not read.
func TestOrgReadsShareOneDeadline(t *testing.T) {
	inner := &stubOrgs{}
	orgs := &timedOrgs{Orgs: inner, deadline: time.Now().Add(time.Hour), timeout: time.Hour}
	if s, err := orgs.Observe(t.Context(), &orgplan.Desired{Org: "acme"}); err != nil || s == nil {
		t.Fatalf("within the deadline: %v, %v", s, err)
	}
	orgs.deadline = time.Now().Add(-time.Second)
	if _, err := orgs.Observe(t.Context(), &orgplan.Desired{Org: "acme"}); err == nil || !strings.Contains(err.Error(), "not read") {
		t.Fatalf("after the deadline: %v", err)
	}
	if inner.reads != 1 {
		t.Errorf("%d reads, want 1", inner.reads)
	}
}

// TestReviewRunsTheInstallsChecks: a revision the install's own checks
// refuse (here a deployment file whose image comes from a repository the
// install does not allow) fails its status at the file and line, as the
// ConfigRepository reconciler would refuse it; an allowed image passes and
// the plan lists the role that moves to a Deployment of its own.
func TestReviewRunsTheInstallsChecks(t *testing.T) {
	fx := newFixture(t, nil, func(_ *fixture, o *Options) {
		o.DeployApplied = true
		o.Check = func(set *configset.Set) error {
			if set.Deploy == nil {
				return nil
			}
			var errs configset.Errors
			set.Deploy.CheckRepository([]string{"ghcr.io/bowline-ci/bowline"}, &errs)
			return errs.Err()
		}
	})
	const deployFile = "config/bowline/deployment.yaml"
	n, ev := fx.openPR("deploy", map[string]string{deployFile: "roles:\n  hook: {replicas: 3}\nimage: registry.example/bowline:v1.0.0\n"})
	if err := fx.handle(fx.h, ev); err != nil {
		t.Fatal(err)
	}
	st := fx.status(ev.GetPullRequest().GetHead().GetSHA())
	if st == nil || st.GetState() != "failure" || st.GetDescription() != "Refused: 1 error (first at "+deployFile+":3:8)" {
		t.Fatalf("status of a disallowed image: %+v", st)
	}
	ev = fx.push("deploy", n, map[string]string{deployFile: "roles:\n  hook: {replicas: 3}\nimage: ghcr.io/bowline-ci/bowline:v1.0.0\n"})
	if err := fx.handle(fx.h, ev); err != nil {
		t.Fatal(err)
	}
	if st := fx.status(ev.GetPullRequest().GetHead().GetSHA()); st == nil || st.GetState() != "success" {
		t.Fatalf("status of an allowed image: %+v", st)
	}
	body := fx.comments(n)[0].GetBody()
	for _, want := range []string{"#### bowline's deployment", "Once merged, bowline rolls them out", "- role hook moves to a Deployment of its own (3 replicas)"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
}
