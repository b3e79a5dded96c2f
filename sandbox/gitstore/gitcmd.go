package gitstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// maxStderr bounds how much of a failing command's stderr ends up in an
// error message.
const maxStderr = 512

// gitError is a git command that exited unsuccessfully. Code is the exit
// status (-1 when the process could not run or was killed).
type gitError struct {
	Args   []string
	Code   int
	Stderr string
	Err    error
}

func (e *gitError) Error() string {
	msg := fmt.Sprintf("git %s: exit %d", strings.Join(e.Args, " "), e.Code)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

func (e *gitError) Unwrap() error { return e.Err }

// exitCode reports the exit status of a failed git command, or -1 when err
// is not a git exit.
func exitCode(err error) int {
	var ge *gitError
	if errors.As(err, &ge) {
		return ge.Code
	}
	return -1
}

// gitEnv is the environment of every git process the store starts: only
// PATH is inherited, and system, global and user (XDG) configuration are
// switched off so that the behaviour does not depend on the machine.
// home is an empty directory owned by the store.
func gitEnv(home string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	}
	return append(env, configEnv(storeConfig)...)
}

// storeConfig is git configuration given to every command (as if by -c):
//   - safe.directory: the repositories may be owned by another user than the
//     one running the server (a mounted volume), which is not a risk here.
//   - gc.autoDetach: receive-pack may run `gc --auto`; keeping it in the
//     foreground means no git process outlives the request that started it.
//   - http.receivepack: pushing is authorised by the Handler's auth hook,
//     so http-backend need not require REMOTE_USER.
//   - uploadpack.allowReachableSHA1InWant: clients may fetch a commit by
//     SHA, as GitHub allows (Prow's clonerefs does).
//   - uploadpack.allowFilter: partial clones work, as on GitHub.
//   - receive.hideRefs=refs/pull: pull-request refs belong to the forge;
//     GitHub rejects pushes to them too.
//   - receive.denyDeleteCurrent=refuse: the default branch cannot be
//     deleted by a push (git's default too, but with a page of advice).
var storeConfig = [][2]string{
	{"safe.directory", "*"},
	{"gc.autoDetach", "false"},
	{"http.receivepack", "true"},
	{"uploadpack.allowReachableSHA1InWant", "true"},
	{"uploadpack.allowFilter", "true"},
	{"receive.hideRefs", "refs/pull"},
	{"receive.denyDeleteCurrent", "refuse"},
}

// configEnv turns key/value pairs into GIT_CONFIG_COUNT/KEY/VALUE variables,
// which git reads like -c options but which also reach the processes
// http-backend starts.
func configEnv(kv [][2]string) []string {
	env := []string{"GIT_CONFIG_COUNT=" + strconv.Itoa(len(kv))}
	for i, p := range kv {
		n := strconv.Itoa(i)
		env = append(env, "GIT_CONFIG_KEY_"+n+"="+p[0], "GIT_CONFIG_VALUE_"+n+"="+p[1])
	}
	return env
}

// gitRun describes one git invocation.
type gitRun struct {
	dir   string    // GIT_DIR
	stdin io.Reader // nil: no input
	env   []string  // added to the store's environment
	args  []string
}

// run executes git and returns its standard output. A non-zero exit is a
// *gitError carrying (the start of) standard error.
func (s *Store) run(ctx context.Context, g gitRun) ([]byte, error) {
	args := g.args
	if g.dir != "" {
		args = append([]string{"--git-dir=" + g.dir}, args...)
	}
	cmd := exec.CommandContext(ctx, s.gitPath, args...)
	cmd.Env = append(append([]string(nil), s.env...), g.env...)
	cmd.Stdin = g.stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		code := -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > maxStderr {
			msg = msg[:maxStderr] + "…"
		}
		return stdout.Bytes(), &gitError{Args: g.args, Code: code, Stderr: msg, Err: err}
	}
	return stdout.Bytes(), nil
}

// runLine runs git and returns the first line of its output.
func (s *Store) runLine(ctx context.Context, g gitRun) (string, error) {
	out, err := s.run(ctx, g)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line), nil
}
