package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bowline-ci/bowline/automation/configplan"
)

func TestPlanOptionsValidate(t *testing.T) {
	valid := PlanOptions{Base: "main", Head: "HEAD", Output: "text"}
	tests := []struct {
		name    string
		mut     func(*PlanOptions)
		wantErr string
	}{
		{name: "defaults"},
		{name: "json", mut: func(o *PlanOptions) { o.Output = "json" }},
		{name: "markdown", mut: func(o *PlanOptions) { o.Output = "markdown" }},
		{name: "bad output", mut: func(o *PlanOptions) { o.Output = "yaml" }, wantErr: "--output must be text, json or markdown"},
		{name: "no head", mut: func(o *PlanOptions) { o.Head = "" }, wantErr: "may not be empty"},
		{name: "token and app", mut: func(o *PlanOptions) { o.GitHub.TokenPath, o.GitHub.AppID = "t", 1 }, wantErr: "exclusive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := valid
			if tt.mut != nil {
				tt.mut(&o)
			}
			err := o.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// planRepo makes a config repository with the quickstart on main and a
// branch per change.
func planRepo(t *testing.T, changes map[string]map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	files, err := quickstartConfig()
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range files {
		write(name, string(content))
	}
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-qm", "quickstart")
	for branch, edits := range changes {
		git("checkout", "-qb", branch, "main")
		for name, content := range edits {
			old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			from, to, ok := strings.Cut(content, "=>")
			if !ok {
				write(name, content)
				continue
			}
			if !strings.Contains(string(old), from) {
				t.Fatalf("%s lacks %q", name, from)
			}
			write(name, strings.Replace(string(old), from, to, 1))
		}
		git("add", "-A")
		git("commit", "-qm", branch)
	}
	git("checkout", "-q", "main")
	return dir
}

// runPlanArgs runs `bowline plan`; an error other than an exit code is
// returned as code -1 with the error as standard error.
func runPlanArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	code, stdout, stderr, err := runCommandArgs(newPlanCommand(), args...)
	if err != nil {
		return -1, stdout, err.Error()
	}
	return code, stdout, stderr
}

// TestPlanCommand: `bowline plan` prints the plan of a branch of a local
// checkout, in each format, and exits 1 for a revision the operator would
// refuse.
func TestPlanCommand(t *testing.T) {
	const jobs = "config/jobs/demo/hello/hello.yaml"
	dir := planRepo(t, map[string]map[string]string{
		"newer":  {jobs: "image: alpine:3.22=>image: alpine:3.23", "config/bowline/deployment.yaml": "image: ghcr.io/bowline-ci/bowline:v0.2.0\nroles:\n  hook: {}\n"},
		"broken": {jobs: "    always_run: true\n=>    always_runn: true\n"},
	})
	code, out, _ := runPlanArgs(t, "--repo", dir, "--head", "newer")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{"Plan of newer@sha1:", "against main@sha1:", ": valid", "~ presubmit pull-hello-test (demo/hello, all branches)",
		"spec.containers[0].image: alpine:3.22 → alpine:3.23", "+ config/bowline/deployment.yaml", "image: (unset) → ghcr.io/bowline-ci/bowline:v0.2.0", "Once merged, bowline rolls them out", "+ role hook moves to a Deployment of its own (2 replicas)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text plan lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = runPlanArgs(t, "--repo", filepath.Join(dir, "config"), "--head", "newer", "--output", "json")
	var p configplan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if !p.Valid || len(p.Jobs) != 1 || len(p.Deploy.Files) != 1 {
		t.Errorf("JSON plan: valid %t, %d jobs, %d deploy files", p.Valid, len(p.Jobs), len(p.Deploy.Files))
	}

	code, out, _ = runPlanArgs(t, "--repo", dir, "--head", "broken", "--output", "markdown")
	if code != 1 || !strings.Contains(out, "### bowline plan: refused") || !strings.Contains(out, "`"+jobs+":6:5`") {
		t.Errorf("exit %d for a refused revision:\n%s", code, out)
	}

	code, _, errOut := runPlanArgs(t, "--repo", dir, "--head", "no-such-branch")
	if code != -1 || !strings.Contains(errOut, `revision "no-such-branch"`) {
		t.Errorf("an unknown revision: exit %d, %s", code, errOut)
	}
}
