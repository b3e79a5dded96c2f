package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bowline-ci/bowline/automation/plugin"
)

// RemotePluginHelp reads the plugin help of a webhook server that runs
// elsewhere, from its /api/plugin-help (Deck asks hook the same way).
func RemotePluginHelp(hookURL string, hc *http.Client) func(ctx context.Context) (*plugin.ProwHelp, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return func(ctx context.Context) (*plugin.ProwHelp, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(hookURL, "/")+"/api/plugin-help", nil)
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("ask the webhook server for the plugin help: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("the webhook server answered %s to /api/plugin-help", resp.Status)
		}
		var help plugin.ProwHelp
		if err := json.NewDecoder(resp.Body).Decode(&help); err != nil {
			return nil, fmt.Errorf("read the plugin help: %w", err)
		}
		return &help, nil
	}
}

type commandView struct {
	Plugin, Usage, Description, WhoCanUse string
	Examples                              []string
	Featured                              bool
}

type pluginView struct {
	Name, Description, Snippet string
	Events                     []string
	// Where lists the plugins.yaml entries that enable it.
	Where []string
	// Config is how it is configured, per entry.
	Config   []scopeText
	Commands []commandView
}

type scopeText struct{ Scope, Text string }

type helpData struct {
	Repo    string
	Repos   []string
	Error   string
	Plugins []pluginView
	// Commands are every command of the plugins shown, featured first.
	Commands []commandView
}

// helpFor builds the pages' data: the plugins enabled for ?repo= (an org
// or org/repo), or every plugin.
func (h *Handler) helpFor(r *http.Request) (*helpData, int) {
	d := &helpData{Repo: strings.TrimSpace(r.URL.Query().Get("repo"))}
	if h.PluginHelp == nil {
		d.Error = "The plugin help is not available: this server runs no webhook server, and none was named (--hook-url)."
		return d, http.StatusOK
	}
	help, err := h.PluginHelp(r.Context())
	if err != nil {
		d.Error = "The plugin help cannot be read right now."
		return d, http.StatusServiceUnavailable
	}
	scopes := map[string]bool{}
	for k := range help.RepoPlugins {
		if k != "" {
			scopes[k] = true
		}
	}
	for _, k := range help.AllRepos {
		scopes[k] = true
	}
	d.Repos = slices.Sorted(maps.Keys(scopes))
	names := help.RepoPlugins[""]
	if d.Repo != "" {
		org, _, _ := strings.Cut(d.Repo, "/")
		set := map[string]bool{}
		for _, k := range []string{org, d.Repo} {
			for _, n := range help.RepoPlugins[k] {
				set[n] = true
			}
		}
		names = slices.Sorted(maps.Keys(set))
	}
	for _, name := range names {
		ph, ok := help.PluginHelp[name]
		if !ok {
			continue
		}
		pv := pluginView{Name: name, Description: ph.Description, Snippet: ph.Snippet, Events: ph.Events}
		for _, scope := range d.Repos {
			if slices.Contains(help.RepoPlugins[scope], name) {
				pv.Where = append(pv.Where, scope)
			}
		}
		for _, scope := range slices.Sorted(maps.Keys(ph.Config)) {
			pv.Config = append(pv.Config, scopeText{scope, ph.Config[scope]})
		}
		for _, c := range ph.Commands {
			cv := commandView{Plugin: name, Usage: c.Usage, Description: c.Description, WhoCanUse: c.WhoCanUse, Examples: c.Examples, Featured: c.Featured}
			pv.Commands = append(pv.Commands, cv)
			d.Commands = append(d.Commands, cv)
		}
		d.Plugins = append(d.Plugins, pv)
	}
	slices.SortStableFunc(d.Commands, func(a, b commandView) int {
		if a.Featured != b.Featured {
			if a.Featured {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Usage, b.Usage)
	})
	return d, http.StatusOK
}

// commandHelp is Deck's /command-help: every slash command of the plugins
// enabled for a repository.
func (h *Handler) commandHelp(w http.ResponseWriter, r *http.Request) {
	d, code := h.helpFor(r)
	h.render(w, code, "commands", "", h.view(r, "Commands", "commands", d))
}

// plugins is Deck's /plugins: what each plugin does, where it is enabled
// and how it is configured.
func (h *Handler) plugins(w http.ResponseWriter, r *http.Request) {
	d, code := h.helpFor(r)
	h.render(w, code, "plugins", "", h.view(r, "Plugins", "plugins", d))
}
