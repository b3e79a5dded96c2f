package forge_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"
)

// fork creates (or finds) login's fork of acme/widgets. GitHub answers
// 202 Accepted, which go-github reports as an *AcceptedError carrying the
// repository.
func fork(t *testing.T, c *github.Client, fx *fixture) (*github.Repository, int) {
	t.Helper()
	repo, resp, err := c.Repositories.CreateFork(fx.ctx, "acme", "widgets", nil)
	var accepted *github.AcceptedError
	if errors.As(err, &accepted) {
		repo = &github.Repository{}
		if err := json.Unmarshal(accepted.Raw, repo); err != nil {
			t.Fatal(err)
		}
		return repo, http.StatusAccepted
	}
	if err != nil {
		t.Fatal(err)
	}
	return repo, resp.StatusCode
}

// TestForkPullRequest plays the untrusted contributor's flow as on GitHub:
// dave, who may not push to acme/widgets, forks it, commits to a branch of
// his fork and opens a pull request from dave:fix; the payloads say that
// the head is the fork; his pushes to the fork synchronize the pull
// request; a maintainer merges it.
func TestForkPullRequest(t *testing.T) {
	fx := setup(t)
	dave, alice := fx.client(t, "dave-token"), fx.client(t, "alice-token")

	// No push access: a branch of acme/widgets is refused.
	_, resp, err := dave.Repositories.CreateFile(fx.ctx, "acme", "widgets", "fix.txt",
		&github.RepositoryContentFileOptions{Message: github.Ptr("Fix"), Content: []byte("fix\n"), Branch: github.Ptr("fix")})
	if got := status(t, resp, err); got != http.StatusForbidden && got != http.StatusNotFound {
		t.Fatalf("a push to acme/widgets without access = %d, want 403", got)
	}

	f, code := fork(t, dave, fx)
	if code != http.StatusAccepted || f.GetFullName() != "dave/widgets" || !f.GetFork() ||
		f.GetParent().GetFullName() != "acme/widgets" || f.GetSource().GetFullName() != "acme/widgets" || !f.GetPermissions().GetAdmin() {
		t.Fatalf("fork %d: %s fork=%v parent %s source %s permissions %v", code, f.GetFullName(), f.GetFork(),
			f.GetParent().GetFullName(), f.GetSource().GetFullName(), f.GetPermissions())
	}
	if ev := fx.hook.WaitFor("fork", "", wait).Parsed.(*github.ForkEvent); ev.GetForkee().GetFullName() != "dave/widgets" || ev.GetRepo().GetFullName() != "acme/widgets" {
		t.Fatalf("fork event %+v", ev)
	}
	if again, _ := fork(t, dave, fx); again.GetID() != f.GetID() {
		t.Fatalf("forking again made %s, want the existing fork", again.GetFullName())
	}
	forks := must[[]*github.Repository](t)(alice.Repositories.ListForks(fx.ctx, "acme", "widgets", nil))
	if len(forks) != 1 || forks[0].GetFullName() != "dave/widgets" {
		t.Fatalf("forks of acme/widgets: %v", forks)
	}
	readme := contents(t, fx, dave, "dave/widgets", "README.md")
	if readme != "# widgets\n" {
		t.Fatalf("the fork's README.md is %q", readme)
	}

	// A branch of the fork, and a pull request from it.
	main := must[*github.Reference](t)(dave.Git.GetRef(fx.ctx, "dave", "widgets", "heads/main"))
	must[*github.Reference](t)(dave.Git.CreateRef(fx.ctx, "dave", "widgets", github.CreateRef{Ref: "refs/heads/fix", SHA: main.GetObject().GetSHA()}))
	commit := must[*github.RepositoryContentResponse](t)(dave.Repositories.CreateFile(fx.ctx, "dave", "widgets", "fix.txt",
		&github.RepositoryContentFileOptions{Message: github.Ptr("Fix"), Content: []byte("fix\n"), Branch: github.Ptr("fix")}))
	pr := must[*github.PullRequest](t)(dave.PullRequests.Create(fx.ctx, "acme", "widgets",
		&github.NewPullRequest{Title: github.Ptr("Fix"), Head: github.Ptr("dave:fix"), Base: github.Ptr("main")}))
	head := pr.GetHead()
	if head.GetRepo().GetFullName() != "dave/widgets" || !head.GetRepo().GetFork() || head.GetLabel() != "dave:fix" ||
		head.GetUser().GetLogin() != "dave" || head.GetSHA() != commit.GetSHA() || pr.GetBase().GetRepo().GetFullName() != "acme/widgets" {
		t.Fatalf("head %s %s (fork %v) user %s sha %s, base %s", head.GetLabel(), head.GetRepo().GetFullName(), head.GetRepo().GetFork(),
			head.GetUser().GetLogin(), head.GetSHA(), pr.GetBase().GetRepo().GetFullName())
	}
	opened := fx.hook.WaitFor("pull_request", "opened", wait).Parsed.(*github.PullRequestEvent)
	if opened.GetPullRequest().GetHead().GetRepo().GetFullName() != "dave/widgets" || opened.GetRepo().GetFullName() != "acme/widgets" ||
		opened.GetPullRequest().GetAuthorAssociation() != "NONE" {
		t.Fatalf("opened: head repo %s, repo %s, author association %s", opened.GetPullRequest().GetHead().GetRepo().GetFullName(),
			opened.GetRepo().GetFullName(), opened.GetPullRequest().GetAuthorAssociation())
	}
	// The commits are in acme/widgets, under the pull request's ref.
	ref := must[*github.Reference](t)(alice.Git.GetRef(fx.ctx, "acme", "widgets", "pull/1/head"))
	if ref.GetObject().GetSHA() != commit.GetSHA() {
		t.Fatalf("refs/pull/1/head = %s, want %s", ref.GetObject().GetSHA(), commit.GetSHA())
	}
	if files := must[[]*github.CommitFile](t)(alice.PullRequests.ListFiles(fx.ctx, "acme", "widgets", 1, nil)); len(files) != 1 || files[0].GetFilename() != "fix.txt" {
		t.Fatalf("files %v", files)
	}
	listed := must[[]*github.PullRequest](t)(alice.PullRequests.List(fx.ctx, "acme", "widgets", &github.PullRequestListOptions{Head: "dave:fix"}))
	if len(listed) != 1 {
		t.Fatalf("pull requests with head dave:fix: %d", len(listed))
	}
	if listed := must[[]*github.PullRequest](t)(alice.PullRequests.List(fx.ctx, "acme", "widgets", &github.PullRequestListOptions{Head: "acme:fix"})); len(listed) != 0 {
		t.Fatalf("pull requests with head acme:fix: %d", len(listed))
	}

	// A git push to the fork synchronizes the pull request.
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
			"GIT_AUTHOR_NAME=Dave", "GIT_AUTHOR_EMAIL=dave@example.com", "GIT_COMMITTER_NAME=Dave", "GIT_COMMITTER_EMAIL=dave@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	url := strings.Replace(fx.env.URL, "http://", "http://dave:dave-token@", 1) + "/dave/widgets.git"
	git("clone", "--quiet", "--branch", "fix", url, ".")
	if err := os.WriteFile(filepath.Join(dir, "fix.txt"), []byte("fix, better\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("commit", "--quiet", "-am", "Better fix")
	git("push", "--quiet", "origin", "fix")
	pushed := git("rev-parse", "HEAD")
	sync := fx.hook.WaitFor("pull_request", "synchronize", wait).Parsed.(*github.PullRequestEvent)
	if sync.GetRepo().GetFullName() != "acme/widgets" || sync.GetBefore() != commit.GetSHA() || sync.GetAfter() != pushed ||
		sync.GetPullRequest().GetHead().GetRepo().GetFullName() != "dave/widgets" {
		t.Fatalf("synchronize in %s before %s after %s (pushed %s)", sync.GetRepo().GetFullName(), sync.GetBefore(), sync.GetAfter(), pushed)
	}

	// A branch of the same name in acme/widgets is another head.
	if _, err := fx.env.As("alice").Push(fx.ctx, "acme/widgets", "fix", map[string][]byte{"other.txt": []byte("x\n")}, "Other"); err != nil {
		t.Fatal(err)
	}
	if got := must[*github.PullRequest](t)(alice.PullRequests.Get(fx.ctx, "acme", "widgets", 1)); got.GetHead().GetSHA() != pushed {
		t.Fatalf("a push to acme/widgets' fix moved the fork's pull request to %s", got.GetHead().GetSHA())
	}

	// A maintainer merges it.
	must[*github.PullRequestMergeResult](t)(alice.PullRequests.Merge(fx.ctx, "acme", "widgets", 1, "", &github.PullRequestOptions{MergeMethod: "squash"}))
	if c := contents(t, fx, alice, "acme/widgets", "fix.txt"); c != "fix, better\n" {
		t.Fatalf("fix.txt on main after the merge = %q", c)
	}
}

// TestForkRules: forking needs read access, a fork's owner cannot be the
// original's, and a pull request's head must be in the same network.
func TestForkRules(t *testing.T) {
	fx := setup(t)
	dave, alice := fx.client(t, "dave-token"), fx.client(t, "alice-token")
	_, resp, err := dave.Repositories.CreateFork(fx.ctx, "acme", "secret", nil)
	if got := status(t, resp, err); got != http.StatusNotFound {
		t.Fatalf("forking a private repository dave cannot see = %d, want 404", got)
	}
	_, resp, err = alice.Repositories.CreateFork(fx.ctx, "acme", "widgets", &github.RepositoryCreateForkOptions{Organization: "acme"})
	if got := status(t, resp, err); got != http.StatusUnprocessableEntity {
		t.Fatalf("forking acme/widgets into acme = %d, want 422", got)
	}
	_, resp, err = dave.PullRequests.Create(fx.ctx, "acme", "widgets",
		&github.NewPullRequest{Title: github.Ptr("Fix"), Head: github.Ptr("carol:fix"), Base: github.Ptr("main")})
	if got := status(t, resp, err); got != http.StatusUnprocessableEntity {
		t.Fatalf("a head in an account without a fork = %d, want 422", got)
	}
}

// contents reads a file of repo's default branch.
func contents(t *testing.T, fx *fixture, c *github.Client, repo, path string) string {
	t.Helper()
	owner, name, _ := strings.Cut(repo, "/")
	f, _, _, err := c.Repositories.GetContents(fx.ctx, owner, name, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.GetContent()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
