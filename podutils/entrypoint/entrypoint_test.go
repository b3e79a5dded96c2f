package entrypoint

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bowline-ci/bowline/podutils"
)

func options(t *testing.T, script string) Options {
	t.Helper()
	dir := t.TempDir()
	return Options{
		Args:        []string{"sh", "-c", script},
		ProcessLog:  filepath.Join(dir, "logs", "process-log.txt"),
		MarkerFile:  filepath.Join(dir, "logs", "marker-file.txt"),
		ArtifactDir: filepath.Join(dir, "logs", "artifacts"),
		GracePeriod: podutils.Duration{Duration: 10 * time.Second},
		Dir:         dir,
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// signalWriter collects output and closes seen once want has been written.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	once sync.Once
	seen chan struct{}
}

func newSignalWriter(want string) *signalWriter {
	return &signalWriter{want: want, seen: make(chan struct{})}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func TestExitCodesAndOutput(t *testing.T) {
	tests := []struct {
		name   string
		script string
		code   int
	}{
		{name: "success", script: "echo hello; echo oops >&2", code: 0},
		{name: "failure", script: "echo hello; echo oops >&2; exit 3", code: 3},
		{name: "killed by a signal", script: "echo hello; echo oops >&2; kill -TERM $$", code: 128 + int(syscall.SIGTERM)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := options(t, tt.script)
			var out bytes.Buffer
			o.Output = &out
			res, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != tt.code || res.TimedOut || res.Aborted || res.Killed {
				t.Errorf("Run() = %+v, want exit code %d", res, tt.code)
			}
			if got := readFile(t, o.ProcessLog); got != "hello\noops\n" {
				t.Errorf("process log = %q", got)
			}
			if out.String() != "hello\noops\n" {
				t.Errorf("output = %q", out.String())
			}
			if code, err := ReadMarker(o.MarkerFile); err != nil || code != tt.code {
				t.Errorf("marker = %d, %v; want %d", code, err, tt.code)
			}
			if _, err := os.Stat(o.ArtifactDir); err != nil {
				t.Errorf("artifact dir not created: %v", err)
			}
		})
	}
}

func TestTimeoutInterruptsThenKills(t *testing.T) {
	// The command ignores SIGINT: the grace period runs out and the group
	// is killed.
	o := options(t, `trap "" INT; echo started; sleep 300`)
	o.Timeout = podutils.Duration{Duration: 100 * time.Millisecond}
	o.GracePeriod = podutils.Duration{Duration: 100 * time.Millisecond}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut || !res.Killed || res.ExitCode != podutils.InternalErrorCode {
		t.Errorf("Run() = %+v, want timed out, killed, code %d", res, podutils.InternalErrorCode)
	}
	if res.Duration > 30*time.Second {
		t.Errorf("took %s: the kill did not end the command", res.Duration)
	}
	log := readFile(t, o.ProcessLog)
	for _, want := range []string{"started", "did not finish before its 100ms timeout", "was killed"} {
		if !strings.Contains(log, want) {
			t.Errorf("process log lacks %q:\n%s", want, log)
		}
	}
	if code, _ := ReadMarker(o.MarkerFile); code != podutils.InternalErrorCode {
		t.Errorf("marker = %d", code)
	}
}

func TestTimeoutHonoursInterrupt(t *testing.T) {
	// The command exits cleanly on SIGINT within the grace period: it is
	// not killed, but the run still counts as timed out.
	o := options(t, `trap "echo interrupted; exit 0" INT; echo started; while :; do sleep 1; done`)
	o.Timeout = podutils.Duration{Duration: 100 * time.Millisecond}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut || res.Killed || res.ExitCode != podutils.InternalErrorCode {
		t.Errorf("Run() = %+v, want timed out without a kill", res)
	}
	if log := readFile(t, o.ProcessLog); !strings.Contains(log, "interrupted") {
		t.Errorf("the command did not see SIGINT:\n%s", log)
	}
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat))
	return len(fields) > 2 && fields[2] != "Z"
}

// dies reports whether pid ends within a few seconds. A killed process
// takes a moment to be torn down after its signal, so this polls, as
// Eventually would.
func dies(pid int) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func TestAbortKillsTheProcessGroup(t *testing.T) {
	o := options(t, `sleep 300 & echo $! > child.pid; echo started; wait`)
	w := newSignalWriter("started")
	o.Output = w
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result, 1)
	go func() {
		res, err := Run(ctx, o)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	<-w.seen
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(t, filepath.Join(o.Dir, "child.pid"))))
	if err != nil {
		t.Fatal(err)
	}
	if !alive(pid) {
		t.Fatalf("background child %d not running before the abort", pid)
	}
	cancel()
	res := <-done
	if !res.Aborted || res.ExitCode != podutils.AbortedErrorCode {
		t.Errorf("Run() = %+v, want aborted with code %d", res, podutils.AbortedErrorCode)
	}
	if !dies(pid) {
		t.Errorf("background child %d survived the abort", pid)
	}
}

func TestBackgroundChildDoesNotHoldTheRun(t *testing.T) {
	o := options(t, `sleep 300 & echo $! > child.pid; echo done`)
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 || res.Duration > drainTimeout {
		t.Errorf("Run() = %+v", res)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(readFile(t, filepath.Join(o.Dir, "child.pid"))))
	if pid == 0 || !dies(pid) {
		t.Errorf("background child %d outlived the command", pid)
	}
}

func TestCommandNotFound(t *testing.T) {
	o := options(t, "")
	o.Args = []string{"bowline-no-such-command"}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.StartErr == nil || res.ExitCode != podutils.InternalErrorCode {
		t.Errorf("Run() = %+v, want a start error", res)
	}
	if log := readFile(t, o.ProcessLog); !strings.Contains(log, "bowline-no-such-command") {
		t.Errorf("process log does not name the missing command: %q", log)
	}
	if code, _ := ReadMarker(o.MarkerFile); code != podutils.InternalErrorCode {
		t.Errorf("marker = %d", code)
	}
}

func TestOptionsJSONAndValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{name: "ok", opts: Options{Args: []string{"make"}, ProcessLog: "/logs/p", MarkerFile: "/logs/m"}},
		{name: "no args", opts: Options{ProcessLog: "/logs/p", MarkerFile: "/logs/m"}, wantErr: true},
		{name: "no marker", opts: Options{Args: []string{"make"}, ProcessLog: "/logs/p"}, wantErr: true},
		{name: "negative timeout", opts: Options{Args: []string{"make"}, ProcessLog: "/p", MarkerFile: "/m", Timeout: podutils.Duration{Duration: -1}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.opts.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestCopySelf(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "tools", "bowline")
	if err := CopySelf(dst); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dst)
	if err != nil || st.Mode()&0o111 == 0 || st.Size() == 0 {
		t.Errorf("copied executable: %v, %v", st, err)
	}
}
