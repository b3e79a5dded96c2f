package configplan

import (
	"fmt"
	"strings"
)

// MaxMarkdownChars bounds the Markdown rendering: GitHub refuses comments
// longer than 65536 characters.
const MaxMarkdownChars = 60000

// Bounds within the Markdown rendering; the JSON and text renderings have
// everything.
const (
	maxJobRows     = 100
	maxFieldJobs   = 50
	maxFieldsShown = 20
	maxProblems    = 50
)

// Markdown renders the plan for a comment on a pull request, within
// MaxMarkdownChars.
func (p *Plan) Markdown() string {
	var b strings.Builder
	if p.Valid {
		fmt.Fprintf(&b, "### bowline plan: valid\n\n")
	} else {
		fmt.Fprintf(&b, "### bowline plan: refused\n\n")
	}
	fmt.Fprintf(&b, "%s against %s", code(shortRev(p.Head)), code(shortRev(p.Base)))
	switch {
	case !p.Valid:
		fmt.Fprintf(&b, ": **the operator would not apply this revision**; the current one stays in effect until a valid revision is merged.\n")
	case p.Empty():
		b.WriteString(": no change to anything bowline applies.\n")
	default:
		fmt.Fprintf(&b, ": %s.\n", strings.Join(p.counts(), ", "))
	}
	mdProblems(&b, "Errors", p.Errors)
	mdProblems(&b, "Warnings", p.NewWarnings())
	if n := len(p.Warnings) - len(p.NewWarnings()); n > 0 {
		fmt.Fprintf(&b, "\n%d %s that the base revision has too %s not shown.\n", n, plural(n, "warning", "warnings"), plural(n, "is", "are"))
	}
	p.mdJobs(&b)
	p.mdPlugins(&b)
	p.mdTide(&b)
	if len(p.Settings) > 0 {
		b.WriteString("\n#### Settings\n\n")
		mdFields(&b, "", p.Settings, len(p.Settings))
	}
	p.mdOrgs(&b)
	p.mdDeploy(&b)
	if len(p.Notes) > 0 {
		b.WriteString("\n#### Notes\n\n")
		for _, n := range p.Notes {
			fmt.Fprintf(&b, "- %s\n", escape(n))
		}
	}
	out := b.String()
	if len(out) > MaxMarkdownChars {
		cut := strings.LastIndex(out[:MaxMarkdownChars], "\n")
		out = out[:cut+1] + "\n… The plan is longer than a comment can hold: run `bowline plan` for all of it.\n"
		// Close a collapsed section or code block left open by the cut.
		if strings.Count(out, "```")%2 == 1 {
			out += "```\n"
		}
		if strings.Count(out, "<details>") > strings.Count(out, "</details>") {
			out += "</details>\n"
		}
	}
	return out
}

func shortRev(r Revision) string {
	if i := strings.Index(r.Name, "sha1:"); i >= 0 && len(r.Name) >= i+5+12 {
		return r.Name[:i+5+12]
	}
	return r.Name
}

func mdProblems(b *strings.Builder, title string, list []Problem) {
	if len(list) == 0 {
		return
	}
	fmt.Fprintf(b, "\n#### %s (%d)\n\n", title, len(list))
	for i, e := range list {
		if i == maxProblems {
			fmt.Fprintf(b, "- … and %d more\n", len(list)-i)
			break
		}
		loc := e.Location()
		switch {
		case loc == "":
			fmt.Fprintf(b, "- %s\n", escape(e.Message))
		case e.URL != "":
			fmt.Fprintf(b, "- [%s](%s): %s\n", code(loc), e.URL, escape(e.Message))
		default:
			fmt.Fprintf(b, "- %s: %s\n", code(loc), escape(e.Message))
		}
	}
}

func (p *Plan) mdJobs(b *strings.Builder) {
	if len(p.Jobs) == 0 {
		return
	}
	a, c, r := p.JobCounts()
	fmt.Fprintf(b, "\n#### Jobs: %d added, %d changed, %d removed\n\n", a, c, r)
	b.WriteString("| | Job | Type | Repository | Branches | Open pull requests |\n|---|---|---|---|---|---|\n")
	numbers := func(refs []PRRef) string {
		var out []string
		for _, r := range refs {
			if r.URL != "" {
				out = append(out, fmt.Sprintf("[#%d](%s)", r.Number, r.URL))
			} else {
				out = append(out, fmt.Sprintf("#%d", r.Number))
			}
		}
		return strings.Join(out, ", ")
	}
	for i, j := range p.Jobs {
		if i == maxJobRows {
			fmt.Fprintf(b, "| | … and %d more | | | | |\n", len(p.Jobs)-i)
			break
		}
		name := code(j.Name)
		if j.URL != "" {
			name = fmt.Sprintf("[%s](%s)", name, j.URL)
		}
		prs := "—"
		if s := j.PullRequests.describe(numbers); s != "" {
			prs = s
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", mdSign(j.Action), name, j.Type, cell(j.Repo), cell(j.Branches), prs)
	}
	shown, n := 0, 0
	for _, j := range p.Jobs {
		if len(j.Fields) > 0 {
			n++
		}
	}
	if n == 0 {
		return
	}
	fmt.Fprintf(b, "\n<details><summary>Changed fields of %d %s</summary>\n\n", n, plural(n, "job", "jobs"))
	for _, j := range p.Jobs {
		if len(j.Fields) == 0 {
			continue
		}
		if shown == maxFieldJobs {
			fmt.Fprintf(b, "… and %d more jobs\n", n-shown)
			break
		}
		shown++
		fmt.Fprintf(b, "%s (%s %s)\n", code(j.Name), j.Type, escape(j.Repo))
		mdFields(b, "", j.Fields, maxFieldsShown)
		b.WriteString("\n")
	}
	b.WriteString("</details>\n")
}

func (p *Plan) mdPlugins(b *strings.Builder) {
	pc := p.Plugins
	if len(pc.Enabled) == 0 && len(pc.Settings) == 0 {
		return
	}
	b.WriteString("\n#### Plugins\n\n")
	for _, e := range pc.Enabled {
		fmt.Fprintf(b, "- %s: %s\n", code(e.Scope), strings.Join(enablementParts(e, code), "; "))
	}
	if len(pc.NotImplemented) > 0 {
		var names []string
		for _, n := range pc.NotImplemented {
			names = append(names, code(n))
		}
		fmt.Fprintf(b, "- :warning: not implemented by bowline, so enabling them does nothing: %s\n", strings.Join(names, ", "))
	}
	if len(pc.Settings) > 0 {
		b.WriteString("- settings:\n")
		mdFields(b, "  ", pc.Settings, len(pc.Settings))
	}
}

func (p *Plan) mdTide(b *strings.Builder) {
	t := p.Tide
	if len(t.Queries) == 0 {
		return
	}
	b.WriteString("\n#### Merge pool (Tide)\n\n")
	for _, q := range t.Queries {
		fmt.Fprintf(b, "- query %d %s (%s)\n", q.Index, q.Action, escape(q.Scope))
		mdFields(b, "  ", q.Fields, maxFieldsShown)
	}
	refs := func(list []PRRef, total int) string {
		var out []string
		for _, r := range list {
			s := fmt.Sprintf("%s#%d", r.Repo, r.Number)
			if r.URL != "" {
				s = fmt.Sprintf("[%s](%s)", s, r.URL)
			}
			out = append(out, s+" "+escape(r.Title))
		}
		return strings.Join(out, "; ") + more(total, len(list))
	}
	switch {
	case !t.Counted:
		b.WriteString("\nOpen pull requests were not counted.\n")
	case t.Entering+t.Leaving == 0:
		b.WriteString("\nNo open pull request enters or leaves the pool.\n")
	default:
		b.WriteString("\n")
		if t.Entering > 0 {
			fmt.Fprintf(b, "- entering the pool (%d): %s\n", t.Entering, refs(t.Enter, t.Entering))
		}
		if t.Leaving > 0 {
			fmt.Fprintf(b, "- leaving the pool (%d): %s\n", t.Leaving, refs(t.Leave, t.Leaving))
		}
	}
}

func (p *Plan) mdOrgs(b *strings.Builder) {
	if len(p.Orgs) == 0 {
		return
	}
	b.WriteString("\n#### Orgs\n")
	for _, o := range p.Orgs {
		fmt.Fprintf(b, "\n**%s**: %d to create, %d to update, %d to delete (%s)\n\n", escape(o.Org), o.Create, o.Update, o.Delete, escape(orgAgainst(o)))
		if len(o.Changes) > 0 {
			b.WriteString("```\n")
			for _, c := range o.Changes {
				b.WriteString(strings.ReplaceAll(c.Line, "```", "'''") + "\n")
			}
			b.WriteString("```\n")
		}
		for _, pr := range o.Problems {
			fmt.Fprintf(b, "- :x: %s\n", escape(pr))
		}
		for _, n := range append(o.Notes, orgStatus(o)...) {
			fmt.Fprintf(b, "- %s\n", escape(n))
		}
		if len(o.Violations) == 0 {
			fmt.Fprintf(b, "- :heavy_check_mark: %s\n", verdictText(o))
			continue
		}
		fmt.Fprintf(b, "- :warning: %s\n", verdictText(o))
		for _, v := range o.Violations {
			fmt.Fprintf(b, "  - %s\n", escape(v))
		}
	}
}

func (p *Plan) mdDeploy(b *strings.Builder) {
	d := p.Deploy
	if len(d.Files) == 0 && len(d.Settings) == 0 {
		return
	}
	fmt.Fprintf(b, "\n#### bowline's deployment\n\n%s\n", escape(deployText(d)))
	if len(d.Roles) > 0 {
		b.WriteString("\n")
		for _, r := range d.Roles {
			fmt.Fprintf(b, "- role %s\n", escape(deployRoleText(r)))
		}
	}
	if len(d.Settings) > 0 {
		b.WriteString("\n")
		mdFields(b, "", d.Settings, len(d.Settings))
	}
	for _, f := range d.Files {
		fmt.Fprintf(b, "\n<details><summary>%s %s</summary>\n\n```diff\n%s```\n</details>\n", escape(f.Path), f.Action,
			strings.ReplaceAll(f.Diff, "```", "'''"))
	}
}

func mdFields(b *strings.Builder, indent string, fields []FieldChange, limit int) {
	for i, f := range fields {
		if i == limit {
			fmt.Fprintf(b, "%s- … and %d more\n", indent, len(fields)-i)
			return
		}
		path, before, after := fieldLine(f)
		fmt.Fprintf(b, "%s- %s: %s → %s\n", indent, code(path), code(before), code(after))
	}
}

func mdSign(action string) string {
	switch action {
	case Added:
		return "added"
	case Removed:
		return "removed"
	}
	return "changed"
}

// code is s as an inline code span, whatever backticks it holds.
func code(s string) string {
	if s == "" {
		return ""
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + strings.ReplaceAll(s, "\n", " ") + pad + fence
}

// escape keeps text from being read as HTML, as a table's column
// separator, or as a mention that would notify someone (pull request
// titles and messages are other people's words).
var mdEscaper = strings.NewReplacer("<", "&lt;", ">", "&gt;", "|", `\|`, "\n", " ", "@", "&#64;")

func escape(s string) string { return mdEscaper.Replace(s) }

// cell is a table cell's text.
func cell(s string) string {
	if s == "" {
		return "—"
	}
	return escape(s)
}
