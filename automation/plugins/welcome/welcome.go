// Package welcome is the welcome plugin: it greets the author of a pull
// request who has not opened one in the repository before, with the
// message_template of the repository's welcome entry (a Go html/template
// over Org, Repo, AuthorLogin and AuthorName), as Prow's welcome plugin
// does. Trusted authors (the trigger plugin's rule) and bots are not
// greeted, unless always_post is set, which greets every pull request.
package welcome

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"slices"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// Name is the plugin's name in plugins.yaml.
const Name = "welcome"

// DefaultTemplate greets when the repository's entry has no
// message_template.
const DefaultTemplate = "Welcome @{{.AuthorLogin}}! This looks like your first pull request to {{.Org}}/{{.Repo}}. 🎉"

// Info is what message_template is executed on.
type Info struct {
	Org, Repo   string
	AuthorLogin string
	AuthorName  string
}

// Plugin is the welcome plugin.
type Plugin struct{ pluginbase.Base }

// New returns the welcome plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{"pull_request"} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Greets people who open their first pull request in a repository. Members of the org, collaborators " +
			"and trusted apps are not greeted (unless `always_post` is set, which greets every pull request).",
		Config: `welcome:
- repos: [acme/widgets]    # or an org; a repository's own entry wins
  message_template: "Welcome @{{.AuthorLogin}}! Thanks for your first pull request to {{.Org}}/{{.Repo}}."
  always_post: false`,
	}
}

// For is the welcome entry of a repository: its own, else its org's, else
// the defaults.
func For(cfg *plugins.Config, org, repo string) plugins.Welcome {
	for _, scope := range []string{org + "/" + repo, org} {
		for _, w := range cfg.Welcome {
			if slices.Contains(w.Repos, scope) {
				return w
			}
		}
	}
	return plugins.Welcome{}
}

// DescribeConfig implements plugin.ConfigDescriber.
func (p *Plugin) DescribeConfig(org, repo string) string {
	set := p.Config()
	if set == nil || set.Plugins == nil || repo == "" {
		return ""
	}
	return fmt.Sprintf("New contributors are greeted with: %s", message(For(set.Plugins, org, repo)))
}

func message(w plugins.Welcome) string {
	if w.MessageTemplate != "" {
		return w.MessageTemplate
	}
	return DefaultTemplate
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	pe, ok := ev.Payload.(*github.PullRequestEvent)
	if !ok || pe.GetAction() != "opened" {
		return nil
	}
	author := pe.GetPullRequest().GetUser()
	// GitHub's search cannot list a bot's pull requests.
	if author.GetType() != "User" {
		return nil
	}
	env, err := p.Env(ctx, log, ev)
	if env == nil || err != nil {
		return err
	}
	w := For(env.Plugins, env.Org, env.Repo)
	tmpl, err := template.New("welcome").Parse(message(w))
	if err != nil {
		return plugin.Permanent(fmt.Errorf("welcome message_template of %s: %w", env.FullName(), err))
	}
	if !w.AlwaysPost {
		trusted, err := env.Trusted(ctx, author.GetLogin())
		if err != nil || trusted {
			return err
		}
		first, err := firstPR(ctx, env, author.GetLogin(), pe.GetPullRequest().GetNumber())
		if err != nil || !first {
			return err
		}
	}
	var b bytes.Buffer
	info := Info{Org: env.Org, Repo: env.Repo, AuthorLogin: author.GetLogin(), AuthorName: author.GetName()}
	if err := tmpl.Execute(&b, info); err != nil {
		return plugin.Permanent(fmt.Errorf("welcome message_template of %s: %w", env.FullName(), err))
	}
	return env.Comment(ctx, pe.GetPullRequest().GetNumber(), b.String())
}

// firstPR reports whether the author has no pull request in the repository
// other than this one.
func firstPR(ctx context.Context, env *pluginbase.Env, author string, number int) (bool, error) {
	q := fmt.Sprintf("is:pr repo:%s author:%s", env.FullName(), author)
	res, _, err := env.GitHub.Search.Issues(ctx, q, &github.SearchOptions{ListOptions: github.ListOptions{PerPage: 2}})
	if err != nil {
		return false, fmt.Errorf("search %q: %w", q, err)
	}
	for _, is := range res.Issues {
		if is.GetNumber() != number {
			return false, nil
		}
	}
	return true, nil
}
