package gitstore

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	alice = Signature{Name: "Alice", Email: "alice@example.com", When: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	bob   = Signature{Name: "Bob", Email: "bob@example.com", When: time.Date(2026, 2, 3, 4, 5, 6, 0, time.FixedZone("", 2*3600))}
)

func newStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// seed creates org/repo on main with files and returns the commit.
func seed(t testing.TB, s *Store, files map[string]string) string {
	t.Helper()
	sha, err := s.Create(context.Background(), "org", "repo", "main", bytesMap(files), "Initial commit", alice)
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

func bytesMap(files map[string]string) map[string][]byte {
	if files == nil {
		return nil
	}
	m := map[string][]byte{}
	for k, v := range files {
		m[k] = []byte(v)
	}
	return m
}

// commit commits files (a "\x00" value deletes) on branch from parent.
func commit(t testing.TB, s *Store, branch, parent string, files map[string]string, msg string) string {
	t.Helper()
	m := bytesMap(files)
	for k, v := range files {
		if v == "\x00" {
			m[k] = nil
		}
	}
	sha, err := s.CommitFiles(context.Background(), "org", "repo", branch, parent, m, msg, bob)
	if err != nil {
		t.Fatalf("commit %q: %v", msg, err)
	}
	return sha
}

func readFile(t testing.TB, s *Store, ref, path string) string {
	t.Helper()
	b, _, err := s.ReadFile(context.Background(), "org", "repo", ref, path)
	if err != nil {
		t.Fatalf("read %s at %s: %v", path, ref, err)
	}
	return string(b)
}

func TestCreateAndRead(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	sha := seed(t, s, map[string]string{"README.md": "hello\n", "docs/guide.md": "guide\n", "docs/img/logo.svg": "<svg/>"})
	if !s.Exists("org", "repo") || s.Exists("org", "other") {
		t.Fatal("Exists is wrong")
	}
	if _, err := s.Create(ctx, "org", "repo", "main", nil, "", alice); !errors.Is(err, ErrExists) {
		t.Fatalf("second Create: %v, want ErrExists", err)
	}
	c, err := s.GetCommit(ctx, "org", "repo", sha)
	if err != nil {
		t.Fatal(err)
	}
	want := &Commit{SHA: sha, Message: "Initial commit", Tree: c.Tree, Author: alice, Committer: alice}
	if diff := cmp.Diff(want, c, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("commit (-want +got):\n%s", diff)
	}
	if br, err := s.DefaultBranch(ctx, "org", "repo"); err != nil || br != "main" {
		t.Errorf("DefaultBranch = %q, %v", br, err)
	}

	content, blob, err := s.ReadFile(ctx, "org", "repo", "main", "docs/guide.md")
	if err != nil || string(content) != "guide\n" || len(blob) != 40 {
		t.Errorf("ReadFile = %q, %q, %v", content, blob, err)
	}
	entries, err := s.ListDir(ctx, "org", "repo", "main", "docs")
	if err != nil {
		t.Fatal(err)
	}
	wantEntries := []Entry{
		{Name: "guide.md", Path: "docs/guide.md", Type: "file", SHA: blob, Size: 6},
		{Name: "img", Path: "docs/img", Type: "dir", SHA: entries[1].SHA},
	}
	if diff := cmp.Diff(wantEntries, entries); diff != "" {
		t.Errorf("ListDir (-want +got):\n%s", diff)
	}
	root, err := s.ListDir(ctx, "org", "repo", sha, "")
	if err != nil || len(root) != 2 || root[0].Name != "README.md" || root[1].Name != "docs" {
		t.Errorf("ListDir root = %+v, %v", root, err)
	}
	if e, err := s.Stat(ctx, "org", "repo", "main", "/docs/img/"); err != nil || e.Type != "dir" || e.Path != "docs/img" {
		t.Errorf("Stat dir = %+v, %v", e, err)
	}

	errCases := []struct {
		name, ref, path string
		want            error
	}{
		{"missing file", "main", "nope.txt", ErrNotFound},
		{"missing dir", "main", "nope/x.txt", ErrNotFound},
		{"directory", "main", "docs", ErrNotFound},
		{"missing ref", "nope", "README.md", ErrNotFound},
		{"escape", "main", "../x", ErrInvalid},
		{"git dir", "main", ".git/config", ErrInvalid},
		{"bad ref", "main..x", "README.md", ErrInvalid},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := s.ReadFile(ctx, "org", "repo", tc.ref, tc.path); !errors.Is(err, tc.want) {
				t.Errorf("ReadFile(%s, %s) = %v, want %v", tc.ref, tc.path, err, tc.want)
			}
		})
	}
	if _, err := s.ListDir(ctx, "org", "repo", "main", "README.md"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ListDir of a file = %v, want ErrNotFound", err)
	}
}

func TestCreateEmptyThenFirstCommit(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	sha, err := s.Create(ctx, "org", "repo", "trunk", nil, "", alice)
	if err != nil || sha != "" {
		t.Fatalf("Create = %q, %v", sha, err)
	}
	if _, err := s.ResolveRef(ctx, "org", "repo", "trunk"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ResolveRef in empty repo = %v, want ErrNotFound", err)
	}
	first := commit(t, s, "trunk", "", map[string]string{"a.txt": "a"}, "First")
	c, err := s.GetCommit(ctx, "org", "repo", "trunk")
	if err != nil || c.SHA != first || len(c.Parents) != 0 {
		t.Errorf("GetCommit = %+v, %v", c, err)
	}
}

func TestInvalidNames(t *testing.T) {
	s := newStore(t)
	for _, tc := range []struct{ owner, name string }{
		{"", "repo"}, {"org", ""}, {".tmp", "repo"}, {"org", ".."}, {"org", "repo.git"}, {"o/g", "repo"}, {"org", "a b"},
	} {
		if _, err := s.Create(context.Background(), tc.owner, tc.name, "main", nil, "", alice); !errors.Is(err, ErrInvalid) {
			t.Errorf("Create(%q, %q) = %v, want ErrInvalid", tc.owner, tc.name, err)
		}
	}
	if _, err := s.Create(context.Background(), "org", ".github", "main", nil, "", alice); err != nil {
		t.Errorf("Create .github: %v", err)
	}
}

func TestCommitFiles(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	base := seed(t, s, map[string]string{"a.txt": "a\n", "dir/b.txt": "b\n"})
	second := commit(t, s, "main", "", map[string]string{"a.txt": "a2\n", "dir/b.txt": "\x00", "dir/c/d.txt": "d\n"}, "Second")
	c, err := s.GetCommit(ctx, "org", "repo", second)
	if err != nil || !cmp.Equal(c.Parents, []string{base}) || c.Author.Name != "Bob" {
		t.Fatalf("GetCommit = %+v, %v", c, err)
	}
	if got := readFile(t, s, "main", "a.txt"); got != "a2\n" {
		t.Errorf("a.txt = %q", got)
	}
	if got := readFile(t, s, "main", "dir/c/d.txt"); got != "d\n" {
		t.Errorf("d.txt = %q", got)
	}
	if _, _, err := s.ReadFile(ctx, "org", "repo", "main", "dir/b.txt"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted file: %v", err)
	}
	// A new branch from an older parent.
	feature := commit(t, s, "feature", base, map[string]string{"f.txt": "f"}, "Feature")
	if got, _ := s.ResolveRef(ctx, "org", "repo", "refs/heads/feature"); got != feature {
		t.Errorf("feature = %s, want %s", got, feature)
	}
	if got := readFile(t, s, "feature", "dir/b.txt"); got != "b\n" {
		t.Errorf("feature dir/b.txt = %q", got)
	}
	// A stale parent is refused and the branch stays.
	_, err = s.CommitFiles(ctx, "org", "repo", "main", base, map[string][]byte{"x": []byte("x")}, "Stale", bob)
	if !errors.Is(err, ErrNotFastForward) {
		t.Errorf("stale parent: %v, want ErrNotFastForward", err)
	}
	if got, _ := s.ResolveRef(ctx, "org", "repo", "main"); got != second {
		t.Errorf("main moved to %s", got)
	}
	// A file replacing a directory and the other way round.
	commit(t, s, "main", "", map[string]string{"dir": "now a file", "a.txt/inner": "now a dir"}, "Swap")
	if got := readFile(t, s, "main", "dir"); got != "now a file" {
		t.Errorf("dir = %q", got)
	}
	if got := readFile(t, s, "main", "a.txt/inner"); got != "now a dir" {
		t.Errorf("a.txt/inner = %q", got)
	}
}

func TestRefs(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	base := seed(t, s, map[string]string{"a": "a"})
	next := commit(t, s, "main", "", map[string]string{"b": "b"}, "Next")
	side := commit(t, s, "side", base, map[string]string{"c": "c"}, "Side")

	if err := s.SetRef(ctx, "org", "repo", "refs/tags/v1", base, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRef(ctx, "org", "repo", "refs/pull/1/head", side, false); err != nil {
		t.Fatal(err)
	}
	resolve := []struct{ ref, want string }{
		{"main", next}, {"refs/heads/main", next}, {"v1", base}, {"refs/tags/v1", base},
		{"pull/1/head", side}, {next, next}, {next[:10], next},
	}
	for _, tc := range resolve {
		if got, err := s.ResolveRef(ctx, "org", "repo", tc.ref); err != nil || got != tc.want {
			t.Errorf("ResolveRef(%s) = %s, %v; want %s", tc.ref, got, err, tc.want)
		}
	}
	heads, err := s.ListRefs(ctx, "org", "repo", "refs/heads/")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"refs/heads/main": next, "refs/heads/side": side}, heads); diff != "" {
		t.Errorf("ListRefs (-want +got):\n%s", diff)
	}

	setCases := []struct {
		name, ref, sha string
		force          bool
		want           error
	}{
		{"not fast-forward", "main", side, false, ErrNotFastForward},
		{"forced", "main", side, true, nil},
		{"fast-forward", "side", side, false, nil},
		{"backwards", "side", base, false, ErrNotFastForward},
		{"missing object", "side", "1111111111111111111111111111111111111111", true, ErrNotFound},
		{"short sha", "side", base[:8], true, ErrInvalid},
		{"bad name", "refs/heads/a..b", base, true, ErrInvalid},
		{"new branch", "fresh", base, false, nil},
	}
	for _, tc := range setCases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.SetRef(ctx, "org", "repo", tc.ref, tc.sha, tc.force)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("SetRef = %v, want %v", err, tc.want)
			}
			if err == nil {
				if got, _ := s.ResolveRef(ctx, "org", "repo", fullRef(tc.ref)); got != tc.sha {
					t.Errorf("%s = %s, want %s", tc.ref, got, tc.sha)
				}
			}
		})
	}
	if err := s.DeleteRef(ctx, "org", "repo", "fresh"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRef(ctx, "org", "repo", "fresh"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second DeleteRef = %v, want ErrNotFound", err)
	}
}

func TestPersistenceRenameDelete(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	sha, err := s.Create(ctx, "org", "repo", "main", map[string][]byte{"a": []byte("a")}, "Init", alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "other", "empty", "main", nil, "", alice); err != nil {
		t.Fatal(err)
	}

	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	repos, err := s2.Repos()
	if err != nil || !cmp.Equal(repos, []string{"org/repo", "other/empty"}) {
		t.Fatalf("Repos after reopen = %v, %v", repos, err)
	}
	if got, err := s2.ResolveRef(ctx, "org", "repo", "main"); err != nil || got != sha {
		t.Fatalf("main after reopen = %s, %v", got, err)
	}

	if err := s2.Rename(ctx, "org", "repo", "renamed"); err != nil {
		t.Fatal(err)
	}
	if s2.Exists("org", "repo") || !s2.Exists("org", "renamed") {
		t.Error("Rename did not move the repository")
	}
	if err := s2.Rename(ctx, "org", "renamed", "renamed"); !errors.Is(err, ErrExists) {
		t.Errorf("Rename onto itself = %v, want ErrExists", err)
	}
	if err := s2.Rename(ctx, "org", "repo", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Rename missing = %v, want ErrNotFound", err)
	}
	if err := s2.Delete(ctx, "org", "renamed"); err != nil {
		t.Fatal(err)
	}
	if err := s2.Delete(ctx, "org", "renamed"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
	if _, err := s2.GetCommit(ctx, "org", "renamed", sha); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetCommit in deleted repo = %v, want ErrNotFound", err)
	}
	repos, _ = s2.Repos()
	sort.Strings(repos)
	if !cmp.Equal(repos, []string{"other/empty"}) {
		t.Errorf("Repos = %v", repos)
	}
}

func TestSetDefaultBranch(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	base := seed(t, s, map[string]string{"a": "a"})
	if err := s.SetDefaultBranch(ctx, "org", "repo", "dev"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing branch: %v, want ErrNotFound", err)
	}
	if err := s.SetRef(ctx, "org", "repo", "dev", base, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDefaultBranch(ctx, "org", "repo", "dev"); err != nil {
		t.Fatal(err)
	}
	if br, _ := s.DefaultBranch(ctx, "org", "repo"); br != "dev" {
		t.Errorf("DefaultBranch = %q", br)
	}
}
