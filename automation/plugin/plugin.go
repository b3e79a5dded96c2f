// Package plugin is bowline's plugin framework: what a plugin declares (the
// events it handles and its help), the events it receives, and which plugins
// are enabled for a repository.
//
// There is no registry. A program constructs its plugins, each with the
// clients and configuration source it needs, and hands the list to the
// webhook server (automation.NewServer). Enablement is read from plugins.yaml
// of the applied configuration revision on every event, so enabling or
// disabling a plugin takes effect as soon as the revision is applied, without
// a restart.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/go-logr/logr"
)

// Plugin reacts to GitHub events for the repositories it is enabled for.
type Plugin interface {
	// Name is the plugin's name as plugins.yaml enables it, e.g. "trigger".
	Name() string
	// Events lists the event types the plugin handles: GitHub's event names
	// (X-GitHub-Event, e.g. "pull_request", "push") or GenericComment.
	Events() []string
	// Help describes the plugin for /plugin-help and the web UI.
	Help() Help
	// Handle handles one event of a type the plugin declared. A returned
	// error is retried with backoff unless it is marked Permanent (or is one
	// the framework knows to be permanent, such as a GitHub 404).
	Handle(ctx context.Context, log logr.Logger, ev *Event) error
}

// Help is what a plugin tells users about itself.
type Help struct {
	// Description says what the plugin does.
	Description string `json:"description"`
	// Config is a plugins.yaml snippet showing the plugin's settings, or
	// empty when it has none.
	Config string `json:"config,omitempty"`
	// Events are the event types the plugin handles (filled in by the
	// framework from Plugin.Events).
	Events []string `json:"events,omitempty"`
	// Commands are the slash commands the plugin understands.
	Commands []Command `json:"commands,omitempty"`
}

// Command documents one slash command.
type Command struct {
	// Usage is the command's syntax, e.g. "/test [<job>|all|?]".
	Usage string `json:"usage"`
	// Description says what the command does.
	Description string `json:"description"`
	// WhoCanUse says who may use it, e.g. "Members of the organization".
	WhoCanUse string `json:"whoCanUse"`
	// Examples are literal uses.
	Examples []string `json:"examples,omitempty"`
	// Featured commands are shown first.
	Featured bool `json:"featured,omitempty"`
}

// Enablement says which plugins are enabled for a repository. It is the
// part of the applied plugins.yaml the framework reads.
type Enablement interface {
	// EnabledPlugins returns the names of the plugins enabled for org/repo.
	EnabledPlugins(org, repo string) []string
}

// EnablementSource returns the enablement of the applied configuration
// revision. It is called once per event, so a newly applied revision takes
// effect at the next event. A nil result enables no plugin.
type EnablementSource interface {
	Enablement() Enablement
}

// Set is an ordered list of plugins, looked up by name.
type Set struct {
	plugins []Plugin
}

// NewSet checks that the plugins have distinct, non-empty names and declare
// at least one event.
func NewSet(plugins ...Plugin) (*Set, error) {
	seen := map[string]bool{}
	for _, p := range plugins {
		if p == nil {
			return nil, errors.New("nil plugin")
		}
		name := p.Name()
		if name == "" {
			return nil, errors.New("a plugin has an empty name")
		}
		if seen[name] {
			return nil, fmt.Errorf("plugin %q is listed twice", name)
		}
		if len(p.Events()) == 0 {
			return nil, fmt.Errorf("plugin %q handles no events", name)
		}
		seen[name] = true
	}
	return &Set{plugins: slices.Clone(plugins)}, nil
}

// Plugins returns the plugins in order.
func (s *Set) Plugins() []Plugin { return slices.Clone(s.plugins) }

// For returns, in order, the plugins enabled for org/repo that handle
// eventType.
func (s *Set) For(en Enablement, org, repo, eventType string) []Plugin {
	if en == nil {
		return nil
	}
	enabled := en.EnabledPlugins(org, repo)
	var out []Plugin
	for _, p := range s.plugins {
		if slices.Contains(enabled, p.Name()) && slices.Contains(p.Events(), eventType) {
			out = append(out, p)
		}
	}
	return out
}

// HelpIndex is the JSON document served at /plugin-help.
type HelpIndex struct {
	// Plugins maps each plugin's name to its help.
	Plugins map[string]Help `json:"plugins"`
	// Repos maps "org" and "org/repo" to the plugins enabled there, when the
	// enablement can list them.
	Repos map[string][]string `json:"repos,omitempty"`
}

// HelpIndex builds the /plugin-help document.
func (s *Set) HelpIndex(en Enablement) HelpIndex {
	idx := HelpIndex{Plugins: map[string]Help{}}
	for _, p := range s.plugins {
		h := p.Help()
		h.Events = slices.Clone(p.Events())
		idx.Plugins[p.Name()] = h
	}
	if l, ok := en.(interface{ EnabledRepos() map[string][]string }); ok {
		idx.Repos = l.EnabledRepos()
	}
	return idx
}
