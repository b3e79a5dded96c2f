package reporter

import (
	"strings"
	"testing"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestGitHubState(t *testing.T) {
	tests := map[v1alpha1.ProwJobState]string{
		v1alpha1.TriggeredState: "pending",
		v1alpha1.PendingState:   "pending",
		v1alpha1.SuccessState:   "success",
		v1alpha1.FailureState:   "failure",
		v1alpha1.AbortedState:   "failure",
		v1alpha1.ErrorState:     "error",
	}
	for in, want := range tests {
		if got := githubState(in); got != want {
			t.Errorf("githubState(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestDescription(t *testing.T) {
	sha := strings.Repeat("a", 40)
	tests := []struct {
		name, desc, base, want string
	}{
		{name: "names the base commit", desc: "Job succeeded.", base: sha, want: "Job succeeded. BaseSHA:" + sha},
		{name: "no base commit", desc: "Job triggered.", want: "Job triggered."},
		{name: "long description is cut, the commit kept", desc: strings.Repeat("x", 200), base: sha,
			want: strings.Repeat("x", 140-len(" BaseSHA:")-40-3) + "... BaseSHA:" + sha},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pj := &v1alpha1.ProwJob{Spec: v1alpha1.ProwJobSpec{Refs: &v1alpha1.Refs{BaseSHA: tt.base}}}
			pj.Status.Description = tt.desc
			got := description(pj)
			if got != tt.want {
				t.Errorf("description() = %q, want %q", got, tt.want)
			}
			if len(got) > maxDescription {
				t.Errorf("description is %d bytes, over GitHub's %d", len(got), maxDescription)
			}
		})
	}
}

func TestStatusSHAAndContext(t *testing.T) {
	pre := &v1alpha1.ProwJob{Spec: v1alpha1.ProwJobSpec{Type: v1alpha1.PresubmitJob, Job: "unit",
		Refs: &v1alpha1.Refs{BaseSHA: "base", Pulls: []v1alpha1.Pull{{Number: 1, SHA: "head"}}}}}
	post := &v1alpha1.ProwJob{Spec: v1alpha1.ProwJobSpec{Type: v1alpha1.PostsubmitJob, Job: "build", Context: "ci/build",
		Refs: &v1alpha1.Refs{BaseSHA: "base"}}}
	if statusSHA(pre) != "head" || statusSHA(post) != "base" {
		t.Errorf("statusSHA: presubmit %q, postsubmit %q", statusSHA(pre), statusSHA(post))
	}
	if statusContext(pre) != "unit" || statusContext(post) != "ci/build" {
		t.Errorf("statusContext: presubmit %q, postsubmit %q", statusContext(pre), statusContext(post))
	}
}

func TestConfig(t *testing.T) {
	var def Config
	if !def.reports(v1alpha1.PresubmitJob) || !def.reports(v1alpha1.PostsubmitJob) || def.reports(v1alpha1.PeriodicJob) || def.reports(v1alpha1.BatchJob) {
		t.Error("default job types are not presubmit and postsubmit")
	}
	c := Config{JobTypesToReport: []v1alpha1.ProwJobType{v1alpha1.PeriodicJob}, NoCommentRepos: []string{"quiet", "acme/hush"}}
	if !c.reports(v1alpha1.PeriodicJob) || c.reports(v1alpha1.PresubmitJob) {
		t.Error("job_types_to_report not honoured")
	}
	if c.comments("quiet", "x") || c.comments("acme", "hush") || !c.comments("acme", "rocket") {
		t.Error("no_comment_repos not honoured")
	}
}

func TestSummaryComment(t *testing.T) {
	if got := summaryComment("alice", nil); got != "" {
		t.Errorf("no failures: got %q, want no comment", got)
	}
	got := summaryComment("alice", []failedRun{
		{context: "e2e", sha: "0123456789abcdef", url: "https://ci.example/e2e/1", rerun: "/test e2e", state: v1alpha1.FailureState},
		{context: "a|b", sha: "0123456789abcdef", state: v1alpha1.ErrorState},
	})
	for _, want := range []string{
		"@alice: The following jobs **failed**:",
		"| e2e | 0123456 | [failure](https://ci.example/e2e/1) | `/test e2e` |",
		`| a\|b | 0123456 | error |  |`,
		commentMarker,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("comment lacks %q:\n%s", want, got)
		}
	}
}
