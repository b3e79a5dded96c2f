package plugin

import (
	"slices"
	"strings"
)

// ConfigDescriber is implemented by plugins whose behaviour depends on
// per-repository settings: it says, in a sentence or two, how the plugin
// is configured for org/repo (repo is empty for an org-wide entry). An
// empty answer says nothing.
type ConfigDescriber interface {
	DescribeConfig(org, repo string) string
}

// ProwHelp is Prow's plugin help document (Prow's pluginhelp.Help), field
// for field and with Prow's JSON keys, so that tools written for Prow's
// hook read it. It is served at /api/plugin-help.
type ProwHelp struct {
	// AllRepos lists the org/repo entries of plugins.yaml (org-wide entries
	// are not expanded into their repositories).
	AllRepos []string
	// RepoPlugins maps each org and org/repo entry of plugins.yaml to the
	// plugins enabled there; the key "" lists every plugin bowline has.
	RepoPlugins map[string][]string
	// RepoExternalPlugins maps entries to their external plugins.
	RepoExternalPlugins map[string][]string
	// PluginHelp maps a plugin's name to its help.
	PluginHelp map[string]ProwPluginHelp
	// ExternalPluginHelp is the help of external plugins; bowline does not
	// ask them, so it is empty.
	ExternalPluginHelp map[string]ProwPluginHelp
}

// ProwPluginHelp is one plugin's help in Prow's shape.
type ProwPluginHelp struct {
	Description string
	// Config maps org and org/repo entries to a description of the
	// plugin's settings there.
	Config map[string]string
	// Snippet is an example of the plugin's plugins.yaml section.
	Snippet  string
	Events   []string
	Commands []ProwCommand
}

// ProwCommand is one command in Prow's shape.
type ProwCommand struct {
	Usage       string
	Featured    bool
	Description string
	Examples    []string
	WhoCanUse   string
}

// ExternalEnablement lists external plugins by plugins.yaml entry; an
// Enablement may implement it.
type ExternalEnablement interface {
	ExternalPlugins() map[string][]string
}

// ProwHelp builds the /api/plugin-help document from the plugins' help and
// the enablement (nil: no plugin is enabled anywhere).
func (s *Set) ProwHelp(en Enablement) ProwHelp {
	out := ProwHelp{
		AllRepos:            []string{},
		RepoPlugins:         map[string][]string{},
		RepoExternalPlugins: map[string][]string{},
		PluginHelp:          map[string]ProwPluginHelp{},
		ExternalPluginHelp:  map[string]ProwPluginHelp{},
	}
	var all []string
	for _, p := range s.plugins {
		all = append(all, p.Name())
	}
	slices.Sort(all)
	out.RepoPlugins[""] = all
	var entries map[string][]string
	if l, ok := en.(interface{ EnabledRepos() map[string][]string }); ok {
		entries = l.EnabledRepos()
	}
	for scope, names := range entries {
		out.RepoPlugins[scope] = slices.Sorted(slices.Values(names))
		if strings.Contains(scope, "/") {
			out.AllRepos = append(out.AllRepos, scope)
		}
	}
	slices.Sort(out.AllRepos)
	if l, ok := en.(ExternalEnablement); ok {
		for scope, names := range l.ExternalPlugins() {
			out.RepoExternalPlugins[scope] = slices.Clone(names)
		}
	}
	for _, p := range s.plugins {
		h := p.Help()
		ph := ProwPluginHelp{
			Description: h.Description,
			Config:      map[string]string{},
			Snippet:     h.Config,
			Events:      slices.Clone(p.Events()),
		}
		for _, c := range h.Commands {
			ph.Commands = append(ph.Commands, ProwCommand{Usage: c.Usage, Featured: c.Featured,
				Description: c.Description, Examples: slices.Clone(c.Examples), WhoCanUse: c.WhoCanUse})
		}
		if d, ok := p.(ConfigDescriber); ok {
			for scope, names := range entries {
				if !slices.Contains(names, p.Name()) {
					continue
				}
				org, repo, _ := strings.Cut(scope, "/")
				if desc := d.DescribeConfig(org, repo); desc != "" {
					ph.Config[scope] = desc
				}
			}
		}
		out.PluginHelp[p.Name()] = ph
	}
	return out
}
