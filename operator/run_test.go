package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestRunOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "defaults: the applied configuration"},
		{name: "local configuration", args: []string{"--job-config-path=jobs", "--pull=3"}},
		{name: "negative pull", args: []string{"--pull=-1"}, wantErr: "--pull"},
		{name: "unknown agent", args: []string{"--agent=jenkins"}, wantErr: "--agent"},
		{name: "bad config repository", args: []string{"--config-repository=config"}, wantErr: "--config-repository"},
		{name: "GitHub token and App", args: []string{"--github-token-path=t", "--github-app-id=1"}, wantErr: "exclusive"},
		{name: "Prow's format is printed", args: []string{"--prow-format"}, wantErr: "--dry-run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &RunOptions{}
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := o.Validate()
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestRunDryRun prints, as mkpj does, the ProwJob of a named job from a
// local configuration, without a cluster.
func TestRunDryRun(t *testing.T) {
	dir := t.TempDir()
	jobsYAML := `presubmits:
  acme/rocket:
  - name: pull-unit
    always_run: true
    spec:
      containers:
      - image: alpine
periodics:
- name: ci-nightly
  interval: 24h
  labels: {team: infra}
  spec:
    containers:
    - image: alpine
`
	if err := os.WriteFile(filepath.Join(dir, "jobs.yaml"), []byte(jobsYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("prowjob_namespace: ci\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (*v1alpha1.ProwJob, error) {
		var out bytes.Buffer
		cmd := newRootCommand()
		cmd.SetOut(&out)
		cmd.SetArgs(append([]string{"run", "--dry-run", "--config-path", filepath.Join(dir, "config.yaml"), "--job-config-path", filepath.Join(dir, "jobs.yaml")}, args...))
		if err := cmd.Execute(); err != nil {
			return nil, err
		}
		pj := &v1alpha1.ProwJob{}
		return pj, yaml.Unmarshal(out.Bytes(), pj)
	}
	pj, err := run("ci-nightly", "--agent", "local")
	if err != nil {
		t.Fatal(err)
	}
	if pj.Kind != "ProwJob" || pj.Namespace != "ci" || pj.Spec.Type != v1alpha1.PeriodicJob || pj.Spec.Agent != v1alpha1.LocalAgent || pj.Labels["team"] != "infra" {
		t.Errorf("periodic run: %+v %+v", pj.ObjectMeta, pj.Spec)
	}
	pj, err = run("pull-unit", "--pull", "7", "--base-ref", "main", "--base-sha", "b", "--pull-sha", "h", "--triggered-by", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if pj.Spec.Type != v1alpha1.PresubmitJob || pj.Spec.Refs.Pulls[0].Number != 7 || pj.Spec.Refs.BaseSHA != "b" ||
		pj.Annotations[v1alpha1.TriggeredByAnnotation] != "alice" {
		t.Errorf("presubmit run: %+v %+v", pj.ObjectMeta, pj.Spec.Refs)
	}
	// Prow's format, as mkpj prints it.
	var out bytes.Buffer
	cmd := newRootCommand()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"run", "ci-nightly", "--dry-run", "--prow-format", "--job-config-path", filepath.Join(dir, "jobs.yaml")})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "apiVersion: prow.k8s.io/v1") || !strings.Contains(s, "type: periodic") || !strings.Contains(s, "namespace: default") {
		t.Errorf("Prow's format:\n%s", s)
	}
	if _, err := run("pull-unit", "--pull", "7"); err == nil || !strings.Contains(err.Error(), "--base-sha") {
		t.Errorf("without refs or GitHub: %v", err)
	}
}
