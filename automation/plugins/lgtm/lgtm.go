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
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/repoowners"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/plugins"
	"github.com/bowline-ci/bowline/schema/snapshot"
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

// IssuesAPI is the part of GitHub's issues API the plugin uses; a
// *github.IssuesService satisfies it.
type IssuesAPI interface {
	ListComments(ctx context.Context, owner, repo string, number int, opts *github.IssueListCommentsOptions) ([]*github.IssueComment, *github.Response, error)
	CreateComment(ctx context.Context, owner, repo string, number int, comment *github.IssueComment) (*github.IssueComment, *github.Response, error)
	DeleteComment(ctx context.Context, owner, repo string, id int64) (*github.Response, error)
	AddLabelsToIssue(ctx context.Context, owner, repo string, number int, labels []string) ([]*github.Label, *github.Response, error)
	RemoveLabelForIssue(ctx context.Context, owner, repo string, number int, label string) (*github.Response, error)
	AddAssignees(ctx context.Context, owner, repo string, number int, assignees []string) (*github.Issue, *github.Response, error)
}

// PullRequestsAPI is the part of GitHub's pull requests API the plugin
// uses; a *github.PullRequestsService satisfies it.
type PullRequestsAPI interface {
	Get(ctx context.Context, owner, repo string, number int) (*github.PullRequest, *github.Response, error)
	ListFiles(ctx context.Context, owner, repo string, number int, opts *github.ListOptions) ([]*github.CommitFile, *github.Response, error)
	RequestReviewers(ctx context.Context, owner, repo string, number int, reviewers github.ReviewersRequest) (*github.PullRequest, *github.Response, error)
}

// RepositoriesAPI is the part of GitHub's repositories API the plugin
// uses; a *github.RepositoriesService satisfies it.
type RepositoriesAPI interface {
	IsCollaborator(ctx context.Context, owner, repo, user string) (bool, *github.Response, error)
	GetCommit(ctx context.Context, owner, repo, sha string, opts *github.ListOptions) (*github.RepositoryCommit, *github.Response, error)
}

// TeamsAPI is the part of GitHub's teams API the plugin uses; a
// *github.TeamsService satisfies it.
type TeamsAPI interface {
	ListTeams(ctx context.Context, org string, opts *github.ListOptions) ([]*github.Team, *github.Response, error)
	ListTeamMembersBySlug(ctx context.Context, org, slug string, opts *github.TeamListTeamMembersOptions) ([]*github.User, *github.Response, error)
}

// GitHub is the plugin's view of GitHub for one org.
type GitHub struct {
	Issues       IssuesAPI
	PullRequests PullRequestsAPI
	Repositories RepositoriesAPI
	Teams        TeamsAPI
	Users        plugin.UsersAPI
	Owners       *repoowners.GitHub
}

// FromClient is the GitHub view of a go-github client.
func FromClient(c *github.Client) *GitHub {
	return &GitHub{Issues: c.Issues, PullRequests: c.PullRequests, Repositories: c.Repositories, Teams: c.Teams,
		Users: c.Users, Owners: repoowners.FromClient(c)}
}

// GitHubFor returns the GitHub view for an org.
type GitHubFor func(ctx context.Context, org string) (*GitHub, error)

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

// ConfigSource returns the applied configuration for a repository, or nil
// before a revision is applied.
type ConfigSource interface {
	LgtmConfig(org, repo string) *Config
}

// SnapshotSource gives the applied config revision; a *snapshot.Store is
// one.
type SnapshotSource interface {
	Current() *snapshot.Snapshot
}

// FromSnapshot reads the configuration from the applied revision at every
// event.
func FromSnapshot(src SnapshotSource) ConfigSource { return snapshotConfig{src} }

type snapshotConfig struct{ src SnapshotSource }

func (s snapshotConfig) LgtmConfig(org, repo string) *Config {
	if s.src == nil {
		return nil
	}
	snap := s.src.Current()
	if snap == nil || snap.Config == nil {
		return nil
	}
	return ConfigFrom(snap.Config, org, repo)
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
	config ConfigSource
	github GitHubFor
	owners *repoowners.Client
	bot    *plugin.Bot
}

// New returns the lgtm plugin. owners and bot may be shared with other
// plugins.
func New(cfg ConfigSource, gh GitHubFor, owners *repoowners.Client, bot *plugin.Bot) *Plugin {
	return &Plugin{config: cfg, github: gh, owners: owners, bot: bot}
}

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string {
	return []string{plugin.GenericComment, "pull_request_review", "pull_request"}
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	cfg := p.config.LgtmConfig(ev.Org, ev.Repo)
	if cfg == nil {
		return nil
	}
	gh, err := p.github(ctx, ev.Org)
	if err != nil {
		return fmt.Errorf("GitHub client for %s: %w", ev.Org, err)
	}
	h := &handler{cfg: cfg, gh: gh, owners: p.owners, log: log, org: ev.Org, repo: ev.Repo}
	if h.isBot, err = p.bot.Checker(ctx, gh.Users); err != nil {
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
	cfg       *Config
	gh        *GitHub
	owners    *repoowners.Client
	isBot     func(string) bool
	log       logr.Logger
	org, repo string
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

// reply answers the comment that asked.
func (h *handler) reply(ctx context.Context, c *plugin.Comment, msg string) error {
	body := c.Respond(msg)
	if _, _, err := h.gh.Issues.CreateComment(ctx, h.org, h.repo, c.Number, &github.IssueComment{Body: &body}); err != nil {
		return fmt.Errorf("answer %s on #%d: %w", c.Author, c.Number, err)
	}
	return nil
}

// change adds (want) or removes the label at c's request, if its author
// may.
func (h *handler) change(ctx context.Context, c *plugin.Comment, want bool) error {
	n := c.Number
	isAuthor := strings.EqualFold(c.Author, c.IssueAuthor)
	if isAuthor && want {
		return h.reply(ctx, c, "you cannot LGTM your own PR.")
	}
	pull, _, err := h.gh.PullRequests.Get(ctx, h.org, h.repo, n)
	if err != nil {
		return fmt.Errorf("get pull request #%d: %w", n, err)
	}
	skip := h.cfg.Owners.SkipCollaborators
	if !isAuthor {
		if !skip {
			collaborator, _, err := h.gh.Repositories.IsCollaborator(ctx, h.org, h.repo, c.Author)
			if err != nil {
				return fmt.Errorf("check whether %s collaborates on %s/%s: %w", c.Author, h.org, h.repo, err)
			}
			if !collaborator {
				return h.reply(ctx, c, "changing LGTM is restricted to collaborators")
			}
			assigned := slices.ContainsFunc(pull.Assignees, func(u *github.User) bool { return strings.EqualFold(u.GetLogin(), c.Author) })
			if !assigned {
				// Assign the reviewer, as Prow does; it is not a reason to
				// give up.
				if _, _, err := h.gh.Issues.AddAssignees(ctx, h.org, h.repo, n, []string{c.Author}); err != nil {
					h.log.Error(err, "Could not assign the reviewer", "user", c.Author)
				}
			}
		} else {
			ok, err := h.ownersReviewer(ctx, pull, c.Author)
			if err != nil {
				return err
			}
			if !ok {
				return h.reply(ctx, c, "adding LGTM is restricted to approvers and reviewers in OWNERS files.")
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
			return h.prune(ctx, n, func(body string) bool { return addedNotificationRE.MatchString(body) })
		}
	case !has && want:
		if _, _, err := h.gh.Issues.AddLabelsToIssue(ctx, h.org, h.repo, n, []string{Label}); err != nil {
			return fmt.Errorf("add the %s label: %w", Label, err)
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
			body := fmt.Sprintf(addedNotification, tree)
			if _, _, err := h.gh.Issues.CreateComment(ctx, h.org, h.repo, n, &github.IssueComment{Body: &body}); err != nil {
				return fmt.Errorf("record the tree hash: %w", err)
			}
		}
		return h.prune(ctx, n, func(body string) bool { return strings.Contains(body, removedNotification) })
	}
	return nil
}

// ownersReviewer reports whether login approves or reviews any file the
// pull request changes.
func (h *handler) ownersReviewer(ctx context.Context, pull *github.PullRequest, login string) (bool, error) {
	o, err := h.owners.Load(ctx, h.gh.Owners, h.org, h.repo, pull.GetBase().GetRef(), h.cfg.Owners)
	if err != nil {
		return false, fmt.Errorf("load OWNERS: %w", err)
	}
	files, err := plugin.AllPages(func(opts github.ListOptions) ([]*github.CommitFile, *github.Response, error) {
		return h.gh.PullRequests.ListFiles(ctx, h.org, h.repo, pull.GetNumber(), &opts)
	})
	if err != nil {
		return false, fmt.Errorf("list the files of #%d: %w", pull.GetNumber(), err)
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
	if _, err := h.gh.Issues.RemoveLabelForIssue(ctx, h.org, h.repo, n, Label); err != nil && !notFound(err) {
		return fmt.Errorf("remove the %s label: %w", Label, err)
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
	if _, _, err := h.gh.PullRequests.RequestReviewers(ctx, h.org, h.repo, n, github.ReviewersRequest{Reviewers: logins}); err != nil {
		return fmt.Errorf("ask %v to review again: %w", logins, err)
	}
	return nil
}

// prune deletes the bot's comments that match.
func (h *handler) prune(ctx context.Context, n int, match func(body string) bool) error {
	comments, err := h.comments(ctx, n)
	if err != nil {
		return err
	}
	for _, c := range comments {
		if h.isBot(c.GetUser().GetLogin()) && match(c.GetBody()) {
			if _, err := h.gh.Issues.DeleteComment(ctx, h.org, h.repo, c.GetID()); err != nil && !notFound(err) {
				return fmt.Errorf("delete an outdated comment: %w", err)
			}
		}
	}
	return nil
}

func (h *handler) comments(ctx context.Context, n int) ([]*github.IssueComment, error) {
	cs, err := plugin.AllPages(func(o github.ListOptions) ([]*github.IssueComment, *github.Response, error) {
		return h.gh.Issues.ListComments(ctx, h.org, h.repo, n, &github.IssueListCommentsOptions{ListOptions: o})
	})
	if err != nil {
		return nil, fmt.Errorf("list the comments of #%d: %w", n, err)
	}
	return cs, nil
}

// treeHash is the tree of a commit.
func (h *handler) treeHash(ctx context.Context, sha string) (string, error) {
	c, _, err := h.gh.Repositories.GetCommit(ctx, h.org, h.repo, sha, nil)
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
		return h.gh.Teams.ListTeams(ctx, h.org, &o)
	})
	if err != nil {
		return false, fmt.Errorf("list the teams of %s: %w", h.org, err)
	}
	for _, t := range teams {
		if t.GetName() != team {
			continue
		}
		members, err := plugin.AllPages(func(o github.ListOptions) ([]*github.User, *github.Response, error) {
			return h.gh.Teams.ListTeamMembersBySlug(ctx, h.org, t.GetSlug(), &github.TeamListTeamMembersOptions{ListOptions: o})
		})
		if err != nil {
			return false, fmt.Errorf("list the members of %s/%s: %w", h.org, t.GetSlug(), err)
		}
		return slices.ContainsFunc(members, func(u *github.User) bool { return strings.EqualFold(u.GetLogin(), author) }), nil
	}
	h.log.Info("trusted_team_for_sticky_lgtm names no team of the org", "team", team, "org", h.org)
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
	current, _, err := h.gh.PullRequests.Get(ctx, h.org, h.repo, n)
	if err != nil {
		return fmt.Errorf("get pull request #%d: %w", n, err)
	}
	if !slices.ContainsFunc(current.Labels, func(l *github.Label) bool { return l.GetName() == Label }) {
		return nil
	}
	if h.cfg.Lgtm.StoreTreeHash {
		comments, err := h.comments(ctx, n)
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
				h.log.Info("Keeping the lgtm label: the tree is unchanged", "tree", tree)
				return nil
			}
		}
	}
	if err := h.remove(ctx, current); err != nil {
		return err
	}
	body := removedNotification
	if _, _, err := h.gh.Issues.CreateComment(ctx, h.org, h.repo, n, &github.IssueComment{Body: &body}); err != nil {
		return fmt.Errorf("say the label was removed: %w", err)
	}
	return nil
}

func notFound(err error) bool {
	var ge *github.ErrorResponse
	return errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == 404
}
