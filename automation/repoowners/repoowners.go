// Package repoowners resolves who owns the files of a repository from its
// OWNERS files, with Prow's semantics (Prow's pkg/repoowners):
//
//   - OWNERS files (the name is configurable per org or repository) list
//     approvers, reviewers, required_reviewers and labels for their
//     directory, either at the top or under filters keyed by regular
//     expressions over paths relative to the directory (".*" is the whole
//     directory); options.no_parent_owners stops the owners of parent
//     directories from applying, options.auto_approve_unowned_subfolders
//     approves changes in subdirectories without OWNERS of their own.
//   - OWNERS_ALIASES at the repository root names groups of logins that
//     OWNERS files may use instead of logins. Logins are compared in lower
//     case, without a leading @.
//   - The approvers of a file are those of the closest OWNERS with approvers
//     and of every OWNERS above it, up to one with no_parent_owners; the
//     "leaf" approvers only those of the closest. Reviewers likewise.
//   - Unless the repository is in owners.skip_collaborators, approvers and
//     reviewers who are not collaborators of the repository do not count.
//   - Directories matching config.yaml's owners_dir_denylist (and, unless
//     told otherwise, .git, _output and vendor/*/*) are not searched.
//   - For repositories in owners.mdyamlrepos, a YAML header at the top of a
//     Markdown file acts as an OWNERS file for that file alone.
//
// Files are read through GitHub's git trees and blobs API at the head of
// the base branch, with the ETag-caching client; what is read is cached by
// commit and blob SHA, so a new commit on the base branch costs one tree
// listing plus the OWNERS files that changed.
package repoowners

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/owners"
)

// Filenames name the OWNERS files of a repository.
type Filenames struct {
	Owners        string
	OwnersAliases string
}

// DefaultFilenames are Prow's.
var DefaultFilenames = Filenames{Owners: owners.FileName, OwnersAliases: owners.AliasesFileName}

// entry is one OWNERS section of a directory: logins (or labels) that
// apply to the paths re matches, or to every path when re is nil.
type entry struct {
	re     *regexp.Regexp
	values []string
}

type entries map[string][]entry

// Owners is the resolved OWNERS of one revision of a repository. It is
// read-only and safe for concurrent use. Directories are named by their
// path with "" for the root, as GitHub names paths.
type Owners struct {
	// approvers include the advisory approvers, who are also kept apart.
	approvers, advisoryApprovers, reviewers, requiredReviewers, labels entries

	options   map[string]owners.Options
	aliases   map[string][]string
	filenames Filenames
	mdYAML    bool
	// sha is the commit the files were read at.
	sha string
}

// SHA is the commit the OWNERS files were read at.
func (o *Owners) SHA() string { return o.sha }

// Filenames are the names of the OWNERS files.
func (o *Owners) Filenames() Filenames { return o.filenames }

// canonical names a directory as Owners does: "" for the root, no trailing
// slash.
func canonical(p string) string {
	if p == "." || p == "/" {
		return ""
	}
	return strings.TrimSuffix(p, "/")
}

func dirOf(p string) string { return canonical(path.Dir(p)) }

// relative is p relative to directory d.
func relative(d, p string) string {
	if d == "" {
		return p
	}
	if d == p {
		return "."
	}
	return strings.TrimPrefix(p, d+"/")
}

// findOwnersFor returns the closest directory to p (p itself, for a
// Markdown file with a header) whose section in m lists someone for p; ""
// (the root) when none does.
func findOwnersFor(p string, m entries) string {
	for d := p; d != ""; d = dirOf(d) {
		rel := relative(d, p)
		for _, e := range m[d] {
			if e.re != nil && !e.re.MatchString(rel) {
				continue
			}
			if len(e.values) > 0 {
				return d
			}
		}
	}
	return ""
}

// entriesFor collects what m says about p, walking up from p's directory
// (from p itself for Markdown files with headers) to the root, stopping
// above a directory with no_parent_owners once something was found, or
// after the first find when leafOnly.
func (o *Owners) entriesFor(p string, m entries, leafOnly bool) *Layers {
	d := p
	if !o.mdYAML || !strings.HasSuffix(p, ".md") {
		d = canonical(d)
	}
	out := &Layers{}
	for layer := 0; ; layer++ {
		rel := relative(d, p)
		for _, e := range m[d] {
			if e.re == nil || e.re.MatchString(rel) {
				out.insert(layer, e.values...)
			}
		}
		if leafOnly && out.Len() > 0 {
			break
		}
		if d == "" {
			break
		}
		if o.options[d].NoParentOwners && out.Len() > 0 {
			break
		}
		d = dirOf(d)
	}
	return out
}

// FindApproverOwnersForFile returns the directory of the closest OWNERS
// with approvers for p.
func (o *Owners) FindApproverOwnersForFile(p string) string { return findOwnersFor(p, o.approvers) }

// FindReviewersOwnersForFile returns the directory of the closest OWNERS
// with reviewers for p.
func (o *Owners) FindReviewersOwnersForFile(p string) string { return findOwnersFor(p, o.reviewers) }

// FindLabelsForFile returns the labels of every OWNERS that applies to p,
// sorted.
func (o *Owners) FindLabelsForFile(p string) []string { return o.entriesFor(p, o.labels, false).Set() }

// IsNoParentOwners reports whether the OWNERS of directory d sets
// no_parent_owners.
func (o *Owners) IsNoParentOwners(d string) bool { return o.options[d].NoParentOwners }

// IsAutoApproveUnownedSubfolders reports whether the OWNERS of directory d
// sets auto_approve_unowned_subfolders.
func (o *Owners) IsAutoApproveUnownedSubfolders(d string) bool {
	return o.options[d].AutoApproveUnownedSubfolders
}

// Approvers returns every approver of p, by layer.
func (o *Owners) Approvers(p string) *Layers { return o.entriesFor(p, o.approvers, false) }

// LeafApprovers returns the approvers of the closest OWNERS with approvers
// for p, sorted, without its advisory approvers.
func (o *Owners) LeafApprovers(p string) []string {
	advisory := o.entriesFor(p, o.advisoryApprovers, true).Set()
	return slices.DeleteFunc(o.entriesFor(p, o.approvers, true).Set(), func(s string) bool { return slices.Contains(advisory, s) })
}

// AdvisoryApprovers returns the advisory approvers of every OWNERS that
// applies to p, sorted: they may approve but are not suggested.
func (o *Owners) AdvisoryApprovers(p string) []string {
	return o.entriesFor(p, o.advisoryApprovers, false).Set()
}

// Reviewers returns every reviewer of p, by layer.
func (o *Owners) Reviewers(p string) *Layers { return o.entriesFor(p, o.reviewers, false) }

// LeafReviewers returns the reviewers of the closest OWNERS with reviewers
// for p, sorted.
func (o *Owners) LeafReviewers(p string) []string { return o.entriesFor(p, o.reviewers, true).Set() }

// RequiredReviewers returns the required reviewers of every OWNERS that
// applies to p, sorted.
func (o *Owners) RequiredReviewers(p string) []string {
	return o.entriesFor(p, o.requiredReviewers, false).Set()
}

// TopLevelApprovers returns the approvers of the root OWNERS, sorted.
func (o *Owners) TopLevelApprovers() []string { return o.entriesFor(".", o.approvers, true).Set() }

// AllApprovers returns everyone who approves anything, sorted.
func (o *Owners) AllApprovers() []string { return all(o.approvers) }

// AllReviewers returns everyone who reviews anything, sorted.
func (o *Owners) AllReviewers() []string { return all(o.reviewers) }

func all(m entries) []string {
	var out []string
	for _, list := range m {
		for _, e := range list {
			out = append(out, e.values...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ExpandAlias returns the members of an alias of OWNERS_ALIASES, or nil.
func (o *Owners) ExpandAlias(alias string) []string { return slices.Clone(o.aliases[NormLogin(alias)]) }

// IsAlias reports whether name is an alias of OWNERS_ALIASES.
func (o *Owners) IsAlias(name string) bool {
	_, ok := o.aliases[NormLogin(name)]
	return ok
}

// NormLogin is how logins are compared: lower case, without spaces or a
// leading @.
func NormLogin(login string) string {
	return strings.TrimPrefix(strings.ToLower(strings.TrimSpace(login)), "@")
}

// filterCollaborators returns a copy whose approvers and reviewers are
// only those in collaborators (normalized logins).
func (o *Owners) filterCollaborators(collaborators map[string]bool) *Owners {
	keep := func(m entries) entries {
		out := make(entries, len(m))
		for d, list := range m {
			nl := make([]entry, len(list))
			for i, e := range list {
				nl[i] = entry{re: e.re, values: slices.DeleteFunc(slices.Clone(e.values), func(s string) bool { return !collaborators[s] })}
			}
			out[d] = nl
		}
		return out
	}
	c := *o
	c.approvers, c.advisoryApprovers, c.reviewers = keep(o.approvers), keep(o.advisoryApprovers), keep(o.reviewers)
	return &c
}
