package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/podutils/entrypoint"
	"github.com/bowline-ci/bowline/podutils/sidecar"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestEntrypointCommand(t *testing.T) {
	dir := t.TempDir()
	opts := entrypoint.Options{
		Args:       []string{"sh", "-c", "echo wrapped; exit 4"},
		ProcessLog: filepath.Join(dir, "process-log.txt"),
		MarkerFile: filepath.Join(dir, "marker-file.txt"),
	}
	raw, _ := json.Marshal(opts)
	t.Setenv(entrypoint.OptionsEnv, string(raw))
	cmd := newEntrypointCommand()
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs(nil)
	err := cmd.ExecuteContext(context.Background())
	var exit exitError
	if !asExit(err, &exit) || exit.code != 4 {
		t.Fatalf("entrypoint = %v, want exit status 4", err)
	}
	if out.String() != "wrapped\n" {
		t.Errorf("output = %q", out.String())
	}
	if code, err := entrypoint.ReadMarker(opts.MarkerFile); err != nil || code != 4 {
		t.Errorf("marker = %d, %v", code, err)
	}
}

func TestEntrypointCopyTo(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "tools", "bowline")
	cmd := newEntrypointCommand()
	cmd.SetArgs([]string{"--copy-to", dst})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dst); err != nil || st.Mode()&0o111 == 0 {
		t.Errorf("copied binary: %v, %v", st, err)
	}
}

func TestPodUtilityOptionsLoad(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "opts.json")
	if err := os.WriteFile(file, []byte(`{"src_root":"/go","log":"/logs/clone.json","refs":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	typo := filepath.Join(dir, "typo.json")
	if err := os.WriteFile(typo, []byte(`{"src_rot":"/go"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		o       PodUtilityOptions
		env     string
		want    string
		wantErr string
	}{
		{name: "file", o: PodUtilityOptions{File: file, Env: "BOWLINE_TEST_OPTS"}, want: "/go"},
		{name: "env", o: PodUtilityOptions{Env: "BOWLINE_TEST_OPTS"}, env: `{"src_root":"/src"}`, want: "/src"},
		{name: "nothing", o: PodUtilityOptions{Env: "BOWLINE_TEST_OPTS"}, wantErr: "no options"},
		{name: "unknown field", o: PodUtilityOptions{File: typo, Env: "BOWLINE_TEST_OPTS"}, wantErr: "src_rot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("BOWLINE_TEST_OPTS", tt.env)
			var got struct {
				SrcRoot string `json:"src_root"`
				Log     string `json:"log"`
				Refs    []any  `json:"refs"`
			}
			err := tt.o.Load(&got)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Load() = %v, want an error mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.SrcRoot != tt.want {
				t.Errorf("Load() = %+v, %v", got, err)
			}
		})
	}
}

func TestSidecarCommandExitsWithTheTestsCode(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "marker-file.txt")
	if err := entrypoint.WriteMarker(marker, 2); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "process-log.txt"), []byte("out\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := sidecar.Options{Entries: []sidecar.Entry{{ProcessLog: filepath.Join(dir, "process-log.txt"), MarkerFile: marker}}}
	opts.Storage.Bucket = filepath.Join(dir, "bucket")
	raw, _ := json.Marshal(opts)
	t.Setenv(sidecar.OptionsEnv, string(raw))
	spec, _ := json.Marshal(podutils.JobSpec{Type: v1alpha1.PeriodicJob, Job: "p", BuildID: "1"})
	t.Setenv("JOB_SPEC", string(spec))
	cmd := newSidecarCommand()
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs(nil)
	err := cmd.ExecuteContext(context.Background())
	var exit exitError
	if !asExit(err, &exit) || exit.code != 2 {
		t.Fatalf("sidecar = %v, want exit status 2", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "bucket/logs/p/1/build-log.txt")); err != nil || string(b) != "out\n" {
		t.Errorf("build-log.txt = %q, %v", b, err)
	}
}
