package approve

import (
	"fmt"
	"strings"

	"github.com/bowline-ci/bowline/automation/plugin"
)

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Approves pull requests by OWNERS files and manages the `approved` label and one notification comment. " +
			"A pull request is approved when, for every OWNERS file that covers a changed file, one of the approvers listed there " +
			"(or in an OWNERS file above it, up to one with no_parent_owners; OWNERS_ALIASES names groups) has approved. " +
			"Approvals come from /approve, from approving GitHub reviews (unless ignore_review_state), from /lgtm when " +
			"lgtm_acts_as_approve, and from the author unless require_self_approval; a review requesting changes cancels its " +
			"author's approval and holds the pull request back until it is withdrawn or dismissed. " +
			"The notification lists who approved, suggests approvers for the OWNERS files still unapproved, and is edited in " +
			"place as things change. A person adding the `approved` label by hand overrides the rules. New commits do not " +
			"remove approval.",
		Config: strings.TrimLeft(`
approve:
- repos:
  - my-org              # or my-org/my-repo; a repository's entry wins over its org's
  issue_required: false       # true: also needs an issue referenced in the description, or /approve no-issue
  require_self_approval: false  # true: the author's own pull request needs their explicit /approve
  lgtm_acts_as_approve: false   # true: /lgtm by an approver approves too
  ignore_review_state: false    # true: GitHub approve / request-changes reviews do not count
  commandHelpLink: https://go.k8s.io/bot-commands  # linked from the notification
  pr_process_link: https://git.k8s.io/community/contributors/guide/owners.md#the-code-review-process
owners:
  skip_collaborators: [my-org/my-repo]  # count OWNERS entries who are not collaborators
  mdyamlrepos: [my-org/docs]            # YAML headers of Markdown files act as OWNERS for that file
  filenames:
    my-org/my-repo: {owners: OWNERS, owners_aliases: OWNERS_ALIASES}
`, "\n"),
		Commands: []plugin.Command{{
			Usage:       "/[remove-]approve [no-issue|cancel]",
			Description: "Approves the pull request for the OWNERS files you are an approver of; cancel (or /remove-approve) withdraws your approval; no-issue also waives issue_required.",
			WhoCanUse:   "Approvers in the OWNERS files of the changed files (anyone may say it; only approvers count).",
			Examples:    []string{"/approve", "/approve no-issue", "/approve cancel", "/remove-approve"},
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
	not := func(b bool, yes, no string) string {
		if b {
			return yes
		}
		return no
	}
	return fmt.Sprintf("Pull requests %s an associated issue. Authors %s their own pull requests. /lgtm %s. "+
		"Approving and changes-requested reviews %s.",
		not(cfg.Approve.IssueRequired, "need", "do not need"),
		not(cfg.selfApproval(), "implicitly approve", "must explicitly approve"),
		not(cfg.Approve.LgtmActsAsApprove, "approves too", "does not approve"),
		not(cfg.considerReviewState(), "approve and cancel approval", "are ignored"))
}
