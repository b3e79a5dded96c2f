package configplan

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/utils/merkletrie"
)

// Bounds on the deploy files a plan shows.
const (
	maxDeployFiles     = 50
	maxDeployDiffBytes = 16 << 10
)

// ChangedFiles lists the files that differ between two commits, both
// paths of a rename. It compares trees by hash, reading only the subtrees
// that changed.
func ChangedFiles(base, head *object.Commit) (map[string]bool, error) {
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
		return nil, err
	}
	out := map[string]bool{}
	for _, ch := range changes {
		for _, name := range []string{ch.From.Name, ch.To.Name} {
			if name != "" {
				out[name] = true
			}
		}
	}
	return out, nil
}

// DeployDiff lists the files under dir (the ConfigRepository's deploy
// path) that differ between two commits, with the unified diff of each
// text file.
func DeployDiff(base, head *object.Commit, dir string) ([]DeployChange, error) {
	dir = strings.Trim(path.Clean("/"+dir), "/")
	if dir == "" {
		return []DeployChange{}, nil
	}
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
		return nil, fmt.Errorf("compare %s: %w", dir, err)
	}
	out := []DeployChange{}
	for _, ch := range changes {
		name := ch.To.Name
		if name == "" {
			name = ch.From.Name
		}
		if name != dir && !strings.HasPrefix(name, dir+"/") {
			continue
		}
		if len(out) == maxDeployFiles {
			out = append(out, DeployChange{Path: "…", Action: Changed, Diff: "more files changed; the plan shows the first " + fmt.Sprint(maxDeployFiles)})
			break
		}
		action, err := ch.Action()
		if err != nil {
			return nil, err
		}
		dc := DeployChange{Path: name, Action: map[merkletrie.Action]string{merkletrie.Insert: Added, merkletrie.Delete: Removed, merkletrie.Modify: Changed}[action]}
		patch, err := ch.Patch()
		if err != nil {
			return nil, fmt.Errorf("diff %s: %w", name, err)
		}
		if binary(patch) {
			dc.Diff = "(binary file)"
		} else {
			var buf bytes.Buffer
			if err := diff.NewUnifiedEncoder(&buf, diff.DefaultContextLines).Encode(patch); err != nil {
				return nil, fmt.Errorf("diff %s: %w", name, err)
			}
			dc.Diff = boundDiff(buf.String())
		}
		out = append(out, dc)
	}
	return out, nil
}

func binary(p *object.Patch) bool {
	for _, fp := range p.FilePatches() {
		if fp.IsBinary() {
			return true
		}
	}
	return false
}

// boundDiff drops the git header lines and bounds the diff's size.
func boundDiff(d string) string {
	var lines []string
	for _, l := range strings.SplitAfter(d, "\n") {
		if strings.HasPrefix(l, "diff --git ") || strings.HasPrefix(l, "index ") ||
			strings.HasPrefix(l, "new file mode ") || strings.HasPrefix(l, "deleted file mode ") {
			continue
		}
		lines = append(lines, l)
	}
	d = strings.Join(lines, "")
	if len(d) > maxDeployDiffBytes {
		cut := strings.LastIndex(d[:maxDeployDiffBytes], "\n")
		d = d[:cut+1] + "… (diff cut)\n"
	}
	return d
}
