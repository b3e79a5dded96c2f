package gitstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Fork creates owner/name as a copy of srcOwner/srcName's branches and
// tags, as GitHub's fork starts out. The two are separate repositories
// afterwards; FetchObjects brings a fork's commits into its parent when a
// pull request needs them there.
func (s *Store) Fork(ctx context.Context, srcOwner, srcName, owner, name string) error {
	if !validOwner(owner) || !validName(name) {
		return fmt.Errorf("repository %q/%q: %w", owner, name, ErrInvalid)
	}
	src, release, err := s.read(srcOwner, srcName)
	if err != nil {
		return err
	}
	defer release()
	if s.exists(owner, name) {
		return fmt.Errorf("repository %s/%s: %w", owner, name, ErrExists)
	}
	staging, err := os.MkdirTemp(s.tmp, "fork-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	dir := filepath.Join(staging, "repo.git")
	// A bare clone copies refs/heads and refs/tags, not the parent's pull
	// request refs; the fork keeps no remote pointing back.
	if _, err := s.run(ctx, gitRun{args: []string{"clone", "--quiet", "--bare", "--no-hardlinks", src.dir, dir}}); err != nil {
		return err
	}
	if _, err := s.run(ctx, gitRun{dir: dir, args: []string{"remote", "remove", "origin"}}); err != nil {
		return err
	}
	// Renaming into place under s.ns's read lock (held for src) keeps
	// Delete and Rename out; a concurrent fork to the same name loses the
	// rename, which refuses to replace a directory that is not empty.
	if err := os.MkdirAll(filepath.Join(s.root, owner), 0o755); err != nil {
		return err
	}
	if err := os.Rename(dir, s.path(owner, name)); err != nil {
		if s.exists(owner, name) {
			return fmt.Errorf("repository %s/%s: %w", owner, name, ErrExists)
		}
		return fmt.Errorf("fork %s/%s: %w", owner, name, err)
	}
	return nil
}

// FetchObjects copies the commits of srcRef (a ref or commit of
// srcOwner/srcName) into owner/name's object store without making a ref
// for them there; the caller points a ref (a pull request's head) at them.
// GitHub keeps the objects of a fork network together; this is the
// sandbox's equivalent, done when a pull request from a fork needs them.
func (s *Store) FetchObjects(ctx context.Context, owner, name, srcOwner, srcName, srcRef string) error {
	dst, release, err := s.write(owner, name)
	if err != nil {
		return err
	}
	defer release()
	if !s.exists(srcOwner, srcName) {
		return fmt.Errorf("repository %s/%s: %w", srcOwner, srcName, ErrNotFound)
	}
	_, err = dst.git(ctx, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", s.path(srcOwner, srcName), srcRef)
	return err
}
