// Package local runs ProwJobs of the local agent as processes on the
// operator's machine, the way `bowline up` runs jobs without a cluster.
// Each run gets a fresh workspace, its refs cloned and merged (clonerefs),
// started.json uploaded (initupload), every container's command run as a
// process in its own process group with Prow's environment, its output
// captured and its timeout and grace period enforced (entrypoint), and its
// log, artifacts and finished.json uploaded (sidecar) into the same layout
// a pod would produce. No image is pulled: each command must exist on the
// host.
//
// The ProwJob reconciler drives it: Start when a run leaves triggered, Get
// to find a run again, Status and Done to follow it, Abort to stop it.
package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// DefaultLogUploadInterval is how often a running job's log is uploaded.
const DefaultLogUploadInterval = time.Second

// hostEnv are the variables of the operator's environment a job inherits.
// Nothing else is passed on, so that the operator's own credentials do not
// leak into jobs.
var hostEnv = []string{"PATH", "HOME", "USER", "LANG", "LC_ALL", "TMPDIR", "TERM", "SHELL"}

// Options configure a Runner.
type Options struct {
	// Root is the directory under which each run gets its workspace,
	// Root/<prowjob name>.
	Root string
	// Bucket is where logs and artifacts go when a job's decoration config
	// names no bucket: a directory or a gs://, s3:// or file:// URL.
	Bucket string
	// Env is added to every job's environment (NAME=value).
	Env []string
	// GitHubHost is the host of clone URLs for refs that give neither
	// clone URI nor repository link; default github.com.
	GitHubHost string
	// OAuthTokenFile holds a token for cloning private repositories.
	OAuthTokenFile string
	// LogUploadInterval is how often a running job's log is uploaded;
	// default DefaultLogUploadInterval.
	LogUploadInterval time.Duration
	// KeepWorkspaces leaves workspaces in place after runs end.
	KeepWorkspaces bool
	// Notify, when set, is called each time a run changes phase, so that
	// the reconciler can requeue its ProwJob. It is called on its own
	// goroutine: a Notify that blocks holds up neither the run nor
	// Shutdown.
	Notify func(namespace, name string)
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	var errs []error
	if o.Root == "" {
		errs = append(errs, errors.New("local runner: a workspace root is required"))
	}
	if o.Bucket == "" {
		errs = append(errs, errors.New("local runner: a bucket (directory or URL) for logs and artifacts is required"))
	}
	return errors.Join(errs...)
}

// Runner runs local-agent ProwJobs. It is safe for concurrent use.
type Runner struct {
	opts Options

	mu     sync.Mutex
	runs   map[string]*Run
	closed bool
	wg     sync.WaitGroup
}

// ErrShutDown is returned by Start once Shutdown has been called.
var ErrShutDown = errors.New("local runner is shut down")

// NewRunner returns a Runner.
func NewRunner(o Options) (*Runner, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.LogUploadInterval <= 0 {
		o.LogUploadInterval = DefaultLogUploadInterval
	}
	if err := os.MkdirAll(o.Root, 0o755); err != nil {
		return nil, fmt.Errorf("local runner: create workspace root: %w", err)
	}
	return &Runner{opts: o, runs: map[string]*Run{}}, nil
}

// Phase is where a run is.
type Phase string

// Phases of a run, in order.
const (
	PhaseCloning   Phase = "Cloning"
	PhaseRunning   Phase = "Running"
	PhaseUploading Phase = "Uploading"
	PhaseFinished  Phase = "Finished"
)

// Status is a run's progress.
type Status struct {
	Phase     Phase
	StartTime time.Time
	// Result is set once Phase is Finished.
	Result *Result
}

// Result is how a run ended, in the ProwJob's terms.
type Result struct {
	// State is success, failure, aborted or error.
	State v1alpha1.ProwJobState
	// Description says why, for status.description.
	Description string
	// ExitCode is the first non-zero exit code of the job's commands.
	ExitCode int
	// TimedOut says the job ran past its timeout.
	TimedOut bool
	// RunPath is where the run's files are in the bucket.
	RunPath string
	// Bucket names the bucket.
	Bucket string
}

// Run is one running job.
type Run struct {
	namespace, name string
	workspace       string
	runPath         string
	logPath         string
	cancel          context.CancelFunc
	done            chan struct{}

	mu     sync.Mutex
	status Status
}

// Start begins a run of pj and returns at once. It fails, without starting
// anything, when the job cannot run here: no build ID yet, no containers,
// a command missing on this host, an environment variable taken from a
// Secret or ConfigMap. Starting a ProwJob that already runs returns the
// existing run. ctx bounds only Start itself; the run lasts until it ends,
// is aborted, or the Runner is shut down.
func (r *Runner) Start(ctx context.Context, pj *v1alpha1.ProwJob) (*Run, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if run, ok := r.runs[key(pj.Namespace, pj.Name)]; ok {
		return run, nil
	}
	if r.closed {
		return nil, ErrShutDown
	}
	plan, err := r.plan(pj)
	if err != nil {
		return nil, err
	}
	store, err := artifacts.Open(ctx, plan.storage.Bucket)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(plan.workspace); err != nil {
		store.Close()
		return nil, fmt.Errorf("clear workspace: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	run := &Run{
		namespace: pj.Namespace,
		name:      pj.Name,
		workspace: plan.workspace,
		runPath:   plan.runPath,
		logPath:   plan.entrypoints[0].ProcessLog,
		cancel:    cancel,
		done:      make(chan struct{}),
		status:    Status{Phase: PhaseCloning, StartTime: time.Now()},
	}
	r.runs[key(pj.Namespace, pj.Name)] = run
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer store.Close()
		res := r.execute(runCtx, run, plan, store)
		res.RunPath = plan.runPath
		res.Bucket = store.String()
		if !r.opts.KeepWorkspaces {
			os.RemoveAll(plan.workspace)
		}
		run.finish(res)
		r.notify(run)
		cancel()
	}()
	return run, nil
}

// Get returns the run of a ProwJob, if this Runner started one.
func (r *Runner) Get(namespace, name string) (*Run, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	run, ok := r.runs[key(namespace, name)]
	return run, ok
}

// Forget drops a finished run from the Runner, once its outcome has been
// recorded in the ProwJob's status.
func (r *Runner) Forget(namespace, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if run, ok := r.runs[key(namespace, name)]; ok && run.Status().Phase == PhaseFinished {
		delete(r.runs, key(namespace, name))
	}
}

// Shutdown aborts every run, refuses new ones, and waits for them to end (their processes
// killed, their logs uploaded) or for ctx to end.
func (r *Runner) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	for _, run := range r.runs {
		run.Abort()
	}
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("local runner shutdown: %w", ctx.Err())
	}
}

func (r *Runner) notify(run *Run) {
	if r.opts.Notify != nil {
		go r.opts.Notify(run.namespace, run.name)
	}
}

func key(namespace, name string) string { return namespace + "/" + name }

// Abort stops the run: its processes are interrupted, killed after their
// grace period, and the run ends as aborted with its logs uploaded.
func (run *Run) Abort() { run.cancel() }

// Done is closed when the run has ended and everything is uploaded.
func (run *Run) Done() <-chan struct{} { return run.done }

// Wait blocks until the run ends or ctx ends.
func (run *Run) Wait(ctx context.Context) (Result, error) {
	select {
	case <-run.done:
		return *run.Status().Result, nil
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// Status returns the run's progress.
func (run *Run) Status() Status {
	run.mu.Lock()
	defer run.mu.Unlock()
	s := run.status
	if s.Result != nil {
		res := *s.Result
		s.Result = &res
	}
	return s
}

// RunPath is where the run's files are in the bucket.
func (run *Run) RunPath() string { return run.runPath }

// LogPath is the local file the first container's output goes to while
// the run goes on (gone once the run ends, unless workspaces are kept).
func (run *Run) LogPath() string { return run.logPath }

// Workspace is the run's directory.
func (run *Run) Workspace() string { return run.workspace }

func (run *Run) setPhase(p Phase) {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.status.Phase = p
}

func (run *Run) finish(res Result) {
	run.mu.Lock()
	run.status.Phase = PhaseFinished
	run.status.Result = &res
	run.mu.Unlock()
	close(run.done)
}

// lookCommand reports a command that does not exist on this host.
func lookCommand(container, name string) error {
	if _, err := exec.LookPath(name); err != nil {
		return fmt.Errorf("container %q: command %q is not available on this host (the local agent runs commands on the host and pulls no image): %w", container, name, err)
	}
	return nil
}

// workDir is where a run's commands start: the clone of the work-dir refs,
// else the workspace.
func workDir(workspace string, spec podutils.JobSpec, cloning bool) string {
	if r, ok := spec.WorkDirRefs(); ok && cloning {
		return filepath.Join(workspace, "go", filepath.FromSlash(r.Path()))
	}
	return workspace
}
