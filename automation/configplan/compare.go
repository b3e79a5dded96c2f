package configplan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxLineDiffBytes bounds the files whose changed lines a Comparison
// works out: larger ones are linked as a whole.
const maxLineDiffBytes = 1 << 20

// Comparison is what differs between two commits of a config
// repository.
type Comparison struct {
	// Changed are the files that differ, both paths of a rename
	// (Input.Changed).
	Changed map[string]bool
	// Deploy are the files under the deploy path that differ, with the
	// unified diff of each text file (Input.Deploy).
	Deploy []DeployChange

	// byHead and byBase are the changes by their path in each commit.
	byHead, byBase map[string]*object.Change
	mu             sync.Mutex
	lines          map[*object.Change]*changedLines
}

// changedLines are the lines a change adds (numbered in the head's file)
// and deletes (numbered in the base's).
type changedLines struct{ added, deleted map[int]bool }

// Compare compares two commits' trees, by hash, reading only the subtrees
// that changed; deployDir is the ConfigRepository's deploy path.
func Compare(base, head *object.Commit, deployDir string) (*Comparison, error) {
	bt, err := base.Tree()
	if err != nil {
		return nil, err
	}
	ht, err := head.Tree()
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTree(bt, ht)
	if err != nil {
		return nil, fmt.Errorf("compare %s and %s: %w", base.Hash, head.Hash, err)
	}
	out := &Comparison{Changed: map[string]bool{}, Deploy: []DeployChange{},
		byHead: map[string]*object.Change{}, byBase: map[string]*object.Change{}, lines: map[*object.Change]*changedLines{}}
	for _, ch := range changes {
		if ch.From.Name != "" {
			out.Changed[ch.From.Name] = true
			out.byBase[ch.From.Name] = ch
		}
		if ch.To.Name != "" {
			out.Changed[ch.To.Name] = true
			out.byHead[ch.To.Name] = ch
		}
	}
	dir := strings.Trim(path.Clean("/"+deployDir), "/")
	if dir == "" {
		return out, nil
	}
	for _, ch := range changes {
		name := ch.To.Name
		if name == "" {
			name = ch.From.Name
		}
		if name != dir && !strings.HasPrefix(name, dir+"/") {
			continue
		}
		if len(out.Deploy) == maxDeployFiles {
			out.Deploy = append(out.Deploy, DeployChange{Path: "…", Action: Changed, Diff: "more files changed; the plan shows the first " + fmt.Sprint(maxDeployFiles)})
			break
		}
		dc, err := deployChange(ch, name)
		if err != nil {
			return nil, err
		}
		out.Deploy = append(out.Deploy, dc)
	}
	return out, nil
}

// Added reports whether the change adds (or changes) line of file, as
// numbered in the head commit: whether the line is in the diff of a pull
// request from base to head.
func (c *Comparison) Added(file string, line int) bool {
	if l := c.changedLines(c.byHead[file]); l != nil {
		return l.added[line]
	}
	return false
}

// Deleted reports whether the change deletes (or changes) line of file,
// as numbered in the base commit.
func (c *Comparison) Deleted(file string, line int) bool {
	if l := c.changedLines(c.byBase[file]); l != nil {
		return l.deleted[line]
	}
	return false
}

// changedLines works out the lines a change adds and deletes, once; nil
// for a binary file, one too large, or one that cannot be read.
func (c *Comparison) changedLines(ch *object.Change) *changedLines {
	if c == nil || ch == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.lines[ch]; ok {
		return l
	}
	l := diffLines(ch)
	c.lines[ch] = l
	return l
}

func diffLines(ch *object.Change) *changedLines {
	from, to, err := ch.Files()
	if err != nil || (from != nil && from.Size > maxLineDiffBytes) || (to != nil && to.Size > maxLineDiffBytes) {
		return nil
	}
	patch, err := ch.Patch()
	if err != nil || binary(patch) {
		return nil
	}
	out := &changedLines{added: map[int]bool{}, deleted: map[int]bool{}}
	for _, fp := range patch.FilePatches() {
		headLine, baseLine := 1, 1
		for _, chunk := range fp.Chunks() {
			n := lineCount(chunk.Content())
			switch chunk.Type() {
			case diff.Equal:
				headLine += n
				baseLine += n
			case diff.Add:
				for i := range n {
					out.added[headLine+i] = true
				}
				headLine += n
			case diff.Delete:
				for i := range n {
					out.deleted[baseLine+i] = true
				}
				baseLine += n
			}
		}
	}
	return out
}

// lineCount counts the lines of a chunk, the last one with or without its
// newline.
func lineCount(s string) int {
	n := strings.Count(s, "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

// DiffAnchor is the anchor GitHub gives a file in the diff of a pull
// request or a comparison: diff- and the SHA-256 of its path.
func DiffAnchor(file string) string {
	sum := sha256.Sum256([]byte(file))
	return "diff-" + hex.EncodeToString(sum[:])
}

// PullRequestLinks link the lines the change adds or deletes to those
// lines in the diff of the pull request at prURL (GitHub's
// /files#diff-…R12 and …L12), and other lines as files do: a problem or a
// job the change touched opens where the reviewer reads the change.
// Without a pull request files keeps its links.
func (c *Comparison) PullRequestLinks(prURL string, files Links) Links {
	if c == nil || prURL == "" {
		return files
	}
	prURL = strings.TrimSuffix(prURL, "/")
	inDiff := func(side string, changed func(string, int) bool, fallback func(string, int) string) func(string, int) string {
		return func(file string, line int) string {
			if line > 0 && changed(file, line) {
				return fmt.Sprintf("%s/files#%s%s%d", prURL, DiffAnchor(file), side, line)
			}
			return link(fallback, file, line)
		}
	}
	return Links{Head: inDiff("R", c.Added, files.Head), Base: inDiff("L", c.Deleted, files.Base)}
}
