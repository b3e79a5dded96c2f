package configplan

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/utils/merkletrie"

	"github.com/bowline-ci/bowline/schema/deploy"
)

// Bounds on the deploy files a plan shows.
const (
	maxDeployFiles     = 50
	maxDeployDiffBytes = 16 << 10
)

// deployChange describes one changed file.
func deployChange(ch *object.Change, name string) (DeployChange, error) {
	action, err := ch.Action()
	if err != nil {
		return DeployChange{}, err
	}
	dc := DeployChange{Path: name, Action: map[merkletrie.Action]string{merkletrie.Insert: Added, merkletrie.Delete: Removed, merkletrie.Modify: Changed}[action]}
	patch, err := ch.Patch()
	if err != nil {
		return DeployChange{}, fmt.Errorf("diff %s: %w", name, err)
	}
	if binary(patch) {
		dc.Diff = "(binary file)"
		return dc, nil
	}
	var buf bytes.Buffer
	if err := diff.NewUnifiedEncoder(&buf, diff.DefaultContextLines).Encode(patch); err != nil {
		return DeployChange{}, fmt.Errorf("diff %s: %w", name, err)
	}
	dc.Diff = boundDiff(buf.String())
	return dc, nil
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

// deployRoles lists the roles whose Deployment the change from one
// deployment file to another (nil: no file) creates, deletes or rolls
// out, in the order the roles are rolled out.
func deployRoles(base, head *deploy.Config) []DeployRoleChange {
	roles := func(c *deploy.Config) map[string]deploy.Role {
		if c == nil {
			return nil
		}
		return c.Roles
	}
	image := func(c *deploy.Config) any {
		if c == nil {
			return nil
		}
		return c.Image
	}
	replicas := func(r deploy.Role) int32 {
		if r.Replicas != nil {
			return *r.Replicas
		}
		return deploy.DefaultReplicas
	}
	rb, rh := roles(base), roles(head)
	newImage := !sameContent(image(base), image(head))
	var out []DeployRoleChange
	for _, name := range deploy.Roles {
		b, inBase := rb[name]
		h, inHead := rh[name]
		switch {
		case inBase && inHead:
			if newImage || !sameContent(b, h) {
				out = append(out, DeployRoleChange{Role: name, Action: Changed, Before: replicas(b), After: replicas(h)})
			}
		case inBase:
			out = append(out, DeployRoleChange{Role: name, Action: Removed, Before: replicas(b)})
		case inHead:
			out = append(out, DeployRoleChange{Role: name, Action: Added, After: replicas(h)})
		}
	}
	return out
}

// deployRoleText says what happens to one role.
func deployRoleText(r DeployRoleChange) string {
	switch r.Action {
	case Added:
		return fmt.Sprintf("%s moves to a Deployment of its own (%d %s)", r.Role, r.After, plural(int(r.After), "replica", "replicas"))
	case Removed:
		return fmt.Sprintf("%s moves back into the operator's Deployment", r.Role)
	}
	if r.Before != r.After {
		return fmt.Sprintf("%s is rolled out, %d → %d replicas", r.Role, r.Before, r.After)
	}
	return fmt.Sprintf("%s is rolled out", r.Role)
}
