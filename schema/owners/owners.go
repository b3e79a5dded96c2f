// Package owners reads OWNERS and OWNERS_ALIASES files: who reviews and
// approves changes under a directory, and named groups of users.
//
// Field names are Prow's because users' files use them.
package owners

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// File names, as Prow's defaults.
const (
	FileName        = "OWNERS"
	AliasesFileName = "OWNERS_ALIASES"
)

// Config is one OWNERS entry: who approves and reviews, required
// reviewers and labels.
type Config struct {
	Approvers         []string `json:"approvers,omitempty"`
	Reviewers         []string `json:"reviewers,omitempty"`
	RequiredReviewers []string `json:"required_reviewers,omitempty"`
	Labels            []string `json:"labels,omitempty"`
	// EmeritusApprovers and EmeritusReviewers are kept for the record only;
	// Prow ignores them and so does bowline.
	EmeritusApprovers []string `json:"emeritus_approvers,omitempty"`
	EmeritusReviewers []string `json:"emeritus_reviewers,omitempty"`
}

// Options change how a directory's OWNERS apply.
type Options struct {
	// NoParentOwners stops approvers and reviewers of parent directories
	// from applying here.
	NoParentOwners bool `json:"no_parent_owners,omitempty"`
	// AutoApproveUnownedSubfolders approves changes in subdirectories that
	// have no OWNERS of their own.
	AutoApproveUnownedSubfolders bool `json:"auto_approve_unowned_subfolders,omitempty"`
}

// File is an OWNERS file: either the simple form (a Config at the top) or
// the full form with filters keyed by regular expressions over paths
// relative to the directory.
type File struct {
	Config  `json:",inline"`
	Options Options           `json:"options,omitempty"`
	Filters map[string]Config `json:"filters,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// Aliases is an OWNERS_ALIASES file.
type Aliases struct {
	Aliases map[string][]string `json:"aliases,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// Prow reads OWNERS files without checking field names: an unknown field
// is ignored (with a warning here).
func (File) LenientFields()    {}
func (Config) LenientFields()  {}
func (Options) LenientFields() {}
func (Aliases) LenientFields() {}

// simple reports whether the file uses the simple form: Prow then ignores
// its filters.
func (f *File) simple() bool {
	return len(f.Approvers) > 0 || len(f.Reviewers) > 0 || len(f.RequiredReviewers) > 0 || len(f.Labels) > 0
}

// Validate checks an OWNERS file the way Prow reads it, which refuses
// nothing but YAML it cannot parse: mixing the simple and the full form
// (the filters are then ignored), a filter key that is not a regular
// expression (the filter is ignored) and a user listed twice are warnings.
func (f *File) Validate(errs *yamlpos.Errors) {
	if f.simple() && len(f.Filters) > 0 {
		errs.WarnAt(f.Pos, yamlpos.Path("").Name("filters"), "ignored-value", "filters are ignored: approvers, reviewers or labels at the top win, as in Prow; use one form or the other")
	}
	check := func(where string, at yamlpos.Path, c Config) {
		for _, l := range []struct {
			name  string
			users []string
		}{{"approvers", c.Approvers}, {"reviewers", c.Reviewers}, {"required_reviewers", c.RequiredReviewers}} {
			seen := map[string]bool{}
			for i, u := range l.users {
				if seen[strings.ToLower(u)] {
					errs.WarnAt(f.Pos, at.Key(l.name).Index(i), "duplicate-value", "%s%s: %s is listed twice", where, l.name, u)
				}
				seen[strings.ToLower(u)] = true
			}
		}
	}
	check("", "", f.Config)
	keys := make([]string, 0, len(f.Filters))
	for k := range f.Filters {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if _, err := regexp.Compile(k); err != nil {
			errs.WarnAt(f.Pos, yamlpos.At("filters").Name(k), "bad-pattern", "filters: %q is not a regular expression, so the filter is ignored: %v", k, err)
		}
		check(fmt.Sprintf("filters[%q].", k), yamlpos.At("filters", k), f.Filters[k])
	}
}

// Expand replaces alias names in a list by their members, lower-cases every
// login and drops duplicates, as Prow does.
func (a *Aliases) Expand(users []string) []string {
	var out []string
	for _, u := range users {
		if members, ok := a.lookup(u); ok {
			for _, m := range members {
				out = append(out, strings.ToLower(m))
			}
			continue
		}
		out = append(out, strings.ToLower(u))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (a *Aliases) lookup(name string) ([]string, bool) {
	if a == nil {
		return nil, false
	}
	m, ok := a.Aliases[name]
	return m, ok
}

// Set holds every OWNERS and OWNERS_ALIASES file of a tree, keyed by
// directory ("." for the root), with forward slashes.
type Set struct {
	Files   map[string]*File
	Aliases map[string]*Aliases
}

// ApproversOf lists the approvers of a path: those of the closest OWNERS
// and of every OWNERS above it, up to one with no_parent_owners. Aliases
// of the tree root are expanded.
func (s *Set) ApproversOf(path string) []string {
	return s.collect(path, func(c Config) []string { return c.Approvers })
}

// ReviewersOf lists the reviewers of a path, like ApproversOf.
func (s *Set) ReviewersOf(path string) []string {
	return s.collect(path, func(c Config) []string { return c.Reviewers })
}

func (s *Set) collect(p string, pick func(Config) []string) []string {
	var users []string
	aliases := s.Aliases["."]
	for dir := parentDir(p); ; dir = parentDir(dir) {
		if f, ok := s.Files[dir]; ok {
			users = append(users, pick(f.Config)...)
			rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
			for k, c := range f.Filters {
				if f.simple() {
					break
				}
				if re, err := regexp.Compile(k); err == nil && re.MatchString(rel) {
					users = append(users, pick(c)...)
				}
			}
			if f.Options.NoParentOwners {
				break
			}
		}
		if dir == "." {
			break
		}
	}
	return aliases.Expand(users)
}

func parentDir(p string) string {
	i := strings.LastIndex(p, "/")
	if i < 0 {
		return "."
	}
	return p[:i]
}
