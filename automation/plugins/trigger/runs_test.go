package trigger_test

import (
	"errors"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/schema/jobs"
)

// TestRunsOnPullRequest: the selection other components share with the
// trigger, and that the changed files are read only when a change matcher
// needs them.
func TestRunsOnPullRequest(t *testing.T) {
	job := func(mod func(*jobs.Presubmit)) *jobs.Presubmit {
		ps := &jobs.Presubmit{JobBase: jobs.JobBase{Name: "unit"}}
		mod(ps)
		return ps
	}
	tests := []struct {
		name   string
		ps     *jobs.Presubmit
		branch string
		files  []string
		want   bool
		reads  bool
	}{
		{name: "always_run", ps: job(func(p *jobs.Presubmit) { p.AlwaysRun = true }), branch: "main", want: true},
		{name: "other branch", ps: job(func(p *jobs.Presubmit) { p.AlwaysRun, p.Branches = true, []string{"^release-"} }), branch: "main"},
		{name: "skipped branch", ps: job(func(p *jobs.Presubmit) { p.AlwaysRun, p.SkipBranches = true, []string{"^main$"} }), branch: "main"},
		{name: "manual", ps: job(func(*jobs.Presubmit) {}), branch: "main"},
		{name: "run_before_merge", ps: job(func(p *jobs.Presubmit) { p.AlwaysRun, p.RunBeforeMerge = true, true }), branch: "main"},
		{name: "run_if_changed matches", ps: job(func(p *jobs.Presubmit) { p.RunIfChanged = `^docs/` }), branch: "main", files: []string{"docs/a.md"}, want: true, reads: true},
		{name: "run_if_changed does not", ps: job(func(p *jobs.Presubmit) { p.RunIfChanged = `^docs/` }), branch: "main", files: []string{"a.go"}, reads: true},
		{name: "skip_if_only_changed", ps: job(func(p *jobs.Presubmit) { p.SkipIfOnlyChanged = `\.md$` }), branch: "main", files: []string{"a.md"}, reads: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read := false
			got, err := trigger.RunsOnPullRequest(tt.ps, tt.branch, func() ([]string, error) { read = true; return tt.files, nil })
			if err != nil || got != tt.want || read != tt.reads {
				t.Errorf("runs %t, read files %t, err %v; want %t, %t", got, read, err, tt.want, tt.reads)
			}
		})
	}
	boom := errors.New("boom")
	if _, err := trigger.RunsByItself(job(func(p *jobs.Presubmit) { p.RunIfChanged = "x" }), func() ([]string, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("error reading files: %v", err)
	}
}

func TestPostsubmitRuns(t *testing.T) {
	no := false
	tests := []struct {
		name  string
		ps    jobs.Postsubmit
		files []string
		want  bool
	}{
		{name: "default runs", want: true},
		{name: "always_run false", ps: jobs.Postsubmit{AlwaysRun: &no}},
		{name: "run_if_changed", ps: jobs.Postsubmit{RegexpChangeMatcher: jobs.RegexpChangeMatcher{RunIfChanged: `^a`}}, files: []string{"b"}},
		{name: "other branch", ps: jobs.Postsubmit{Brancher: jobs.Brancher{Branches: []string{"^release$"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := trigger.PostsubmitRuns(&tt.ps, "main", tt.files); got != tt.want {
				t.Errorf("runs %t, want %t", got, tt.want)
			}
		})
	}
}
