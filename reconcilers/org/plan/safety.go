package plan

import (
	"fmt"
	"slices"
	"strings"
)

// Limits are the safety limits a plan must keep to be applied, peribolos'
// checks. They come from the GitHubOrganization resource, never from the
// configuration the plan applies.
type Limits struct {
	// MaxRemovalPercent is the largest share of the org's members, and of
	// its teams, that one plan may remove (peribolos'
	// --maximum-removal-delta, as a percentage).
	MaxRemovalPercent int
	// MinAdmins is the fewest admins the configuration may name
	// (peribolos' --min-admins).
	MinAdmins int
	// RequiredAdmins must be admins in the configuration (peribolos'
	// --required-admins).
	RequiredAdmins []string
	// RequireSelf makes the login bowline acts as an admin in the
	// configuration (peribolos' --require-self); it does not apply to a
	// GitHub App.
	RequireSelf bool
}

// Violation is one reason a plan may not be applied.
type Violation struct {
	// Reason is a CamelCase word for conditions and events.
	Reason string
	// Message says what is wrong and what to do.
	Message string
}

// Violation reasons.
const (
	ReasonTooManyRemovals = "TooManyRemovals"
	ReasonTooFewAdmins    = "TooFewAdmins"
	ReasonInvalidConfig   = "InvalidConfig"
)

func (v Violation) String() string { return v.Message }

// Check lists the limits that applying changes, some or all of the plan's,
// would break; none of them may be applied then, unless a person approves
// the plan by its ID. Only the changes to be applied count: drift that is
// only reported removes nobody.
func (p *Plan) Check(l Limits, bot string, changes []Change) []Violation {
	var out []Violation
	memberRemovals, teamRemovals := 0, 0
	for _, c := range changes {
		if c.Action != ActionDelete {
			continue
		}
		switch c.Kind {
		case KindMember:
			memberRemovals++
		case KindTeam:
			teamRemovals++
		}
	}
	for _, pr := range p.Problems {
		out = append(out, Violation{ReasonInvalidConfig, "The configuration contradicts itself: " + pr})
	}
	st := p.Stats
	if st.ManagesMembers {
		if st.Members > 0 && memberRemovals*100 > l.MaxRemovalPercent*st.Members {
			out = append(out, Violation{ReasonTooManyRemovals, fmt.Sprintf(
				"The plan removes %d of the org's %d members and invitations (%d%%); the limit is %d%%.",
				memberRemovals, st.Members, percent(memberRemovals, st.Members), l.MaxRemovalPercent)})
		}
		if len(st.Admins) < l.MinAdmins {
			out = append(out, Violation{ReasonTooFewAdmins, fmt.Sprintf(
				"The configuration names %d admins; at least %d are required.", len(st.Admins), l.MinAdmins)})
		}
		var missing []string
		for _, a := range l.RequiredAdmins {
			if !slices.Contains(st.Admins, lower(a)) {
				missing = append(missing, a)
			}
		}
		if len(missing) > 0 {
			out = append(out, Violation{ReasonTooFewAdmins, fmt.Sprintf(
				"The configuration must name %s as admins.", strings.Join(missing, ", "))})
		}
		if l.RequireSelf && bot != "" && !slices.Contains(st.Admins, lower(bot)) {
			out = append(out, Violation{ReasonTooFewAdmins, fmt.Sprintf(
				"The configuration must name %s, the account bowline acts as, as an admin: without it bowline could not manage the org.", bot)})
		}
	}
	if st.ManagesTeams && st.Teams > 0 && teamRemovals*100 > l.MaxRemovalPercent*st.Teams {
		out = append(out, Violation{ReasonTooManyRemovals, fmt.Sprintf(
			"The plan deletes %d of the org's %d teams (%d%%); the limit is %d%%.",
			teamRemovals, st.Teams, percent(teamRemovals, st.Teams), l.MaxRemovalPercent)})
	}
	return out
}

func percent(n, of int) int {
	if of == 0 {
		return 0
	}
	return (n*100 + of/2) / of
}
