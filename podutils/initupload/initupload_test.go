package initupload

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/podutils/clonerefs"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func presubmit() podutils.JobSpec {
	return podutils.JobSpec{
		Type: v1alpha1.PresubmitJob, Job: "unit", BuildID: "100", ProwJobID: "pj-1",
		Refs: &podutils.Refs{Org: "acme", Repo: "widgets", BaseRef: "main", BaseSHA: "b0",
			Pulls: []podutils.Pull{{Number: 7, SHA: "p7"}}},
	}
}

func setup(t *testing.T, records []clonerefs.Record) (*artifacts.Store, Options) {
	t.Helper()
	dir := t.TempDir()
	store, err := artifacts.Open(context.Background(), filepath.Join(dir, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	o := Options{Storage: artifacts.Config{Bucket: filepath.Join(dir, "bucket")}}
	if records != nil {
		o.Log = filepath.Join(dir, "clone.json")
		if err := clonerefs.WriteRecords(o.Log, records); err != nil {
			t.Fatal(err)
		}
	}
	return store, o
}

func TestUploadStarted(t *testing.T) {
	ctx := context.Background()
	spec := presubmit()
	store, o := setup(t, []clonerefs.Record{{Refs: *spec.Refs, FinalSHA: "merged", Commands: []clonerefs.Command{{Command: "git init"}}}})
	now := time.Unix(1700000000, 0)
	if err := Upload(ctx, store, o, spec, now); err != nil {
		t.Fatal(err)
	}
	run := "pr-logs/pull/acme_widgets/7/unit/100"
	raw, err := store.ReadFile(ctx, run+"/started.json")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"timestamp":    float64(1700000000),
		"pull":         "7",
		"repos":        map[string]any{"acme/widgets": "main:b0,7:p7"},
		"repo-version": "merged",
		"repo-commit":  "merged",
	}
	for k, v := range want {
		if g, _ := json.Marshal(got[k]); string(g) != mustJSON(v) {
			t.Errorf("started.json %s = %s, want %s", k, g, mustJSON(v))
		}
	}
	if log, err := store.ReadFile(ctx, run+"/clone-log.txt"); err != nil || !strings.Contains(string(log), "$ git init") {
		t.Errorf("clone-log.txt = %q, %v", log, err)
	}
	if ok, _ := store.Exists(ctx, run+"/clone-records.json"); !ok {
		t.Error("clone-records.json missing")
	}
	if ok, _ := store.Exists(ctx, run+"/finished.json"); ok {
		t.Error("finished.json written for a run that cloned fine")
	}
	if b, err := store.ReadFile(ctx, "pr-logs/directory/unit/100.txt"); err != nil || string(b) != o.Storage.Bucket+"/"+run {
		t.Errorf("directory entry = %q, %v", b, err)
	}
	if b, err := store.ReadFile(ctx, "pr-logs/directory/unit/latest-build.txt"); err != nil || string(b) != "100" {
		t.Errorf("directory latest-build.txt = %q, %v", b, err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestCloneFailureFailsTheRun(t *testing.T) {
	ctx := context.Background()
	spec := presubmit()
	store, o := setup(t, []clonerefs.Record{{Refs: *spec.Refs, Failed: true}})
	err := Upload(ctx, store, o, spec, time.Now())
	if !errors.Is(err, ErrCloneFailed) {
		t.Fatalf("Upload() = %v, want ErrCloneFailed", err)
	}
	raw, err := store.ReadFile(ctx, "pr-logs/pull/acme_widgets/7/unit/100/finished.json")
	if err != nil {
		t.Fatal(err)
	}
	var f podutils.Finished
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if f.Passed == nil || *f.Passed || f.Result != podutils.ResultFailure || f.Revision != "p7" {
		t.Errorf("finished.json = %s", raw)
	}
}

func TestMissingRecordsMeanFailure(t *testing.T) {
	spec := presubmit()
	store, o := setup(t, nil)
	o.Log = filepath.Join(t.TempDir(), "never-written.json")
	if err := Upload(context.Background(), store, o, spec, time.Now()); !errors.Is(err, ErrCloneFailed) {
		t.Errorf("Upload() = %v, want ErrCloneFailed", err)
	}
}

func TestPeriodicWithoutCloneWritesLatestBuild(t *testing.T) {
	ctx := context.Background()
	store, o := setup(t, nil)
	spec := podutils.JobSpec{Type: v1alpha1.PeriodicJob, Job: "nightly", BuildID: "42"}
	if err := Upload(ctx, store, o, spec, time.Now()); err != nil {
		t.Fatal(err)
	}
	if b, err := store.ReadFile(ctx, "logs/nightly/latest-build.txt"); err != nil || string(b) != "42" {
		t.Errorf("latest-build.txt = %q, %v", b, err)
	}
	if ok, _ := store.Exists(ctx, "logs/nightly/42/started.json"); !ok {
		t.Error("started.json missing")
	}
	if ok, _ := store.Exists(ctx, "logs/nightly/42/clone-log.txt"); ok {
		t.Error("clone-log.txt written though nothing was cloned")
	}
}
