package sidecar

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/podutils/entrypoint"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

type fixture struct {
	store *artifacts.Store
	opts  Options
	logs  string
	spec  podutils.JobSpec
}

func newFixture(t *testing.T, containers ...string) *fixture {
	t.Helper()
	dir := t.TempDir()
	store, err := artifacts.Open(context.Background(), filepath.Join(dir, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := &fixture{store: store, logs: filepath.Join(dir, "logs")}
	f.opts = Options{
		Storage:            artifacts.Config{Bucket: filepath.Join(dir, "bucket")},
		ArtifactDir:        filepath.Join(f.logs, "artifacts"),
		MarkerPollInterval: podutils.Duration{Duration: 5 * time.Millisecond},
		LogUploadInterval:  podutils.Duration{Duration: 5 * time.Millisecond},
		GracePeriod:        podutils.Duration{Duration: 50 * time.Millisecond},
	}
	for _, c := range containers {
		f.opts.Entries = append(f.opts.Entries, Entry{
			ContainerName: c,
			ProcessLog:    filepath.Join(f.logs, c, "process-log.txt"),
			MarkerFile:    filepath.Join(f.logs, c, "marker-file.txt"),
			MetadataFile:  filepath.Join(f.logs, "artifacts", "metadata.json"),
		})
		if err := os.MkdirAll(filepath.Join(f.logs, c), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(f.opts.ArtifactDir, 0o755); err != nil {
		t.Fatal(err)
	}
	f.spec = podutils.JobSpec{Type: v1alpha1.PostsubmitJob, Job: "build", BuildID: "9",
		Refs: &podutils.Refs{Org: "acme", Repo: "widgets", BaseRef: "main", BaseSHA: "b0"}}
	return f
}

// write replaces a file atomically, so that the sidecar never reads it half
// written.
func write(t *testing.T, name, body string) {
	t.Helper()
	if err := os.WriteFile(name+".tmp", []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(name+".tmp", name); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) finished(t *testing.T) podutils.Finished {
	t.Helper()
	raw, err := f.store.ReadFile(context.Background(), "logs/build/9/finished.json")
	if err != nil {
		t.Fatal(err)
	}
	var fin podutils.Finished
	if err := json.Unmarshal(raw, &fin); err != nil {
		t.Fatal(err)
	}
	return fin
}

func TestFinishUploadsLogArtifactsAndFinished(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "test")
	e := f.opts.Entries[0]
	secrets := t.TempDir()
	write(t, filepath.Join(secrets, "token"), "hunter2-secret\n")
	f.opts.SecretDirs = []string{secrets}

	type out struct {
		res Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := Finish(ctx, f.store, f.opts, f.spec)
		done <- out{res, err}
	}()

	// While the command runs, its log is uploaded as it grows.
	write(t, e.ProcessLog, "building\n")
	chunks := make(chan string, 10)
	tailCtx, stopTail := context.WithCancel(ctx)
	defer stopTail()
	tailDone := make(chan error, 1)
	go func() {
		_, err := f.store.Tail(tailCtx, "logs/build/9", 0, writerFunc(func(s string) { chunks <- s }), 5*time.Millisecond)
		tailDone <- err
	}()
	if got := <-chunks; got != "building\n" {
		t.Fatalf("first log chunk = %q", got)
	}

	write(t, e.ProcessLog, "building\nusing hunter2-secret\nFAIL\n")
	write(t, filepath.Join(f.opts.ArtifactDir, "junit.xml"), "<testsuite/>")
	write(t, filepath.Join(f.opts.ArtifactDir, "env.txt"), "TOKEN=hunter2-secret\n")
	write(t, e.MetadataFile, `{"revision":"v1.2.3"}`)
	if err := entrypoint.WriteMarker(e.MarkerFile, 1); err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	if o.res.Result != podutils.ResultFailure || o.res.ExitCode != 1 || o.res.RunPath != "logs/build/9" {
		t.Errorf("Finish() = %+v", o.res)
	}
	if err := <-tailDone; err != nil {
		t.Errorf("tail: %v", err)
	}

	log, err := f.store.ReadFile(ctx, "logs/build/9/build-log.txt")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(log), "hunter2") || !strings.Contains(string(log), "FAIL") {
		t.Errorf("build-log.txt = %q: want the whole log with the secret censored", log)
	}
	if b, err := f.store.ReadFile(ctx, "logs/build/9/artifacts/env.txt"); err != nil || string(b) != "TOKEN=**************\n" {
		t.Errorf("artifact env.txt = %q, %v: want the secret censored", b, err)
	}
	if b, err := f.store.ReadFile(ctx, "logs/build/9/artifacts/junit.xml"); err != nil || string(b) != "<testsuite/>" {
		t.Errorf("artifact = %q, %v", b, err)
	}
	fin := f.finished(t)
	if fin.Passed == nil || *fin.Passed || fin.Result != "FAILURE" || fin.Revision != "b0" || fin.Timestamp == nil || fin.Metadata["revision"] != "v1.2.3" {
		t.Errorf("finished.json = %+v", fin)
	}
}

type writerFunc func(string)

func (w writerFunc) Write(p []byte) (int, error) { w(string(p)); return len(p), nil }

func TestFinishSeveralContainers(t *testing.T) {
	f := newFixture(t, "test", "db")
	for _, e := range f.opts.Entries {
		write(t, e.ProcessLog, e.ContainerName+" log\n")
		if err := entrypoint.WriteMarker(e.MarkerFile, 0); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Finish(context.Background(), f.store, f.opts, f.spec)
	if err != nil {
		t.Fatal(err)
	}
	if res.Result != podutils.ResultSuccess || res.ExitCode != 0 {
		t.Errorf("Finish() = %+v", res)
	}
	for key, want := range map[string]string{"build-log.txt": "test log\n", "db-build-log.txt": "db log\n"} {
		if b, err := f.store.ReadFile(context.Background(), "logs/build/9/"+key); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v", key, b, err)
		}
	}
	if fin := f.finished(t); fin.Passed == nil || !*fin.Passed || fin.Result != "SUCCESS" {
		t.Errorf("finished.json = %+v", fin)
	}
}

func TestInterruptedFinishesAsAborted(t *testing.T) {
	f := newFixture(t, "test")
	write(t, f.opts.Entries[0].ProcessLog, "started\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Finish(ctx, f.store, f.opts, f.spec)
	if err != nil {
		t.Fatal(err)
	}
	if res.Result != podutils.ResultAborted {
		t.Errorf("Finish() = %+v, want ABORTED", res)
	}
	if fin := f.finished(t); fin.Result != "ABORTED" || *fin.Passed {
		t.Errorf("finished.json = %+v", fin)
	}
	if b, _ := f.store.ReadFile(context.Background(), "logs/build/9/build-log.txt"); string(b) != "started\n" {
		t.Errorf("build-log.txt = %q", b)
	}
}

func TestInterruptedWaitsForTheMarkers(t *testing.T) {
	// Interrupted (the pod is being deleted), the sidecar still takes the
	// exit code the interrupted entrypoint writes within the grace period.
	f := newFixture(t, "test")
	f.opts.GracePeriod = podutils.Duration{Duration: time.Minute}
	e := f.opts.Entries[0]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan Result, 1)
	go func() {
		res, err := Finish(ctx, f.store, f.opts, f.spec)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	write(t, e.ProcessLog, "started\nProcess was aborted\n")
	if err := entrypoint.WriteMarker(e.MarkerFile, 0); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.Result != podutils.ResultSuccess {
		t.Errorf("Finish() = %+v: want the marker's outcome, not a guess", res)
	}
	if b, _ := f.store.ReadFile(context.Background(), "logs/build/9/build-log.txt"); !strings.Contains(string(b), "aborted") {
		t.Errorf("build-log.txt = %q: want the entrypoint's last lines", b)
	}
}

func TestOptionsValidate(t *testing.T) {
	store := artifacts.Config{Bucket: "/b"}
	entry := Entry{ProcessLog: "/l", MarkerFile: "/m"}
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{name: "ok", opts: Options{Storage: store, Entries: []Entry{entry}}},
		{name: "no entries", opts: Options{Storage: store}, wantErr: true},
		{name: "no bucket", opts: Options{Entries: []Entry{entry}}, wantErr: true},
		{name: "unnamed containers", opts: Options{Storage: store, Entries: []Entry{entry, entry}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.opts.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}
