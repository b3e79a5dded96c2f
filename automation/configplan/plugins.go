package configplan

import (
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/plugins"
)

// plugins lists the plugins enabled and disabled per org and repository,
// the external plugins added, removed and changed, and the changes of the
// plugins' own sections.
func (c *computation) plugins() {
	b, h := c.base.Plugins, c.head.Plugins
	scopes := map[string]bool{}
	for k := range b.Plugins {
		scopes[k] = true
	}
	for k := range h.Plugins {
		scopes[k] = true
	}
	for k := range b.ExternalPlugins {
		scopes[k] = true
	}
	for k := range h.ExternalPlugins {
		scopes[k] = true
	}
	var newlyEnabled []string
	for _, scope := range sortedKeys(scopes) {
		bp, hp := b.Plugins[scope], h.Plugins[scope]
		e := PluginEnablement{Scope: scope}
		e.Enabled, e.Disabled = setDiff(bp.Plugins, hp.Plugins)
		added, removed := setDiff(bp.ExcludedRepos, hp.ExcludedRepos)
		for _, r := range added {
			e.Excluded = append(e.Excluded, "+"+r)
		}
		for _, r := range removed {
			e.Excluded = append(e.Excluded, "-"+r)
		}
		e.ExternalAdded, e.ExternalRemoved, e.ExternalChanged = externalDiff(b.ExternalPlugins[scope], h.ExternalPlugins[scope])
		if len(e.Enabled)+len(e.Disabled)+len(e.Excluded)+len(e.ExternalAdded)+len(e.ExternalRemoved)+len(e.ExternalChanged) == 0 {
			continue
		}
		newlyEnabled = append(newlyEnabled, e.Enabled...)
		c.plan.Plugins.Enabled = append(c.plan.Plugins.Enabled, e)
	}
	if c.in.Plugins != nil {
		for _, name := range newlyEnabled {
			if !slices.Contains(c.in.Plugins, name) && !slices.Contains(c.plan.Plugins.NotImplemented, name) {
				c.plan.Plugins.NotImplemented = append(c.plan.Plugins.NotImplemented, name)
			}
		}
		slices.Sort(c.plan.Plugins.NotImplemented)
	}
	// The plugins' own sections: everything but the enablement above.
	strip := func(cfg *plugins.Config) any {
		v := jsonValue(cfg)
		if m, ok := v.(map[string]any); ok {
			delete(m, "plugins")
			delete(m, "external_plugins")
		}
		return v
	}
	if !sameContent(b, h) {
		c.plan.Plugins.Settings = append(c.plan.Plugins.Settings, diffValues("", strip(b), strip(h))...)
	}
}

// externalDiff compares the external plugins of one scope by name.
func externalDiff(before, after []plugins.ExternalPlugin) (added, removed, changed []string) {
	find := func(list []plugins.ExternalPlugin, name string) *plugins.ExternalPlugin {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
		return nil
	}
	for _, a := range after {
		switch b := find(before, a.Name); {
		case b == nil:
			added = append(added, a.Name)
		case !sameContent(*b, a):
			changed = append(changed, a.Name)
		}
	}
	for _, b := range before {
		if find(after, b.Name) == nil {
			removed = append(removed, b.Name)
		}
	}
	return added, removed, changed
}

// setDiff lists what after adds to before and what it drops, sorted.
func setDiff(before, after []string) (added, removed []string) {
	for _, a := range after {
		if !slices.Contains(before, a) && !slices.Contains(added, a) {
			added = append(added, a)
		}
	}
	for _, b := range before {
		if !slices.Contains(after, b) && !slices.Contains(removed, b) {
			removed = append(removed, b)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	return keys
}
