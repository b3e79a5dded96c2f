// Package initupload records the start of a run: it uploads started.json,
// the clone records and clone log, and the index entries that lead to the
// run (latest-build.txt, and pr-logs/directory/ for presubmits). When a clone failed it also uploads finished.json with
// a failure and reports the failure, so that the run ends before its test
// command starts, as Prow's initupload does.
package initupload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/podutils/clonerefs"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// OptionsEnv is the environment variable holding Options as JSON.
const OptionsEnv = "INITUPLOAD_OPTIONS"

// ErrCloneFailed is returned when the clone records show a failure.
var ErrCloneFailed = errors.New("cloning the repositories failed; see clone-log.txt")

// Options configures initupload. Its JSON is $INITUPLOAD_OPTIONS.
type Options struct {
	// Storage says where the run's files go.
	Storage artifacts.Config `json:"storage"`
	// Log is the clone records file clonerefs wrote; empty when nothing was
	// cloned.
	Log string `json:"log,omitempty"`
}

// Validate reports options that cannot work.
func (o Options) Validate() error { return o.Storage.Validate() }

// Run opens the bucket and uploads; see Upload.
func Run(ctx context.Context, o Options, spec podutils.JobSpec) error {
	if err := o.Validate(); err != nil {
		return fmt.Errorf("initupload options: %w", err)
	}
	store, err := o.Storage.Open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	return Upload(ctx, store, o, spec, time.Now())
}

// Upload writes the start of the run to store. It returns ErrCloneFailed
// (after uploading everything, finished.json included) when a clone failed.
func Upload(ctx context.Context, store *artifacts.Store, o Options, spec podutils.JobSpec, now time.Time) error {
	runPath, err := o.Storage.RunPath(spec)
	if err != nil {
		return err
	}
	var records []clonerefs.Record
	if o.Log != "" {
		records, err = clonerefs.ReadRecords(o.Log)
		if err != nil {
			// The clone step did not leave its records: it did not finish.
			records = []clonerefs.Record{{Failed: true, Commands: []clonerefs.Command{{Command: "clonerefs", Error: err.Error()}}}}
		}
		raw, err := json.MarshalIndent(records, "", "  ")
		if err != nil {
			return fmt.Errorf("encode clone records: %w", err)
		}
		if err := store.WriteFile(ctx, artifacts.Key(runPath, podutils.CloneRecordsFile), raw); err != nil {
			return err
		}
		if err := store.WriteFile(ctx, artifacts.Key(runPath, podutils.CloneLogFile), []byte(clonerefs.FormatLog(records))); err != nil {
			return err
		}
	}

	started := podutils.NewStarted(spec, now, mainCommit(spec, records))
	if err := writeJSON(ctx, store, artifacts.Key(runPath, podutils.StartedFile), started); err != nil {
		return err
	}
	if err := writeIndex(ctx, store, o.Storage, spec, runPath); err != nil {
		return err
	}

	if clonerefs.Failed(records) {
		finished := podutils.NewFinished(spec, now, podutils.ResultFailure, map[string]any{"clone-failed": true})
		if err := writeJSON(ctx, store, artifacts.Key(runPath, podutils.FinishedFile), finished); err != nil {
			return err
		}
		return ErrCloneFailed
	}
	return nil
}

// writeIndex writes what lets readers find a job's runs, as Prow does:
// latest-build.txt beside the runs of postsubmits and periodics, and for
// presubmits and batches, whose runs are spread over pull requests, an
// entry pr-logs/directory/<job>/<build>.txt naming the run's directory
// plus pr-logs/directory/<job>/latest-build.txt.
func writeIndex(ctx context.Context, store *artifacts.Store, cfg artifacts.Config, spec podutils.JobSpec, runPath string) error {
	switch spec.Type {
	case v1alpha1.PostsubmitJob, v1alpha1.PeriodicJob:
		return store.WriteFile(ctx, artifacts.Key(path.Dir(runPath), podutils.LatestBuildFile), []byte(spec.BuildID))
	case v1alpha1.PresubmitJob, v1alpha1.BatchJob:
		dir := path.Join(cfg.PathPrefix, "pr-logs/directory", spec.Job)
		link := strings.TrimSuffix(cfg.Bucket, "/") + "/" + runPath
		if err := store.WriteFile(ctx, artifacts.Key(dir, spec.BuildID+".txt"), []byte(link)); err != nil {
			return err
		}
		return store.WriteFile(ctx, artifacts.Key(dir, podutils.LatestBuildFile), []byte(spec.BuildID))
	}
	return nil
}

// mainCommit is the commit checked out for the run's main repository.
func mainCommit(spec podutils.JobSpec, records []clonerefs.Record) string {
	if spec.Refs == nil {
		return ""
	}
	for _, r := range records {
		if r.Refs.Org == spec.Refs.Org && r.Refs.Repo == spec.Refs.Repo {
			return r.FinalSHA
		}
	}
	return ""
}

func writeJSON(ctx context.Context, store *artifacts.Store, key string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return store.WriteFile(ctx, key, b)
}
