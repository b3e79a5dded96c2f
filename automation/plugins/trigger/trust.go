package trigger

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v89/github"
)

// trustedUser reports whether login may start jobs in the repository: a
// trusted app, a member of the repository's org (or of trusted_org), or,
// unless only_org_members, a collaborator. GitHub's answers are cached for
// TrustCacheTTL.
func (h *handler) trustedUser(ctx context.Context, login string) (bool, error) {
	if login == "" {
		return false, nil
	}
	t := h.cfg.Trigger
	if app, ok := strings.CutSuffix(login, "[bot]"); ok {
		if slices.Contains(t.TrustedApps, app) || slices.Contains(t.TrustedApps, login) {
			return true, nil
		}
	}
	orgs := []string{h.org}
	if t.TrustedOrg != "" && t.TrustedOrg != h.org {
		orgs = append(orgs, t.TrustedOrg)
	}
	for _, org := range orgs {
		member, ok := h.trust.get(org, login)
		if !ok {
			var err error
			if member, _, err = h.gh.Organizations.IsMember(ctx, org, login); err != nil {
				return false, fmt.Errorf("check %s membership of %s: %w", org, login, err)
			}
			h.trust.put(org, login, member)
		}
		if member {
			return true, nil
		}
	}
	if t.OnlyOrgMembers {
		return false, nil
	}
	scope := h.org + "/" + h.repo
	collab, ok := h.trust.get(scope, login)
	if !ok {
		var err error
		if collab, _, err = h.gh.Repositories.IsCollaborator(ctx, h.org, h.repo, login); err != nil {
			return false, fmt.Errorf("check whether %s collaborates on %s/%s: %w", login, h.org, h.repo, err)
		}
		h.trust.put(scope, login, collab)
	}
	return collab, nil
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
