// Package labels holds label_sync's labels.yaml: the labels every
// repository gets, those of some orgs and repositories, and label renames,
// with label_sync's checks.
//
// Field names are label_sync's (camelCase) because users' files use them.
package labels

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// Config is labels.yaml.
type Config struct {
	// Default labels go to every repository.
	Default RepoConfig `json:"default"`
	// Orgs add labels to every repository of an org.
	Orgs map[string]RepoConfig `json:"orgs,omitempty"`
	// Repos add labels to one "org/repo".
	Repos map[string]RepoConfig `json:"repos,omitempty"`

	// Pos is the start of the file.
	Pos yamlpos.Pos `json:"-"`
}

// RepoConfig is a list of labels.
type RepoConfig struct {
	Labels []Label `json:"labels"`
}

// Label is one label.
type Label struct {
	Name        string `json:"name"`
	Color       string `json:"color"`
	Description string `json:"description,omitempty"`
	// Target is prs, issues or both (the default).
	Target string `json:"target,omitempty"`
	// ProwPlugin names the plugin that applies it, for documentation.
	ProwPlugin string `json:"prowPlugin,omitempty"`
	// IsExternalPlugin says ProwPlugin is an external plugin.
	IsExternalPlugin bool `json:"isExternalPlugin,omitempty"`
	// AddedBy says who applies it, for documentation.
	AddedBy string `json:"addedBy,omitempty"`
	// Previously are older names, migrated to this one.
	Previously []Label `json:"previously,omitempty"`
	// DeleteAfter is an RFC 3339 time after which the label is deleted.
	DeleteAfter *time.Time `json:"deleteAfter,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// Targets of a label.
const (
	TargetBoth   = "both"
	TargetPRs    = "prs"
	TargetIssues = "issues"
)

var colorRe = regexp.MustCompile(`^[0-9a-fA-F]{6}$`)

// maxDescription is GitHub's limit on a label's description, which
// label_sync enforces when it loads the file.
const maxDescription = 100

// SetDefaults sets the target of labels that name none to both.
func (c *Config) SetDefaults() {
	def := func(list []Label) {
		for i := range list {
			if list[i].Target == "" {
				list[i].Target = TargetBoth
			}
		}
	}
	def(c.Default.Labels)
	for _, r := range c.Orgs {
		def(r.Labels)
	}
	for _, r := range c.Repos {
		def(r.Labels)
	}
}

// Validate runs label_sync's checks: no name (current or previous) appears
// twice in what one repository would get, and descriptions fit GitHub's
// limit. Names compare case-insensitively, as on GitHub. What label_sync
// loads but GitHub or nothing uses (a color other than six hex digits, an
// unknown target, a label without a name, a repos key that is not
// org/repo) is a warning.
func (c *Config) Validate(errs *yamlpos.Errors) {
	base := c.check("default", nil, c.Default.Labels, errs)
	orgSeen := map[string]map[string]string{}
	for _, org := range sortedKeys(c.Orgs) {
		orgSeen[org] = c.check("orgs."+org, base, c.Orgs[org].Labels, errs)
	}
	for _, repo := range sortedKeys(c.Repos) {
		parent := base
		if org, _, ok := strings.Cut(repo, "/"); ok {
			if s, ok := orgSeen[org]; ok {
				parent = s
			}
		} else {
			errs.WarnAt(c.Pos, yamlpos.At("repos").Name(repo), "unknown-value", "repos: %q is not org/repo, so no repository gets its labels", repo)
		}
		c.check("repos."+repo, parent, c.Repos[repo].Labels, errs)
	}
}

// check validates one list against the names already taken by the lists it
// adds to, and returns the names taken after it. Current names must be
// unique; a previous name may be shared by labels that were merged, but
// must not be a current name.
func (c *Config) check(where string, taken map[string]string, list []Label, errs *yamlpos.Errors) map[string]string {
	seen := make(map[string]string, len(taken)+len(list))
	for k, v := range taken {
		seen[k] = v
	}
	var visit func(l Label, current bool)
	visit = func(l Label, current bool) {
		if l.Name == "" {
			errs.WarnAt(l.Pos, yamlpos.At("name"), "missing-value", "%s: a label without a name; GitHub will refuse it", where)
		}
		if current || l.Color != "" {
			if !colorRe.MatchString(l.Color) {
				errs.WarnAt(l.Pos, yamlpos.At("color"), "unknown-value", "%s: label %q: color should be six hex digits, not %q; GitHub will refuse it", where, l.Name, l.Color)
			}
		}
		if len(l.Description) > maxDescription {
			errs.AddAt(l.Pos, yamlpos.At("description"), "%s: label %q: description is longer than %d characters", where, l.Name, maxDescription)
		}
		if l.Target != "" && !slices.Contains([]string{TargetBoth, TargetPRs, TargetIssues}, l.Target) {
			errs.WarnAt(l.Pos, yamlpos.At("target"), "unknown-value", "%s: label %q: target should be prs, issues or both, not %q", where, l.Name, l.Target)
		}
		for _, p := range l.Previously {
			visit(p, false)
		}
		if !current || l.Name == "" {
			return
		}
		key := strings.ToLower(l.Name)
		if prev, dup := seen[key]; dup {
			errs.AddAt(l.Pos, yamlpos.At("name"), "%s: label %q is already defined (%s)", where, l.Name, prev)
		}
		seen[key] = where + " at " + l.Pos.String()
	}
	for _, l := range list {
		visit(l, true)
	}
	var previous func(l Label)
	previous = func(l Label) {
		for _, p := range l.Previously {
			if cur, clash := seen[strings.ToLower(p.Name)]; clash {
				errs.AddAt(p.Pos, yamlpos.At("name"), "%s: previous name %q is a current label (%s)", where, p.Name, cur)
			}
			previous(p)
		}
	}
	for _, l := range list {
		previous(l)
	}
	return seen
}

// LabelsFor lists the labels a repository gets: default, its org's and its
// own.
func (c *Config) LabelsFor(org, repo string) []Label {
	out := append([]Label(nil), c.Default.Labels...)
	out = append(out, c.Orgs[org].Labels...)
	return append(out, c.Repos[org+"/"+repo].Labels...)
}

// Count is the number of label entries, counting renamed ones.
func (c *Config) Count() int {
	n := 0
	var count func([]Label)
	count = func(l []Label) {
		for _, x := range l {
			n++
			count(x.Previously)
		}
	}
	count(c.Default.Labels)
	for _, r := range c.Orgs {
		count(r.Labels)
	}
	for _, r := range c.Repos {
		count(r.Labels)
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
