package lgtm

import (
	"fmt"
	"strings"

	"github.com/bowline-ci/bowline/automation/plugin"
)

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Manages the `lgtm` (looks good to me) label, which typically gates merging. Collaborators add it with /lgtm " +
			"and remove it with /lgtm cancel; with the repository in owners.skip_collaborators, the approvers and reviewers of " +
			"the changed files in OWNERS may instead. Authors cannot add it to their own pull requests. A collaborator who " +
			"reviews is assigned. New commits remove the label, unless the tree is unchanged (store_tree_hash) or the author " +
			"is in trusted_team_for_sticky_lgtm.",
		Config: strings.TrimLeft(`
lgtm:
- repos:
  - my-org            # or my-org/my-repo; a repository's entry wins over its org's
  review_acts_as_lgtm: true        # approving reviews add lgtm, reviews requesting changes remove it
  store_tree_hash: true            # keep lgtm when new commits leave the tree unchanged (rebase, squash)
  trusted_team_for_sticky_lgtm: maintainers  # team (by name) whose pull requests keep lgtm through new commits
`, "\n"),
		Commands: []plugin.Command{{
			Usage:       "/[remove-]lgtm [cancel] or a GitHub review",
			Description: "Adds or removes the lgtm label, which typically gates merging.",
			WhoCanUse:   "Collaborators of the repository (OWNERS approvers and reviewers with skip_collaborators). /lgtm cancel also the author.",
			Examples:    []string{"/lgtm", "/lgtm cancel", "/remove-lgtm", "an approving review (with review_acts_as_lgtm)"},
			Featured:    true,
		}},
	}
}

// DescribeConfig implements plugin.ConfigDescriber.
func (p *Plugin) DescribeConfig(org, repo string) string {
	set := p.Config()
	if set == nil {
		return ""
	}
	cfg := ConfigFrom(set, org, repo)
	var parts []string
	if cfg.Lgtm.ReviewActsAsLgtm {
		parts = append(parts, "Approving and changes-requested reviews add and remove lgtm.")
	}
	if cfg.Lgtm.StoreTreeHash {
		parts = append(parts, "Commits that leave the tree unchanged keep lgtm.")
	}
	if t := cfg.Lgtm.StickyLgtmTeam; t != "" {
		parts = append(parts, fmt.Sprintf("Commits by members of %q keep lgtm.", t))
	}
	return strings.Join(parts, " ")
}
