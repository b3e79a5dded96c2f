// Package verifyowners is the verify-owners plugin (reference: Prow's
// verify-owners): it checks the OWNERS and OWNERS_ALIASES files a pull
// request adds or changes, and labels the pull request
// do-not-merge/invalid-owners-file while they are wrong.
//
// A changed OWNERS file is wrong when it is not YAML of OWNERS' shape, when
// one of its filters is not a regular expression, when it lists a label of
// owners.labels_denylist, or when it is the root's and names no approvers;
// each problem gets a review comment on the file. A user the change adds
// (to an OWNERS file or to an alias) must be trusted as the trigger plugin
// trusts: a member of the org (or of triggers' trusted_org), or a
// collaborator unless only_org_members; otherwise one comment lists the
// untrusted users and why. Repositories in owners.skip_collaborators skip
// that check. OWNERS_ALIASES that cannot be read make the pull request
// invalid too; empty aliases get a warning. /verify-owners checks again,
// e.g. after someone joined the org.
package verifyowners

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
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
const Name = "verify-owners"

// InvalidOwnersLabel marks a pull request with an invalid OWNERS file.
const InvalidOwnersLabel = "do-not-merge/invalid-owners-file"

// maxTrustChecks bounds the users checked per event, so that a large
// reorganisation of OWNERS does not spend the API rate limit.
const maxTrustChecks = 50

var verifyRE = regexp.MustCompile(`(?mi)^/verify-owners\s*$`)

// untrustedIntro starts the comment listing untrusted users; outdated ones
// are found by it.
const untrustedIntro = "The %s files of this pull request name users who are not trusted, which makes them invalid."

// IssuesAPI is the part of GitHub's issues API the plugin uses; a
// *github.IssuesService satisfies it.
type IssuesAPI interface {
	ListComments(ctx context.Context, owner, repo string, number int, opts *github.IssueListCommentsOptions) ([]*github.IssueComment, *github.Response, error)
	CreateComment(ctx context.Context, owner, repo string, number int, comment *github.IssueComment) (*github.IssueComment, *github.Response, error)
	DeleteComment(ctx context.Context, owner, repo string, id int64) (*github.Response, error)
	AddLabelsToIssue(ctx context.Context, owner, repo string, number int, labels []string) ([]*github.Label, *github.Response, error)
	RemoveLabelForIssue(ctx context.Context, owner, repo string, number int, label string) (*github.Response, error)
}

// PullRequestsAPI is the part of GitHub's pull requests API the plugin
// uses; a *github.PullRequestsService satisfies it.
type PullRequestsAPI interface {
	Get(ctx context.Context, owner, repo string, number int) (*github.PullRequest, *github.Response, error)
	ListFiles(ctx context.Context, owner, repo string, number int, opts *github.ListOptions) ([]*github.CommitFile, *github.Response, error)
	CreateReview(ctx context.Context, owner, repo string, number int, review *github.PullRequestReviewRequest) (*github.PullRequestReview, *github.Response, error)
}

// RepositoriesAPI is the part of GitHub's repositories API the plugin
// uses; a *github.RepositoriesService satisfies it.
type RepositoriesAPI interface {
	GetContents(ctx context.Context, owner, repo, path string, opts *github.RepositoryContentGetOptions) (*github.RepositoryContent, []*github.RepositoryContent, *github.Response, error)
	IsCollaborator(ctx context.Context, owner, repo, user string) (bool, *github.Response, error)
}

// OrganizationsAPI is the part of GitHub's organizations API the plugin
// uses; a *github.OrganizationsService satisfies it.
type OrganizationsAPI interface {
	IsMember(ctx context.Context, org, user string) (bool, *github.Response, error)
}

// GitHub is the plugin's view of GitHub for one org.
type GitHub struct {
	Issues        IssuesAPI
	PullRequests  PullRequestsAPI
	Repositories  RepositoriesAPI
	Organizations OrganizationsAPI
	Users         plugin.UsersAPI
}

// FromClient is the GitHub view of a go-github client.
func FromClient(c *github.Client) *GitHub {
	return &GitHub{Issues: c.Issues, PullRequests: c.PullRequests, Repositories: c.Repositories,
		Organizations: c.Organizations, Users: c.Users}
}

// GitHubFor returns the GitHub view for an org.
type GitHubFor func(ctx context.Context, org string) (*GitHub, error)

// Config is what the plugin reads from the applied configuration for one
// repository.
type Config struct {
	Owners repoowners.Settings
	// LabelsDenylist are labels OWNERS files may not set.
	LabelsDenylist []string
	// Trigger is the repository's triggers entry: who is trusted.
	Trigger plugins.Trigger
}

// ConfigSource returns the applied configuration for a repository, or nil
// before a revision is applied.
type ConfigSource interface {
	VerifyOwnersConfig(org, repo string) *Config
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

func (s snapshotConfig) VerifyOwnersConfig(org, repo string) *Config {
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
		c.LabelsDenylist = set.Plugins.Owners.LabelsDenyList
		if t := set.Plugins.TriggerFor(org, repo); t != nil {
			c.Trigger = *t
		}
	}
	return c
}

// Plugin is the verify-owners plugin.
type Plugin struct {
	config ConfigSource
	github GitHubFor
	bot    *plugin.Bot
}

// New returns the verify-owners plugin.
func New(cfg ConfigSource, gh GitHubFor, bot *plugin.Bot) *Plugin {
	return &Plugin{config: cfg, github: gh, bot: bot}
}

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{"pull_request", plugin.GenericComment} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Checks the OWNERS and OWNERS_ALIASES files (names per owners.filenames) that a pull request changes, and " +
			"labels it " + InvalidOwnersLabel + " while they are wrong: not YAML of OWNERS' shape, a filter that is not a " +
			"regular expression, a label of owners.labels_denylist, a root OWNERS without approvers (each explained in a " +
			"review comment on the file), or users the change adds who are neither org members nor (unless " +
			"only_org_members) collaborators (listed in one comment; skipped for repositories in owners.skip_collaborators).",
		Config: strings.TrimLeft(`
owners:
  labels_denylist: [approved, lgtm]   # labels OWNERS files may not set
  skip_collaborators: [my-org/my-repo]  # do not check that added users are trusted
triggers:
- repos: [my-org]
  only_org_members: true   # collaborators who are not members are not trusted
  trusted_org: my-other-org
  join_org_url: https://github.com/my-org/community  # linked from the comment
`, "\n"),
		Commands: []plugin.Command{{
			Usage:       "/verify-owners",
			Description: "Checks the changed OWNERS files again and updates the " + InvalidOwnersLabel + " label.",
			WhoCanUse:   "Anyone",
			Examples:    []string{"/verify-owners"},
		}},
	}
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	cfg := p.config.VerifyOwnersConfig(ev.Org, ev.Repo)
	if cfg == nil {
		return nil
	}
	var number int
	switch pe := ev.Payload.(type) {
	case *github.PullRequestEvent:
		switch pe.GetAction() {
		case "opened", "reopened", "synchronize":
		default:
			return nil
		}
		number = pe.GetNumber()
	default:
		c := ev.Comment
		if ev.Type != plugin.GenericComment || c == nil || c.IssueState != "open" || !c.IsPR ||
			c.Action != plugin.CommentCreated || !verifyRE.MatchString(c.Body) {
			return nil
		}
		number = c.Number
	}
	gh, err := p.github(ctx, ev.Org)
	if err != nil {
		return fmt.Errorf("GitHub client for %s: %w", ev.Org, err)
	}
	isBot, err := p.bot.Checker(ctx, gh.Users)
	if err != nil {
		return err
	}
	h := &handler{cfg: cfg, gh: gh, isBot: isBot, log: log, org: ev.Org, repo: ev.Repo, n: number}
	return h.handle(ctx)
}

type handler struct {
	cfg       *Config
	gh        *GitHub
	isBot     func(string) bool
	log       logr.Logger
	org, repo string
	n         int
}

// problem is what is wrong with one OWNERS file, and the line it concerns.
type problem struct {
	file, message string
	line          int
}

// untrusted is a user the change adds who is not trusted: why, and where.
type untrusted struct {
	reason string
	files  []string
}

func (h *handler) handle(ctx context.Context) error {
	pull, _, err := h.gh.PullRequests.Get(ctx, h.org, h.repo, h.n)
	if err != nil {
		return fmt.Errorf("get pull request #%d: %w", h.n, err)
	}
	if pull.GetState() != "open" {
		return nil
	}
	files, err := plugin.AllPages(func(o github.ListOptions) ([]*github.CommitFile, *github.Response, error) {
		return h.gh.PullRequests.ListFiles(ctx, h.org, h.repo, h.n, &o)
	})
	if err != nil {
		return fmt.Errorf("list the files of #%d: %w", h.n, err)
	}
	names := h.cfg.Owners.Filenames
	var ownersFiles []*github.CommitFile
	var aliasesFile *github.CommitFile
	for _, f := range files {
		switch {
		case f.GetFilename() == names.OwnersAliases:
			aliasesFile = f
		case path.Base(f.GetFilename()) == names.Owners && f.GetStatus() != "removed":
			ownersFiles = append(ownersFiles, f)
		}
	}
	hasLabel := slices.ContainsFunc(pull.Labels, func(l *github.Label) bool { return l.GetName() == InvalidOwnersLabel })
	if len(ownersFiles) == 0 && aliasesFile == nil && !hasLabel {
		return nil
	}
	head, base := pull.GetHead().GetSHA(), pull.GetBase().GetSHA()
	trust := newTrust(h)

	// Aliases: they must be readable; users they newly name must be trusted.
	aliases, err := h.aliases(ctx, head)
	if err != nil {
		if !hasLabel {
			if err := h.label(ctx); err != nil {
				return err
			}
		}
		return h.comment(ctx, fmt.Sprintf("The content of %s is invalid: %v.", names.OwnersAliases, err))
	}
	if empty := emptyAliases(aliases); len(empty) > 0 {
		if err := h.comment(ctx, fmt.Sprintf("%s has empty aliases (%s); consider removing them.", names.OwnersAliases, strings.Join(empty, ", "))); err != nil {
			return err
		}
	}
	untrustedUsers := map[string]*untrusted{}
	skipTrust := h.cfg.Owners.SkipCollaborators
	if aliasesFile != nil && aliasesFile.GetStatus() != "removed" && !skipTrust {
		before, _ := h.aliases(ctx, base)
		for _, u := range added(allMembers(aliases), allMembers(before)) {
			if err := trust.check(ctx, u, aliasesFile.GetFilename(), untrustedUsers); err != nil {
				return err
			}
		}
	}

	problems, err := h.checkOwnersFiles(ctx, ownersFiles, head, base, aliases, trust, untrustedUsers)
	if err != nil {
		return err
	}
	return h.report(ctx, pull, files, hasLabel, problems, untrustedUsers)
}

// checkOwnersFiles checks each changed OWNERS file at head, and the trust
// of the users it adds since base; it records the untrusted in found.
func (h *handler) checkOwnersFiles(ctx context.Context, ownersFiles []*github.CommitFile, head, base string,
	aliases map[string][]string, trust *trust, found map[string]*untrusted) ([]problem, error) {
	var problems []problem
	for _, f := range ownersFiles {
		data, err := h.read(ctx, f.GetFilename(), head)
		if err != nil {
			return nil, err
		}
		users, p := check(f.GetFilename(), data, h.cfg.LabelsDenylist)
		if p != nil {
			problems = append(problems, *p)
			continue
		}
		if h.cfg.Owners.SkipCollaborators {
			continue
		}
		var before []string
		if old, err := h.read(ctx, f.GetFilename(), base); err == nil && old != nil {
			before, _ = check(f.GetFilename(), old, nil)
		}
		for _, u := range added(users, before) {
			if _, isAlias := aliases[u]; isAlias {
				continue
			}
			if err := trust.check(ctx, u, f.GetFilename(), found); err != nil {
				return nil, err
			}
		}
	}

	return problems, nil
}

// report labels the pull request and explains, or takes the label off when
// nothing is wrong.
func (h *handler) report(ctx context.Context, pull *github.PullRequest, files []*github.CommitFile, hasLabel bool,
	problems []problem, untrustedUsers map[string]*untrusted) error {
	if len(problems) > 0 {
		if !hasLabel {
			if err := h.label(ctx); err != nil {
				return err
			}
			hasLabel = true
		}
		if err := h.review(ctx, pull, files, problems); err != nil {
			return err
		}
	}
	joinURL := h.cfg.Trigger.JoinOrgURL
	if joinURL == "" {
		joinURL = orgPeopleURL(pull, h.org)
	}
	intro := fmt.Sprintf(untrustedIntro, h.cfg.Owners.Filenames.Owners)
	if len(untrustedUsers) > 0 {
		if !hasLabel {
			if err := h.label(ctx); err != nil {
				return err
			}
		}
		if err := h.prune(ctx, intro); err != nil {
			return err
		}
		return h.comment(ctx, untrustedComment(intro, joinURL, h.org, untrustedUsers))
	}
	if len(problems) == 0 {
		if hasLabel {
			if _, err := h.gh.Issues.RemoveLabelForIssue(ctx, h.org, h.repo, h.n, InvalidOwnersLabel); err != nil && !isStatus(err, 404) {
				return fmt.Errorf("remove the %s label: %w", InvalidOwnersLabel, err)
			}
		}
		return h.prune(ctx, intro)
	}
	return nil
}

// read returns a file at ref, or nil when it does not exist there.
func (h *handler) read(ctx context.Context, p, ref string) ([]byte, error) {
	fc, _, _, err := h.gh.Repositories.GetContents(ctx, h.org, h.repo, p, &github.RepositoryContentGetOptions{Ref: ref})
	if isStatus(err, 404) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", p, ref, err)
	}
	if fc == nil {
		return nil, fmt.Errorf("%s at %s is a directory", p, ref)
	}
	s, err := fc.GetContent()
	if err != nil {
		return nil, fmt.Errorf("decode %s at %s: %w", p, ref, err)
	}
	return []byte(s), nil
}

// aliases reads OWNERS_ALIASES at ref; none when it does not exist.
func (h *handler) aliases(ctx context.Context, ref string) (map[string][]string, error) {
	data, err := h.read(ctx, h.cfg.Owners.Filenames.OwnersAliases, ref)
	if err != nil || data == nil {
		return nil, err
	}
	return repoowners.ParseAliases(data)
}

func (h *handler) label(ctx context.Context) error {
	if _, _, err := h.gh.Issues.AddLabelsToIssue(ctx, h.org, h.repo, h.n, []string{InvalidOwnersLabel}); err != nil {
		return fmt.Errorf("add the %s label: %w", InvalidOwnersLabel, err)
	}
	return nil
}

func (h *handler) comment(ctx context.Context, body string) error {
	if _, _, err := h.gh.Issues.CreateComment(ctx, h.org, h.repo, h.n, &github.IssueComment{Body: &body}); err != nil {
		return fmt.Errorf("comment on #%d: %w", h.n, err)
	}
	return nil
}

// prune deletes the bot's comments that contain s.
func (h *handler) prune(ctx context.Context, s string) error {
	comments, err := plugin.AllPages(func(o github.ListOptions) ([]*github.IssueComment, *github.Response, error) {
		return h.gh.Issues.ListComments(ctx, h.org, h.repo, h.n, &github.IssueListCommentsOptions{ListOptions: o})
	})
	if err != nil {
		return fmt.Errorf("list the comments of #%d: %w", h.n, err)
	}
	for _, c := range comments {
		if h.isBot(c.GetUser().GetLogin()) && strings.Contains(c.GetBody(), s) {
			if _, err := h.gh.Issues.DeleteComment(ctx, h.org, h.repo, c.GetID()); err != nil && !isStatus(err, 404) {
				return fmt.Errorf("delete an outdated comment: %w", err)
			}
		}
	}
	return nil
}

// review comments on each invalid file, on the line a problem concerns
// when the pull request changes it, otherwise on the first line it adds.
func (h *handler) review(ctx context.Context, pull *github.PullRequest, files []*github.CommitFile, problems []problem) error {
	patches := map[string]string{}
	for _, f := range files {
		patches[f.GetFilename()] = f.GetPatch()
	}
	sort.Slice(problems, func(i, j int) bool { return problems[i].file < problems[j].file })
	var comments []*github.DraftReviewComment
	var general []string
	for _, p := range problems {
		lines := addedLines(patches[p.file])
		line := p.line
		if !slices.Contains(lines, line) {
			if len(lines) == 0 {
				general = append(general, fmt.Sprintf("%s: %s", p.file, p.message))
				continue
			}
			line = lines[0]
		}
		comments = append(comments, &github.DraftReviewComment{Path: github.Ptr(p.file), Body: github.Ptr(p.message),
			Line: github.Ptr(line), Side: github.Ptr("RIGHT")})
	}
	s := "s"
	if len(problems) == 1 {
		s = ""
	}
	msg := fmt.Sprintf("%d invalid %s file%s", len(problems), h.cfg.Owners.Filenames.Owners, s)
	if len(general) > 0 {
		msg += ":\n\n- " + strings.Join(general, "\n- ")
	}
	body := plugin.FormatResponseRaw(pull.GetBody(), pull.GetHTMLURL(), pull.GetUser().GetLogin(), msg)
	req := &github.PullRequestReviewRequest{CommitID: github.Ptr(pull.GetHead().GetSHA()), Body: &body,
		Event: github.Ptr("COMMENT"), Comments: comments}
	if _, _, err := h.gh.PullRequests.CreateReview(ctx, h.org, h.repo, h.n, req); err != nil {
		return fmt.Errorf("review the invalid %s files: %w", h.cfg.Owners.Filenames.Owners, err)
	}
	return nil
}

// orgPeopleURL is where one joins the org, on the repository's forge.
func orgPeopleURL(pull *github.PullRequest, org string) string {
	web := strings.TrimSuffix(pull.GetBase().GetRepo().GetHTMLURL(), "/"+pull.GetBase().GetRepo().GetName())
	web = strings.TrimSuffix(web, org)
	if web == "" {
		web = "https://github.com/"
	}
	return web + "orgs/" + org + "/people"
}

func isStatus(err error, code int) bool {
	var ge *github.ErrorResponse
	return errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == code
}
