package trigger_test

import (
	"strings"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestManualRun: a run of a named job outside any event, as Prow's mkpj
// makes one: the refs it leaves out come from GitHub, the ProwJob is the
// one the trigger would create, and the API server accepts it.
func TestManualRun(t *testing.T) {
	h := start(t, []jobs.Presubmit{presubmit("unit", always)}, nil, trigger.Config{}.Trigger)
	n, head := h.openPR("alice", "topic", map[string]string{"src/a.go": "x\n"}, false)
	pr, err := h.Forge.As("alice").PR(h.Ctx, repo, n)
	if err != nil {
		t.Fatal(err)
	}
	tip := pr.GetBase().GetSHA()

	jc := &jobs.Config{
		Presubmits: map[string][]jobs.Presubmit{
			repo:         {presubmit("unit", always), presubmit("lint"), presubmit("e2e", onBranches("^main$")), presubmit("e2e", onBranches("^release-"))},
			"acme/other": {presubmit("lint")},
		},
		Postsubmits: map[string][]jobs.Postsubmit{repo: {postsubmit("deploy", nil)}, "acme/other": {postsubmit("lint", nil)}},
		Periodics:   []jobs.Periodic{{JobBase: jobs.JobBase{Name: "nightly", Spec: podSpec(), Labels: map[string]string{"team": "infra"}}, Interval: "24h"}},
	}
	jc.SetDefaults(jobs.Defaults{PodNamespace: h.ns})
	gh := trigger.FromClient(h.gh)

	tests := []struct {
		name    string
		req     trigger.ManualRequest
		noGH    bool
		check   func(t *testing.T, pj *v1alpha1.ProwJob)
		wantErr string
	}{
		{name: "presubmit: GitHub fills the refs", req: trigger.ManualRequest{Job: "unit", Pull: n},
			check: func(t *testing.T, pj *v1alpha1.ProwJob) {
				r := pj.Spec.Refs
				if pj.Spec.Type != v1alpha1.PresubmitJob || r.BaseRef != "main" || r.BaseSHA != tip || r.Pulls[0].SHA != head ||
					r.Pulls[0].Author != "alice" || pj.Labels[v1alpha1.PullLabel] == "" || pj.Annotations[v1alpha1.TriggeredByAnnotation] != "alice" {
					t.Errorf("run %+v %+v", pj.ObjectMeta, r)
				}
			}},
		{name: "presubmit defined per branch: the pull request's branch picks", req: trigger.ManualRequest{Job: "e2e", Pull: n},
			check: func(t *testing.T, pj *v1alpha1.ProwJob) {
				if pj.Spec.Job != "e2e" || pj.Spec.Refs.BaseRef != "main" {
					t.Errorf("run %+v", pj.Spec)
				}
			}},
		{name: "presubmit without a pull request", req: trigger.ManualRequest{Job: "unit"}, wantErr: "name the pull request"},
		{name: "presubmit without GitHub or commits", req: trigger.ManualRequest{Job: "unit", Pull: n}, noGH: true, wantErr: "--base-sha and --pull-sha"},
		{name: "presubmit without GitHub, every ref given", noGH: true,
			req: trigger.ManualRequest{Job: "unit", Pull: n, BaseRef: "main", BaseSHA: tip, PullSHA: head},
			check: func(t *testing.T, pj *v1alpha1.ProwJob) {
				if pj.Spec.Refs.Pulls[0].SHA != head {
					t.Errorf("refs %+v", pj.Spec.Refs)
				}
			}},
		{name: "postsubmit: the default branch and its tip", req: trigger.ManualRequest{Job: "deploy"},
			check: func(t *testing.T, pj *v1alpha1.ProwJob) {
				if pj.Spec.Type != v1alpha1.PostsubmitJob || pj.Spec.Refs.BaseRef != "main" || pj.Spec.Refs.BaseSHA != tip {
					t.Errorf("refs %+v", pj.Spec.Refs)
				}
			}},
		{name: "periodic", req: trigger.ManualRequest{Job: "nightly"},
			check: func(t *testing.T, pj *v1alpha1.ProwJob) {
				if pj.Spec.Type != v1alpha1.PeriodicJob || pj.Labels["team"] != "infra" {
					t.Errorf("run %+v %+v", pj.ObjectMeta, pj.Spec)
				}
			}},
		{name: "a name several repositories use", req: trigger.ManualRequest{Job: "lint", Pull: n}, wantErr: "acme/other, acme/widgets"},
		{name: "a name several repositories use, one named", req: trigger.ManualRequest{Job: "lint", Repo: "acme/other", BaseRef: "main", BaseSHA: "abc"},
			noGH: true, wantErr: "name the pull request"},
		{name: "no such job", req: trigger.ManualRequest{Job: "nope"}, wantErr: `no job named "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Namespace, req.TriggeredBy = h.ns, "alice"
			g := gh
			if tt.noGH {
				g = nil
			}
			pj, err := trigger.ManualRun(h.Ctx, jc, req, g)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, pj)
			if err := kubeClient(t).Create(h.Ctx, pj); err != nil {
				t.Fatalf("the API server refuses the run: %v", err)
			}
		})
	}
}
