package trigger

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/trust"
)

// trustedUser reports whether login may start jobs in the repository: a
// trusted app, a member of the repository's org (or of trusted_org), or,
// unless only_org_members, a collaborator. GitHub's answers are cached for
// trust.TTL.
func (h *handler) trustedUser(ctx context.Context, login string) (bool, error) {
	gh := trust.GitHub{Organizations: h.gh.Organizations, Repositories: h.gh.Repositories}
	return h.trustCache.Trusted(ctx, gh, h.cfg.Trigger, h.org, h.repo, login)
}

// trustedPR reports whether a pull request may run jobs automatically: its
// author is trusted, or a trusted user has said /ok-to-test.
func (h *handler) trustedPR(ctx context.Context, pr *github.PullRequest) (bool, error) {
	if hasLabel(pr.Labels, OkToTestLabel) {
		return true, nil
	}
	return h.trustedUser(ctx, pr.GetUser().GetLogin())
}

func hasLabel(labels []*github.Label, name string) bool {
	return slices.ContainsFunc(labels, func(l *github.Label) bool { return strings.EqualFold(l.GetName(), name) })
}

// needsOkToTestMessage is the comment on a pull request by an untrusted
// author.
func (h *handler) needsOkToTestMessage(author string) string {
	join := ""
	if u := h.cfg.Trigger.JoinOrgURL; u != "" {
		join = fmt.Sprintf(" Regular contributors should [join the org](%s) to skip this step.", u)
	}
	return fmt.Sprintf("Hi @%s. Thanks for your pull request.\n\n"+
		"It needs a member of the %s organization to check that it is safe to test. If it is, they should comment `/ok-to-test` on its own line. "+
		"Until then, new commits are not tested automatically, but testing commands from trusted users still work.%s\n\n"+
		"Once the pull request is verified, the `%s` label says so.",
		author, h.org, join, OkToTestLabel)
}

// TrustedPullRequest reports whether user may /test a pull request, by the
// plugin's rules: user is trusted in the repository, or the pull request is
// labelled ok-to-test. The web role lets such users rerun the pull
// request's presubmits, as Deck does.
func (p *Plugin) TrustedPullRequest(ctx context.Context, user, org, repo string, number int) (bool, error) {
	cfg := p.config.TriggerConfig(org, repo)
	if cfg == nil {
		return false, nil
	}
	gh, err := p.github(ctx, org)
	if err != nil {
		return false, fmt.Errorf("GitHub client for %s: %w", org, err)
	}
	h := &handler{Plugin: p, cfg: cfg, gh: gh, org: org, repo: repo}
	if trusted, err := h.trustedUser(ctx, user); err != nil || trusted {
		return trusted, err
	}
	pr, _, err := gh.PullRequests.Get(ctx, org, repo, number)
	if err != nil {
		return false, fmt.Errorf("get pull request #%d: %w", number, err)
	}
	return hasLabel(pr.Labels, OkToTestLabel), nil
}
