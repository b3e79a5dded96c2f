package gitstore

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// logFormat prints the fields of a Commit separated by US (0x1f); with -z
// commits are separated by NUL. The raw message comes last so that it may
// contain anything but NUL.
const logFormat = "--format=%H%x1f%T%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cn%x1f%ce%x1f%cI%x1f%B"

func parseCommits(out []byte) ([]Commit, error) {
	var commits []Commit
	for _, rec := range strings.Split(string(out), "\x00") {
		rec = strings.TrimPrefix(rec, "\n")
		if rec == "" {
			continue
		}
		f := strings.SplitN(rec, "\x1f", 10)
		if len(f) != 10 {
			return nil, fmt.Errorf("unexpected git log record %q", rec)
		}
		aWhen, err := time.Parse(time.RFC3339, f[5])
		if err != nil {
			return nil, err
		}
		cWhen, err := time.Parse(time.RFC3339, f[8])
		if err != nil {
			return nil, err
		}
		c := Commit{
			SHA:       f[0],
			Tree:      f[1],
			Parents:   strings.Fields(f[2]),
			Author:    Signature{Name: f[3], Email: f[4], When: aWhen},
			Committer: Signature{Name: f[6], Email: f[7], When: cWhen},
			Message:   strings.TrimRight(f[9], "\n"),
		}
		if len(c.Parents) == 0 {
			c.Parents = nil
		}
		commits = append(commits, c)
	}
	return commits, nil
}

// GetCommit returns the commit sha (or any ref ResolveRef accepts);
// ErrNotFound when there is no such commit.
func (s *Store) GetCommit(ctx context.Context, owner, repo, sha string) (*Commit, error) {
	r, release, err := s.read(owner, repo)
	if err != nil {
		return nil, err
	}
	defer release()
	return r.getCommit(ctx, sha)
}

func (r *repo) getCommit(ctx context.Context, ref string) (*Commit, error) {
	sha, err := r.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	out, err := r.git(ctx, "log", "-z", "-1", logFormat, sha)
	if err != nil {
		return nil, err
	}
	commits, err := parseCommits(out)
	if err != nil || len(commits) != 1 {
		return nil, fmt.Errorf("%s: read commit %s: %v", r.name, sha, err)
	}
	return &commits[0], nil
}

// Log returns the commits reachable from head but not from base, oldest
// first (parents before children), like the commits of a GitHub pull
// request; base == "" gives the whole history of head. With limit > 0 only
// the newest limit commits are returned (still oldest first). base and
// head are anything ResolveRef accepts.
func (s *Store) Log(ctx context.Context, owner, repo, base, head string, limit int) ([]Commit, error) {
	r, release, err := s.read(owner, repo)
	if err != nil {
		return nil, err
	}
	defer release()
	return r.log(ctx, base, head, limit)
}

func (r *repo) log(ctx context.Context, base, head string, limit int, extra ...string) ([]Commit, error) {
	headSHA, err := r.resolve(ctx, head)
	if err != nil {
		return nil, err
	}
	args := append([]string{"log", "-z", "--topo-order", "--reverse", logFormat}, extra...)
	if limit > 0 {
		args = append(args, "-n", strconv.Itoa(limit))
	}
	args = append(args, headSHA)
	if base != "" {
		baseSHA, err := r.resolve(ctx, base)
		if err != nil {
			return nil, err
		}
		args = append(args, "^"+baseSHA)
	}
	out, err := r.git(ctx, args...)
	if err != nil {
		return nil, err
	}
	return parseCommits(out)
}

// CountCommits returns how many commits are reachable from head but not
// from base (base == "": all of head's history), without a limit: the
// ahead_by and behind_by of GitHub's compare.
func (s *Store) CountCommits(ctx context.Context, owner, repo, base, head string) (int, error) {
	r, release, err := s.read(owner, repo)
	if err != nil {
		return 0, err
	}
	defer release()
	headSHA, err := r.resolve(ctx, head)
	if err != nil {
		return 0, err
	}
	args := []string{"rev-list", "--count", headSHA}
	if base != "" {
		baseSHA, err := r.resolve(ctx, base)
		if err != nil {
			return 0, err
		}
		args = append(args, "^"+baseSHA)
	}
	n, err := r.gitLine(ctx, args...)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(n)
}

// MergeBase returns the best common ancestor of a and b; ErrNotFound when
// the histories are unrelated.
func (s *Store) MergeBase(ctx context.Context, owner, repo, a, b string) (string, error) {
	r, release, err := s.read(owner, repo)
	if err != nil {
		return "", err
	}
	defer release()
	return r.mergeBase(ctx, a, b)
}

func (r *repo) mergeBase(ctx context.Context, a, b string) (string, error) {
	aSHA, err := r.resolve(ctx, a)
	if err != nil {
		return "", err
	}
	bSHA, err := r.resolve(ctx, b)
	if err != nil {
		return "", err
	}
	mb, err := r.gitLine(ctx, "merge-base", aSHA, bSHA)
	if exitCode(err) == 1 {
		return "", fmt.Errorf("%s: merge base of %s and %s: %w", r.name, a, b, ErrNotFound)
	}
	return mb, err
}

// ReadFile returns the content and blob SHA of the file at path in ref.
// ErrNotFound when there is no such file; for a directory the error also
// matches ErrNotFound (use Stat to tell them apart).
func (s *Store) ReadFile(ctx context.Context, owner, repo, ref, path string) (content []byte, blobSHA string, err error) {
	r, release, err := s.read(owner, repo)
	if err != nil {
		return nil, "", err
	}
	defer release()
	e, err := r.stat(ctx, ref, path)
	if err != nil {
		return nil, "", err
	}
	if e.Type != "file" && e.Type != "symlink" {
		return nil, "", fmt.Errorf("%s: %s is a %s, not a file: %w", r.name, e.Path, e.Type, ErrNotFound)
	}
	content, err = r.git(ctx, "cat-file", "blob", e.SHA)
	if err != nil {
		return nil, "", err
	}
	return content, e.SHA, nil
}

// Stat describes the entry at path in ref; path "" (or "/") is the root
// directory, whose Name is "".
func (s *Store) Stat(ctx context.Context, owner, repo, ref, path string) (Entry, error) {
	r, release, err := s.read(owner, repo)
	if err != nil {
		return Entry{}, err
	}
	defer release()
	return r.stat(ctx, ref, path)
}

func (r *repo) stat(ctx context.Context, ref, p string) (Entry, error) {
	p, err := cleanPath(p)
	if err != nil {
		return Entry{}, err
	}
	sha, err := r.resolve(ctx, ref)
	if err != nil {
		return Entry{}, err
	}
	if p == "" {
		tree, err := r.gitLine(ctx, "rev-parse", sha+"^{tree}")
		return Entry{Type: "dir", SHA: tree}, err
	}
	dir, name := path.Split(p)
	entries, err := r.listDir(ctx, sha, strings.TrimSuffix(dir, "/"))
	if err != nil {
		return Entry{}, err
	}
	for _, e := range entries {
		if e.Name == name {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("%s: %s at %s: %w", r.name, p, ref, ErrNotFound)
}

// ListDir lists the directory at path in ref ("" is the root), sorted by
// name as git sorts tree entries. ErrNotFound when path is not a directory.
func (s *Store) ListDir(ctx context.Context, owner, repo, ref, path string) ([]Entry, error) {
	r, release, err := s.read(owner, repo)
	if err != nil {
		return nil, err
	}
	defer release()
	p, err := cleanPath(path)
	if err != nil {
		return nil, err
	}
	sha, err := r.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	return r.listDir(ctx, sha, p)
}

// listDir lists directory p of commit sha.
func (r *repo) listDir(ctx context.Context, sha, p string) ([]Entry, error) {
	out, err := r.git(ctx, "ls-tree", "-z", "--long", sha+":"+p)
	if err != nil {
		// Missing paths and non-trees both exit 128.
		if exitCode(err) == 128 {
			return nil, fmt.Errorf("%s: directory %q: %w", r.name, p, ErrNotFound)
		}
		return nil, err
	}
	var entries []Entry
	for _, rec := range strings.Split(string(out), "\x00") {
		if rec == "" {
			continue
		}
		// <mode> SP <type> SP <object> SP+ <size> TAB <name>
		meta, name, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 4 {
			return nil, fmt.Errorf("unexpected ls-tree record %q", rec)
		}
		e := Entry{Name: name, Path: path.Join(p, name), SHA: f[2]}
		switch {
		case f[1] == "tree":
			e.Type = "dir"
		case f[1] == "commit":
			e.Type = "submodule"
		case f[0] == "120000":
			e.Type = "symlink"
		default:
			e.Type = "file"
		}
		if f[3] != "-" {
			e.Size, _ = strconv.ParseInt(f[3], 10, 64)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// cleanPath normalises a repository path ("/a/b/" → "a/b") and rejects
// ones that could escape the tree or name git's own files.
func cleanPath(p string) (string, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return "", nil
	}
	for _, comp := range strings.Split(p, "/") {
		if comp == "" || comp == "." || comp == ".." || strings.EqualFold(comp, ".git") || strings.ContainsAny(comp, "\x00\n") {
			return "", fmt.Errorf("path %q: %w", p, ErrInvalid)
		}
	}
	return p, nil
}
