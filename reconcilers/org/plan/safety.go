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

// Check lists the limits the plan breaks; a plan with violations must not
// be applied, wholly, unless a person approves it by its ID.
func (p *Plan) Check(l Limits, bot string) []Violation {
	var out []Violation
	for _, pr := range p.Problems {
		out = append(out, Violation{ReasonInvalidConfig, "The configuration contradicts itself: " + pr})
	}
	st := p.Stats
	if st.ManagesMembers {
		if st.Members > 0 && st.MemberRemovals*100 > l.MaxRemovalPercent*st.Members {
			out = append(out, Violation{ReasonTooManyRemovals, fmt.Sprintf(
				"The plan removes %d members and invitations from an org of %d members (%d%%); the limit is %d%%.",
				st.MemberRemovals, st.Members, percent(st.MemberRemovals, st.Members), l.MaxRemovalPercent)})
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
	if st.ManagesTeams && st.Teams > 0 && st.TeamRemovals*100 > l.MaxRemovalPercent*st.Teams {
		out = append(out, Violation{ReasonTooManyRemovals, fmt.Sprintf(
			"The plan deletes %d of the org's %d teams (%d%%); the limit is %d%%.",
			st.TeamRemovals, st.Teams, percent(st.TeamRemovals, st.Teams), l.MaxRemovalPercent)})
	}
	return out
}

func percent(n, of int) int {
	if of == 0 {
		return 0
	}
	return (n*100 + of/2) / of
}
