// Package sidecar finishes a run: it waits for the exit-code markers the
// entrypoints write, uploading the growing process logs as build-log.txt
// meanwhile so that the log can be followed, and then uploads the final
// logs, everything under $ARTIFACTS (into artifacts/) and finished.json,
// last, so that finished.json means every other file is in place.
package sidecar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/podutils/entrypoint"
)

// OptionsEnv is the environment variable holding Options as JSON.
const OptionsEnv = "SIDECAR_OPTIONS"

// Defaults of the intervals.
const (
	DefaultMarkerPollInterval = 500 * time.Millisecond
	DefaultLogUploadInterval  = 5 * time.Second
	DefaultGracePeriod        = 15 * time.Second
	// finalUploadTimeout bounds the last uploads after an interruption.
	finalUploadTimeout = 2 * time.Minute
)

// Options configures the sidecar. Its JSON is $SIDECAR_OPTIONS.
type Options struct {
	// Storage says where the run's files go.
	Storage artifacts.Config `json:"storage"`
	// Entries are the wrapped containers, one per test container.
	Entries []Entry `json:"entries"`
	// ArtifactDir is $ARTIFACTS, uploaded into artifacts/.
	ArtifactDir string `json:"artifact_dir,omitempty"`
	// MarkerPollInterval is how often markers are looked for.
	MarkerPollInterval podutils.Duration `json:"marker_poll_interval,omitzero"`
	// LogUploadInterval is how often the growing logs are uploaded.
	LogUploadInterval podutils.Duration `json:"log_upload_interval,omitzero"`
	// IgnoreInterrupts keeps waiting for the markers when the sidecar is
	// interrupted, instead of finishing the run as aborted.
	IgnoreInterrupts bool `json:"ignore_interrupts,omitempty"`
	// GracePeriod is how long an interrupted sidecar still waits for the
	// entrypoints, themselves interrupted, to write their markers; default
	// DefaultGracePeriod.
	GracePeriod podutils.Duration `json:"grace_period,omitzero"`
	// SecretDirs hold mounted secrets whose values are censored from the
	// logs and artifacts before upload.
	SecretDirs []string `json:"secret_dirs,omitempty"`
}

// Entry is one wrapped container: the files its entrypoint writes.
type Entry struct {
	ContainerName string `json:"container_name,omitempty"`
	ProcessLog    string `json:"process_log"`
	MarkerFile    string `json:"marker_file"`
	MetadataFile  string `json:"metadata_file,omitempty"`
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	var errs []error
	if err := o.Storage.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(o.Entries) == 0 {
		errs = append(errs, errors.New("entries: no container to wait for"))
	}
	for i, e := range o.Entries {
		if e.ProcessLog == "" || e.MarkerFile == "" {
			errs = append(errs, fmt.Errorf("entries[%d]: process_log and marker_file are required", i))
		}
		if len(o.Entries) > 1 && e.ContainerName == "" {
			errs = append(errs, fmt.Errorf("entries[%d]: container_name is required with several containers", i))
		}
	}
	return errors.Join(errs...)
}

// Result is how the run ended.
type Result struct {
	// Result is what finished.json says: SUCCESS, FAILURE or ABORTED.
	Result string
	// ExitCode is the first non-zero exit code of the entries, or 0.
	ExitCode int
	// RunPath is where the run's files are.
	RunPath string
}

// LogName is the object name of entry i's log: build-log.txt for the first
// container, <container>-build-log.txt for the others.
func LogName(entries []Entry, i int) string {
	if i == 0 {
		return podutils.BuildLogFile
	}
	return entries[i].ContainerName + "-" + podutils.BuildLogFile
}

// Run opens the bucket and finishes the run; see Finish.
func Run(ctx context.Context, o Options, spec podutils.JobSpec) (Result, error) {
	if err := o.Validate(); err != nil {
		return Result{}, fmt.Errorf("sidecar options: %w", err)
	}
	store, err := artifacts.Open(ctx, o.Storage.Bucket)
	if err != nil {
		return Result{}, err
	}
	defer store.Close()
	return Finish(ctx, store, o, spec)
}

// Finish waits for every entry's marker, uploading the logs as they grow,
// then uploads the logs, the artifacts and finished.json. When ctx ends
// first (and interrupts are not ignored) the run is finished as aborted
// with what there is.
func Finish(ctx context.Context, store *artifacts.Store, o Options, spec podutils.JobSpec) (Result, error) {
	runPath, err := o.Storage.RunPath(spec)
	if err != nil {
		return Result{}, err
	}
	u := &uploader{store: store, opts: o, runPath: runPath, sizes: map[int]int64{}}
	if u.secrets, err = loadSecrets(o.SecretDirs); err != nil {
		return Result{}, err
	}
	interrupted := u.wait(ctx)

	// Upload even when interrupted: the run's files matter most then.
	upCtx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		upCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), finalUploadTimeout)
		defer cancel()
	}
	res := Result{Result: podutils.ResultSuccess, RunPath: runPath}
	metadata := map[string]any{}
	for i, e := range o.Entries {
		code, err := entrypoint.ReadMarker(e.MarkerFile)
		switch {
		case err != nil && interrupted:
			code = podutils.AbortedErrorCode
		case err != nil:
			code = podutils.InternalErrorCode
			metadata["marker-error-"+containerKey(o.Entries, i)] = err.Error()
		}
		if code != 0 && res.ExitCode == 0 {
			res.ExitCode = code
		}
		switch {
		case code == podutils.AbortedErrorCode:
			res.Result = podutils.ResultAborted
		case code != 0 && res.Result == podutils.ResultSuccess:
			res.Result = podutils.ResultFailure
		}
		if e.MetadataFile != "" {
			readMetadata(e.MetadataFile, metadata)
		}
	}
	var errs []error
	if err := u.uploadLogs(upCtx, true); err != nil {
		errs = append(errs, err)
	}
	if o.ArtifactDir != "" {
		censorFile := func(r io.Reader) io.Reader { return newCensoringReader(r, u.secrets) }
		if err := store.UploadDir(upCtx, artifacts.Key(runPath, podutils.ArtifactsDir), o.ArtifactDir, censorFile); err != nil {
			errs = append(errs, fmt.Errorf("upload artifacts: %w", err))
		}
	}
	if len(metadata) == 0 {
		metadata = nil
	}
	finished := podutils.NewFinished(spec, time.Now(), res.Result, metadata)
	raw, err := json.MarshalIndent(finished, "", "  ")
	if err != nil {
		return res, fmt.Errorf("encode finished.json: %w", err)
	}
	if err := store.WriteFile(upCtx, artifacts.Key(runPath, podutils.FinishedFile), raw); err != nil {
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

func containerKey(entries []Entry, i int) string {
	if entries[i].ContainerName != "" {
		return entries[i].ContainerName
	}
	return fmt.Sprint(i)
}

// readMetadata merges the JSON object in file into into; a job that wrote
// nothing, or something else than an object, adds nothing.
func readMetadata(file string, into map[string]any) {
	b, err := os.ReadFile(file)
	if err != nil {
		return
	}
	var m map[string]any
	if json.Unmarshal(b, &m) == nil {
		maps.Copy(into, m)
	}
}

type uploader struct {
	store   *artifacts.Store
	opts    Options
	runPath string
	secrets []string
	// sizes are the log sizes last uploaded, so that unchanged logs are
	// not uploaded again.
	sizes map[int]int64
}

// wait returns once every marker exists, uploading the logs every log
// upload interval meanwhile. When ctx ends first (and interrupts are not
// ignored) it waits at most the grace period more, for the interrupted
// entrypoints to write their markers, and reports the interruption.
func (u *uploader) wait(ctx context.Context) (interrupted bool) {
	poll := u.opts.MarkerPollInterval.Duration
	if poll <= 0 {
		poll = DefaultMarkerPollInterval
	}
	every := u.opts.LogUploadInterval.Duration
	if every <= 0 {
		every = DefaultLogUploadInterval
	}
	grace := u.opts.GracePeriod.Duration
	if grace <= 0 {
		grace = DefaultGracePeriod
	}
	markers := time.NewTicker(poll)
	defer markers.Stop()
	logs := time.NewTicker(every)
	defer logs.Stop()
	done := ctx.Done()
	if u.opts.IgnoreInterrupts {
		done = nil
	}
	var giveUp <-chan time.Time
	for !u.allMarkers() {
		select {
		case <-done:
			interrupted, done = true, nil
			t := time.NewTimer(grace)
			defer t.Stop()
			giveUp = t.C
		case <-giveUp:
			return true
		case <-markers.C:
		case <-logs.C:
			// A failed upload of a growing log is retried at the next tick
			// and at the end; the run is not failed for it.
			_ = u.uploadLogs(context.WithoutCancel(ctx), false)
		}
	}
	return interrupted
}

func (u *uploader) allMarkers() bool {
	for _, e := range u.opts.Entries {
		if _, err := os.Stat(e.MarkerFile); err != nil {
			return false
		}
	}
	return true
}

// uploadLogs uploads each entry's process log when it grew (or always, when
// final).
func (u *uploader) uploadLogs(ctx context.Context, final bool) error {
	var errs []error
	for i, e := range u.opts.Entries {
		b, err := os.ReadFile(e.ProcessLog)
		if errors.Is(err, fs.ErrNotExist) {
			if !final {
				continue
			}
			b = nil
		} else if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", e.ProcessLog, err))
			continue
		}
		if !final && int64(len(b)) == u.sizes[i] {
			continue
		}
		key := artifacts.Key(u.runPath, LogName(u.opts.Entries, i))
		if err := u.store.WriteFile(ctx, key, []byte(censor(string(b), u.secrets))); err != nil {
			errs = append(errs, err)
			continue
		}
		u.sizes[i] = int64(len(b))
	}
	return errors.Join(errs...)
}

// minSecretLength keeps very short values (a "1", a "true") from being
// censored everywhere they occur.
const minSecretLength = 4

// loadSecrets reads the values of every file under dirs.
func loadSecrets(dirs []string) ([]string, error) {
	var out []string
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			// Mounted secrets are symlinks into a timestamped directory;
			// skip the ..data links and the hidden copies.
			if strings.HasPrefix(d.Name(), "..") && p != dir {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			if v := strings.TrimSpace(string(b)); len(v) >= minSecretLength {
				out = append(out, v)
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read secrets for censoring: %w", err)
		}
	}
	return out, nil
}
