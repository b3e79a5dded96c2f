package approve

import (
	"math/rand/v2"
	"path"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/automation/repoowners"
)

// set is a set of strings.
type set map[string]bool

func newSet(items ...string) set {
	s := set{}
	for _, i := range items {
		s[i] = true
	}
	return s
}

func (s set) sorted() []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (s set) union(o set) set {
	out := set{}
	for k := range s {
		out[k] = true
	}
	for k := range o {
		out[k] = true
	}
	return out
}

func (s set) intersects(o set) bool {
	for k := range s {
		if o[k] {
			return true
		}
	}
	return false
}

// changedFiles is what a pull request changes, seen through OWNERS: which
// OWNERS files must approve it.
type changedFiles struct {
	owners *repoowners.Owners
	// all is every changed file; needed leaves out those that
	// auto_approve_unowned_subfolders approves.
	all, needed []string
	// seed spreads approver suggestions between pull requests.
	seed uint64
	// ownersOf is the approvers' OWNERS directory of each needed file,
	// approversOf and leafOf its approvers (all, and the closest).
	ownersOf            map[string]string
	approversOf, leafOf map[string]set
	ownerDirs           set
}

func newChangedFiles(o *repoowners.Owners, files []string, seed int) *changedFiles {
	c := &changedFiles{owners: o, all: files, seed: uint64(seed),
		ownersOf: map[string]string{}, approversOf: map[string]set{}, leafOf: map[string]set{}}
	for _, f := range files {
		dir := o.FindApproverOwnersForFile(f)
		if inSubfolder(f, dir) && o.IsAutoApproveUnownedSubfolders(dir) {
			continue
		}
		c.needed = append(c.needed, f)
		c.ownersOf[f] = dir
		c.approversOf[f] = newSet(o.Approvers(f).Set()...)
		c.leafOf[f] = newSet(o.LeafApprovers(f)...)
	}
	c.ownerDirs = c.computeOwnersSet()
	return c
}

// inSubfolder reports whether file lies in a subdirectory of dir (rather
// than in dir itself).
func inSubfolder(file, dir string) bool {
	d := path.Dir(file)
	if d == "." {
		return false
	}
	return dir == "" || strings.HasPrefix(d, dir+"/")
}

// ownersSet is the OWNERS directories that must approve: those of the
// needed files, without the ones below another of them (an approver of the
// parent approves the child too), unless no_parent_owners separates them.
func (c *changedFiles) ownersSet() set { return c.ownerDirs }

func (c *changedFiles) computeOwnersSet() set {
	dirs := set{}
	for _, f := range c.needed {
		dirs[c.ownersOf[f]] = true
	}
	for _, d := range dirs.sorted() {
		for p := d; p != "" && !c.owners.IsNoParentOwners(p); {
			p = parentDir(p)
			if dirs[p] {
				delete(dirs, d)
				break
			}
		}
	}
	return dirs
}

func parentDir(d string) string {
	p := path.Dir(d)
	if p == "." {
		return ""
	}
	return p
}

// approversByOwners maps each needed OWNERS directory to the approvers of
// its files: all of them, or only the closest (leaf).
func (c *changedFiles) approversByOwners(leaf bool) map[string]set {
	needed := c.ownersSet()
	out := map[string]set{}
	for _, f := range c.needed {
		dir := c.ownersOf[f]
		if !needed[dir] {
			continue
		}
		if out[dir] == nil {
			out[dir] = set{}
		}
		logins := c.approversOf[f]
		if leaf {
			logins = c.leafOf[f]
		}
		for l := range logins {
			out[dir][l] = true
		}
	}
	return out
}

// reverse maps each approver to the OWNERS directories they can approve.
func reverse(m map[string]set) map[string]set {
	out := map[string]set{}
	for dir, logins := range m {
		for l := range logins {
			if out[l] == nil {
				out[l] = set{}
			}
			out[l][dir] = true
		}
	}
	return out
}

// unapproved lists the needed OWNERS directories that approvers (lower-case
// logins) have not approved.
func (c *changedFiles) unapproved(approvers set) set {
	needed := c.ownersSet()
	out := set{}
	for _, f := range c.needed {
		dir := c.ownersOf[f]
		if !needed[dir] {
			continue
		}
		if !c.approversOf[f].intersects(approvers) {
			out[dir] = true
		}
	}
	return out
}

// approved reports whether approvers approve every needed OWNERS file. A
// pull request that changes nothing is not approved.
func (c *changedFiles) approved(approvers set) bool {
	return len(c.all) > 0 && len(c.unapproved(approvers)) == 0
}

// shuffledLeafApprovers lists the leaf approvers in an order that depends on
// the pull request, so that suggestions spread the load.
func (c *changedFiles) shuffledLeafApprovers() []string {
	all := set{}
	for _, logins := range c.approversByOwners(true) {
		all = all.union(logins)
	}
	list := all.sorted()
	r := rand.New(rand.NewPCG(c.seed, c.seed))
	r.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	return list
}

// suggest picks, greedily, approvers from candidates (in their order) until
// every needed OWNERS file is covered: each time the one who covers the
// most files still unapproved. It stops early when no candidate helps.
func (c *changedFiles) suggest(byApprover map[string]set, candidates []string) set {
	chosen := set{}
	for {
		open := c.unapproved(chosen)
		if len(open) == 0 {
			return chosen
		}
		best, bestN := "", 0
		for _, cand := range candidates {
			if chosen[cand] {
				continue
			}
			n := 0
			for dir := range byApprover[cand] {
				if open[dir] {
					n++
				}
			}
			if n > bestN {
				best, bestN = cand, n
			}
		}
		if best == "" {
			return chosen
		}
		chosen[best] = true
	}
}

// keepCovering returns the suggestions from candidates that would approve
// something that known does not approve already.
func (c *changedFiles) keepCovering(byApprover map[string]set, known set, candidates []string) set {
	open := c.unapproved(known)
	kept := set{}
	for _, s := range c.suggest(byApprover, candidates).sorted() {
		for dir := range byApprover[s] {
			if open[dir] {
				kept[s] = true
				break
			}
		}
	}
	return kept
}

// approval is how one user approved.
type approval struct {
	login     string // as they wrote it
	how       string // Approved, LGTM, Author self-approved
	reference string // link to the comment or review
	noIssue   bool
}

// state is the approval state of one pull request.
type state struct {
	files *changedFiles
	// approvals by lower-case login.
	approvals map[string]approval
	assignees set
	// changeRequested are approvers whose latest review requests changes.
	changeRequested set
	associatedIssue int
	requireIssue    bool
	// manuallyApproved says whether a person added the approved label; it
	// is asked only when needed.
	manuallyApproved func() bool
}

func newState(files *changedFiles) *state {
	return &state{files: files, approvals: map[string]approval{}, assignees: set{}, changeRequested: set{},
		manuallyApproved: func() bool { return false }}
}

// add records an approval, unless it would replace a no-issue approval by
// one that is not: the no-issue part of an approval sticks.
func (s *state) add(login, how, reference string, noIssue bool) {
	k := strings.ToLower(login)
	if prev, ok := s.approvals[k]; ok && prev.noIssue && !noIssue {
		return
	}
	s.approvals[k] = approval{login: login, how: how, reference: reference, noIssue: noIssue}
}

func (s *state) remove(login string) { delete(s.approvals, strings.ToLower(login)) }

func (s *state) current() set {
	out := set{}
	for k := range s.approvals {
		out[k] = true
	}
	return out
}

// canApproveSomething reports whether login approves any needed OWNERS.
func (s *state) canApproveSomething(login string) bool {
	_, ok := reverse(s.files.approversByOwners(false))[strings.ToLower(login)]
	return ok
}

// noIssueApprovals are the no-issue approvals of users who can approve
// something, sorted by login.
func (s *state) noIssueApprovals() []approval {
	var out []approval
	for _, k := range s.current().sorted() {
		a := s.approvals[k]
		if a.noIssue && s.canApproveSomething(k) {
			out = append(out, a)
		}
	}
	return out
}

// blockingChangeRequests are the users who can approve something and whose
// latest review requests changes.
func (s *state) blockingChangeRequests() []string {
	var out []string
	for _, l := range s.changeRequested.sorted() {
		if s.canApproveSomething(l) {
			out = append(out, l)
		}
	}
	return out
}

func (s *state) filesApproved() bool { return s.files.approved(s.current()) }

// requirementsMet: every needed OWNERS approves, the issue requirement is
// met or waived, and no approver requests changes.
func (s *state) requirementsMet() bool {
	return s.filesApproved() &&
		(!s.requireIssue || s.associatedIssue != 0 || len(s.noIssueApprovals()) > 0) &&
		len(s.blockingChangeRequests()) == 0
}

// isApproved is requirementsMet, or a person added the approved label.
func (s *state) isApproved() bool { return s.requirementsMet() || s.manuallyApproved() }

// ccs are the approvers to ask: the leaf approvers (in shuffled order) that
// cover what the approvers and assignees do not, plus the assignees or
// approvers higher up who would cover something the former do not.
func (s *state) ccs() []string {
	current := s.current()
	suggested := s.files.keepCovering(reverse(s.files.approversByOwners(true)), current.union(s.assignees), s.files.shuffledLeafApprovers())
	withSuggested := current.union(suggested)
	keep := s.files.keepCovering(reverse(s.files.approversByOwners(false)), withSuggested, withSuggested.union(s.assignees).sorted())
	return suggested.union(keep).sorted()
}

// assignedCCs are the ccs already assigned; suggestedCCs the others.
func (s *state) assignedCCs() []string {
	return slices.DeleteFunc(s.ccs(), func(l string) bool { return !s.assignees[l] })
}

func (s *state) suggestedCCs() []string {
	return slices.DeleteFunc(s.ccs(), func(l string) bool { return s.assignees[l] })
}

// ownersFile is one needed OWNERS file in the notification.
type ownersFile struct {
	dir       string
	approved  bool
	approvers []string // who approved it, as they wrote their logins
}

// ownersFiles lists the needed OWNERS files, sorted, with their approvers.
func (s *state) ownersFiles() []ownersFile {
	open := s.files.unapproved(s.current())
	byOwners := s.files.approversByOwners(false)
	var out []ownersFile
	for _, dir := range s.files.ownersSet().sorted() {
		f := ownersFile{dir: dir, approved: !open[dir]}
		for _, k := range s.current().sorted() {
			if byOwners[dir][k] {
				f.approvers = append(f.approvers, s.approvals[k].login)
			}
		}
		slices.Sort(f.approvers)
		out = append(out, f)
	}
	return out
}
