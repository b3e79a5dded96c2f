package skip_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/automation/plugins/skip"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/jobs"
)

const seed = `
users: [{login: bob}]
orgs: [{login: acme}]
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
`

func jobConfig() *jobs.Config {
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Image: "alpine"}}}
	ps := func(name string, mod func(*jobs.Presubmit)) jobs.Presubmit {
		p := jobs.Presubmit{JobBase: jobs.JobBase{Name: name, Spec: spec}}
		mod(&p)
		return p
	}
	jc := &jobs.Config{Presubmits: map[string][]jobs.Presubmit{"acme/widgets": {
		ps("unit", func(p *jobs.Presubmit) { p.AlwaysRun = true }),
		ps("lint", func(p *jobs.Presubmit) { p.AlwaysRun, p.Optional = true, true }),
		ps("e2e", func(p *jobs.Presubmit) { p.Optional = true; p.Context = "ci/e2e" }),
		ps("release-only", func(p *jobs.Presubmit) { p.Optional = true; p.Branches = []string{"release"} }),
	}}}
	jc.SetDefaults(jobs.Defaults{})
	return jc
}

func TestSkip(t *testing.T) {
	h := plugintest.StartPlugin(t, seed, plugintest.Config(nil, jobConfig()), skip.New)
	stale := map[string]string{"unit": "failure", "lint": "failure", "ci/e2e": "pending", "release-only": "failure", "docs": "failure"}
	tests := []struct {
		name     string
		body     string
		statuses map[string]string
		want     map[string]string
	}{
		{name: "skip", body: "/skip", statuses: stale,
			want: map[string]string{"unit": "failure", "lint": "success", "ci/e2e": "success", "release-only": "failure", "docs": "failure"}},
		{name: "any case", body: "/SKIP", statuses: stale, want: map[string]string{"lint": "success"}},
		{name: "a job the comment starts", body: "/skip\n/test lint", statuses: stale,
			want: map[string]string{"lint": "failure", "ci/e2e": "success"}},
		{name: "retest keeps failures", body: "/skip\n/retest", statuses: stale,
			want: map[string]string{"lint": "failure", "ci/e2e": "success"}},
		{name: "test all keeps automatic jobs", body: "/skip\n/test all", statuses: stale,
			want: map[string]string{"lint": "failure", "ci/e2e": "success"}},
		{name: "not at the start of a line", body: "please /skip", statuses: stale, want: map[string]string{"lint": "failure"}},
		{name: "all green", body: "/skip", statuses: map[string]string{"lint": "success", "unit": "success"},
			want: map[string]string{"lint": "success", "unit": "success"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pr := h.OpenPR("bob", h.Repo, forge.PullRequest{Title: tc.name, Head: fmt.Sprintf("b%d", i), Files: map[string][]byte{fmt.Sprintf("f%d", i): []byte("x")}})
			sha := pr.GetHead().GetSHA()
			for ctx, st := range tc.statuses {
				if err := h.Forge.As(plugintest.BotLogin).SetStatus(h.Ctx, h.Repo, sha, ctx, st, "ran"); err != nil {
					t.Fatal(err)
				}
			}
			h.Comment("bob", h.Repo, pr.GetNumber(), tc.body)
			owner, repo, _ := strings.Cut(h.Repo, "/")
			cs, _, err := h.GitHub.Repositories.GetCombinedStatus(h.Ctx, owner, repo, sha, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			desc := map[string]string{}
			for _, s := range cs.Statuses {
				got[s.GetContext()], desc[s.GetContext()] = s.GetState(), s.GetDescription()
			}
			for ctx, want := range tc.want {
				if got[ctx] != want {
					t.Errorf("%s = %s, want %s", ctx, got[ctx], want)
				}
				if want == "success" && tc.statuses[ctx] != "success" && desc[ctx] != skip.Description {
					t.Errorf("%s description = %q", ctx, desc[ctx])
				}
			}
		})
	}
}
