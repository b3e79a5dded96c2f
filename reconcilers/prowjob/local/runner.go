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
//
// The local agent is not a sandbox. Jobs run as the operator's user and can
// read whatever that user can. The runner keeps them from inheriting the
// operator's environment and working directory, starts them outside the
// operator's data directory with a home directory of their own, and kills
// every process of a run when it ends, those that left its process group
// and session included (through a cgroup of the run where the host allows,
// else by a marker in their environment). It does not stop a job that
// wants to read the operator's files or to escape: run code you do not
// trust in a cluster, with the kubernetes agent. Admit lets the operator
// refuse such runs.
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
// leak into jobs; HOME and TMPDIR are the run's own.
var hostEnv = []string{"PATH", "USER", "LANG", "LC_ALL", "TERM", "SHELL"}

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
	// Admit, when set, decides whether a run may execute on this host: a
	// non-empty reason refuses it (the run ends in error with the reason
	// as its description, without running anything); an error is
	// transient, and Start returns it. See TrustedAuthorsOnly.
	Admit func(ctx context.Context, pj *v1alpha1.ProwJob) (reason string, err error)
	// SecretFiles and Secrets are censored from every run's log and
	// artifacts (the operator's own credentials, which a job running as
	// the same user could read and print), besides OAuthTokenFile.
	SecretFiles []string
	Secrets     []string
	// CgroupParent is the cgroup v2 directory under which each run gets a
	// cgroup of its own, so that none of its processes outlives it;
	// default: the operator's own cgroup when the host lets it create
	// cgroups there; CgroupsOff to not use cgroups. Without cgroups, the
	// processes of a run are found by a marker in their environment.
	CgroupParent string
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
	// cgroups is the parent of the runs' cgroups; empty without.
	cgroups    string
	cgroupsErr error

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
	// Workspaces are private to the operator's user.
	if err := os.MkdirAll(o.Root, 0o700); err != nil {
		return nil, fmt.Errorf("local runner: create workspace root: %w", err)
	}
	if err := os.Chmod(o.Root, 0o700); err != nil {
		return nil, fmt.Errorf("local runner: workspace root: %w", err)
	}
	r := &Runner{opts: o, runs: map[string]*Run{}}
	if o.CgroupParent != "" && o.CgroupParent != CgroupsOff {
		// Asked for: it must work.
		if r.cgroups, r.cgroupsErr = cgroupParent(o.CgroupParent); r.cgroupsErr != nil {
			return nil, fmt.Errorf("local runner: %w", r.cgroupsErr)
		}
	} else {
		r.cgroups, r.cgroupsErr = cgroupParent(o.CgroupParent)
	}
	// A runner that stopped without cleaning up (a crash, a kill) may have
	// left processes running: none may survive into this one.
	if err := reapStale(o.Root, r.cgroups, o.KeepWorkspaces); err != nil {
		return nil, fmt.Errorf("local runner: %w", err)
	}
	return r, nil
}

// Cgroups says where the runs' cgroups are created, or why there are none
// (nil, nil when they were turned off).
func (r *Runner) Cgroups() (string, error) { return r.cgroups, r.cgroupsErr }

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
	// Interrupted says the run was stopped because the runner shut down:
	// it is no outcome of the job, and a runner started later runs it
	// again.
	Interrupted bool
}

// Run is one running job.
type Run struct {
	namespace, name string
	workspace       string
	runPath         string
	logPath         string
	cancel          context.CancelFunc
	done            chan struct{}

	mu          sync.Mutex
	status      Status
	interrupted bool
}

// Start begins a run of pj and returns at once. It fails, without starting
// anything, when the job cannot run here: no build ID yet, no containers,
// a command missing on this host, an environment variable taken from a
// Secret or ConfigMap. A run that Admit refuses is started and ends at
// once, in error. Starting a ProwJob that already runs returns the
// existing run. ctx bounds only Start itself; the run lasts until it ends,
// is aborted, or the Runner is shut down.
func (r *Runner) Start(ctx context.Context, pj *v1alpha1.ProwJob) (*Run, error) {
	if run, ok := r.Get(pj.Namespace, pj.Name); ok {
		return run, nil
	}
	refusal := ""
	if r.opts.Admit != nil {
		var err error
		if refusal, err = r.opts.Admit(ctx, pj); err != nil {
			return nil, fmt.Errorf("decide whether %s may run here: %w", pj.Name, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if run, ok := r.runs[key(pj.Namespace, pj.Name)]; ok {
		return run, nil
	}
	if r.closed {
		return nil, ErrShutDown
	}
	if refusal != "" {
		run := r.newRun(pj, "", "", "", func() {})
		r.runs[key(pj.Namespace, pj.Name)] = run
		run.finish(Result{State: v1alpha1.ErrorState, Description: refusal})
		r.notify(run)
		return run, nil
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
	contain, err := newContainment(r.cgroups, len(plan.entrypoints))
	if err != nil && r.cgroups != "" {
		// The host refused this run's cgroup: fall back to the marker.
		contain, err = newContainment("", len(plan.entrypoints))
	}
	if err != nil {
		store.Close()
		return nil, err
	}
	if err := contain.save(r.opts.Root, pj.Name); err != nil {
		_ = contain.release()
		store.Close()
		return nil, fmt.Errorf("record the run: %w", err)
	}
	plan.contain(contain)
	runCtx, cancel := context.WithCancel(context.Background())
	run := r.newRun(pj, plan.workspace, plan.runPath, plan.entrypoints[0].ProcessLog, cancel)
	r.runs[key(pj.Namespace, pj.Name)] = run
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer store.Close()
		res := r.execute(runCtx, run, plan, store)
		res.RunPath = plan.runPath
		res.Bucket = store.String()
		// Whatever the run left behind goes with it.
		if err := contain.release(); err != nil && res.Description != "" {
			res.Description += " Some of its processes could not be cleaned up: " + err.Error()
		}
		os.Remove(statePath(r.opts.Root, pj.Name))
		if !r.opts.KeepWorkspaces {
			os.RemoveAll(plan.workspace)
		}
		res.Interrupted = run.wasInterrupted() && res.State == v1alpha1.AbortedState
		run.finish(res)
		r.notify(run)
		cancel()
	}()
	return run, nil
}

func (r *Runner) newRun(pj *v1alpha1.ProwJob, workspace, runPath, logPath string, cancel context.CancelFunc) *Run {
	return &Run{
		namespace: pj.Namespace,
		name:      pj.Name,
		workspace: workspace,
		runPath:   runPath,
		logPath:   logPath,
		cancel:    cancel,
		done:      make(chan struct{}),
		status:    Status{Phase: PhaseCloning, StartTime: time.Now()},
	}
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

// Shutdown stops every run, refuses new ones, and waits for them to end
// (their processes killed, their logs uploaded) or for ctx to end. Runs it
// stops end Interrupted: the job did not end, bowline did, and a runner
// started later runs them again.
func (r *Runner) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	for _, run := range r.runs {
		run.mu.Lock()
		run.interrupted = true
		run.mu.Unlock()
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

func (run *Run) wasInterrupted() bool {
	run.mu.Lock()
	defer run.mu.Unlock()
	return run.interrupted
}

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
