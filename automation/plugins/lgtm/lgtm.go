// Package lgtm is the lgtm plugin, with Prow's semantics (reference: Prow's
// lgtm plugin): it manages the lgtm label that typically gates merging.
//
//   - /lgtm adds the label and /lgtm cancel or /remove-lgtm removes it, each
//     alone on a line; with review_acts_as_lgtm, approving reviews add it and
//     reviews requesting changes remove it.
//   - Collaborators of the repository may change it; with the repository in
//     owners.skip_collaborators, the approvers and reviewers in the OWNERS
//     files of the changed files may instead. The author cannot add it to
//     their own pull request, but may remove it. A collaborator who is not
//     assigned yet is assigned, so that GitHub shows who reviewed.
//   - New commits remove the label, unless the author is in
//     trusted_team_for_sticky_lgtm or, with store_tree_hash, the tree of the
//     new head is the one the label was given to (a rebase or squash that
//     changes no content): the plugin records that tree in a comment when it
//     adds the label.
package lgtm

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/automation/repoowners"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// Name is the plugin's name in plugins.yaml.
const Name = "lgtm"

// Label is the label the plugin manages.
const Label = "lgtm"

var (
	lgtmRE       = regexp.MustCompile(`(?mi)^/lgtm(?: no-issue)?\s*$`)
	lgtmCancelRE = regexp.MustCompile(`(?mi)^/(remove-lgtm|lgtm cancel)\s*$`)
)

// Prow's comments. addedNotification records the tree the label was given
// to; it is read back, so its shape is kept as Prow writes it, and a pull
// request moved from Prow keeps its sticky label.
const (
	addedNotification   = "LGTM label has been added.  <details>Git tree hash: %s</details>"
	removedNotification = "New changes are detected. LGTM label has been removed."
)

var addedNotificationRE = regexp.MustCompile(fmt.Sprintf(regexp.QuoteMeta(addedNotification), "(.*)"))

// Config is what the plugin reads from the applied configuration for one
// repository.
type Config struct {
	// Lgtm is the repository's entry of plugins.yaml's lgtm, or the zero
	// value.
	Lgtm plugins.Lgtm
	// Owners says how OWNERS files are read; with SkipCollaborators, OWNERS
	// decide who may use /lgtm.
	Owners repoowners.Settings
}

// ConfigFrom reads the configuration of org/repo from a loaded
// configuration.
func ConfigFrom(set *configset.Set, org, repo string) *Config {
	c := &Config{Owners: repoowners.SettingsFor(set, org, repo)}
	if set.Plugins != nil {
		if l := set.Plugins.LgtmFor(org, repo); l != nil {
			c.Lgtm = *l
		}
	}
	return c
}

// Plugin is the lgtm plugin.
type Plugin struct {
	pluginbase.Base
	owners *repoowners.Client
}

// New returns the lgtm plugin; owners may be shared with other plugins.
func New(b pluginbase.Base, owners *repoowners.Client) *Plugin {
	return &Plugin{Base: b, owners: owners}
}

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string {
	return []string{plugin.GenericComment, "pull_request_review", "pull_request"}
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	env, err := p.Env(ctx, log, ev)
	if env == nil || err != nil {
		return err
	}
	h := &handler{Env: env, cfg: ConfigFrom(env.Set, env.Org, env.Repo), owners: p.owners}
	if h.isBot, err = env.IsBot(ctx); err != nil {
		return err
	}
	switch payload := ev.Payload.(type) {
	case *github.PullRequestEvent:
		return h.pullRequest(ctx, payload)
	case *github.PullRequestReviewEvent:
		return h.review(ctx, payload)
	}
	c := ev.Comment
	if ev.Type != plugin.GenericComment || c == nil || !c.IsPR || c.IssueState != "open" || c.Action != plugin.CommentCreated {
		return nil
	}
	var want bool
	switch {
	case lgtmRE.MatchString(c.Body):
		want = true
	case lgtmCancelRE.MatchString(c.Body):
	default:
		return nil
	}
	if h.isBot(c.Author) {
		return nil
	}
	return h.change(ctx, c, want)
}

type handler struct {
	*pluginbase.Env
	cfg    *Config
	owners *repoowners.Client
	isBot  func(string) bool
}

// review turns an approving review into /lgtm and a review requesting
// changes into /lgtm cancel, with review_acts_as_lgtm.
func (h *handler) review(ctx context.Context, re *github.PullRequestReviewEvent) error {
	if !h.cfg.Lgtm.ReviewActsAsLgtm || re.GetAction() != "submitted" {
		return nil
	}
	r := re.GetReview()
	if h.isBot(r.GetUser().GetLogin()) || r.GetUser().GetType() == "Bot" {
		return nil
	}
	// A command in the review's body is handled as a comment.
	if lgtmRE.MatchString(r.GetBody()) || lgtmCancelRE.MatchString(r.GetBody()) {
		return nil
	}
	var want bool
	switch strings.ToUpper(r.GetState()) {
	case "APPROVED":
		want = true
	case "CHANGES_REQUESTED":
	default:
		return nil
	}
	if re.GetPullRequest().GetState() != "open" {
		return nil
	}
	c := &plugin.Comment{Body: r.GetBody(), Author: r.GetUser().GetLogin(), HTMLURL: r.GetHTMLURL(),
		Number: re.GetPullRequest().GetNumber(), IsPR: true, IssueAuthor: re.GetPullRequest().GetUser().GetLogin()}
	return h.change(ctx, c, want)
}

// change adds (want) or removes the label at c's request, if its author
// may.
func (h *handler) change(ctx context.Context, c *plugin.Comment, want bool) error {
	n := c.Number
	isAuthor := strings.EqualFold(c.Author, c.IssueAuthor)
	if isAuthor && want {
		return h.Reply(ctx, c, "you cannot LGTM your own PR.")
	}
	pull, _, err := h.GitHub.PullRequests.Get(ctx, h.Org, h.Repo, n)
	if err != nil {
		return fmt.Errorf("get pull request #%d: %w", n, err)
	}
	skip := h.cfg.Owners.SkipCollaborators
	if !isAuthor {
		if !skip {
			collaborator, err := h.IsCollaborator(ctx, c.Author)
			if err != nil {
				return err
			}
			if !collaborator {
				return h.Reply(ctx, c, "changing LGTM is restricted to collaborators")
			}
			assigned := slices.ContainsFunc(pull.Assignees, func(u *github.User) bool { return strings.EqualFold(u.GetLogin(), c.Author) })
			if !assigned {
				// Assign the reviewer, as Prow does; it is not a reason to
				// give up.
				if _, _, err := h.GitHub.Issues.AddAssignees(ctx, h.Org, h.Repo, n, []string{c.Author}); err != nil {
					h.Log.Error(err, "Could not assign the reviewer", "user", c.Author)
				}
			}
		} else {
			ok, err := h.ownersReviewer(ctx, pull, c.Author)
			if err != nil {
				return err
			}
			if !ok {
				return h.Reply(ctx, c, "adding LGTM is restricted to approvers and reviewers in OWNERS files.")
			}
		}
	}
	has := slices.ContainsFunc(pull.Labels, func(l *github.Label) bool { return l.GetName() == Label })
	switch {
	case has && !want:
		if err := h.remove(ctx, pull); err != nil {
			return err
		}
		if h.cfg.Lgtm.StoreTreeHash {
			return h.PruneComments(ctx, n, func(body string) bool { return addedNotificationRE.MatchString(body) })
		}
	case !has && want:
		if err := h.AddLabel(ctx, n, Label); err != nil {
			return err
		}
		sticky, err := h.sticky(ctx, pull.GetUser().GetLogin())
		if err != nil {
			return err
		}
		if sticky {
			return nil
		}
		if h.cfg.Lgtm.StoreTreeHash {
			tree, err := h.treeHash(ctx, pull.GetHead().GetSHA())
			if err != nil {
				return err
			}
			if err := h.Comment(ctx, n, fmt.Sprintf(addedNotification, tree)); err != nil {
				return err
			}
		}
		return h.PruneComments(ctx, n, func(body string) bool { return strings.Contains(body, removedNotification) })
	}
	return nil
}

// ownersReviewer reports whether login approves or reviews any file the
// pull request changes.
func (h *handler) ownersReviewer(ctx context.Context, pull *github.PullRequest, login string) (bool, error) {
	o, err := h.owners.Load(ctx, repoowners.FromClient(h.GitHub), h.Org, h.Repo, pull.GetBase().GetRef(), h.cfg.Owners)
	if err != nil {
		return false, fmt.Errorf("load OWNERS: %w", err)
	}
	files, err := h.PullFiles(ctx, pull.GetNumber())
	if err != nil {
		return false, err
	}
	login = repoowners.NormLogin(login)
	for _, f := range files {
		if o.Approvers(f.GetFilename()).Has(login) || o.Reviewers(f.GetFilename()).Has(login) {
			return true, nil
		}
	}
	return false, nil
}

// remove takes the label off and, with store_tree_hash, asks the
// assignees to review again.
func (h *handler) remove(ctx context.Context, pull *github.PullRequest) error {
	n := pull.GetNumber()
	if err := h.RemoveLabel(ctx, n, Label); err != nil {
		return err
	}
	if !h.cfg.Lgtm.StoreTreeHash {
		return nil
	}
	var logins []string
	for _, a := range pull.Assignees {
		// GitHub refuses to ask the author for a review.
		if !strings.EqualFold(a.GetLogin(), pull.GetUser().GetLogin()) {
			logins = append(logins, a.GetLogin())
		}
	}
	if len(logins) == 0 {
		return nil
	}
	if _, _, err := h.GitHub.PullRequests.RequestReviewers(ctx, h.Org, h.Repo, n, github.ReviewersRequest{Reviewers: logins}); err != nil {
		return fmt.Errorf("ask %v to review again: %w", logins, err)
	}
	return nil
}

// treeHash is the tree of a commit.
func (h *handler) treeHash(ctx context.Context, sha string) (string, error) {
	c, _, err := h.GitHub.Repositories.GetCommit(ctx, h.Org, h.Repo, sha, nil)
	if err != nil {
		return "", fmt.Errorf("get commit %s: %w", sha, err)
	}
	return c.GetCommit().GetTree().GetSHA(), nil
}

// sticky reports whether the author is in trusted_team_for_sticky_lgtm,
// whose pull requests keep the label through new commits. The team is
// named by its name, as Prow does.
func (h *handler) sticky(ctx context.Context, author string) (bool, error) {
	team := h.cfg.Lgtm.StickyLgtmTeam
	if team == "" {
		return false, nil
	}
	teams, err := plugin.AllPages(func(o github.ListOptions) ([]*github.Team, *github.Response, error) {
		return h.GitHub.Teams.ListTeams(ctx, h.Org, &o)
	})
	if err != nil {
		return false, fmt.Errorf("list the teams of %s: %w", h.Org, err)
	}
	for _, t := range teams {
		if t.GetName() != team {
			continue
		}
		members, err := plugin.AllPages(func(o github.ListOptions) ([]*github.User, *github.Response, error) {
			return h.GitHub.Teams.ListTeamMembersBySlug(ctx, h.Org, t.GetSlug(), &github.TeamListTeamMembersOptions{ListOptions: o})
		})
		if err != nil {
			return false, fmt.Errorf("list the members of %s/%s: %w", h.Org, t.GetSlug(), err)
		}
		return slices.ContainsFunc(members, func(u *github.User) bool { return strings.EqualFold(u.GetLogin(), author) }), nil
	}
	h.Log.Info("trusted_team_for_sticky_lgtm names no team of the org", "team", team, "org", h.Org)
	return false, nil
}

// pullRequest removes the label when new commits arrive, unless it sticks.
func (h *handler) pullRequest(ctx context.Context, pe *github.PullRequestEvent) error {
	pull := pe.GetPullRequest()
	if pe.GetAction() != "synchronize" || pull.GetMerged() {
		return nil
	}
	sticky, err := h.sticky(ctx, pull.GetUser().GetLogin())
	if err != nil || sticky {
		return err
	}
	n := pull.GetNumber()
	// The payload's labels may be older than the push; ask.
	current, _, err := h.GitHub.PullRequests.Get(ctx, h.Org, h.Repo, n)
	if err != nil {
		return fmt.Errorf("get pull request #%d: %w", n, err)
	}
	if !slices.ContainsFunc(current.Labels, func(l *github.Label) bool { return l.GetName() == Label }) {
		return nil
	}
	if h.cfg.Lgtm.StoreTreeHash {
		comments, err := h.Comments(ctx, n)
		if err != nil {
			return err
		}
		var last string
		for i := len(comments) - 1; i >= 0; i-- {
			c := comments[i]
			m := addedNotificationRE.FindStringSubmatch(c.GetBody())
			// An edited record is not trusted.
			if m != nil && h.isBot(c.GetUser().GetLogin()) && c.GetUpdatedAt().Equal(c.GetCreatedAt()) {
				last = m[1]
				break
			}
		}
		if last != "" {
			tree, err := h.treeHash(ctx, pull.GetHead().GetSHA())
			if err != nil {
				return err
			}
			if tree == last {
				h.Log.Info("Keeping the lgtm label: the tree is unchanged", "tree", tree)
				return nil
			}
		}
	}
	if err := h.remove(ctx, current); err != nil {
		return err
	}
	return h.Comment(ctx, n, removedNotification)
}
