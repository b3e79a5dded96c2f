package merge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

const wait = 60 * time.Second

func alwaysSucceed(*v1alpha1.ProwJob) v1alpha1.ProwJobState { return v1alpha1.SuccessState }

// merged waits for pull requests to be merged.
func (fx *fixture) waitMerged(ns ...int) {
	fx.t.Helper()
	eventually(fx.t, fmt.Sprintf("merge of %v", ns), wait, func() (bool, string) {
		var open []int
		for _, n := range ns {
			if !fx.pull(n).GetMerged() {
				open = append(open, n)
			}
		}
		return len(open) == 0, fmt.Sprintf("still open: %v; pool: %s", open, poolSummary(fx.pool()))
	})
}

func poolSummary(mp *v1alpha1.MergePool) string {
	b, _ := json.Marshal(struct {
		Action  v1alpha1.MergeAction
		Targets []int32
		PRs     []v1alpha1.PoolPullRequest
		Batches []v1alpha1.PoolBatch
		Merges  []v1alpha1.PoolMerge
		Conds   []metav1.Condition
	}{mp.Status.Action, mp.Status.Targets, mp.Status.PullRequests, mp.Status.Batches, mp.Status.LastMerges, mp.Status.Conditions})
	return string(b)
}

// TestBatchMergesAndExplains is the everyday path: two approved pull
// requests whose results are stale are tested together and merged; a third
// whose job failed stays out, and its tide status and the /pr page say why.
func TestBatchMergesAndExplains(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	n1, _ := fx.openPR("one", map[string]string{"one.txt": "1\n"})
	n2, _ := fx.openPR("two", map[string]string{"two.txt": "2\n"})
	n3, sha3 := fx.openPR("three", map[string]string{"three.txt": "3\n"})
	if err := fx.bot.SetStatus(fx.ctx, "acme/widgets", sha3, "unit", "failure", "Job failed."); err != nil {
		t.Fatal(err)
	}
	fx.start(testSet(fx.ns, nil), alwaysSucceed)

	fx.waitMerged(n1, n2)
	batched := slices.ContainsFunc(fx.runs(), func(pj v1alpha1.ProwJob) bool {
		return pj.Spec.Type == v1alpha1.BatchJob && slices.Equal(pullNumbers(&pj), []int{n1, n2})
	})
	if !batched {
		t.Errorf("no batch run tested #%d and #%d together", n1, n2)
	}
	eventually(t, "the merge recorded in the MergePool", wait, func() (bool, string) {
		mp := fx.pool()
		for _, m := range mp.Status.LastMerges {
			if m.Action == v1alpha1.MergeActionMergeBatch && len(m.Pulls) == 2 && m.Pulls[1].MergeSHA != "" && m.Error == "" {
				return true, ""
			}
		}
		return false, poolSummary(mp)
	})
	eventually(t, "the failing pull request's tide status", wait, func() (bool, string) {
		state, desc, url := fx.tide(sha3)
		return state == "pending" && desc == "Not mergeable. Job unit has not succeeded." &&
			url == "http://ci.example/pr/acme/widgets/3", state + " " + desc + " " + url
	})
	if fx.pull(n3).GetMerged() {
		t.Errorf("#%d merged although its job failed", n3)
	}
	// The controller synced this pool many times; the status was written
	// once, as nothing about #3 changed.
	var statuses []*github.RepoStatus
	if err := fx.alice.Do(fx.ctx, http.MethodGet, "/repos/acme/widgets/statuses/"+sha3, nil, &statuses); err != nil {
		t.Fatal(err)
	}
	tides := 0
	for _, s := range statuses {
		if s.GetContext() == "tide" {
			tides++
		}
	}
	if tides != 1 {
		t.Errorf("the tide status of #%d was written %d times, want once", n3, tides)
	}

	// The page the status links to says the same.
	srv := httptest.NewServer(&PRPage{Client: env.Client})
	defer srv.Close()
	eventually(t, "the /pr page", wait, func() (bool, string) {
		resp, err := http.Get(srv.URL + "/pr/acme/widgets/3")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var st PRStatus
		_ = json.NewDecoder(resp.Body).Decode(&st)
		return resp.StatusCode == 200 && st.State == v1alpha1.PoolPRNotMergeable && st.Reason == "Not mergeable. Job unit has not succeeded.",
			fmt.Sprintf("%d %+v; pool %s", resp.StatusCode, st, poolSummary(fx.pool()))
	})
}

// TestBisectionFindsTheCulprit: a batch of four fails because of one pull
// request. Instead of testing the same batch again, its halves are tested:
// the passing half merges, the failing half is split down to single pull
// requests, whose own failing job keeps the culprit out. The failed batch
// itself is never run again.
func TestBisectionFindsTheCulprit(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	var ns []int
	for i := 1; i <= 4; i++ {
		n, _ := fx.openPR(fmt.Sprintf("change-%d", i), map[string]string{fmt.Sprintf("f%d.txt", i): "x\n"})
		ns = append(ns, n)
	}
	culprit := ns[2]
	var bisecting atomic.Bool
	fx.start(testSet(fx.ns, nil), func(pj *v1alpha1.ProwJob) v1alpha1.ProwJobState {
		switch kind := pj.Annotations[v1alpha1.MergeKindAnnotation]; {
		case kind == string(v1alpha1.PoolBatchBisection):
			bisecting.Store(true)
		case kind == string(v1alpha1.PoolBatchRetest) && !bisecting.Load():
			// Tide's own retest of a single pull request could find the
			// culprit first: it runs on once bisection has begun.
			return ""
		}
		if hasPull(pj, culprit) {
			return v1alpha1.FailureState
		}
		return v1alpha1.SuccessState
	})
	fx.waitMerged(ns[0], ns[1], ns[3])
	sha := fx.pull(culprit).GetHead().GetSHA()
	eventually(t, "the culprit's tide status", wait, func() (bool, string) {
		state, desc, _ := fx.tide(sha)
		return state == "pending" && desc == "Not mergeable. Job unit has not succeeded.", state + " " + desc
	})
	if fx.pull(culprit).GetMerged() {
		t.Fatalf("the culprit #%d merged", culprit)
	}
	counts := map[string]int{}
	bisected := false
	for _, pj := range fx.runs() {
		if pj.Spec.Type == v1alpha1.BatchJob {
			counts[fmt.Sprint(pullNumbers(&pj))]++
		}
		bisected = bisected || pj.Annotations[v1alpha1.MergeKindAnnotation] == string(v1alpha1.PoolBatchBisection)
	}
	if !bisected {
		t.Error("no bisection run")
	}
	for set, n := range counts {
		if n > 1 {
			t.Errorf("batch %s was run %d times", set, n)
		}
	}
}

// TestSpeculativeBatchMergesWithoutRetest: with batches of two, the next
// two pull requests are tested on top of the batch under test; when that
// batch merges, their result counts for the new base and they merge without
// being tested again.
func TestSpeculativeBatchMergesWithoutRetest(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	var ns []int
	for i := 1; i <= 4; i++ {
		n, _ := fx.openPR(fmt.Sprintf("spec-%d", i), map[string]string{fmt.Sprintf("s%d.txt", i): "x\n"})
		ns = append(ns, n)
	}
	var stacked, lowerMerged atomic.Bool
	set := testSet(fx.ns, func(t *prowconfig.Tide) { t.BatchSizeLimitMap = map[string]int{"*": 2} })
	fx.start(set, func(pj *v1alpha1.ProwJob) v1alpha1.ProwJobState {
		pulls := pullNumbers(pj)
		switch {
		case pj.Spec.Type == v1alpha1.PresubmitJob:
			return v1alpha1.SuccessState
		case slices.Equal(pulls, ns):
			stacked.Store(true)
			if lowerMerged.Load() {
				return v1alpha1.SuccessState
			}
		case slices.Equal(pulls, ns[:2]) && stacked.Load():
			return v1alpha1.SuccessState
		}
		return ""
	})
	fx.waitMerged(ns[0], ns[1])
	lowerMerged.Store(true)
	fx.waitMerged(ns[2], ns[3])
	for _, pj := range fx.runs() {
		if pj.Spec.Type == v1alpha1.BatchJob {
			if p := pullNumbers(&pj); !slices.Equal(p, ns) && !slices.Equal(p, ns[:2]) {
				t.Errorf("batch %v ran: the speculative result should have been used", p)
			}
		}
	}
	// The MergePool records the second merge once the sync that made it
	// ends.
	eventually(t, "both merges recorded", wait, func() (bool, string) {
		mp := fx.pool()
		m := mp.Status.LastMerges
		return len(m) >= 2 && m[0].Pulls[0].Number == int32(ns[2]) && m[1].Pulls[0].Number == int32(ns[0]), poolSummary(mp)
	})
}

// TestResumesAnInterruptedMerge: the previous leader recorded a batch merge
// and merged its first pull request before it died. The new one finishes
// the batch without merging anything twice; when someone else pushed to
// the branch meanwhile, it gives the rest up.
func TestResumesAnInterruptedMerge(t *testing.T) {
	for _, moved := range []bool{false, true} {
		t.Run(fmt.Sprintf("branch moved %t", moved), func(t *testing.T) {
			t.Parallel()
			fx := newFixture(t)
			n1, sha1 := fx.openPR("first", map[string]string{"a.txt": "a\n"})
			n2, sha2 := fx.openPR("second", map[string]string{"b.txt": "b\n"})
			base := fx.pull(n1).GetBase().GetSHA()
			mp := newPool(fx.ns, poolKey{"acme", "widgets", "main"})
			if err := env.Client.Create(fx.ctx, mp); err != nil {
				t.Fatal(err)
			}
			mp.Status.Merging = &v1alpha1.PoolMerge{Action: v1alpha1.MergeActionMergeBatch, BaseSHA: base, StartTime: metav1.Now(),
				Pulls: []v1alpha1.PoolPull{{Number: int32(n1), SHA: sha1, Method: "merge"}, {Number: int32(n2), SHA: sha2, Method: "merge"}}}
			if err := env.Client.Status().Update(fx.ctx, mp); err != nil {
				t.Fatal(err)
			}
			if _, err := fx.alice.Merge(fx.ctx, "acme/widgets", n1, "merge"); err != nil {
				t.Fatal(err)
			}
			if moved {
				if _, err := fx.alice.Push(fx.ctx, "acme/widgets", "main", map[string][]byte{"other.txt": []byte("o\n")}, "Someone else"); err != nil {
					t.Fatal(err)
				}
			}
			// Runs all fail: nothing merges but through the resumed merge.
			fx.start(testSet(fx.ns, nil), func(*v1alpha1.ProwJob) v1alpha1.ProwJobState { return v1alpha1.FailureState })
			eventually(t, "the merge completed", wait, func() (bool, string) {
				mp := fx.pool()
				return mp.Status.Merging == nil && len(mp.Status.LastMerges) > 0, poolSummary(mp)
			})
			m := fx.pool().Status.LastMerges[0]
			if got := fx.calls.get(func(k string) bool { return k == fmt.Sprintf("PUT /repos/acme/widgets/pulls/%d/merge", n1) }); got != 0 {
				t.Errorf("#%d merged again (%d merge requests)", n1, got)
			}
			if m.Pulls[0].MergeSHA != fx.pull(n1).GetMergeCommitSHA() {
				t.Errorf("merge of #%d recorded as %q, want %q", n1, m.Pulls[0].MergeSHA, fx.pull(n1).GetMergeCommitSHA())
			}
			if moved {
				if fx.pull(n2).GetMerged() || !strings.Contains(m.Error, "moved") {
					t.Errorf("#%d merged after the branch moved: %s", n2, poolSummary(fx.pool()))
				}
				return
			}
			if !fx.pull(n2).GetMerged() || m.Pulls[1].MergeSHA == "" || m.Error != "" {
				t.Errorf("the rest of the batch was not merged: %s", poolSummary(fx.pool()))
			}
		})
	}
}

// TestRetriesWhenTheBaseBranchWasModified injects GitHub's "Base branch was
// modified" answer to the first merge attempt: the merge is retried.
func TestRetriesWhenTheBaseBranchWasModified(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	n, _ := fx.openPR("retry", map[string]string{"r.txt": "r\n"})
	path := fmt.Sprintf("/repos/acme/widgets/pulls/%d/merge", n)
	var injected atomic.Int32
	fx.transport.mu.Lock()
	fx.transport.fail = func(r *http.Request) *http.Response {
		if r.Method == http.MethodPut && r.URL.Path == path && injected.Add(1) == 1 {
			return jsonResponse(r, http.StatusMethodNotAllowed, `{"message":"Base branch was modified. Review and try the merge again."}`)
		}
		return nil
	}
	fx.transport.mu.Unlock()
	fx.start(testSet(fx.ns, nil), alwaysSucceed)
	fx.waitMerged(n)
	if got := fx.calls.get(func(k string) bool { return k == "PUT "+path }); got != 2 {
		t.Errorf("%d merge requests, want the refused one and its retry", got)
	}
}

// TestConflictingPullRequestsAreNotBatched: of two pull requests changing
// the same line, only the first goes into the batch; once it merged, the
// other one conflicts, and its tide status says so.
func TestConflictingPullRequestsAreNotBatched(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	n1, _ := fx.openPR("red", map[string]string{"lines.txt": "red\ntwo\nthree\n"})
	n2, sha2 := fx.openPR("blue", map[string]string{"lines.txt": "blue\ntwo\nthree\n"})
	n3, _ := fx.openPR("green", map[string]string{"green.txt": "g\n"})
	fx.start(testSet(fx.ns, nil), alwaysSucceed)
	fx.waitMerged(n1, n3)
	for _, pj := range fx.runs() {
		if pj.Spec.Type == v1alpha1.BatchJob && hasPull(&pj, n1) && hasPull(&pj, n2) {
			t.Errorf("conflicting pull requests batched together: %v", pullNumbers(&pj))
		}
	}
	eventually(t, "the conflict in the tide status", wait, func() (bool, string) {
		state, desc, _ := fx.tide(sha2)
		return state == "error" && desc == "Not mergeable. PR has a merge conflict.", state + " " + desc
	})
}

// TestStatusFollowsWebhooks: with searches an hour apart, removing a label
// changes the tide status within seconds, through the webhook alone.
func TestStatusFollowsWebhooks(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	n, sha := fx.openPR("hooks", map[string]string{"h.txt": "h\n"})
	set := testSet(fx.ns, func(t *prowconfig.Tide) {
		t.SyncPeriod, t.StatusUpdatePeriod = &jobs.Duration{Duration: time.Hour}, &jobs.Duration{Duration: time.Hour}
	})
	fx.start(set, func(*v1alpha1.ProwJob) v1alpha1.ProwJobState { return "" })
	eventually(t, "the first tide status", wait, func() (bool, string) {
		state, desc, _ := fx.tide(sha)
		return state == "pending" && strings.HasPrefix(desc, "Not mergeable. Retesting"), state + " " + desc
	})
	searches := fx.calls.get(func(k string) bool { return strings.HasPrefix(k, "GET /search/") })
	if err := fx.alice.Unlabel(fx.ctx, "acme/widgets", n, "approved"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the tide status after the label went", 20*time.Second, func() (bool, string) {
		state, desc, _ := fx.tide(sha)
		return state == "pending" && desc == "Not mergeable. Needs approved label.", state + " " + desc
	})
	if got := fx.calls.get(func(k string) bool { return strings.HasPrefix(k, "GET /search/") }); got != searches {
		t.Errorf("%d searches after the webhook, want none", got-searches)
	}
}
