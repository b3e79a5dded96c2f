package configset

import (
	"path"
	"reflect"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/orgs"
	"github.com/bowline-ci/bowline/schema/owners"
	"github.com/bowline-ci/bowline/schema/plugins"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// mergeJobs adds the jobs and presets of every job config file, in file
// order, to dst.
func (l *loader) mergeJobs(dst *jobs.Config, files []*task) {
	for _, t := range files {
		c := t.out.(*jobs.Config)
		if c.DecorateAllJobs {
			l.errs.Add(l.display(t.path), 0, 0, "decorate_all_jobs may only be set in config.yaml")
		}
		dst.Presets = append(dst.Presets, c.Presets...)
		if len(c.Presubmits) > 0 && dst.Presubmits == nil {
			dst.Presubmits = map[string][]jobs.Presubmit{}
		}
		for repo, list := range c.Presubmits {
			dst.Presubmits[repo] = append(dst.Presubmits[repo], list...)
		}
		if len(c.Postsubmits) > 0 && dst.Postsubmits == nil {
			dst.Postsubmits = map[string][]jobs.Postsubmit{}
		}
		for repo, list := range c.Postsubmits {
			dst.Postsubmits[repo] = append(dst.Postsubmits[repo], list...)
		}
		dst.Periodics = append(dst.Periodics, c.Periodics...)
	}
}

// mergeSupplementalProw merges *_prowconfig.yaml files: they may add
// branch protection for orgs and repos, merge pool queries and settings,
// and Slack reporter configs, but not override what config.yaml sets.
func (l *loader) mergeSupplementalProw(dst *prowconfig.Config, files []*task) {
	for _, t := range files {
		c := t.out.(*prowconfig.Config)
		name := l.display(t.path)
		rest := *c
		rest.BranchProtection, rest.Tide, rest.SlackReporterConfigs, rest.Pos = prowconfig.BranchProtection{}, prowconfig.Tide{}, nil, yamlpos.Pos{}
		if !reflect.ValueOf(rest).IsZero() {
			l.errs.Add(name, 0, 0, "a supplemental config may only set branch-protection, tide and slack_reporter_configs")
		}
		// Of tide, only what is merged below; the rest would be dropped.
		tide := c.Tide
		tide.Queries, tide.MergeType, tide.MergeTemplate, tide.ContextOptions.Orgs, tide.Pos = nil, nil, nil, nil, yamlpos.Pos{}
		if !reflect.ValueOf(tide).IsZero() {
			l.errs.AddPos(c.Tide.Pos, "tide: a supplemental config may only set queries, merge_method, merge_commit_template and context_options.orgs")
		}
		bp := &dst.BranchProtection
		if !policyIsZero(c.BranchProtection.Policy) {
			l.errs.Add(name, 0, 0, "branch-protection: a supplemental config may only add orgs, not top-level settings")
		}
		for org, o := range c.BranchProtection.Orgs {
			if bp.Orgs == nil {
				bp.Orgs = map[string]prowconfig.Org{}
			}
			existing, ok := bp.Orgs[org]
			if !ok {
				bp.Orgs[org] = o
				continue
			}
			if !policyIsZero(o.Policy) {
				l.errs.AddPos(o.Pos, "branch-protection: org %s is already configured", org)
			}
			for repo, r := range o.Repos {
				if _, dup := existing.Repos[repo]; dup {
					l.errs.AddPos(r.Pos, "branch-protection: repo %s/%s is already configured", org, repo)
					continue
				}
				if existing.Repos == nil {
					existing.Repos = map[string]prowconfig.Repo{}
				}
				existing.Repos[repo] = r
			}
			bp.Orgs[org] = existing
		}
		td := &dst.Tide
		td.Queries = append(td.Queries, c.Tide.Queries...)
		mergeMap(&td.MergeType, c.Tide.MergeType, func(k string) { l.errs.AddPos(c.Tide.Pos, "tide.merge_method[%s] is already set", k) })
		mergeMap(&td.MergeTemplate, c.Tide.MergeTemplate, func(k string) { l.errs.AddPos(c.Tide.Pos, "tide.merge_commit_template[%s] is already set", k) })
		for org, p := range c.Tide.ContextOptions.Orgs {
			if td.ContextOptions.Orgs == nil {
				td.ContextOptions.Orgs = map[string]prowconfig.TideOrgContextPolicy{}
			}
			if _, dup := td.ContextOptions.Orgs[org]; dup {
				l.errs.AddPos(c.Tide.Pos, "tide.context_options.orgs[%s] is already set", org)
				continue
			}
			td.ContextOptions.Orgs[org] = p
		}
		mergeMap(&dst.SlackReporterConfigs, c.SlackReporterConfigs, func(k string) {
			l.errs.Add(name, 0, 0, "slack_reporter_configs[%s] is already set", k)
		})
	}
}

// policyIsZero reports whether a policy sets nothing (its position aside).
func policyIsZero(p prowconfig.Policy) bool {
	p.Pos = yamlpos.Pos{}
	return reflect.ValueOf(p).IsZero()
}

func mergeMap[M ~map[string]V, V any](dst *M, src M, dup func(string)) {
	for _, k := range sortedKeys(src) {
		if *dst == nil {
			*dst = M{}
		}
		if _, ok := (*dst)[k]; ok {
			dup(k)
			continue
		}
		(*dst)[k] = src[k]
	}
}

// mergeSupplementalPlugins merges *_pluginconfig.yaml files as Prow does:
// they may enable plugins and external plugins for orgs and repos not
// configured yet, add per-repo approve, lgtm, trigger and welcome settings,
// restricted labels, and Bugzilla settings for orgs and repos not
// configured yet.
func (l *loader) mergeSupplementalPlugins(dst *plugins.Config, files []*task) {
	for _, t := range files {
		c := t.out.(*plugins.Config)
		name := l.display(t.path)
		c.SetFile(name)
		rest := *c
		rest.Plugins, rest.ExternalPlugins, rest.Approve, rest.Lgtm, rest.Triggers, rest.Welcome = nil, nil, nil, nil, nil, nil
		rest.Bugzilla, rest.Label.RestrictedLabels = plugins.Bugzilla{}, nil
		rest.Pos = yamlpos.Pos{}
		if !reflect.ValueOf(rest).IsZero() {
			l.errs.Add(name, 0, 0, "a supplemental plugin config may only set plugins, external_plugins, approve, lgtm, triggers, welcome, bugzilla and label.restricted_labels")
		}
		mergeMap(&dst.Plugins, c.Plugins, func(k string) {
			l.errs.Add(name, c.Plugins[k].Pos.Line, c.Plugins[k].Pos.Column, "plugins[%s] is already set", k)
		})
		mergeMap(&dst.ExternalPlugins, c.ExternalPlugins, func(k string) { l.errs.Add(name, 0, 0, "external_plugins[%s] is already set", k) })
		dst.Approve = append(dst.Approve, c.Approve...)
		dst.Lgtm = append(dst.Lgtm, c.Lgtm...)
		dst.Triggers = append(dst.Triggers, c.Triggers...)
		dst.Welcome = append(dst.Welcome, c.Welcome...)
		for _, k := range sortedKeys(c.Label.RestrictedLabels) {
			for _, rl := range c.Label.RestrictedLabels[k] {
				if slices.ContainsFunc(dst.Label.RestrictedLabels[k], func(o plugins.RestrictedLabel) bool { return o.Label == rl.Label }) {
					l.errs.Add(name, 0, 0, "label.restricted_labels[%s]: label %s is already restricted", k, rl.Label)
				}
			}
			if dst.Label.RestrictedLabels == nil {
				dst.Label.RestrictedLabels = map[string][]plugins.RestrictedLabel{}
			}
			dst.Label.RestrictedLabels[k] = append(dst.Label.RestrictedLabels[k], c.Label.RestrictedLabels[k]...)
		}
		l.mergeBugzilla(name, &dst.Bugzilla, &c.Bugzilla)
	}
}

// mergeBugzilla adds a supplemental file's Bugzilla settings: the global
// default once, an org's default once, and repositories not set yet.
func (l *loader) mergeBugzilla(name string, dst, src *plugins.Bugzilla) {
	if src.Default != nil {
		if dst.Default != nil {
			l.errs.Add(name, 0, 0, "bugzilla.default is already set")
		} else {
			dst.Default = src.Default
		}
	}
	for _, org := range sortedKeys(src.Orgs) {
		o := src.Orgs[org]
		if dst.Orgs == nil {
			dst.Orgs = map[string]plugins.BugzillaOrgOptions{}
		}
		have := dst.Orgs[org]
		if o.Default != nil {
			if have.Default != nil {
				l.errs.Add(name, 0, 0, "bugzilla.orgs[%s].default is already set", org)
			} else {
				have.Default = o.Default
			}
		}
		mergeMap(&have.Repos, o.Repos, func(r string) { l.errs.Add(name, 0, 0, "bugzilla.orgs[%s].repos[%s] is already set", org, r) })
		dst.Orgs[org] = have
	}
}

func (l *loader) mergeOrgs(files []*task) *orgs.Config {
	parts := make([]orgs.Part, 0, len(files))
	for _, t := range files {
		p := orgs.Part{Path: l.display(t.path), Kind: orgs.KindOf(t.path)}
		switch out := t.out.(type) {
		case *orgs.Config:
			p.Full = out
		case *orgs.Org:
			p.Org = out
		case *orgs.TeamsFile:
			p.Teams = out
		}
		parts = append(parts, p)
	}
	return orgs.Merge(parts, &l.errs)
}

func (l *loader) ownersSet(root string, files []*task) *owners.Set {
	s := &owners.Set{Files: map[string]*owners.File{}, Aliases: map[string]*owners.Aliases{}}
	for _, t := range files {
		dir := strings.TrimPrefix(strings.TrimPrefix(path.Dir(t.path), root), "/")
		if dir == "" {
			dir = "."
		}
		switch out := t.out.(type) {
		case *owners.File:
			s.Files[dir] = out
		case *owners.Aliases:
			s.Aliases[dir] = out
		}
	}
	return s
}
