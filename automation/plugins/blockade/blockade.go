// Package blockade is the blockade plugin: a pull request that changes a
// file a blockade protects (one of its blockregexps matches the path, none
// of its exceptionregexps does) gets the do-not-merge/blocked-paths label
// and a comment saying which files and why, as Prow's blockade plugin does.
// A blockade applies to the orgs and repositories it lists, and, with
// branchregexp, only to pull requests into matching branches. The label and
// the comment go when the pull request no longer touches protected files.
package blockade

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// Name is the plugin's name in plugins.yaml.
const Name = "blockade"

// Label keeps a pull request from merging.
const Label = "do-not-merge/blocked-paths"

// DefaultExplanation is the reason given when a blockade has none.
const DefaultExplanation = "Files are protected"

// notice starts the plugin's comment, by which it finds it again.
const notice = "Adding the `" + Label + "` label because this pull request changes protected files."

// Plugin is the blockade plugin.
type Plugin struct{ pluginbase.Base }

// New returns the blockade plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{"pull_request"} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Keeps pull requests that change protected files from merging: those that change a file matching " +
			"one of a blockade's `blockregexps` and none of its `exceptionregexps` get the `" + Label + "` label and a " +
			"comment naming the files and the blockade's explanation.",
		Config: `blockades:
- repos: [acme, other/repo]       # orgs or org/repo
  branchregexp: ^release-         # optional: only pull requests into matching branches
  blockregexps: [^docs/generated/]
  exceptionregexps: [^docs/generated/README.md$]
  explanation: Generated docs are written by make docs.`,
	}
}

// DescribeConfig implements plugin.ConfigDescriber.
func (p *Plugin) DescribeConfig(org, repo string) string {
	set := p.Config()
	if set == nil || set.Plugins == nil || repo == "" {
		return ""
	}
	var parts []string
	for _, b := range set.Plugins.Blockades {
		if !slices.Contains(b.Repos, org) && !slices.Contains(b.Repos, org+"/"+repo) {
			continue
		}
		d := fmt.Sprintf("files matching %q but not %q are blocked (%s)", b.BlockRegexps, b.ExceptionRegexps, explanation(b))
		if b.BranchRegexp != nil {
			d = fmt.Sprintf("on branches matching %q, %s", *b.BranchRegexp, d)
		}
		parts = append(parts, d)
	}
	if len(parts) == 0 {
		return ""
	}
	return "Blockades: " + strings.Join(parts, "; ") + "."
}

func explanation(b plugins.Blockade) string {
	if b.Explanation == "" {
		return DefaultExplanation
	}
	return b.Explanation
}

type blockade struct {
	block, except []*regexp.Regexp
	explanation   string
}

func matchesAny(s string, res []*regexp.Regexp) bool {
	return slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(s) })
}

func compileAll(pats []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(pats))
	for _, p := range pats {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, re)
	}
	return out, nil
}

// applicable compiles the blockades of a repository and base branch.
func applicable(list []plugins.Blockade, org, repo, branch string) ([]blockade, error) {
	var out []blockade
	for i, b := range list {
		if !slices.Contains(b.Repos, org) && !slices.Contains(b.Repos, org+"/"+repo) {
			continue
		}
		if b.BranchRegexp != nil {
			re, err := regexp.Compile(*b.BranchRegexp)
			if err != nil {
				return nil, fmt.Errorf("blockades[%d].branchregexp: %w", i, err)
			}
			if !re.MatchString(branch) {
				continue
			}
		}
		block, err := compileAll(b.BlockRegexps)
		if err != nil {
			return nil, fmt.Errorf("blockades[%d].blockregexps: %w", i, err)
		}
		except, err := compileAll(b.ExceptionRegexps)
		if err != nil {
			return nil, fmt.Errorf("blockades[%d].exceptionregexps: %w", i, err)
		}
		if len(block) > 0 {
			out = append(out, blockade{block: block, except: except, explanation: explanation(b)})
		}
	}
	return out, nil
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	pe, env, err := p.PullRequestEnv(ctx, log, ev, "opened", "reopened", "synchronize")
	if env == nil || err != nil {
		return err
	}
	pr := pe.GetPullRequest()
	n := pr.GetNumber()
	blockades, err := applicable(env.Plugins.Blockades, env.Org, env.Repo, pr.GetBase().GetRef())
	if err != nil {
		return plugin.Permanent(err)
	}
	labels, err := env.IssueLabels(ctx, n)
	if err != nil {
		return err
	}
	has := pluginbase.HasLabel(labels, Label)
	if len(blockades) == 0 && !has {
		return nil
	}
	blocked := map[string][]*github.CommitFile{}
	if len(blockades) > 0 {
		files, err := env.PullFiles(ctx, n)
		if err != nil {
			return err
		}
		for _, f := range files {
			for _, b := range blockades {
				if matchesAny(f.GetFilename(), b.block) && !matchesAny(f.GetFilename(), b.except) {
					blocked[b.explanation] = append(blocked[b.explanation], f)
				}
			}
		}
	}
	switch {
	case len(blocked) > 0 && !has:
		if err := env.AddLabel(ctx, n, Label); err != nil {
			return err
		}
		return env.Comment(ctx, n, pluginbase.Notice(pr.GetUser().GetLogin(), notice, summary(blocked)))
	case len(blocked) == 0 && has:
		if err := env.RemoveLabel(ctx, n, Label); err != nil {
			return err
		}
		return env.PruneComments(ctx, n, func(body string) bool { return strings.Contains(body, notice) })
	}
	return nil
}

// summary lists the blocked files under each reason.
func summary(blocked map[string][]*github.CommitFile) string {
	reasons := make([]string, 0, len(blocked))
	for r := range blocked {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	var b strings.Builder
	b.WriteString("#### Why this pull request is blocked\n")
	for _, r := range reasons {
		fmt.Fprintf(&b, "\n%s:\n", r)
		for _, f := range blocked[r] {
			if u := f.GetBlobURL(); u != "" {
				fmt.Fprintf(&b, "- [%s](%s)\n", f.GetFilename(), u)
			} else {
				fmt.Fprintf(&b, "- %s\n", f.GetFilename())
			}
		}
	}
	return b.String()
}
