package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/test/envtest"
)

// TestUpFailsFast runs `bowline up` with one mistake each, as a person
// would make it, and checks that it exits with one line that names the
// cause and the fix. Each case also logs how long bowline took to fail:
// the design goal is under two seconds, which the test does not assert.
func TestUpFailsFast(t *testing.T) {
	bin := buildBowline(t)
	binDir, err := envtest.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() }) // after the parallel subtests
	forge := forgetest.Start(t, credentialsSeed)
	root := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(root, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	emptyToken, badToken, narrowToken := file("empty", "\n"), file("bad", "wrong-token\n"), file("narrow", "narrow-token\n")
	notRepo := file("config.yaml", "plank: {}\n")

	tests := []struct {
		name string
		args []string
		// before runs with the data directory before bowline starts.
		before func(t *testing.T, dataDir string)
		want   []string
	}{
		{name: "web port in use", args: []string{"--addr", busy.Addr().String()},
			want: []string{busy.Addr().String(), "(--addr)", "another program is using that address", "pass --addr"}},
		{name: "sandbox port in use", args: []string{"--sandbox-addr", busy.Addr().String()},
			want: []string{"(--sandbox-addr)", "pass --sandbox-addr"}},
		{name: "config repository missing", args: []string{"--config-repo", filepath.Join(root, "my-config")},
			want: []string{"--config-repo", "my-config does not exist"}},
		{name: "config repository is a file", args: []string{"--config-repo", notRepo},
			want: []string{"is a file", "directory of your config repository"}},
		{name: "data directory in use", before: holdLock,
			want: []string{"in use by another bowline up", "process", "--data-dir"}},
		{name: "empty token file", args: []string{"--github-token-file", emptyToken},
			want: []string{emptyToken + " is empty", "personal access token"}},
		{name: "token rejected", args: []string{"--github-token-file", badToken, "--github-endpoint", forge.URL + "/"},
			want: []string{"GitHub rejected the token in " + badToken, "401"}},
		{name: "token lacks a scope", args: []string{"--github-token-file", narrowToken, "--github-endpoint", forge.URL + "/"},
			want: []string{"lacks the scopes read:org", "it has: repo"}},
		{name: "control plane not built", args: []string{"--bin-dir", root},
			want: []string{"make tools"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dataDir := t.TempDir()
			if tt.before != nil {
				tt.before(t, dataDir)
			}
			args := []string{"up", "--data-dir", dataDir, "--bin-dir", binDir, "--addr", "127.0.0.1:0", "--sandbox-addr", "127.0.0.1:0"}
			cmd := exec.Command(bin, append(args, tt.args...)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				_ = cmd.Process.Kill()
				t.Fatalf("bowline up still running after a minute; it said:\n%s%s", stdout.String(), stderr.String())
			}
			took := time.Since(start)
			if _, ok := errors.AsType[*exec.ExitError](err); !ok {
				t.Fatalf("bowline up ended with %v, want a failure; it said:\n%s%s", err, stdout.String(), stderr.String())
			}
			msg := strings.TrimSpace(stderr.String())
			if strings.Count(msg, "\n") > 0 || !strings.HasPrefix(msg, "Error: ") {
				t.Errorf("want one line starting with Error:, got:\n%s", msg)
			}
			if out := strings.TrimSpace(stdout.String()); out != "" {
				t.Errorf("bowline up printed more than the error:\n%s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			t.Logf("failed in %s: %s", took.Round(time.Millisecond), msg)
		})
	}
}

// holdLock holds the data directory's lock for the test, as a running
// `bowline up` does.
func holdLock(t *testing.T, dataDir string) {
	l, err := lockDataDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Release)
}
