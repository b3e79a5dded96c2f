package configplan

import (
	"fmt"
	"io"
	"strings"
)

// Text writes the plan for a terminal.
func (p *Plan) Text(w io.Writer) error {
	var b strings.Builder
	verdict := "valid"
	if !p.Valid {
		verdict = "REFUSED: the operator would not apply it; the current revision stays in effect"
	}
	fmt.Fprintf(&b, "Plan of %s against %s: %s\n", p.Head.Name, p.Base.Name, verdict)
	problems := func(title string, list []Problem) {
		if len(list) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s (%d):\n", title, len(list))
		for _, e := range list {
			fmt.Fprintf(&b, "  %s\n", e)
		}
	}
	problems("Errors", p.Errors)
	problems("Warnings", p.NewWarnings())
	if n := len(p.Warnings) - len(p.NewWarnings()); n > 0 {
		fmt.Fprintf(&b, "\n%d %s that the base revision has too %s not shown (--output json lists them).\n", n,
			plural(n, "warning", "warnings"), plural(n, "is", "are"))
	}
	if p.Valid && p.Empty() {
		b.WriteString("\nNo change to anything bowline applies.\n")
	}
	p.textJobs(&b)
	p.textPlugins(&b)
	p.textTide(&b)
	if len(p.Settings) > 0 {
		b.WriteString("\nSettings (config.yaml, presets):\n")
		textFields(&b, "  ", p.Settings)
	}
	p.textOrgs(&b)
	if d := p.Deploy; len(d.Files) > 0 || len(d.Settings) > 0 {
		fmt.Fprintf(&b, "\nDeployment: %s\n", deployText(d))
		for _, r := range d.Roles {
			fmt.Fprintf(&b, "  %s role %s\n", sign(r.Action), deployRoleText(r))
		}
		textFields(&b, "  ", d.Settings)
		for _, f := range d.Files {
			fmt.Fprintf(&b, "  %s %s\n", sign(f.Action), f.Path)
			for _, l := range strings.SplitAfter(strings.TrimRight(f.Diff, "\n"), "\n") {
				if l != "" {
					fmt.Fprintf(&b, "      %s", strings.TrimRight(l, "\n")+"\n")
				}
			}
		}
	}
	if len(p.Notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range p.Notes {
			fmt.Fprintf(&b, "  %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (p *Plan) textJobs(b *strings.Builder) {
	if len(p.Jobs) == 0 {
		return
	}
	a, c, r := p.JobCounts()
	fmt.Fprintf(b, "\nJobs: %d added, %d changed, %d removed\n", a, c, r)
	numbers := func(refs []PRRef) string {
		var out []string
		for _, r := range refs {
			out = append(out, fmt.Sprintf("#%d", r.Number))
		}
		return strings.Join(out, " ")
	}
	for _, j := range p.Jobs {
		where := j.Repo
		if j.Branches != "" {
			where += ", " + j.Branches
		}
		if where != "" {
			where = " (" + where + ")"
		}
		loc := ""
		if j.File != "" {
			loc = fmt.Sprintf(" %s:%d", j.File, j.Line)
		}
		fmt.Fprintf(b, "  %s %s %s%s%s\n", sign(j.Action), j.Type, j.Name, where, loc)
		if s := j.PullRequests.describe(numbers); s != "" {
			fmt.Fprintf(b, "      open pull requests: %s\n", s)
		}
		textFields(b, "      ", j.Fields)
	}
}

func (p *Plan) textPlugins(b *strings.Builder) {
	pc := p.Plugins
	if len(pc.Enabled) == 0 && len(pc.Settings) == 0 {
		return
	}
	b.WriteString("\nPlugins:\n")
	for _, e := range pc.Enabled {
		fmt.Fprintf(b, "  %s: %s\n", e.Scope, strings.Join(enablementParts(e, func(s string) string { return s }), "; "))
	}
	if len(pc.NotImplemented) > 0 {
		fmt.Fprintf(b, "  not implemented by bowline (enabling them does nothing): %s\n", strings.Join(pc.NotImplemented, ", "))
	}
	if len(pc.Settings) > 0 {
		b.WriteString("  settings:\n")
		textFields(b, "    ", pc.Settings)
	}
}

// enablementParts says what changed in one scope; name formats a plugin
// name.
func enablementParts(e PluginEnablement, name func(string) string) []string {
	var parts []string
	list := func(what string, names []string) {
		if len(names) == 0 {
			return
		}
		var out []string
		for _, n := range names {
			out = append(out, name(n))
		}
		parts = append(parts, what+" "+strings.Join(out, ", "))
	}
	list("enables", e.Enabled)
	list("disables", e.Disabled)
	list("adds external", e.ExternalAdded)
	list("removes external", e.ExternalRemoved)
	list("changes external", e.ExternalChanged)
	list("excluded repos", e.Excluded)
	return parts
}

func (p *Plan) textTide(b *strings.Builder) {
	t := p.Tide
	if len(t.Queries) == 0 {
		return
	}
	b.WriteString("\nMerge pool (Tide) queries:\n")
	for _, q := range t.Queries {
		fmt.Fprintf(b, "  %s query %d (%s)\n", sign(q.Action), q.Index, q.Scope)
		textFields(b, "      ", q.Fields)
	}
	refs := func(list []PRRef, total int) string {
		var out []string
		for _, r := range list {
			out = append(out, fmt.Sprintf("%s#%d %s", r.Repo, r.Number, r.Title))
		}
		return strings.Join(out, "; ") + more(total, len(list))
	}
	switch {
	case !t.Counted:
		b.WriteString("  open pull requests: not counted\n")
	case t.Entering+t.Leaving == 0:
		b.WriteString("  no open pull request enters or leaves the pool\n")
	default:
		if t.Entering > 0 {
			fmt.Fprintf(b, "  entering (%d): %s\n", t.Entering, refs(t.Enter, t.Entering))
		}
		if t.Leaving > 0 {
			fmt.Fprintf(b, "  leaving (%d): %s\n", t.Leaving, refs(t.Leave, t.Leaving))
		}
	}
}

func (p *Plan) textOrgs(b *strings.Builder) {
	if len(p.Orgs) == 0 {
		return
	}
	b.WriteString("\nOrgs:\n")
	for _, o := range p.Orgs {
		fmt.Fprintf(b, "  org %s: %d to create, %d to update, %d to delete (%s)\n", o.Org, o.Create, o.Update, o.Delete, orgAgainst(o))
		for _, pr := range o.Problems {
			fmt.Fprintf(b, "    ! %s\n", pr)
		}
		for _, n := range append(o.Notes, orgStatus(o)...) {
			fmt.Fprintf(b, "    note: %s\n", n)
		}
		for _, c := range o.Changes {
			fmt.Fprintf(b, "    %s\n", c.Line)
		}
		fmt.Fprintf(b, "    %s\n", verdictText(o))
		for _, v := range o.Violations {
			fmt.Fprintf(b, "    ! %s\n", v)
		}
	}
}

func textFields(b *strings.Builder, indent string, fields []FieldChange) {
	for _, f := range fields {
		path, before, after := fieldLine(f)
		fmt.Fprintf(b, "%s%s: %s → %s\n", indent, path, before, after)
	}
}

func sign(action string) string {
	switch action {
	case Added:
		return "+"
	case Removed:
		return "-"
	}
	return "~"
}
