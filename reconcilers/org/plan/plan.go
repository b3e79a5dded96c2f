package plan

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
)

// Kind is the kind of object a change is about.
type Kind string

// Kinds of objects.
const (
	KindOrgSettings      Kind = "OrgSettings"
	KindMember           Kind = "Member"
	KindTeam             Kind = "Team"
	KindTeamMember       Kind = "TeamMember"
	KindTeamRepo         Kind = "TeamRepo"
	KindRepo             Kind = "Repo"
	KindCollaborator     Kind = "Collaborator"
	KindBranchProtection Kind = "BranchProtection"
	KindLabel            Kind = "Label"
)

// Kinds lists every kind, in plan order.
var Kinds = []Kind{KindOrgSettings, KindMember, KindRepo, KindCollaborator, KindTeam, KindTeamMember, KindTeamRepo, KindBranchProtection, KindLabel}

// Action is what a change does to its object.
type Action string

// Actions.
const (
	ActionCreate Action = "Create"
	ActionUpdate Action = "Update"
	ActionDelete Action = "Delete"
)

// Change is one change to one object.
type Change struct {
	Kind   Kind   `json:"kind"`
	Action Action `json:"action"`
	// Key identifies the object across syncs, lower-cased:
	// "member/alice", "team/sig-foo/repo/widgets", "label/widgets/lgtm".
	Key string `json:"key"`
	// Object names it for people.
	Object string `json:"object"`
	// Detail says what changes.
	Detail string `json:"detail,omitempty"`
	// Drift is set when the configuration did not change the object since
	// bowline last applied it: someone changed GitHub by hand (see
	// ClassifyDrift).
	Drift bool `json:"drift,omitempty"`
	// Blocked says why the change may not be applied, whatever the plan's
	// limits (archiving or publishing a repository without permission).
	Blocked string `json:"blocked,omitempty"`
	// Op is what applying it does.
	Op Op `json:"-"`

	order int
}

// String renders a change in one line: "+ member alice: invite as admin".
func (c Change) String() string {
	sign := map[Action]string{ActionCreate: "+", ActionUpdate: "~", ActionDelete: "-"}[c.Action]
	s := sign + " " + c.Object
	if c.Detail != "" {
		s += ": " + c.Detail
	}
	if c.Drift {
		s += " (drift)"
	}
	if c.Blocked != "" {
		s += " [blocked: " + c.Blocked + "]"
	}
	return s
}

// Plan is what bowline would change in one org.
type Plan struct {
	Org     string   `json:"org"`
	Changes []Change `json:"changes"`
	// Problems are contradictions in the configuration that make the plan
	// unsafe to apply (a team member who is not an org member, a name used
	// twice); Check reports them.
	Problems []string `json:"problems,omitempty"`
	// Notes are things worth knowing that change nothing.
	Notes []string `json:"notes,omitempty"`
	// Stats are the figures the safety checks look at.
	Stats Stats `json:"stats"`

	// Index maps the key of every object the configuration describes to a
	// digest of what it says about it; ClassifyDrift compares it with the
	// index of the plan last applied.
	Index map[string]string `json:"-"`
	// TeamSlugs and TeamIDs map configured team names to the slugs and IDs
	// of the teams they matched, for the applier.
	TeamSlugs map[string]string `json:"-"`
	TeamIDs   map[string]int64  `json:"-"`
}

// Stats are a plan's figures for the safety checks.
type Stats struct {
	// ManagesMembers says the plan manages org membership.
	ManagesMembers bool `json:"managesMembers,omitempty"`
	// Members counts the org's members and admins now, pending
	// invitations included (peribolos counts them as members).
	Members int `json:"members"`
	// Admins are the admins the configuration names, lower-cased.
	Admins []string `json:"admins,omitempty"`
	// ManagesTeams says the plan manages teams.
	ManagesTeams bool `json:"managesTeams,omitempty"`
	// Teams counts the org's teams now.
	Teams int `json:"teams"`
}

// Counts are a plan's changes by action.
type Counts struct {
	Create, Update, Delete, Blocked, Drift int
}

// Total is the number of changes.
func (c Counts) Total() int { return c.Create + c.Update + c.Delete }

// Counts counts the changes.
func (p *Plan) Counts() Counts {
	var c Counts
	for _, ch := range p.Changes {
		switch ch.Action {
		case ActionCreate:
			c.Create++
		case ActionUpdate:
			c.Update++
		case ActionDelete:
			c.Delete++
		}
		if ch.Blocked != "" {
			c.Blocked++
		}
		if ch.Drift {
			c.Drift++
		}
	}
	return c
}

// ID names the plan by its changes: the same changes give the same ID, so
// that a person can approve exactly the plan they read.
func (p *Plan) ID() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", lower(p.Org))
	for _, c := range p.Changes {
		fmt.Fprintf(h, "%s\t%s\t%s\n", c.Action, c.Key, c.Detail)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Format renders the plan for people, one change a line, in apply order.
func (p *Plan) Format() string {
	var b strings.Builder
	c := p.Counts()
	fmt.Fprintf(&b, "org %s: %d to create, %d to update, %d to delete", p.Org, c.Create, c.Update, c.Delete)
	if c.Blocked > 0 {
		fmt.Fprintf(&b, ", %d blocked", c.Blocked)
	}
	if c.Drift > 0 {
		fmt.Fprintf(&b, ", %d drifted", c.Drift)
	}
	if len(p.Changes) > 0 {
		fmt.Fprintf(&b, " (plan %s)", p.ID())
	}
	b.WriteString("\n")
	for _, pr := range p.Problems {
		fmt.Fprintf(&b, "  ! %s\n", pr)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	for _, ch := range p.Changes {
		fmt.Fprintf(&b, "  %s\n", ch)
	}
	return b.String()
}

// Compute plans the changes that make the org s describes match d. It
// reads nothing and writes nothing.
func Compute(d *Desired, s *State) *Plan {
	p := &Plan{Org: d.Org, Index: map[string]string{}, TeamSlugs: map[string]string{}, TeamIDs: map[string]int64{}}
	if s == nil {
		s = &State{Org: d.Org}
	}
	m := d.Manage()
	renames := planRepos(p, d, s, m)
	if m.Settings {
		planSettings(p, d, s)
	}
	if m.Members {
		planMembers(p, d, s)
	}
	if m.Teams {
		planTeams(p, d, s, m, renames)
	}
	if m.BranchProtection {
		planProtection(p, d, s)
	}
	if m.Labels {
		planLabels(p, d, s)
	}
	slices.SortStableFunc(p.Changes, func(a, b Change) int {
		return cmp.Or(cmp.Compare(a.Op.phase(), b.Op.phase()), cmp.Compare(a.order, b.order), strings.Compare(a.Key, b.Key))
	})
	return p
}

func (p *Plan) add(c Change) { p.Changes = append(p.Changes, c) }

// index records what the configuration says about an object.
func (p *Plan) index(key string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Plan types always marshal.
		b = []byte(fmt.Sprint(v))
	}
	h := fnv.New64a()
	h.Write(b)
	p.Index[key] = hex.EncodeToString(h.Sum(nil))
}

func (p *Plan) problem(format string, args ...any) {
	p.Problems = append(p.Problems, fmt.Sprintf(format, args...))
}

func (p *Plan) note(format string, args ...any) {
	p.Notes = append(p.Notes, fmt.Sprintf(format, args...))
}
