package automation

import (
	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/schema/plugins"
	"github.com/bowline-ci/bowline/schema/snapshot"
)

// SnapshotSource gives the applied config revision; a *snapshot.Store is
// one.
type SnapshotSource interface {
	Current() *snapshot.Snapshot
}

// PluginsFromSnapshot reads plugin enablement from plugins.yaml of the
// applied revision, at every event, so that a newly applied revision
// enables or disables plugins without a restart.
func PluginsFromSnapshot(src SnapshotSource) plugin.EnablementSource {
	return snapshotEnablement{src}
}

type snapshotEnablement struct{ src SnapshotSource }

func (s snapshotEnablement) Enablement() plugin.Enablement {
	snap := s.src.Current()
	if snap == nil || snap.Config == nil || snap.Config.Plugins == nil {
		return nil
	}
	return pluginsYAML{snap.Config.Plugins}
}

type pluginsYAML struct{ c *plugins.Config }

func (p pluginsYAML) EnabledPlugins(org, repo string) []string { return p.c.EnabledFor(org, repo) }

// EnabledRepos lists plugins.yaml's plugins section for /plugin-help.
func (p pluginsYAML) EnabledRepos() map[string][]string {
	out := map[string][]string{}
	for scope, o := range p.c.Plugins {
		out[scope] = o.Plugins
	}
	return out
}

// ExternalPlugins lists plugins.yaml's external_plugins by entry.
func (p pluginsYAML) ExternalPlugins() map[string][]string {
	out := map[string][]string{}
	for scope, list := range p.c.ExternalPlugins {
		for _, ep := range list {
			out[scope] = append(out[scope], ep.Name)
		}
	}
	return out
}

// ExternalPluginsFor lists the external plugins of org/repo: the org's
// entry, then the repository's (Prow's getExternalPluginsForRepo).
func (p pluginsYAML) ExternalPluginsFor(org, repo string) []ExternalPlugin {
	var out []ExternalPlugin
	keys := []string{org}
	if repo != "" {
		keys = append(keys, org+"/"+repo)
	}
	for _, k := range keys {
		for _, ep := range p.c.ExternalPlugins[k] {
			out = append(out, ExternalPlugin{Name: ep.Name, Endpoint: ep.Endpoint, Events: ep.Events})
		}
	}
	return out
}
