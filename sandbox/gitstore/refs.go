package gitstore

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// zeroSHA is git's null object ID, used by update-ref for "must not exist".
const zeroSHA = "0000000000000000000000000000000000000000"

var hexRE = regexp.MustCompile(`^[0-9a-f]{4,40}$`)

// validRefName follows git-check-ref-format's rules, and also rejects
// names starting with '-' so that a name can never be read as an option.
func validRefName(name string) bool {
	if name == "" || name == "@" || strings.HasPrefix(name, "-") || strings.HasPrefix(name, "/") ||
		strings.HasSuffix(name, "/") || strings.HasSuffix(name, ".") ||
		strings.Contains(name, "..") || strings.Contains(name, "//") || strings.Contains(name, "@{") {
		return false
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(" ~^:?*[\\", c) {
			return false
		}
	}
	for _, comp := range strings.Split(name, "/") {
		if strings.HasPrefix(comp, ".") || strings.HasSuffix(comp, ".lock") {
			return false
		}
	}
	return true
}

// fullRef turns a branch name into refs/heads/<name>; names starting with
// refs/ are kept as they are.
func fullRef(ref string) string {
	if strings.HasPrefix(ref, "refs/") {
		return ref
	}
	return "refs/heads/" + ref
}

// ResolveRef returns the commit SHA that ref names: a branch ("main",
// "refs/heads/main"), a tag ("v1", annotated tags are peeled), any other
// ref ("pull/1/head", "refs/pull/1/head") or a full or abbreviated commit
// SHA. A short name is looked up as git does (refs/<name>, tags, then
// branches). ErrNotFound when it names no commit.
func (s *Store) ResolveRef(ctx context.Context, owner, repo, ref string) (string, error) {
	r, release, err := s.read(owner, repo)
	if err != nil {
		return "", err
	}
	defer release()
	return r.resolve(ctx, ref)
}

func (r *repo) resolve(ctx context.Context, ref string) (string, error) {
	if !hexRE.MatchString(ref) && !validRefName(ref) {
		return "", fmt.Errorf("ref %q: %w", ref, ErrInvalid)
	}
	sha, err := r.gitLine(ctx, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if err != nil {
		if exitCode(err) == 1 {
			return "", fmt.Errorf("%s: ref %s: %w", r.name, ref, ErrNotFound)
		}
		return "", err
	}
	return sha, nil
}

// ListRefs returns every ref whose full name starts with prefix ("" for
// all, "refs/heads/" for branches), mapped to the object it points to. For
// an annotated tag that is the tag object, as GitHub's git refs API reports.
func (s *Store) ListRefs(ctx context.Context, owner, repo, prefix string) (map[string]string, error) {
	r, release, err := s.read(owner, repo)
	if err != nil {
		return nil, err
	}
	defer release()
	return r.listRefs(ctx, prefix)
}

func (r *repo) listRefs(ctx context.Context, prefix string) (map[string]string, error) {
	out, err := r.git(ctx, "for-each-ref", "--format=%(objectname) %(refname)")
	if err != nil {
		return nil, err
	}
	refs := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		sha, name, ok := strings.Cut(line, " ")
		if ok && strings.HasPrefix(name, prefix) {
			refs[name] = sha
		}
	}
	return refs, nil
}

// SetRef points ref at sha, creating the ref if needed. ref is a full name
// ("refs/pull/1/head", "refs/tags/v1") or a branch name. sha must be a full
// SHA of an existing object, a commit for branches (ErrNotFound otherwise).
// Without force, moving an existing ref must be a fast-forward
// (ErrNotFastForward).
func (s *Store) SetRef(ctx context.Context, owner, repo, ref, sha string, force bool) error {
	ref = fullRef(ref)
	if !validRefName(ref) {
		return fmt.Errorf("ref %q: %w", ref, ErrInvalid)
	}
	if len(sha) != 40 || !hexRE.MatchString(sha) {
		return fmt.Errorf("sha %q: %w", sha, ErrInvalid)
	}
	r, release, err := s.write(owner, repo)
	if err != nil {
		return err
	}
	defer release()
	typ, err := r.gitLine(ctx, "cat-file", "-t", sha)
	if err != nil || strings.HasPrefix(ref, "refs/heads/") && typ != "commit" {
		return fmt.Errorf("%s: commit %s: %w", r.name, sha, ErrNotFound)
	}
	old, err := r.refValue(ctx, ref)
	if err != nil {
		return err
	}
	if old != "" && !force {
		ff, err := r.isAncestor(ctx, old, sha)
		if err != nil {
			return err
		}
		if !ff {
			return fmt.Errorf("%s: %s %s..%s: %w", r.name, ref, old, sha, ErrNotFastForward)
		}
	}
	return r.updateRef(ctx, ref, sha, old)
}

// DeleteRef deletes ref (a full name or a branch name); ErrNotFound when it
// does not exist.
func (s *Store) DeleteRef(ctx context.Context, owner, repo, ref string) error {
	ref = fullRef(ref)
	if !validRefName(ref) {
		return fmt.Errorf("ref %q: %w", ref, ErrInvalid)
	}
	r, release, err := s.write(owner, repo)
	if err != nil {
		return err
	}
	defer release()
	old, err := r.refValue(ctx, ref)
	if err != nil {
		return err
	}
	if old == "" {
		return fmt.Errorf("%s: ref %s: %w", r.name, ref, ErrNotFound)
	}
	_, err = r.git(ctx, "update-ref", "-d", ref, old)
	return err
}

// refValue returns the object ref points to, or "" when it does not exist.
func (r *repo) refValue(ctx context.Context, ref string) (string, error) {
	sha, err := r.gitLine(ctx, "rev-parse", "--verify", "--quiet", ref)
	if exitCode(err) == 1 {
		return "", nil
	}
	return sha, err
}

// updateRef moves ref from old ("" = must not exist) to sha, atomically.
// Callers hold the write lock, so a mismatch means the repository was
// changed behind the store's back.
func (r *repo) updateRef(ctx context.Context, ref, sha, old string) error {
	if old == "" {
		old = zeroSHA
	}
	if _, err := r.git(ctx, "update-ref", ref, sha, old); err != nil {
		return fmt.Errorf("%s: update %s: %w", r.name, ref, err)
	}
	return nil
}

// isAncestor reports whether commit a is reachable from commit b.
func (r *repo) isAncestor(ctx context.Context, a, b string) (bool, error) {
	_, err := r.git(ctx, "merge-base", "--is-ancestor", a, b)
	switch exitCode(err) {
	case -1:
		return err == nil, err
	case 0:
		return true, nil
	case 1:
		return false, nil
	default:
		return false, err
	}
}
