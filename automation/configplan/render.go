package configplan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Headline summarises the plan in one line, for a commit status (GitHub
// keeps 140 characters of a status description).
func (p *Plan) Headline() string {
	if !p.Valid {
		h := fmt.Sprintf("Refused: %d %s", len(p.Errors), plural(len(p.Errors), "error", "errors"))
		if len(p.Errors) > 0 && p.Errors[0].File != "" {
			h += " (first at " + p.Errors[0].Location() + ")"
		}
		return truncate(h, 140)
	}
	if p.Empty() {
		return "Valid; changes nothing bowline applies"
	}
	return truncate("Valid: "+strings.Join(p.counts(), ", "), 140)
}

// counts lists what the plan changes, section by section.
func (p *Plan) counts() []string {
	var out []string
	if a, c, r := p.JobCounts(); a+c+r > 0 {
		out = append(out, fmt.Sprintf("jobs +%d ~%d -%d", a, c, r))
	}
	if n := len(p.Plugins.Enabled); n > 0 {
		out = append(out, fmt.Sprintf("plugins in %d %s", n, plural(n, "place", "places")))
	} else if len(p.Plugins.Settings) > 0 {
		out = append(out, "plugin settings")
	}
	if n := len(p.Tide.Queries); n > 0 {
		out = append(out, fmt.Sprintf("%d Tide %s", n, plural(n, "query", "queries")))
	}
	if n := len(p.Settings); n > 0 {
		out = append(out, fmt.Sprintf("%d %s", n, plural(n, "setting", "settings")))
	}
	for _, o := range p.Orgs {
		out = append(out, fmt.Sprintf("org %s +%d ~%d -%d", o.Org, o.Create, o.Update, o.Delete))
	}
	if n := len(p.Deploy.Files); n > 0 {
		out = append(out, fmt.Sprintf("%d deploy %s", n, plural(n, "file", "files")))
	} else if len(p.Deploy.Settings) > 0 {
		out = append(out, "deployment settings")
	}
	return out
}

// JSON writes the plan as indented JSON.
func (p *Plan) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// describe says what a job change means for open pull requests, in words.
func (im *PRImpact) describe(numbers func([]PRRef) string) string {
	if im == nil {
		return ""
	}
	var parts []string
	runs, starts, stops := "runs on %d of %d", "starts on %d: %s", "stops on %d: %s"
	if im.OnMerge {
		runs, starts, stops = "runs when %d of %d merge", "newly runs for %d: %s", "no longer runs for %d: %s"
	}
	line := fmt.Sprintf(runs, im.After, im.Open)
	if im.Before != im.After {
		line += fmt.Sprintf(" (was %d)", im.Before)
	}
	parts = append(parts, line)
	if im.Starts > 0 {
		parts = append(parts, fmt.Sprintf(starts, im.Starts, numbers(im.Start)+more(im.Starts, len(im.Start))))
	}
	if im.Stops > 0 {
		parts = append(parts, fmt.Sprintf(stops, im.Stops, numbers(im.Stop)+more(im.Stops, len(im.Stop))))
	}
	if im.Uncounted > 0 {
		parts = append(parts, fmt.Sprintf("%d not counted", im.Uncounted))
	}
	return strings.Join(parts, "; ")
}

func more(total, listed int) string {
	if total > listed {
		return fmt.Sprintf(" and %d more", total-listed)
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func verdictText(o OrgPlan) string {
	if len(o.Violations) == 0 {
		return "Within the safety limits."
	}
	return "Beyond the safety limits: the orgs role would wait for a person to approve the plan (spec.safety.approvedPlan)."
}

func orgAgainst(o OrgPlan) string {
	s := "against " + o.Against
	if o.ID != "" {
		s += "; plan " + o.ID
	}
	return s
}

func orgStatus(o OrgPlan) []string {
	var out []string
	switch {
	case o.Managed != nil && !*o.Managed:
		out = append(out, "no GitHubOrganization follows this org yet: the orgs role creates one when the change is applied, and only plans until a person confirms it")
	case o.Applies != nil && !*o.Applies:
		out = append(out, "its GitHubOrganization is not confirmed (spec.confirm): the orgs role only plans")
	}
	if o.Pending > 0 {
		out = append(out, fmt.Sprintf("%d %s of the current configuration %s not on GitHub yet (drift, or not applied)", o.Pending,
			plural(o.Pending, "change", "changes"), plural(o.Pending, "is", "are")))
	}
	return out
}

func deployText(d DeployChanges) string {
	what := fmt.Sprintf("%d %s under %s (docs/deploy.md)", len(d.Files), plural(len(d.Files), "file", "files"), d.Path)
	if d.Applied {
		return "Changes to " + what + ". Once merged, bowline rolls them out one role at a time, and rolls a role back when it does not become healthy."
	}
	return "Changes to " + what + ". This bowline does not apply its own deployment from the config repository (only an install by bowline bootstrap does): merging changes nothing in the running bowline."
}

func fieldLine(f FieldChange) (path, before, after string) {
	before, after = f.Before, f.After
	if before == "" {
		before = "(unset)"
	}
	if after == "" {
		after = "(unset)"
	}
	path = f.Path
	if path == "" {
		path = "(whole value)"
	}
	return path, before, after
}
