package gitstore

import (
	"context"
	"fmt"
	"strings"
)

// emptyTree is the ID of the tree with no entries, which every SHA-1
// repository can name without storing it.
const emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

// Diff compares head with base the way GitHub's compare and pull-request
// files do (three dots): the changes on head since merge-base(base, head),
// with rename detection. base == "" compares head with the empty tree,
// which lists the files of a root commit. ErrNotFound when base and head
// share no history.
func (s *Store) Diff(ctx context.Context, owner, repo, base, head string) ([]FileChange, error) {
	r, release, err := s.read(owner, repo)
	if err != nil {
		return nil, err
	}
	defer release()
	from := emptyTree
	if base != "" {
		if from, err = r.mergeBase(ctx, base, head); err != nil {
			return nil, err
		}
	}
	to, err := r.resolve(ctx, head)
	if err != nil {
		return nil, err
	}
	return r.diffTrees(ctx, from, to)
}

var statusNames = map[byte]string{
	'A': "added",
	'D': "removed",
	'M': "modified",
	'R': "renamed",
	'C': "copied",
	'T': "changed",
}

// diffTrees compares two tree-ishes. The raw format (NUL-separated, so any
// file name survives) gives names, statuses and blobs; the patch gives the
// hunks. git prints both in the same order, one "diff --git" section per
// raw record, which is how they are matched up.
func (r *repo) diffTrees(ctx context.Context, from, to string) ([]FileChange, error) {
	raw, err := r.git(ctx, "diff-tree", "-r", "-z", "-M", "--raw", "--no-commit-id", from, to)
	if err != nil {
		return nil, err
	}
	var changes []FileChange
	f := strings.Split(string(raw), "\x00")
	for i := 0; i < len(f); i++ {
		meta := f[i]
		if meta == "" {
			continue
		}
		// :<old mode> <new mode> <old sha> <new sha> <status>[score]
		m := strings.Fields(strings.TrimPrefix(meta, ":"))
		if len(m) != 5 || i+1 >= len(f) {
			return nil, fmt.Errorf("unexpected diff-tree record %q", meta)
		}
		st := m[4][0]
		c := FileChange{Status: statusNames[st], SHA: m[3]}
		if c.Status == "" {
			c.Status = "modified"
		}
		if st == 'D' {
			c.SHA = m[2]
		}
		i++
		c.Filename = f[i]
		if st == 'R' || st == 'C' {
			if i+1 >= len(f) {
				return nil, fmt.Errorf("unexpected diff-tree record %q", meta)
			}
			i++
			c.PreviousFilename, c.Filename = c.Filename, f[i]
		}
		changes = append(changes, c)
	}
	if len(changes) == 0 {
		return nil, nil
	}
	patch, err := r.git(ctx, "diff-tree", "-r", "-M", "-p", "--no-commit-id", from, to)
	if err != nil {
		return nil, err
	}
	sections := splitPatch(string(patch))
	if len(sections) != len(changes) {
		return nil, fmt.Errorf("%s: diff %s..%s: %d patches for %d files", r.name, from, to, len(sections), len(changes))
	}
	for i, sec := range sections {
		changes[i].Patch, changes[i].Additions, changes[i].Deletions = hunks(sec)
	}
	return changes, nil
}

// splitPatch splits `git diff -p` output into one section per file. A line
// starting with "diff --git " can only be a header: inside a hunk every
// line starts with ' ', '+', '-' or '\'.
func splitPatch(p string) []string {
	var sections []string
	start := -1
	for off := 0; off < len(p); {
		end := strings.IndexByte(p[off:], '\n')
		next := len(p)
		if end >= 0 {
			next = off + end + 1
		}
		if strings.HasPrefix(p[off:], "diff --git ") {
			if start >= 0 {
				sections = append(sections, p[start:off])
			}
			start = off
		}
		off = next
	}
	if start >= 0 {
		sections = append(sections, p[start:])
	}
	return sections
}

// hunks strips the headers of one file's patch, as GitHub's patch field
// does, and counts added and deleted lines.
func hunks(section string) (patch string, additions, deletions int) {
	i := strings.Index(section, "\n@@")
	if i < 0 {
		return "", 0, 0
	}
	patch = strings.TrimSuffix(section[i+1:], "\n")
	for _, line := range strings.Split(patch, "\n") {
		switch {
		case strings.HasPrefix(line, "@@"):
		case strings.HasPrefix(line, "+"):
			additions++
		case strings.HasPrefix(line, "-"):
			deletions++
		}
	}
	return patch, additions, deletions
}
