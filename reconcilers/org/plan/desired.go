package plan

import (
	"slices"
	"strings"
	"time"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/labels"
	"github.com/bowline-ci/bowline/schema/orgs"
	"github.com/bowline-ci/bowline/schema/prowconfig"
)

// Desired is what the configuration says about one org.
type Desired struct {
	// Org is the org's login.
	Org string
	// Config is the org's peribolos configuration; nil leaves settings,
	// members, teams, repositories and collaborators alone.
	Config *orgs.Org
	// BranchProtection is config.yaml's branch-protection section; nil
	// leaves branch protection alone.
	BranchProtection *prowconfig.BranchProtection
	// Presubmits are the org's presubmits by lower-cased repository name:
	// their required contexts are required by branch protection.
	Presubmits map[string][]jobs.Presubmit
	// Labels is labels.yaml; nil leaves labels alone.
	Labels *labels.Config
	// Options say how to apply it.
	Options Options
	// Now decides which labels' deleteAfter has passed.
	Now time.Time
}

// Options say what to manage and what is allowed; they come from the
// GitHubOrganization resource, not from the configuration.
type Options struct {
	// Unmanaged parts are left as they are, as peribolos leaves what its
	// --fix-… flags do not name.
	Unmanaged Parts
	// IgnoreSecretTeams leaves secret teams alone.
	IgnoreSecretTeams bool
	// IgnoreInvitees does not count pending invitations as members.
	IgnoreInvitees bool
	// AllowRepoArchival lets a repository be archived.
	AllowRepoArchival bool
	// AllowRepoPublish lets a private repository become public.
	AllowRepoPublish bool
	// DeleteUnlistedLabels deletes labels that labels.yaml does not list;
	// by default only labels past their deleteAfter are deleted.
	DeleteUnlistedLabels bool
}

// Manage says which parts the plan manages: those the configuration
// describes, less the unmanaged ones. Team members and team repositories
// need teams, as in peribolos.
func (d *Desired) Manage() Parts {
	u := d.Options.Unmanaged
	var m Parts
	if d.Config != nil {
		m.Settings = !u.Settings && d.Config.Metadata != (orgs.Metadata{})
		m.Members = !u.Members
		m.Teams = !u.Teams
		m.TeamMembers = m.Teams && !u.TeamMembers
		m.TeamRepos = m.Teams && !u.TeamRepos
		m.Repos = !u.Repos
		m.Collaborators = m.Repos && !u.Collaborators
	}
	m.BranchProtection = !u.BranchProtection && d.protectionApplies()
	m.Labels = !u.Labels && d.labelsApply()
	return m
}

func (d *Desired) protectionApplies() bool {
	bp := d.BranchProtection
	if bp == nil {
		return false
	}
	if _, ok := findKey(bp.Orgs, d.Org); ok {
		return true
	}
	return isTrue(bp.ProtectTested) && len(d.Presubmits) > 0
}

func (d *Desired) labelsApply() bool {
	l := d.Labels
	if l == nil {
		return false
	}
	if len(l.Default.Labels) > 0 {
		return true
	}
	if _, ok := findKey(l.Orgs, d.Org); ok {
		return true
	}
	for k := range l.Repos {
		if org, _, _ := strings.Cut(k, "/"); strings.EqualFold(org, d.Org) {
			return true
		}
	}
	return false
}

// labelsFor lists the labels a repository gets: the default ones, its
// org's and its own, with org and repository matched case-insensitively.
func (d *Desired) labelsFor(repo string) []labels.Label {
	l := d.Labels
	out := append([]labels.Label(nil), l.Default.Labels...)
	if k, ok := findKey(l.Orgs, d.Org); ok {
		out = append(out, l.Orgs[k].Labels...)
	}
	if k, ok := findKey(l.Repos, d.Org+"/"+repo); ok {
		out = append(out, l.Repos[k].Labels...)
	}
	return out
}

// DesiredFor picks what set says about org.
func DesiredFor(set *configset.Set, org string, opts Options, now time.Time) *Desired {
	d := &Desired{Org: org, Options: opts, Now: now, Presubmits: map[string][]jobs.Presubmit{}}
	if set == nil {
		return d
	}
	if set.Orgs != nil {
		if k, ok := findKey(set.Orgs.Orgs, org); ok {
			o := set.Orgs.Orgs[k]
			d.Config = &o
		}
	}
	if set.Config != nil {
		d.BranchProtection = &set.Config.BranchProtection
	}
	if set.Jobs != nil {
		for key, ps := range set.Jobs.Presubmits {
			if o, r, ok := strings.Cut(key, "/"); ok && strings.EqualFold(o, org) {
				d.Presubmits[lower(r)] = append(d.Presubmits[lower(r)], ps...)
			}
		}
	}
	d.Labels = set.Labels
	return d
}

// ManagedOrgs lists the orgs a configuration manages, sorted: those with
// an org config, those branch-protection names, those labels.yaml names;
// the orgs whose repositories have jobs too when branch protection protects
// tested repositories; and, when labels.yaml has default labels, every org
// the configuration works in (jobs and plugins), since label_sync gives the
// default labels to every repository it syncs.
func ManagedOrgs(set *configset.Set) []string {
	seen := map[string]string{}
	add := func(org string) {
		if org == "" {
			return
		}
		if _, ok := seen[lower(org)]; !ok {
			seen[lower(org)] = org
		}
	}
	if set == nil {
		return nil
	}
	if set.Orgs != nil {
		for org := range set.Orgs.Orgs {
			add(org)
		}
	}
	var jobOrgs []string
	if set.Jobs != nil {
		for key := range set.Jobs.Presubmits {
			jobOrgs = append(jobOrgs, orgOf(key))
		}
		for key := range set.Jobs.Postsubmits {
			jobOrgs = append(jobOrgs, orgOf(key))
		}
	}
	if set.Config != nil {
		bp := &set.Config.BranchProtection
		for org := range bp.Orgs {
			add(org)
		}
		if isTrue(bp.ProtectTested) && set.Jobs != nil {
			for key := range set.Jobs.Presubmits {
				add(orgOf(key))
			}
		}
	}
	if l := set.Labels; l != nil {
		for org := range l.Orgs {
			add(org)
		}
		for key := range l.Repos {
			add(orgOf(key))
		}
		if len(l.Default.Labels) > 0 {
			for _, org := range jobOrgs {
				add(org)
			}
			if set.Plugins != nil {
				for key := range set.Plugins.Plugins {
					add(orgOf(key))
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for _, org := range seen {
		out = append(out, org)
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(lower(a), lower(b)) })
	return out
}

func orgOf(key string) string {
	org, _, _ := strings.Cut(key, "/")
	return org
}

// findKey finds a map key equal to name but for case.
func findKey[V any](m map[string]V, name string) (string, bool) {
	if _, ok := m[name]; ok {
		return name, true
	}
	for k := range m {
		if strings.EqualFold(k, name) {
			return k, true
		}
	}
	return "", false
}

func isTrue(b *bool) bool { return b != nil && *b }
