package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"
	"github.com/spf13/pflag"

	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
)

func TestSandboxOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		serve   bool
		args    []string
		wantErr string
	}{
		{name: "serve defaults", serve: true},
		{name: "serve with everything", serve: true, args: []string{"--addr=:0", "--data-dir=forge-data", "--seed=s.yaml", "--base-url=http://forge:3000"}},
		{name: "bad address", serve: true, args: []string{"--addr=3000"}, wantErr: "--addr"},
		{name: "bad base URL", serve: true, args: []string{"--base-url=forge:3000"}, wantErr: "--base-url"},
		{name: "bad log format", serve: true, args: []string{"--log-format=xml"}, wantErr: "--log-format"},
		{name: "client", args: []string{"--token=t", "--repo=acme/widgets"}},
		{name: "client without token", args: []string{"--repo=acme/widgets"}, wantErr: "--token"},
		{name: "client with a bad repo", args: []string{"--token=t", "--repo=widgets"}, wantErr: "--repo"},
		{name: "client with a bad URL", args: []string{"--token=t", "--repo=a/b", "--url=localhost"}, wantErr: "--url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("BOWLINE_SANDBOX_TOKEN", "")
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			var validate func() error
			if tt.serve {
				o := &SandboxServeOptions{}
				o.AddFlags(fs)
				validate = o.Validate
			} else {
				o := &SandboxClientOptions{}
				o.AddFlags(fs)
				validate = o.Validate
			}
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
			}
		})
	}
}

const sandboxSeed = `
users:
- {login: alice, token: alice-token}
- {login: bob, token: bob-token}
orgs:
- {login: acme, admins: [alice], members: [bob]}
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
  collaborators: {bob: write}
`

func runSandbox(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	cmd := newSandboxCommand()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		shown := append([]string(nil), args...)
		for i := range shown {
			if i > 0 && shown[i-1] == "--token" {
				shown[i] = "REDACTED"
			}
		}
		t.Fatalf("bowline sandbox %s: %v", strings.Join(shown, " "), err)
	}
	return out.String()
}

func TestSandboxClientVerbs(t *testing.T) {
	env := forgetest.Start(t, sandboxSeed)
	common := []string{"--url", env.URL, "--repo", "acme/widgets"}
	as := func(token string, args ...string) string {
		return runSandbox(t, append(append(args, common...), "--token", token)...)
	}
	if out := as("bob-token", "push", "--branch", "docs", "--file", "docs/a.md=hello", "--message", "Docs"); !strings.Contains(out, "Pushed") {
		t.Fatalf("push printed %q", out)
	}
	out := as("bob-token", "pr", "open", "--head", "feature", "--title", "Add feature", "--file", "f.txt=one")
	if !strings.Contains(out, "Opened acme/widgets#1") {
		t.Fatalf("pr open printed %q", out)
	}
	if out := as("bob-token", "comment", "--number", "1", "--body", "/assign"); !strings.Contains(out, "as bob") {
		t.Fatalf("comment printed %q", out)
	}
	if out := as("alice-token", "review", "--number", "1", "--event", "approve"); !strings.Contains(out, "APPROVED") {
		t.Fatalf("review printed %q", out)
	}
	if out := as("alice-token", "merge", "--number", "1", "--method", "squash"); !strings.Contains(out, "Merged acme/widgets#1 by squash") {
		t.Fatalf("merge printed %q", out)
	}
	pr, _, err := env.Client(t, "alice-token").PullRequests.Get(t.Context(), "acme", "widgets", 1)
	if err != nil || !pr.GetMerged() {
		t.Fatalf("pull request after merge: %v %v", pr.GetMerged(), err)
	}
}

func TestSandboxServe(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(seed, []byte(sandboxSeed), 0o644); err != nil {
		t.Fatal(err)
	}
	o := &SandboxServeOptions{Addr: "127.0.0.1:0", Seed: seed, DataDir: filepath.Join(dir, "data"), Log: LogOptions{Format: "json", Level: "error"}}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runSandboxServe(ctx, pw, o)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	if !sc.Scan() {
		t.Fatal("serve printed nothing")
	}
	base, ok := strings.CutPrefix(sc.Text(), "Sandbox forge at ")
	if !ok {
		t.Fatalf("first line %q", sc.Text())
	}
	var rest strings.Builder
	for sc.Scan() {
		rest.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "bob") {
			break
		}
	}
	if !strings.Contains(rest.String(), "alice-token") {
		t.Fatalf("serve did not list the seeded users:\n%s", rest.String())
	}
	go io.Copy(io.Discard, pr)
	b := base + "/"
	c, err := github.NewClient(github.WithAuthToken("alice-token"), github.WithURLs(&b, &b))
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := c.Repositories.Get(ctx, "acme", "widgets")
	if err != nil || r.GetCloneURL() != base+"/acme/widgets.git" {
		t.Fatalf("repository from the served forge: %v %v", r.GetCloneURL(), err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "state.json")); err != nil {
		t.Fatalf("no snapshot after shutdown: %v", err)
	}
}

// TestSandboxForkPullRequest: eve, outside the org, opens a pull request
// with the same command a maintainer uses; it comes from her fork, as on
// GitHub, and her pushes to the fork update it.
func TestSandboxForkPullRequest(t *testing.T) {
	env := forgetest.Start(t, strings.Replace(sandboxSeed, "users:\n", "users:\n- {login: eve, token: eve-token}\n", 1))
	as := func(token string, args ...string) string {
		return runSandbox(t, append(args, "--url", env.URL, "--token", token)...)
	}
	out := as("eve-token", "pr", "open", "--repo", "acme/widgets", "--head", "fix", "--title", "A fix from outside", "--file", "fix.txt=one")
	for _, want := range []string{"Forked acme/widgets to eve/widgets", `Opened acme/widgets#1 "A fix from outside" (eve:fix → main)`} {
		if !strings.Contains(out, want) {
			t.Errorf("pr open printed %q, want %q", out, want)
		}
	}
	alice := env.Client(t, "alice-token")
	pr, _, err := alice.PullRequests.Get(t.Context(), "acme", "widgets", 1)
	if err != nil || pr.GetHead().GetRepo().GetFullName() != "eve/widgets" || pr.GetUser().GetLogin() != "eve" {
		t.Fatalf("pull request head repo %q by %q (%v), want eve/widgets by eve", pr.GetHead().GetRepo().GetFullName(), pr.GetUser().GetLogin(), err)
	}
	if out := as("eve-token", "push", "--repo", "eve/widgets", "--branch", "fix", "--file", "fix.txt=two"); !strings.Contains(out, "Pushed") {
		t.Fatalf("push printed %q", out)
	}
	updated, _, err := alice.PullRequests.Get(t.Context(), "acme", "widgets", 1)
	if err != nil || updated.GetHead().GetSHA() == pr.GetHead().GetSHA() {
		t.Fatalf("a push to the fork did not update the pull request (%v)", err)
	}
	if out := as("eve-token", "fork", "--repo", "acme/widgets"); !strings.Contains(out, "Forked acme/widgets to eve/widgets (git: "+env.URL+"/eve/widgets.git)") {
		t.Fatalf("fork printed %q", out)
	}
	// Someone who may push opens from a branch of the repository itself.
	if out := as("bob-token", "pr", "open", "--repo", "acme/widgets", "--head", "feature", "--title", "Feature", "--file", "f.txt=one"); strings.Contains(out, "Forked") || !strings.Contains(out, "(feature → main)") {
		t.Fatalf("pr open by a collaborator printed %q", out)
	}
}
