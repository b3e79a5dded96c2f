// Package invalidcommitmsg is the invalidcommitmsg plugin: a pull request
// whose commit messages or title contain keywords that close issues when
// GitHub merges it ("fixes #12"), or, when the repository turns the check
// on, commits whose subject starts with fixup!, amend! or squash!, gets the
// do-not-merge/invalid-commit-message label and one comment listing the
// problems, as Prow's plugin does. Both go once the problems are fixed.
package invalidcommitmsg

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// Name is the plugin's name in plugins.yaml.
const Name = "invalidcommitmsg"

// Label keeps the pull request from merging.
const Label = "do-not-merge/invalid-commit-message"

// marker identifies the plugin's comment, which it replaces and removes.
const marker = "<!-- bowline:invalid-commit-message -->"

var (
	// CloseIssueRe finds GitHub's issue-closing keywords followed by an
	// issue reference, as Prow does.
	CloseIssueRe = regexp.MustCompile(`((?i)(clos(?:e[sd]?))|(fix(?:(es|ed)?))|(resolv(?:e[sd]?)))[\s:]+(\w+/\w+)?#(\d+)`)
	// AtMentionRe finds @mentions.
	AtMentionRe = regexp.MustCompile(`\B([@][\w_-]+)`)
	fixupRe     = regexp.MustCompile(`^(fixup!|amend!|squash!)`)
)

// Plugin is the invalidcommitmsg plugin.
type Plugin struct{ pluginbase.Base }

// New returns the invalidcommitmsg plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{"pull_request"} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Adds the `" + Label + "` label, with a comment listing the problems, to pull requests whose commit " +
			"messages or title contain keywords that would close an issue on merge (close, fix or resolve, and their forms, " +
			"followed by an issue reference), and, when the `fixupPrefix` check is on, commits whose subject starts with " +
			"`fixup!`, `amend!` or `squash!`. Both go once the problems are fixed.",
		Config: `invalid_commit_msg:
- repos: [acme/widgets]        # or an org
  checks:
  - name: fixupPrefix          # off unless listed
  - name: issueClosingKeywords # on unless disabled
    disabled: false`,
	}
}

// checks says which checks are on for a repository.
func checks(cfg *plugins.Config, org, repo string) (keywords, fixup bool) {
	keywords = true
	e := cfg.InvalidCommitMsgFor(org, repo)
	if e == nil {
		return keywords, false
	}
	for _, c := range e.Checks {
		switch c.Name {
		case plugins.CheckIssueClosingKeywords:
			keywords = !c.Disabled
		case plugins.CheckFixupPrefix:
			fixup = !c.Disabled
		}
	}
	return keywords, fixup
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	// The actions after which commits or the title may have changed.
	pe, env, err := p.PullRequestEnv(ctx, log, ev, "opened", "reopened", "synchronize", "edited")
	if env == nil || err != nil {
		return err
	}
	n := pe.GetPullRequest().GetNumber()
	checkKeywords, checkFixup := checks(env.Plugins, env.Org, env.Repo)
	commits, err := env.PullCommits(ctx, n)
	if err != nil {
		return err
	}
	var keywordCommits, fixupCommits []*github.RepositoryCommit
	for _, c := range commits {
		msg := c.GetCommit().GetMessage()
		if checkKeywords && CloseIssueRe.MatchString(msg) {
			keywordCommits = append(keywordCommits, c)
		}
		if subject, _, _ := strings.Cut(msg, "\n"); checkFixup && fixupRe.MatchString(subject) {
			fixupCommits = append(fixupCommits, c)
		}
	}
	badTitle := checkKeywords && CloseIssueRe.MatchString(pe.GetPullRequest().GetTitle())
	bad := len(keywordCommits) > 0 || len(fixupCommits) > 0 || badTitle

	labels, err := env.IssueLabels(ctx, n)
	if err != nil {
		return err
	}
	switch has := pluginbase.HasLabel(labels, Label); {
	case bad && !has:
		err = env.AddLabel(ctx, n, Label)
	case !bad && has:
		err = env.RemoveLabel(ctx, n, Label)
	}
	if err != nil {
		return err
	}
	// One comment, always the current one.
	if err := env.PruneComments(ctx, n, func(body string) bool { return strings.Contains(body, marker) }); err != nil {
		return err
	}
	if !bad {
		return nil
	}
	var sections []string
	if len(keywordCommits) > 0 {
		sections = append(sections, "### Commit messages that would close issues\n\n"+
			"Keywords that close an issue when the pull request merges ([GitHub's list](https://docs.github.com/en/issues/tracking-your-work-with-issues/linking-a-pull-request-to-an-issue)) "+
			"followed by an issue reference are not allowed in commit messages:\n\n"+CommitList(keywordCommits))
	}
	if len(fixupCommits) > 0 {
		sections = append(sections, "### Fixup commits\n\n"+
			"Commits starting with `fixup!`, `amend!` or `squash!` are meant to be squashed before merging; "+
			"`git rebase --autosquash` does that:\n\n"+CommitList(fixupCommits))
	}
	if badTitle {
		sections = append(sections, "### Pull request title\n\n"+
			"Keywords that close an issue are not allowed in the title either, because the merge commit carries it. "+
			"Change it with `/retitle <new title>`.")
	}
	body := marker + "\n" + pluginbase.Notice(pe.GetPullRequest().GetUser().GetLogin(),
		"this pull request cannot merge until these problems are fixed.", strings.Join(sections, "\n\n"))
	return env.Comment(ctx, n, body)
}

// CommitList lists commits in Markdown: a link to each and its subject.
func CommitList(commits []*github.RepositoryCommit) string {
	lines := make([]string, 0, len(commits))
	for _, c := range commits {
		sha := c.GetSHA()
		short := sha
		if len(short) > 7 {
			short = short[:7]
		}
		subject, _, _ := strings.Cut(c.GetCommit().GetMessage(), "\n")
		if u := c.GetHTMLURL(); u != "" {
			lines = append(lines, fmt.Sprintf("- [%s](%s) %s", short, u, subject))
		} else {
			lines = append(lines, fmt.Sprintf("- %s %s", short, subject))
		}
	}
	return strings.Join(lines, "\n")
}
