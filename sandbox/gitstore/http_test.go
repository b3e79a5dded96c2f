package gitstore

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/google/go-cmp/cmp"
)

// Tokens the test server knows; any user name is accepted, as on GitHub.
const (
	writeToken = "write-token"
	readToken  = "read-token"
)

// pushLog records what onPush was called with.
type pushLog struct {
	mu    sync.Mutex
	calls [][]RefUpdate
}

func (p *pushLog) onPush(_ context.Context, owner, repo string, updates []RefUpdate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, updates)
}

func (p *pushLog) take() [][]RefUpdate {
	p.mu.Lock()
	defer p.mu.Unlock()
	calls := p.calls
	p.calls = nil
	return calls
}

func tokenAuth(r *http.Request, owner, repo string, write bool) bool {
	_, token, ok := r.BasicAuth()
	return ok && (token == writeToken || token == readToken && !write)
}

// serve starts an HTTP server for s under /git/ and returns the URL of
// org/repo with the credentials of token ("" for none).
func serve(t testing.TB, s *Store, pushes *pushLog) func(token string) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/git/", http.StripPrefix("/git", s.Handler(tokenAuth, pushes.onPush)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return func(token string) string {
		u, _ := url.Parse(srv.URL + "/git/org/repo.git")
		if token != "" {
			u.User = url.UserPassword("x-access-token", token)
		}
		return u.String()
	}
}

// gitCLI runs the git CLI in dir with no user configuration.
func gitCLI(t testing.TB, dir string, args ...string) (string, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Carol", "GIT_AUTHOR_EMAIL=carol@example.com",
		"GIT_COMMITTER_NAME=Carol", "GIT_COMMITTER_EMAIL=carol@example.com",
	}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func mustGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := gitCLI(t, dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// client is a git client driven by the tests: the git CLI or go-git.
type client interface {
	clone(t *testing.T, url, dir string)
	// commitAndPush commits file in the clone's HEAD and pushes HEAD to
	// ref, returning the new commit.
	commitAndPush(t *testing.T, dir, file, content, ref string) string
	// fetch fetches and returns origin's branch.
	fetch(t *testing.T, dir, branch string) string
}

type cliClient struct{}

func (c cliClient) clone(t *testing.T, url, dir string) {
	mustGit(t, "", "clone", "--quiet", url, dir)
}

func (c cliClient) commitAndPush(t *testing.T, dir, file, content, ref string) string {
	if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	mustGit(t, dir, "add", file)
	mustGit(t, dir, "commit", "--quiet", "-m", "Change "+file)
	mustGit(t, dir, "push", "--quiet", "origin", "HEAD:"+ref)
	return mustGit(t, dir, "rev-parse", "HEAD")
}

func (c cliClient) fetch(t *testing.T, dir, branch string) string {
	mustGit(t, dir, "fetch", "--quiet", "origin")
	return mustGit(t, dir, "rev-parse", "origin/"+branch)
}

type goGitClient struct{}

var goGitAuth = &githttp.BasicAuth{Username: "x-access-token", Password: writeToken}

func (goGitClient) clone(t *testing.T, url, dir string) {
	if _, err := git.PlainClone(dir, false, &git.CloneOptions{URL: url, Auth: goGitAuth}); err != nil {
		t.Fatalf("go-git clone: %v", err)
	}
}

func (goGitClient) commitAndPush(t *testing.T, dir, file, content, ref string) string {
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add(file); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Dave", Email: "dave@example.com", When: time.Now()}
	h, err := wt.Commit("Change "+file, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	// go-git does not resolve HEAD as the source of a refspec.
	branch, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	spec := config.RefSpec(branch.Name().String() + ":" + ref)
	err = repo.Push(&git.PushOptions{RefSpecs: []config.RefSpec{spec}, Auth: goGitAuth})
	if err != nil {
		t.Fatalf("go-git push: %v", err)
	}
	return h.String()
}

func (goGitClient) fetch(t *testing.T, dir, branch string) string {
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Fetch(&git.FetchOptions{Auth: goGitAuth}); err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		t.Fatalf("go-git fetch: %v", err)
	}
	ref, err := repo.Reference(plumbing.NewRemoteReferenceName("origin", branch), true)
	if err != nil {
		t.Fatal(err)
	}
	return ref.Hash().String()
}

func TestHTTPCloneFetchPush(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		client client
	}{
		{"git CLI", cliClient{}},
		{"go-git", goGitClient{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			var pushes pushLog
			repoURL := serve(t, s, &pushes)
			initial := seed(t, s, map[string]string{"README.md": "hello\n"})
			dir := filepath.Join(t.TempDir(), "clone")
			url := repoURL(writeToken)
			if _, ok := tc.client.(goGitClient); ok {
				url = repoURL("")
			}
			tc.client.clone(t, url, dir)
			if b, err := os.ReadFile(filepath.Join(dir, "README.md")); err != nil || string(b) != "hello\n" {
				t.Fatalf("cloned README.md = %q, %v", b, err)
			}

			// A new branch.
			topic := tc.client.commitAndPush(t, dir, "topic.txt", "topic\n", "refs/heads/topic")
			if got := readFile(t, s, "topic", "topic.txt"); got != "topic\n" {
				t.Errorf("pushed topic.txt = %q", got)
			}
			// A commit on an existing branch.
			main := tc.client.commitAndPush(t, dir, "README.md", "hello again\n", "refs/heads/main")
			want := [][]RefUpdate{
				{{Ref: "refs/heads/topic", New: topic}},
				{{Ref: "refs/heads/main", Old: initial, New: main}},
			}
			if diff := cmp.Diff(want, pushes.take()); diff != "" {
				t.Errorf("onPush calls (-want +got):\n%s", diff)
			}

			// A fetch sees a commit made through the API.
			api := commit(t, s, "main", "", map[string]string{"api.txt": "api\n"}, "From the API")
			if got := tc.client.fetch(t, dir, "main"); got != api {
				t.Errorf("fetched main = %s, want %s", got, api)
			}
			if calls := pushes.take(); len(calls) != 0 {
				t.Errorf("onPush called for API commits or fetches: %v", calls)
			}
			if _, err := s.GetCommit(ctx, "org", "repo", topic); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestHTTPEmptyRepositoryAndDeletes(t *testing.T) {
	s := newStore(t)
	var pushes pushLog
	repoURL := serve(t, s, &pushes)
	if _, err := s.Create(context.Background(), "org", "repo", "main", nil, "", alice); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "clone")
	mustGit(t, "", "clone", "--quiet", repoURL(writeToken), dir)
	mustGit(t, dir, "checkout", "--quiet", "-b", "main")
	first := cliClient{}.commitAndPush(t, dir, "a.txt", "a\n", "refs/heads/main")
	mustGit(t, dir, "push", "--quiet", "origin", "HEAD:refs/heads/extra", "HEAD:refs/tags/v1")
	mustGit(t, dir, "push", "--quiet", "origin", ":refs/heads/extra")
	want := [][]RefUpdate{
		{{Ref: "refs/heads/main", New: first}},
		{{Ref: "refs/heads/extra", New: first}, {Ref: "refs/tags/v1", New: first}},
		{{Ref: "refs/heads/extra", Old: first}},
	}
	if diff := cmp.Diff(want, pushes.take()); diff != "" {
		t.Errorf("onPush calls (-want +got):\n%s", diff)
	}
	if out, err := gitCLI(t, dir, "push", "origin", ":main"); err == nil || !strings.Contains(out, "deletion of the current branch prohibited") {
		t.Errorf("deleting the default branch: %v\n%s", err, out)
	}
	// Pull-request refs belong to the forge: pushing to them is refused,
	// fetching them works.
	if out, err := gitCLI(t, dir, "push", "origin", "HEAD:refs/pull/1/head"); err == nil {
		t.Errorf("push to refs/pull succeeded: %s", out)
	}
	if err := s.SetRef(context.Background(), "org", "repo", "refs/pull/1/head", first, false); err != nil {
		t.Fatal(err)
	}
	mustGit(t, dir, "fetch", "--quiet", "origin", "refs/pull/1/head:refs/remotes/pr/1")
	if got := mustGit(t, dir, "rev-parse", "refs/remotes/pr/1"); got != first {
		t.Errorf("fetched pull ref = %s", got)
	}
	if calls := pushes.take(); len(calls) != 0 {
		t.Errorf("onPush called for a refused push: %v", calls)
	}
}

func TestHTTPAuth(t *testing.T) {
	s := newStore(t)
	var pushes pushLog
	repoURL := serve(t, s, &pushes)
	initial := seed(t, s, map[string]string{"README.md": "hello\n"})
	base := strings.TrimSuffix(repoURL(""), "/org/repo.git")

	tests := []struct {
		name, method, path, token string
		want                      int
	}{
		{"read without credentials", "GET", "/org/repo.git/info/refs?service=git-upload-pack", "", http.StatusUnauthorized},
		{"read with a bad token", "GET", "/org/repo.git/info/refs?service=git-upload-pack", "nope", http.StatusUnauthorized},
		{"read", "GET", "/org/repo.git/info/refs?service=git-upload-pack", readToken, http.StatusOK},
		{"read without .git", "GET", "/org/repo/info/refs?service=git-upload-pack", readToken, http.StatusOK},
		{"push advertisement read-only", "GET", "/org/repo.git/info/refs?service=git-receive-pack", readToken, http.StatusUnauthorized},
		{"push read-only", "POST", "/org/repo.git/git-receive-pack", readToken, http.StatusUnauthorized},
		{"push advertisement", "GET", "/org/repo.git/info/refs?service=git-receive-pack", writeToken, http.StatusOK},
		{"missing repository", "GET", "/org/nope.git/info/refs?service=git-upload-pack", writeToken, http.StatusNotFound},
		{"dumb protocol", "GET", "/org/repo.git/info/refs", writeToken, http.StatusForbidden},
		{"other path", "GET", "/org/repo.git/HEAD", writeToken, http.StatusNotFound},
		{"escape", "GET", "/org/..%2f..%2fx.git/info/refs?service=git-upload-pack", writeToken, http.StatusNotFound},
		{"wrong method", "GET", "/org/repo.git/git-upload-pack", writeToken, http.StatusMethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, base+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.token != "" {
				req.SetBasicAuth("someone", tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}

	// Real clients: a read-only token clones but cannot push.
	dir := filepath.Join(t.TempDir(), "clone")
	mustGit(t, "", "clone", "--quiet", repoURL(readToken), dir)
	mustGit(t, dir, "commit", "--quiet", "--allow-empty", "-m", "Empty")
	if out, err := gitCLI(t, dir, "push", "origin", "HEAD:main"); err == nil || !strings.Contains(out, "Authentication failed") {
		t.Errorf("read-only push: %v\n%s", err, out)
	}
	if _, err := git.PlainClone(t.TempDir(), false, &git.CloneOptions{URL: repoURL("")}); !errors.Is(err, transport.ErrAuthenticationRequired) {
		t.Errorf("go-git clone without credentials = %v, want ErrAuthenticationRequired", err)
	}
	if got, _ := s.ResolveRef(context.Background(), "org", "repo", "main"); got != initial {
		t.Errorf("main moved to %s", got)
	}
	if calls := pushes.take(); len(calls) != 0 {
		t.Errorf("onPush called: %v", calls)
	}
}

// TestHTTPClientFeatures covers what CI clients do beyond a plain clone:
// shallow clones, fetching a SHA or a pull-request ref (Prow's clonerefs),
// a push large enough to be sent chunked, and file modes.
func TestHTTPClientFeatures(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var pushes pushLog
	repoURL := serve(t, s, &pushes)
	first := seed(t, s, map[string]string{"README.md": "hello\n"})
	second := commit(t, s, "main", "", map[string]string{"b.txt": "b\n"}, "Second")

	shallow := filepath.Join(t.TempDir(), "shallow")
	mustGit(t, "", "clone", "--quiet", "--depth=1", repoURL(readToken), shallow)
	if got := mustGit(t, shallow, "rev-list", "--count", "HEAD"); got != "1" {
		t.Errorf("shallow clone has %s commits", got)
	}

	// clonerefs: init, fetch a branch and a SHA that no ref points to any more.
	if err := s.SetRef(ctx, "org", "repo", "refs/heads/old", first, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRef(ctx, "org", "repo", "refs/pull/7/head", second, false); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRef(ctx, "org", "repo", "old"); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "refs")
	mustGit(t, "", "init", "--quiet", dir)
	mustGit(t, dir, "fetch", "--quiet", repoURL(readToken), "main", "pull/7/head")
	mustGit(t, dir, "fetch", "--quiet", repoURL(readToken), first)
	mustGit(t, dir, "checkout", "--quiet", first)

	// A 3 MB push goes over git's 1 MB post buffer, so the body is chunked.
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i*7919 + i/4096)
	}
	work := filepath.Join(t.TempDir(), "work")
	mustGit(t, "", "clone", "--quiet", repoURL(writeToken), work)
	if err := os.WriteFile(filepath.Join(work, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "run.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("README.md", filepath.Join(work, "link")); err != nil {
		t.Fatal(err)
	}
	mustGit(t, work, "add", ".")
	mustGit(t, work, "commit", "--quiet", "-m", "Big, executable and link")
	mustGit(t, work, "push", "--quiet", "origin", "HEAD:main")
	content, _, err := s.ReadFile(ctx, "org", "repo", "main", "big.bin")
	if err != nil || len(content) != len(big) {
		t.Fatalf("big.bin: %d bytes, %v", len(content), err)
	}
	if e, err := s.Stat(ctx, "org", "repo", "main", "link"); err != nil || e.Type != "symlink" {
		t.Errorf("Stat(link) = %+v, %v", e, err)
	}

	// API commits keep the mode of the files they change.
	commit(t, s, "main", "", map[string]string{"run.sh": "#!/bin/sh\necho hi\n", "new.sh": "#!/bin/sh\n"}, "Edit the script")
	mustGit(t, work, "pull", "--quiet", "origin", "main")
	modes := map[string]string{}
	for _, line := range strings.Split(mustGit(t, work, "ls-files", "-s", "run.sh", "new.sh", "link"), "\n") {
		meta, name, _ := strings.Cut(line, "\t")
		modes[name], _, _ = strings.Cut(meta, " ")
	}
	if diff := cmp.Diff(map[string]string{"run.sh": "100755", "new.sh": "100644", "link": "120000"}, modes); diff != "" {
		t.Errorf("modes after an API commit (-want +got):\n%s", diff)
	}
}
