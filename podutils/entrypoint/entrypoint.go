// Package entrypoint wraps a job's test command: it runs the command in its
// own process group with its output copied to a process log as well as to
// its own output, interrupts it (SIGINT) when it runs past its timeout or
// the run is aborted, kills the whole group (SIGKILL) when it has not ended
// after the grace period, and writes the exit code to a marker file that
// the sidecar waits for.
package entrypoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bowline-ci/bowline/podutils"
)

// OptionsEnv is the environment variable holding Options as JSON.
const OptionsEnv = "ENTRYPOINT_OPTIONS"

// DefaultGracePeriod is how long an interrupted command has to exit when
// the options give no grace period, as Prow's.
const DefaultGracePeriod = 15 * time.Second

// drainTimeout bounds how long output is still copied after the command
// and its process group are gone, in case a process escaped the group
// holding the output open.
const drainTimeout = 5 * time.Second

// Options configures one wrapped command. Its JSON is $ENTRYPOINT_OPTIONS.
type Options struct {
	// Args is the command and its arguments.
	Args []string `json:"args"`
	// ContainerName names the container, for multi-container jobs.
	ContainerName string `json:"container_name,omitempty"`
	// ProcessLog receives the command's output.
	ProcessLog string `json:"process_log"`
	// MarkerFile receives the exit code once the command has ended.
	MarkerFile string `json:"marker_file"`
	// MetadataFile is where the job may write JSON metadata for
	// finished.json; the sidecar reads it.
	MetadataFile string `json:"metadata_file,omitempty"`
	// Timeout interrupts the command after this long; zero means never.
	Timeout podutils.Duration `json:"timeout,omitzero"`
	// GracePeriod is how long an interrupted command has before it is
	// killed; zero means DefaultGracePeriod.
	GracePeriod podutils.Duration `json:"grace_period,omitzero"`
	// ArtifactDir is created before the command starts.
	ArtifactDir string `json:"artifact_dir,omitempty"`
	// AlwaysZero makes the entrypoint itself exit 0 whatever the command
	// did; the marker still holds the real code.
	AlwaysZero bool `json:"always_zero,omitempty"`

	// Dir is the working directory; empty means the current one.
	Dir string `json:"-"`
	// Env is the command's environment; nil means the entrypoint's own.
	Env []string `json:"-"`
	// Output also receives the command's output; nil means none besides
	// the process log.
	Output io.Writer `json:"-"`
	// Prepare, when set, adjusts the command just before it starts (the
	// local agent starts it inside the run's cgroup). The command keeps
	// its own process group whatever Prepare does.
	Prepare func(*exec.Cmd) `json:"-"`
	// Sweep, when set, is called once the command has exited and its
	// process group has been killed, to kill what it left running outside
	// the group (processes that started a session of their own). In a pod,
	// the container's end does that.
	Sweep func() `json:"-"`
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	var errs []error
	if len(o.Args) == 0 {
		errs = append(errs, errors.New("args: no command to run"))
	}
	if o.ProcessLog == "" {
		errs = append(errs, errors.New("process_log is required"))
	}
	if o.MarkerFile == "" {
		errs = append(errs, errors.New("marker_file is required"))
	}
	if o.Timeout.Duration < 0 || o.GracePeriod.Duration < 0 {
		errs = append(errs, errors.New("timeout and grace_period must not be negative"))
	}
	return errors.Join(errs...)
}

// Result is how the command ended.
type Result struct {
	// ExitCode is what the marker file holds.
	ExitCode int
	// TimedOut: the command ran past its timeout and was interrupted.
	TimedOut bool
	// Aborted: the context ended (the run was aborted) before the command.
	Aborted bool
	// Killed: the command had to be killed after its grace period.
	Killed bool
	// StartErr is why the command could not be started, if it could not.
	StartErr error
	// Duration is how long the command ran.
	Duration time.Duration
}

// Run runs the command and writes its exit code to the marker file. The
// returned error is about the entrypoint's own files (the log, the marker);
// how the command ended is in the Result.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.Validate(); err != nil {
		return Result{}, fmt.Errorf("entrypoint options: %w", err)
	}
	for _, d := range []string{filepath.Dir(o.ProcessLog), filepath.Dir(o.MarkerFile), o.ArtifactDir} {
		if d == "" {
			continue
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return Result{}, fmt.Errorf("create %s: %w", d, err)
		}
	}
	logFile, err := os.OpenFile(o.ProcessLog, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return Result{}, fmt.Errorf("open process log: %w", err)
	}
	defer logFile.Close()
	out := io.Writer(logFile)
	if o.Output != nil {
		out = io.MultiWriter(logFile, o.Output)
	}

	res := execute(ctx, o, out)
	switch {
	case res.StartErr != nil:
		fmt.Fprintf(out, "Could not start the command: %v\n", res.StartErr)
	case res.TimedOut:
		fmt.Fprintf(out, "Process did not finish before its %s timeout\n", o.Timeout.Duration)
	case res.Aborted:
		fmt.Fprintln(out, "Process was aborted")
	}
	if res.Killed {
		grace := gracePeriod(o)
		fmt.Fprintf(out, "Process did not exit within its %s grace period and was killed\n", grace)
	}
	if err := WriteMarker(o.MarkerFile, res.ExitCode); err != nil {
		return res, err
	}
	return res, nil
}

func gracePeriod(o Options) time.Duration {
	if o.GracePeriod.Duration > 0 {
		return o.GracePeriod.Duration
	}
	return DefaultGracePeriod
}

// execute runs the command to its end and decides its exit code.
func execute(ctx context.Context, o Options, out io.Writer) Result {
	start := time.Now()
	path, err := exec.LookPath(o.Args[0])
	if err != nil {
		return Result{ExitCode: podutils.InternalErrorCode, StartErr: err}
	}
	// The command writes straight into a pipe we own, so that waiting for
	// the process does not wait for whatever else holds its output.
	pr, pw, err := os.Pipe()
	if err != nil {
		return Result{ExitCode: podutils.InternalErrorCode, StartErr: err}
	}
	cmd := exec.Command(path, o.Args[1:]...)
	cmd.Args[0] = o.Args[0]
	cmd.Dir = o.Dir
	cmd.Env = o.Env
	cmd.Stdout = pw
	cmd.Stderr = pw
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if o.Prepare != nil {
		o.Prepare(cmd)
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return Result{ExitCode: podutils.InternalErrorCode, StartErr: err}
	}
	pw.Close()
	copied := make(chan struct{})
	go func() {
		// Once the log cannot be written there is nowhere to report it.
		_, _ = io.Copy(out, pr)
		close(copied)
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var timeout <-chan time.Time
	if o.Timeout.Duration > 0 {
		t := time.NewTimer(o.Timeout.Duration)
		defer t.Stop()
		timeout = t.C
	}
	var res Result
	var waitErr error
	select {
	case waitErr = <-exited:
	case <-timeout:
		res.TimedOut = true
		waitErr, res.Killed = terminate(cmd.Process.Pid, exited, gracePeriod(o))
	case <-ctx.Done():
		res.Aborted = true
		waitErr, res.Killed = terminate(cmd.Process.Pid, exited, gracePeriod(o))
	}
	// Nothing the command started outlives it.
	killGroup(cmd.Process.Pid, syscall.SIGKILL)
	if o.Sweep != nil {
		o.Sweep()
	}
	select {
	case <-copied:
	case <-time.After(drainTimeout):
	}
	pr.Close()

	res.Duration = time.Since(start)
	switch {
	case res.TimedOut:
		res.ExitCode = podutils.InternalErrorCode
	case res.Aborted:
		res.ExitCode = podutils.AbortedErrorCode
	default:
		res.ExitCode = exitCode(waitErr)
	}
	return res
}

// terminate interrupts the process group, then kills it when it has not
// exited within the grace period.
func terminate(pid int, exited <-chan error, grace time.Duration) (error, bool) {
	killGroup(pid, syscall.SIGINT)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-exited:
		return err, false
	case <-t.C:
	}
	killGroup(pid, syscall.SIGKILL)
	return <-exited, true
}

func killGroup(pid int, sig syscall.Signal) {
	// The group may already be gone; there is nothing to do then.
	_ = syscall.Kill(-pid, sig)
}

// exitCode is the code a wait error stands for; a process ended by a
// signal counts as 128+signal, as shells report it.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exit.ExitCode()
	}
	return podutils.InternalErrorCode
}

// WriteMarker writes an exit code to a marker file, atomically, so that a
// reader never sees it half written.
func WriteMarker(file string, code int) error {
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(code)), 0o644); err != nil {
		return fmt.Errorf("write marker: %w", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("write marker: %w", err)
	}
	return nil
}

// ReadMarker reads an exit code from a marker file.
func ReadMarker(file string) (int, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("read marker: %w", err)
	}
	code, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("marker %s holds %q, not an exit code", file, b)
	}
	return code, nil
}

// CopySelf copies the running executable to dst, executable, so that a
// container built from another image can run it (the place-entrypoint step
// of a decorated pod).
func CopySelf(dst string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	in, err := os.Open(self)
	if err != nil {
		return fmt.Errorf("copy %s: %w", self, err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	outFile, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	if _, err := io.Copy(outFile, in); err != nil {
		outFile.Close()
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	return outFile.Close()
}
