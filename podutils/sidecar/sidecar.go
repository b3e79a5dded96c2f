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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
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
	// logs and artifacts before upload. A file may be named instead of a
	// directory.
	SecretDirs []string `json:"secret_dirs,omitempty"`
	// Secrets are more values to censor, for callers in the same process.
	Secrets []string `json:"-"`
	// LogsDir is the directory the sidecar shares with the test containers
	// (a decorated pod's /logs): every entry's files and the artifact
	// directory lie under it. Nothing in it is trusted: files are opened
	// through it, following a symbolic link only while the link stays
	// inside it. Default: the deepest directory holding all of them.
	LogsDir string `json:"logs_dir,omitempty"`
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
	if len(errs) == 0 {
		if _, err := o.relativePaths(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// logsDir is LogsDir, or the deepest directory holding every file the
// sidecar reads from the test containers.
func (o Options) logsDir() string {
	if o.LogsDir != "" {
		return filepath.Clean(o.LogsDir)
	}
	var dirs []string
	for _, e := range o.Entries {
		dirs = append(dirs, filepath.Dir(e.ProcessLog), filepath.Dir(e.MarkerFile))
		if e.MetadataFile != "" {
			dirs = append(dirs, filepath.Dir(e.MetadataFile))
		}
	}
	if o.ArtifactDir != "" {
		dirs = append(dirs, o.ArtifactDir)
	}
	common := filepath.Clean(dirs[0])
	for _, d := range dirs[1:] {
		d = filepath.Clean(d)
		for !within(common, d) {
			common = filepath.Dir(common)
		}
	}
	return common
}

// within reports whether p is dir or lies under it.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// paths are the entries' files and the artifact directory relative to the
// logs directory.
type paths struct {
	entries   []Entry
	artifacts string
}

func (o Options) relativePaths() (paths, error) {
	dir := o.logsDir()
	rel := func(field, p string) (string, error) {
		if p == "" {
			return "", nil
		}
		r, err := filepath.Rel(dir, filepath.Clean(p))
		if err != nil || !within(dir, p) {
			return "", fmt.Errorf("%s %s is not under logs_dir %s", field, p, dir)
		}
		return filepath.ToSlash(r), nil
	}
	var out paths
	var errs []error
	for i, e := range o.Entries {
		var r Entry
		var err error
		r.ContainerName = e.ContainerName
		if r.ProcessLog, err = rel(fmt.Sprintf("entries[%d].process_log", i), e.ProcessLog); err != nil {
			errs = append(errs, err)
		}
		if r.MarkerFile, err = rel(fmt.Sprintf("entries[%d].marker_file", i), e.MarkerFile); err != nil {
			errs = append(errs, err)
		}
		if r.MetadataFile, err = rel(fmt.Sprintf("entries[%d].metadata_file", i), e.MetadataFile); err != nil {
			errs = append(errs, err)
		}
		out.entries = append(out.entries, r)
	}
	var err error
	if out.artifacts, err = rel("artifact_dir", o.ArtifactDir); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
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
	store, err := o.Storage.Open(ctx)
	if err != nil {
		return Result{}, err
	}
	defer store.Close()
	return Finish(ctx, store, o, spec)
}

// Finish waits for every entry's marker, uploading the logs as they grow,
// then uploads the logs, the artifacts and finished.json. When ctx ends
// first (and interrupts are not ignored) the run is finished as aborted
// with what there is. It is New followed by Sidecar.Finish.
func Finish(ctx context.Context, store *artifacts.Store, o Options, spec podutils.JobSpec) (Result, error) {
	sc, err := New(store, o, spec)
	if err != nil {
		return Result{}, err
	}
	defer sc.Close()
	return sc.Finish(ctx)
}

// Sidecar is a sidecar ready to finish one run.
type Sidecar struct {
	u    *uploader
	spec podutils.JobSpec
}

// New opens the logs directory and reads the secrets to censor. Open it
// before the test commands start: from then on the directory is held open,
// so that whatever they do to its path (replace it by a link, say), the
// sidecar reads the directory it was given.
func New(store *artifacts.Store, o Options, spec podutils.JobSpec) (*Sidecar, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("sidecar options: %w", err)
	}
	runPath, err := o.Storage.RunPath(spec)
	if err != nil {
		return nil, err
	}
	rel, err := o.relativePaths()
	if err != nil {
		return nil, err
	}
	secrets, err := loadSecrets(o.SecretDirs)
	if err != nil {
		return nil, err
	}
	secrets = append(secrets, o.Secrets...)
	root, err := os.OpenRoot(o.logsDir())
	if err != nil {
		return nil, fmt.Errorf("open the logs directory: %w", err)
	}
	return &Sidecar{spec: spec, u: &uploader{
		store: store, opts: o, rel: rel, root: root, runPath: runPath,
		censor: newCensorer(secrets), sizes: map[int]int64{},
	}}, nil
}

// Close releases the logs directory.
func (sc *Sidecar) Close() error { return sc.u.root.Close() }

// Finish waits for every entry's marker, uploading the logs as they grow,
// then uploads the logs, the artifacts and finished.json. When ctx ends
// first (and interrupts are not ignored) the run is finished as aborted
// with what there is.
func (sc *Sidecar) Finish(ctx context.Context) (Result, error) {
	u, o, spec, store, runPath := sc.u, sc.u.opts, sc.spec, sc.u.store, sc.u.runPath
	interrupted := u.wait(ctx)

	// Upload even when interrupted, and whatever happens to ctx from now
	// on: the run's files matter most then. Only an interrupted sidecar is
	// in a hurry.
	upCtx := context.WithoutCancel(ctx)
	if interrupted || ctx.Err() != nil {
		var cancel context.CancelFunc
		upCtx, cancel = context.WithTimeout(upCtx, finalUploadTimeout)
		defer cancel()
	}
	res := Result{Result: podutils.ResultSuccess, RunPath: runPath}
	metadata := map[string]any{}
	for i, e := range u.rel.entries {
		code, err := u.readMarker(e.MarkerFile)
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
			u.readMetadata(e.MetadataFile, metadata)
		}
	}
	var errs []error
	if err := u.uploadLogs(upCtx, true); err != nil {
		errs = append(errs, err)
	}
	if u.rel.artifacts != "" {
		if err := store.UploadTree(upCtx, artifacts.Key(runPath, podutils.ArtifactsDir), u.root, u.rel.artifacts, u.censor.reader); err != nil {
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

// maxMetadataSize bounds the metadata a job may add to finished.json.
const maxMetadataSize = 1 << 20

// readMetadata merges the JSON object in the file named into into; a job
// that wrote nothing, or something else than an object, adds nothing.
func (u *uploader) readMetadata(name string, into map[string]any) {
	b, err := u.readSmall(name, maxMetadataSize)
	if err != nil {
		return
	}
	var m map[string]any
	if json.Unmarshal(b, &m) == nil {
		maps.Copy(into, m)
	}
}

// readMarker reads an exit code from a marker file in the logs directory.
func (u *uploader) readMarker(name string) (int, error) {
	b, err := u.readSmall(name, 64)
	if err != nil {
		return 0, fmt.Errorf("read marker: %w", err)
	}
	code, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("marker %s does not hold an exit code", name)
	}
	return code, nil
}

// readSmall reads a regular file of the logs directory, refusing one
// larger than limit.
func (u *uploader) readSmall(name string, limit int64) ([]byte, error) {
	f, err := u.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return b, nil
}

// open opens a regular file of the logs directory: through the directory,
// so that a link out of it is refused, and without blocking, so that a
// FIFO planted in place of a file does not hold the sidecar up.
func (u *uploader) open(name string) (*os.File, error) {
	f, err := u.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	return f, nil
}

type uploader struct {
	store   *artifacts.Store
	opts    Options
	rel     paths
	root    *os.Root
	runPath string
	censor  *censorer
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
	for _, e := range u.rel.entries {
		if _, err := u.root.Lstat(e.MarkerFile); err != nil {
			return false
		}
	}
	return true
}

// uploadLogs uploads each entry's process log when it grew (or always, when
// final), streaming it through the censor.
func (u *uploader) uploadLogs(ctx context.Context, final bool) error {
	var errs []error
	for i, e := range u.rel.entries {
		key := artifacts.Key(u.runPath, LogName(u.opts.Entries, i))
		f, err := u.open(e.ProcessLog)
		if errors.Is(err, fs.ErrNotExist) {
			if final {
				errs = append(errs, u.store.WriteFile(ctx, key, nil))
			}
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", u.opts.Entries[i].ProcessLog, err))
			if final {
				errs = append(errs, u.store.WriteFile(ctx, key, nil))
			}
			continue
		}
		st, err := f.Stat()
		if err != nil || (!final && st.Size() == u.sizes[i]) {
			f.Close()
			continue
		}
		err = u.store.Upload(ctx, key, u.censor.reader(io.LimitReader(f, st.Size())))
		f.Close()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		u.sizes[i] = st.Size()
	}
	return errors.Join(errs...)
}

// registryCredentials are the passwords and auth strings of a
// container registry Secret (kubernetes.io/dockercfg or dockerconfigjson),
// censored on their own as Prow does: the file is one line of JSON, and a
// job that logs in prints the password, not the file.
func registryCredentials(name string, b []byte) []string {
	type entry struct {
		Auth     string `json:"auth"`
		Password string `json:"password"`
	}
	var entries map[string]entry
	switch name {
	case ".dockercfg":
		_ = json.Unmarshal(b, &entries)
	case ".dockerconfigjson":
		var cfg struct {
			Auths map[string]entry `json:"auths"`
		}
		_ = json.Unmarshal(b, &cfg)
		entries = cfg.Auths
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Auth, e.Password)
	}
	return out
}

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
			out = append(out, string(b))
			out = append(out, registryCredentials(d.Name(), b)...)
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read secrets for censoring: %w", err)
		}
	}
	return out, nil
}
