package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/jobs"
)

// Equivalent reports whether d and o ask the same of their org: the same
// org configuration, branch protection, labels, options and clock, and
// presubmits that give every branch the same required contexts. Planning
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
	if !sameContent(d.Config, o.Config) || !sameContent(d.BranchProtection, o.BranchProtection) || !sameContent(d.Labels, o.Labels) {
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
