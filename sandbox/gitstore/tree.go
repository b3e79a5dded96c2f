package gitstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// TreeEntry is one entry of a tree listing, shaped like an entry of GitHub's
// git trees API: Type is blob, tree or commit (a submodule), Mode git's
// octal mode, Path relative to the listed tree, Size set for blobs.
type TreeEntry struct {
	Path, Mode, Type, SHA string
	Size                  int64
}

// resolveTree resolves a tree SHA, a commit SHA or a ref name to a tree.
func (r *repo) resolveTree(ctx context.Context, treeish string) (string, error) {
	if !hexRE.MatchString(treeish) && !validRefName(treeish) {
		return "", fmt.Errorf("tree %q: %w", treeish, ErrInvalid)
	}
	sha, err := r.gitLine(ctx, "rev-parse", "--verify", "--quiet", treeish+"^{tree}")
	if err != nil {
		if exitCode(err) == 1 || exitCode(err) == 128 {
			return "", fmt.Errorf("%s: tree %s: %w", r.name, treeish, ErrNotFound)
		}
		return "", err
	}
	return sha, nil
}

// Tree lists the tree that treeish names (a tree or commit SHA, or a
// branch or tag): its own entries, or with recursive every entry below it,
// subtrees included, in git's order. It returns the tree's SHA.
func (s *Store) Tree(ctx context.Context, owner, repo, treeish string, recursive bool) (string, []TreeEntry, error) {
	r, release, err := s.read(owner, repo)
	if err != nil {
		return "", nil, err
	}
	defer release()
	sha, err := r.resolveTree(ctx, treeish)
	if err != nil {
		return "", nil, err
	}
	args := []string{"ls-tree", "-z", "--long"}
	if recursive {
		args = append(args, "-r", "-t")
	}
	out, err := r.git(ctx, append(args, sha)...)
	if err != nil {
		return "", nil, err
	}
	entries := []TreeEntry{}
	for _, rec := range strings.Split(string(out), "\x00") {
		if rec == "" {
			continue
		}
		// <mode> SP <type> SP <object> SP+ <size> TAB <path>
		meta, p, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 4 {
			return "", nil, fmt.Errorf("unexpected ls-tree record %q", rec)
		}
		e := TreeEntry{Path: p, Mode: f[0], Type: f[1], SHA: f[2]}
		if f[3] != "-" {
			e.Size, _ = strconv.ParseInt(f[3], 10, 64)
		}
		entries = append(entries, e)
	}
	return sha, entries, nil
}

// Blob returns the content of the blob sha; ErrNotFound when there is no
// such blob.
func (s *Store) Blob(ctx context.Context, owner, repo, sha string) ([]byte, error) {
	r, release, err := s.read(owner, repo)
	if err != nil {
		return nil, err
	}
	defer release()
	if len(sha) != 40 || !hexRE.MatchString(sha) {
		return nil, fmt.Errorf("blob %q: %w", sha, ErrNotFound)
	}
	typ, err := r.gitLine(ctx, "cat-file", "-t", sha)
	if err != nil || typ != "blob" {
		return nil, fmt.Errorf("%s: blob %s: %w", r.name, sha, ErrNotFound)
	}
	return r.git(ctx, "cat-file", "blob", sha)
}
