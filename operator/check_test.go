package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

func TestCheckOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    CheckOptions
		wantErr string
	}{
		{name: "config only", opts: CheckOptions{ConfigPath: "config.yaml", Output: "text"}},
		{name: "labels only, json", opts: CheckOptions{Labels: "labels.yaml", Output: "json"}},
		{name: "nothing to check", opts: CheckOptions{Output: "text"}, wantErr: "nothing to check"},
		{name: "bad output", opts: CheckOptions{ConfigPath: "c", Output: "yaml"}, wantErr: "--output must be text or json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCheckFlags(t *testing.T) {
	cmd := newCheckCommand()
	for _, f := range []string{"config-path", "job-config-path", "plugin-config", "supplemental-prow-config-dir",
		"supplemental-plugin-config-dir", "org-config", "labels", "owners-dir", "output"} {
		if cmd.Flags().Lookup(f) == nil {
			t.Errorf("flag --%s is missing", f)
		}
	}
}

// runCommandArgs runs a command as bowline's main would and returns its
// exit code (that of an exitError, 0 without an error), standard output and
// standard error, and any other error it ended with.
func runCommandArgs(cmd *cobra.Command, args ...string) (int, string, string, error) {
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	if exit, ok := errors.AsType[exitError](err); ok {
		return exit.code, stdout.String(), stderr.String(), nil
	}
	return 0, stdout.String(), stderr.String(), err
}

// runCheckArgs runs `bowline check` and returns its exit code, standard
// output and standard error.
func runCheckArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	code, stdout, stderr, err := runCommandArgs(newCheckCommand(), args...)
	if err != nil {
		t.Fatalf("check failed: %v", err)
	}
	return code, stdout, stderr
}

const k8s = "../test/testdata/"

func TestCheckKubernetesText(t *testing.T) {
	code, out, errOut := runCheckArgs(t,
		"--config-path", k8s+"kubernetes-prow/config.yaml",
		"--job-config-path", k8s+"kubernetes-prow/jobs",
		"--plugin-config", k8s+"kubernetes-prow/plugins.yaml",
		"--org-config", k8s+"kubernetes-org",
		"--labels", k8s+"kubernetes-labels.yaml",
	)
	if code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, errOut)
	}
	want := `Configuration is valid.
Jobs: 2261 presubmits, 253 postsubmits, 1335 periodics (3849 in all) across 185 repositories
Plugins: 46 enabled, 2 external
Also: 8 orgs with 766 teams, 553 labels
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("output mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(errOut, `warning: `+k8s+`kubernetes-prow/jobs/kubernetes-sigs/sig-storage-local-static-provisioner/sig-storage-local-static-provisioner.yaml:196:9: field "NAME" should be spelled "name"`) {
		t.Errorf("the case-insensitive field is not reported as a warning; stderr:\n%s", errOut)
	}
}

func TestCheckKubernetesJSON(t *testing.T) {
	code, out, _ := runCheckArgs(t,
		"--config-path", k8s+"kubernetes-prow/config.yaml",
		"--job-config-path", k8s+"kubernetes-prow/jobs",
		"--output", "json",
	)
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	var r checkReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	var found *checkJob
	for i, j := range r.Jobs {
		counts[j.Type]++
		if j.Type == "presubmit" && j.Repo == "kubernetes/kubernetes" && j.Name == "pull-kubernetes-e2e-kind-dependencies" && j.TriggerMode == "manual" {
			if found == nil {
				found = &r.Jobs[i]
			}
		}
	}
	if diff := cmp.Diff(map[string]int{"presubmit": 2261, "postsubmit": 253, "periodic": 1335}, counts); diff != "" {
		t.Errorf("jobs by type (-want +got):\n%s", diff)
	}
	if found == nil {
		t.Fatal("pull-kubernetes-e2e-kind-dependencies (manual) is not in the job list")
	}
	want := checkJob{
		Type: "presubmit", Repo: "kubernetes/kubernetes", Name: "pull-kubernetes-e2e-kind-dependencies",
		Context: "pull-kubernetes-e2e-kind-dependencies", TriggerMode: "manual", Optional: true,
		RerunCommand: "/test pull-kubernetes-e2e-kind-dependencies", Cluster: "k8s-infra-prow-build",
		File: k8s + "kubernetes-prow/jobs/kubernetes/sig-arch/kubernetes-code-organization.yaml", Line: 3,
	}
	if diff := cmp.Diff(want, *found); diff != "" {
		t.Errorf("job mismatch (-want +got):\n%s", diff)
	}
	if !r.Valid || len(r.Errors) != 0 || r.Summary == nil || r.Summary.Repositories != 185 {
		t.Errorf("report = valid %v, %d errors, summary %+v", r.Valid, len(r.Errors), r.Summary)
	}
}

func TestCheckInvalid(t *testing.T) {
	args := []string{
		"--config-path", "testdata/check/invalid/config.yaml",
		"--job-config-path", "testdata/check/invalid/jobs",
	}
	wantErrors := []string{
		`testdata/check/invalid/config.yaml:3:24: invalid duration "soon": expected a duration such as 90s or 2h, or a number of nanoseconds`,
		`testdata/check/invalid/jobs/a.yaml:4:17: presubmit "unit": always_run cannot be combined with run_if_changed or skip_if_only_changed`,
		`testdata/check/invalid/jobs/a.yaml:10:9: unknown field "comand", did you mean "command"?`,
	}
	code, out, errOut := runCheckArgs(t, args...)
	if code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if out != "" {
		t.Errorf("standard output = %q, want nothing", out)
	}
	want := strings.Join(wantErrors, "\n") + "\nConfiguration is invalid: 3 errors.\n"
	if diff := cmp.Diff(want, errOut); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}

	code, out, _ = runCheckArgs(t, append(args, "--output", "json")...)
	if code != 1 {
		t.Fatalf("json: exit code %d, want 1", code)
	}
	var r checkReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range r.Errors {
		got = append(got, e.String())
	}
	if diff := cmp.Diff(wantErrors, got); diff != "" {
		t.Errorf("json errors mismatch (-want +got):\n%s", diff)
	}
	if r.Valid || len(r.Jobs) != 0 {
		t.Errorf("report valid=%v with %d jobs, want invalid with none", r.Valid, len(r.Jobs))
	}
}

func TestCheckUsageError(t *testing.T) {
	code, _, errOut := runCheckArgs(t, "--output", "xml", "--labels", "x")
	if code != 2 || !strings.Contains(errOut, "--output must be text or json") {
		t.Errorf("exit %d, stderr %q; want 2 and the reason", code, errOut)
	}
}

// TestCheckWarningsAndStrict: what Prow accepts but is suspicious is a
// warning with its position and code; --strict refuses it.
func TestCheckWarningsAndStrict(t *testing.T) {
	args := []string{
		"--job-config-path", "testdata/check/warned/jobs",
		"--plugin-config", "testdata/check/warned/plugins.yaml",
	}
	warnings := []string{
		`testdata/check/warned/jobs/a.yaml:6:5: key "decoration_config" is given twice in this mapping (first on line 5): this later value wins, as in Prow`,
		`testdata/check/warned/plugins.yaml:3:24: plugins[org]: plugin "transfer-issue" is deprecated: Prow merged it into "issue-management", which does what it did and more`,
		`testdata/check/warned/plugins.yaml:3:24: plugin "transfer-issue" is not supported yet: bowline has no such plugin yet, so enabling it does nothing`,
	}
	code, out, errOut := runCheckArgs(t, args...)
	if code != 0 {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, errOut)
	}
	for _, w := range warnings {
		if !strings.Contains(errOut, "warning: "+w+"\n") {
			t.Errorf("missing warning %q; stderr:\n%s", w, errOut)
		}
	}
	if !strings.HasPrefix(out, "Configuration is valid.") {
		t.Errorf("stdout = %q", out)
	}

	code, out, _ = runCheckArgs(t, append(args, "--output", "json")...)
	if code != 0 {
		t.Fatalf("json: exit code %d", code)
	}
	var r checkReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	codes := map[string]int{}
	for _, w := range r.Warnings {
		codes[w.Code]++
	}
	if diff := cmp.Diff(map[string]int{"duplicate-key": 1, "deprecated-plugin": 1, "not-supported": 1}, codes); diff != "" {
		t.Errorf("warning codes (-want +got):\n%s", diff)
	}
	modes := map[string]string{}
	for _, j := range r.Jobs {
		modes[j.Name] = j.TriggerMode + " " + j.SkipIfOnlyChanged
	}
	if diff := cmp.Diff(map[string]string{"unit": "always ", "docs": "skip_if_only_changed ^docs/"}, modes); diff != "" {
		t.Errorf("trigger modes (-want +got):\n%s", diff)
	}

	code, _, errOut = runCheckArgs(t, append(args, "--strict")...)
	if code != 1 {
		t.Fatalf("--strict: exit code %d, want 1", code)
	}
	for _, w := range warnings {
		if !strings.Contains(errOut, w+" (refused in strict mode)\n") {
			t.Errorf("--strict: missing error %q; stderr:\n%s", w, errOut)
		}
	}
	if !strings.Contains(errOut, "Configuration is invalid: 3 errors.") {
		t.Errorf("--strict: stderr:\n%s", errOut)
	}
}

// TestCheckKubernetesTriggerModes: run_if_changed and skip_if_only_changed
// stay apart, with the counts Prow's own configuration has.
func TestCheckKubernetesTriggerModes(t *testing.T) {
	code, out, _ := runCheckArgs(t,
		"--config-path", k8s+"kubernetes-prow/config.yaml",
		"--job-config-path", k8s+"kubernetes-prow/jobs",
		"--output", "json",
	)
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	var r checkReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, j := range r.Jobs {
		got[j.Type+" "+j.TriggerMode]++
		if j.TriggerMode == "run_if_changed" && j.RunIfChanged == "" || j.TriggerMode == "skip_if_only_changed" && j.SkipIfOnlyChanged == "" {
			t.Errorf("%s %s: the pattern is missing", j.Type, j.Name)
		}
	}
	want := map[string]int{
		"presubmit always": 798, "presubmit run_if_changed": 399, "presubmit skip_if_only_changed": 382, "presubmit manual": 682,
		"postsubmit always": 145, "postsubmit run_if_changed": 108,
		"periodic cron": 405, "periodic interval": 902, "periodic minimum_interval": 28,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("jobs by trigger mode (-want +got):\n%s", diff)
	}
}

// TestCheckDeploy checks bowline's own deployment file: a valid one is
// summarised, an invalid one fails with file:line:col errors.
func TestCheckDeploy(t *testing.T) {
	dir := t.TempDir()
	write := func(doc string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "deployment.yaml"), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("image: ghcr.io/bowline-ci/bowline:v1.2.3\nroles:\n  hook: {replicas: 3, flags: {hook-workers: 64}}\n  jobs: {}\n")
	code, out, errOut := runCheckArgs(t, "--deploy-config", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if want := "Deployment: ghcr.io/bowline-ci/bowline:v1.2.3; in Deployments of their own: jobs (2), hook (3)\n"; !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	code, out, _ = runCheckArgs(t, "--deploy-config", dir, "--output", "json")
	var report checkReport
	if err := json.Unmarshal([]byte(out), &report); err != nil || code != 0 {
		t.Fatalf("exit %d, %v", code, err)
	}
	want := &checkDeployment{Image: "ghcr.io/bowline-ci/bowline:v1.2.3", Roles: []checkDeployRole{
		{Name: "jobs", Replicas: 2}, {Name: "hook", Replicas: 3, Flags: []string{"--hook-workers=64"}},
	}}
	if diff := cmp.Diff(want, report.Deployment); diff != "" {
		t.Errorf("deployment (-want +got):\n%s", diff)
	}

	write("image: ghcr.io/bowline-ci/bowline:v1.2.3\nroles:\n  hook:\n    flags:\n      hmac-secret-file: /tmp/x\n")
	code, _, errOut = runCheckArgs(t, "--deploy-config", dir)
	file := filepath.Join(dir, "deployment.yaml")
	if code != 1 || !strings.Contains(errOut, file+":5:7: roles.hook.flags: hmac-secret-file cannot be set from the config repository") {
		t.Errorf("exit %d, want 1 with the refused flag at %s:5:7:\n%s", code, file, errOut)
	}
}
