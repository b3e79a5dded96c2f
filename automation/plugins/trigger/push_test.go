package trigger_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestPostsubmits(t *testing.T) {
	no := false
	post := []jobs.Postsubmit{
		postsubmit("deploy", func(p *jobs.Postsubmit) { p.Branches = []string{"main"} }),
		postsubmit("docs-site", func(p *jobs.Postsubmit) { p.Branches = []string{"main"}; p.RunIfChanged = `^docs/` }),
		postsubmit("build", func(p *jobs.Postsubmit) { p.Branches = []string{"main"}; p.SkipIfOnlyChanged = `^docs/` }),
		postsubmit("release", func(p *jobs.Postsubmit) { p.Branches = []string{`release-\d+`} }),
		postsubmit("manual", func(p *jobs.Postsubmit) { p.Branches = []string{"main"}; p.AlwaysRun = &no }),
		postsubmit("not-main", func(p *jobs.Postsubmit) { p.SkipBranches = []string{"main", "topic"} }),
	}
	tests := []struct {
		name     string
		branch   string
		file     string
		wantRuns []string
	}{
		{name: "code pushed to main", branch: "main", file: "src/a.go",
			wantRuns: []string{"postsubmit deploy -", "postsubmit build -"}},
		{name: "docs pushed to main", branch: "main", file: "docs/a.md",
			wantRuns: []string{"postsubmit deploy -", "postsubmit docs-site -"}},
		{name: "release branch", branch: "release-2", file: "src/a.go",
			wantRuns: []string{"postsubmit release -", "postsubmit not-main -"}},
		{name: "skipped branch", branch: "topic", file: "src/a.go"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, nil, post, trigger.Config{}.Trigger)
			if _, err := h.Forge.As("alice").Push(h.Ctx, repo, tc.branch, map[string][]byte{tc.file: []byte("x\n")}, "change"); err != nil {
				t.Fatal(err)
			}
			h.Wait(repo, "push", pushTo("refs/heads/"+tc.branch))
			h.wantRuns(tc.wantRuns...)
		})
	}
}

// TestProwJobContents checks what a run carries: Prow's labels and
// annotations, refs, and the spec from the job.
func TestProwJobContents(t *testing.T) {
	yes := true
	ps := presubmit("unit", always)
	ps.Labels = map[string]string{"preset-go": "true"}
	ps.Annotations = map[string]string{"testgrid-dashboards": "acme"}
	ps.MaxConcurrency = 3
	ps.Cluster = "build-1"
	ps.Decorate = &yes
	ps.SkipReport = true
	ps.Context = "ci/unit"
	h := start(t, []jobs.Presubmit{ps}, nil, trigger.Config{}.Trigger)
	n, sha := h.openPR("alice", "topic", map[string]string{"src/a.go": "x\n"}, false)

	pjs := h.prowJobs()
	if len(pjs) != 1 {
		t.Fatalf("got %d runs, want 1", len(pjs))
	}
	pj := pjs[0]
	wantLabels := map[string]string{
		"preset-go":              "true",
		v1alpha1.CreatedByLabel:  "true",
		v1alpha1.TypeLabel:       "presubmit",
		v1alpha1.JobLabel:        "unit",
		v1alpha1.ContextLabel:    "unit", // ci/unit's last element, as Prow's label
		v1alpha1.OrgLabel:        "acme",
		v1alpha1.RepoLabel:       "widgets",
		v1alpha1.BaseRefLabel:    "main",
		v1alpha1.PullLabel:       strconv.Itoa(n),
		v1alpha1.IsOptionalLabel: "false",
	}
	if d := cmp.Diff(wantLabels, pj.Labels); d != "" {
		t.Errorf("labels (-want +got):\n%s", d)
	}
	for k, want := range map[string]string{
		"testgrid-dashboards":          "acme",
		v1alpha1.JobAnnotation:         "unit",
		v1alpha1.ContextAnnotation:     "ci/unit",
		v1alpha1.TriggeredByAnnotation: "alice",
	} {
		if got := pj.Annotations[k]; got != want {
			t.Errorf("annotation %s = %q, want %q", k, got, want)
		}
	}
	if pj.Annotations[v1alpha1.DeliveryAnnotation] == "" {
		t.Errorf("no %s annotation", v1alpha1.DeliveryAnnotation)
	}
	s := pj.Spec
	if s.Type != v1alpha1.PresubmitJob || s.Job != "unit" || s.Context != "ci/unit" || s.Report ||
		s.RerunCommand != "/test unit" || s.MaxConcurrency != 3 || s.Cluster != "build-1" ||
		s.Agent != v1alpha1.KubernetesAgent || s.Namespace != h.ns || s.PodSpec == nil || s.DecorationConfig == nil {
		t.Errorf("spec: %+v", s)
	}
	r := s.Refs
	if r == nil || r.Org != "acme" || r.Repo != "widgets" || r.BaseRef != "main" || r.BaseSHA == "" || len(r.Pulls) != 1 {
		t.Fatalf("refs: %+v", r)
	}
	if p := r.Pulls[0]; int(p.Number) != n || p.SHA != sha || p.Author != "alice" || p.HeadRef != "topic" || p.Link == "" {
		t.Errorf("pull: %+v", p)
	}
}

// TestRedeliveryStartsNothingTwice: the webhook server answers a replayed
// delivery 200 without handing it on; and the plugin itself, handed the
// same delivery again (a retry, or another replica that did not see it),
// starts nothing twice, as its runs are named after the delivery.
func TestRedeliveryStartsNothingTwice(t *testing.T) {
	h := start(t, []jobs.Presubmit{presubmit("unit", always)}, nil, trigger.Config{}.Trigger)
	n, _ := h.openPR("alice", "topic", map[string]string{"src/a.go": "x\n"}, false)
	pr, err := h.Forge.As("alice").PR(h.Ctx, repo, n)
	if err != nil {
		t.Fatal(err)
	}
	pjs := h.prowJobs()
	if len(pjs) != 1 {
		t.Fatalf("got %d runs, want 1", len(pjs))
	}
	delivery := pjs[0].Annotations[v1alpha1.DeliveryAnnotation]
	ev := &github.PullRequestEvent{Action: github.Ptr("opened"), Number: github.Ptr(n), PullRequest: pr, Repo: pr.GetBase().GetRepo()}
	h.redeliver(delivery, "pull_request", ev, http.StatusOK)
	if err := h.plugin.Handle(h.Ctx, logr.Discard(), &plugin.Event{
		Type: "pull_request", DeliveryID: delivery, Org: "acme", Repo: "widgets", Payload: ev,
	}); err != nil {
		t.Fatal(err)
	}
	h.wantRuns("presubmit unit -")
}
