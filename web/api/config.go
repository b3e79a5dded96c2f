package api

import (
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Config is what the API reads from the applied configuration.
type Config struct {
	// Namespace is config.yaml's prowjob_namespace: only its runs are
	// served, as Deck serves only its ProwJob namespace. Empty serves every
	// namespace.
	Namespace string
	// HiddenRepos are deck.hidden_repos, "org" or "org/repo": their runs
	// are never listed or served.
	HiddenRepos []string
	// RerunAuth is who may rerun which jobs: deck.rerun_auth_configs and
	// deck.default_rerun_auth_configs.
	RerunAuth []RerunAuthEntry
}

// RerunAuthEntry says who may rerun the runs of matching repositories and
// clusters (Prow's default_rerun_auth_configs entry).
type RerunAuthEntry struct {
	// OrgRepo is "org", "org/repo", or "" or "*" for every repository.
	OrgRepo string
	// Cluster is a build cluster alias, or "" or "*" for every cluster.
	Cluster string
	Auth    v1alpha1.RerunAuthConfig
}

// ConfigFrom reads the API's settings from a loaded configuration; nil (no
// configuration yet) serves nothing but the runs of namespace, and allows
// no rerun.
func ConfigFrom(set *configset.Set, namespace string) Config {
	c := Config{Namespace: namespace}
	if set == nil || set.Config == nil {
		return c
	}
	if ns := set.Config.ProwJobNamespace; ns != "" {
		c.Namespace = ns
	}
	d := set.Config.Deck
	c.HiddenRepos = d.HiddenRepos
	c.RerunAuth = rerunEntries(d)
	return c
}

// rerunEntries turns deck's two forms into one list, in the order Prow
// applies them: the map's "*" first, then orgs, then repos, then the
// default_rerun_auth_configs entries; the last entry that matches a run
// wins.
func rerunEntries(d prowconfig.Deck) []RerunAuthEntry {
	var out []RerunAuthEntry
	keys := make([]string, 0, len(d.RerunAuthConfigs))
	for k := range d.RerunAuthConfigs {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		switch {
		case k == "*" || k == "":
			return 0
		case !strings.Contains(k, "/"):
			return 1
		}
		return 2
	}
	slices.SortFunc(keys, func(a, b string) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	for _, k := range keys {
		out = append(out, RerunAuthEntry{OrgRepo: k, Auth: rerunAuthFrom(d.RerunAuthConfigs[k])})
	}
	for _, e := range d.DefaultRerunAuthConfigs {
		if e.RerunAuthConfig != nil {
			out = append(out, RerunAuthEntry{OrgRepo: e.OrgRepo, Cluster: e.Cluster, Auth: rerunAuthFrom(*e.RerunAuthConfig)})
		}
	}
	return out
}

func rerunAuthFrom(ra jobs.RerunAuthConfig) v1alpha1.RerunAuthConfig {
	out := v1alpha1.RerunAuthConfig{GitHubUsers: ra.GitHubUsers, GitHubOrgs: ra.GitHubOrgs}
	if ra.AllowAnyone {
		out.AllowAnyone = &ra.AllowAnyone
	}
	for _, id := range ra.GitHubTeamIDs {
		out.GitHubTeamIDs = append(out.GitHubTeamIDs, int64(id))
	}
	for _, t := range ra.GitHubTeamSlugs {
		out.GitHubTeamSlugs = append(out.GitHubTeamSlugs, v1alpha1.TeamSlug{Org: t.Org, Slug: t.Slug})
	}
	return out
}

// repoOf is the repository a run is about: its refs, or its first extra
// ref (a periodic's).
func repoOf(pj *v1alpha1.ProwJob) (org, repo string) {
	if r := pj.Spec.Refs; r != nil {
		return r.Org, r.Repo
	}
	if len(pj.Spec.ExtraRefs) > 0 {
		return pj.Spec.ExtraRefs[0].Org, pj.Spec.ExtraRefs[0].Repo
	}
	return "", ""
}

// hidden reports whether a run is never shown: its job is hidden, or a
// repository it tests (refs or any extra ref) is in deck.hidden_repos.
func (c Config) hidden(pj *v1alpha1.ProwJob) bool {
	if pj.Spec.Hidden {
		return true
	}
	if len(c.HiddenRepos) == 0 {
		return false
	}
	refs := slices.Clone(pj.Spec.ExtraRefs)
	if pj.Spec.Refs != nil {
		refs = append(refs, *pj.Spec.Refs)
	}
	for _, r := range refs {
		for _, h := range c.HiddenRepos {
			if strings.EqualFold(h, r.Org) || strings.EqualFold(h, r.Org+"/"+r.Repo) {
				return true
			}
		}
	}
	return false
}

// rerunAuth is the deck-level rerun setting for a run: the last entry that
// matches its repository and cluster.
func (c Config) rerunAuth(pj *v1alpha1.ProwJob) v1alpha1.RerunAuthConfig {
	org, repo := repoOf(pj)
	var out v1alpha1.RerunAuthConfig
	for _, e := range c.RerunAuth {
		if matchesRepo(e.OrgRepo, org, repo) && (e.Cluster == "" || e.Cluster == "*" || e.Cluster == pj.Spec.Cluster) {
			out = e.Auth
		}
	}
	return out
}

func matchesRepo(key, org, repo string) bool {
	switch {
	case key == "" || key == "*":
		return true
	case strings.Contains(key, "/"):
		return strings.EqualFold(key, org+"/"+repo)
	}
	return strings.EqualFold(key, org)
}
