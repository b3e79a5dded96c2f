package forge_test

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"
)

// gitCmd runs the git CLI with no user or system configuration.
func gitCmd(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "git", args...)
	cmd.Dir = dir
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Dave", "GIT_AUTHOR_EMAIL=dave@example.com", "GIT_COMMITTER_NAME=Dave", "GIT_COMMITTER_EMAIL=dave@example.com")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func cloneURL(t *testing.T, base, token string) string {
	t.Helper()
	u, err := url.Parse(base + "/acme/widgets.git")
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		u.User = url.UserPassword("x-access-token", token)
	}
	return u.String()
}

func TestGitPushSynchronizes(t *testing.T) {
	fx := setup(t)
	pr := fx.openPR(t, "bob", "topic", map[string]string{"t.txt": "one\n"})
	dir := t.TempDir()
	work := filepath.Join(dir, "w")
	if out, err := gitCmd(t, dir, "clone", "-q", "--branch", "topic", cloneURL(t, fx.env.URL, ""), work); err != nil {
		t.Fatalf("anonymous clone of a public repository: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(work, "t.txt"), []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := gitCmd(t, work, "commit", "-qam", "Second"); err != nil {
		t.Fatalf("commit: %v\n%s", err, out)
	}
	if _, err := gitCmd(t, work, "push", "-q", "origin", "topic"); err == nil {
		t.Fatal("anonymous push succeeded")
	}
	if _, err := gitCmd(t, work, "push", "-q", cloneURL(t, fx.env.URL, "carol-token"), "topic"); err == nil {
		t.Fatal("read-only push succeeded")
	}
	if out, err := gitCmd(t, work, "push", "-q", cloneURL(t, fx.env.URL, "bob-token"), "topic"); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	head, _ := gitCmd(t, work, "rev-parse", "HEAD")
	sync := fx.hook.WaitFor("pull_request", "synchronize", wait).Parsed.(*github.PullRequestEvent)
	if sync.GetAfter() != head || sync.GetBefore() != pr.GetHead().GetSHA() || sync.GetSender().GetLogin() != "bob" {
		t.Fatalf("synchronize %s→%s by %s, want %s→%s by bob", sync.GetBefore(), sync.GetAfter(), sync.GetSender().GetLogin(), pr.GetHead().GetSHA(), head)
	}
	got := must[*github.PullRequest](t)(fx.client(t, "bob-token").PullRequests.Get(fx.ctx, "acme", "widgets", pr.GetNumber()))
	if got.GetHead().GetSHA() != head {
		t.Fatalf("head %s, want %s", got.GetHead().GetSHA(), head)
	}
	// The pull request's head ref is fetchable, as Prow's clonerefs does.
	if out, err := gitCmd(t, work, "fetch", "-q", "origin", "pull/1/head"); err != nil {
		t.Fatalf("fetch pull/1/head: %v\n%s", err, out)
	}
	if fetched, _ := gitCmd(t, work, "rev-parse", "FETCH_HEAD"); fetched != head {
		t.Fatalf("pull/1/head = %s, want %s", fetched, head)
	}
	// Private repositories need a token even to clone.
	if _, err := gitCmd(t, dir, "clone", "-q", strings.Replace(cloneURL(t, fx.env.URL, ""), "widgets", "secret", 1), filepath.Join(dir, "s")); err == nil {
		t.Fatal("anonymous clone of a private repository succeeded")
	}
}
