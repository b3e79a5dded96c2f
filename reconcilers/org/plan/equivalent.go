package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/labels"
	"github.com/bowline-ci/bowline/schema/prowconfig"
)

// Equivalent reports whether d and o ask the same of their org: the same
// org configuration, branch protection and labels as far as they concern
// the org, the same options and clock, and presubmits that give every
// branch the same required contexts. Planning
// either against any State then gives the same plan, so a change of
// configuration that leaves an org's Desired equivalent changes nothing in
// it. Positions in the files do not count.
func (d *Desired) Equivalent(o *Desired) bool {
	if d == nil || o == nil {
		return d == o
	}
	if !strings.EqualFold(d.Org, o.Org) || !d.Now.Equal(o.Now) || !reflect.DeepEqual(d.Options, o.Options) {
		return false
	}
	if !sameContent(d.Config, o.Config) || !sameContent(d.protectionOfOrg(), o.protectionOfOrg()) || !sameContent(d.labelsOfOrg(), o.labelsOfOrg()) {
		return false
	}
	if len(d.Presubmits) != len(o.Presubmits) {
		return false
	}
	for repo, ps := range d.Presubmits {
		other, ok := o.Presubmits[repo]
		if !ok || !slices.Equal(protectionView(ps), protectionView(other)) {
			return false
		}
	}
	return true
}

// sameContent compares two configuration values by what they say: equal,
// or equal once positions (which JSON leaves out) are ignored.
func sameContent(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// protectionView is what branch protection reads of a repository's
// presubmits (prowconfig.JobContextsFor): for each job, its branches and
// whether it reports and is optional; for a required one, its context and
// whether it always runs or has a change matcher; sorted, since order does
// not matter.
func protectionView(ps []jobs.Presubmit) []string {
	out := make([]string, 0, len(ps))
	for i := range ps {
		p := &ps[i]
		switch {
		case p.SkipReport:
			// Never a required context, whatever else it says.
			out = append(out, fmt.Sprintf("skip %q %q", p.Branches, p.SkipBranches))
		case p.Optional:
			// Counted as optional, however it is triggered.
			out = append(out, fmt.Sprintf("optional %q %q", p.Branches, p.SkipBranches))
		default:
			out = append(out, fmt.Sprintf("%q %t %t %q %q", p.Context, p.AlwaysRun,
				p.RunIfChanged != "" || p.SkipIfOnlyChanged != "", p.Branches, p.SkipBranches))
		}
	}
	slices.Sort(out)
	return out
}

// protectionOfOrg is the part of branch-protection the planner reads for
// the org: everything but the other orgs' entries.
func (d *Desired) protectionOfOrg() *prowconfig.BranchProtection {
	bp := d.BranchProtection
	if bp == nil {
		return nil
	}
	v := *bp
	v.Orgs = nil
	if k, ok := findKey(bp.Orgs, d.Org); ok {
		v.Orgs = map[string]prowconfig.Org{lower(k): bp.Orgs[k]}
	}
	return &v
}

// labelsOfOrg is the part of labels.yaml the planner reads for the org:
// the default labels, the org's and those of its repositories.
func (d *Desired) labelsOfOrg() *labels.Config {
	l := d.Labels
	if l == nil {
		return nil
	}
	v := labels.Config{Default: l.Default}
	if k, ok := findKey(l.Orgs, d.Org); ok {
		v.Orgs = map[string]labels.RepoConfig{lower(k): l.Orgs[k]}
	}
	for k, rc := range l.Repos {
		if org, _, _ := strings.Cut(k, "/"); strings.EqualFold(org, d.Org) {
			if v.Repos == nil {
				v.Repos = map[string]labels.RepoConfig{}
			}
			v.Repos[lower(k)] = rc
		}
	}
	return &v
}
