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
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/automation/repoowners"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/plugins"
	ghclient "github.com/bowline-ci/bowline/scm/github"
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

// Config is what the plugin reads from the applied configuration for one
// repository.
type Config struct {
	Owners repoowners.Settings
	// LabelsDenylist are labels OWNERS files may not set.
	LabelsDenylist []string
	// Trigger is the repository's triggers entry: who is trusted.
	Trigger plugins.Trigger
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
type Plugin struct{ pluginbase.Base }

// New returns the verify-owners plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

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
	env, err := p.Env(ctx, log, ev)
	if env == nil || err != nil {
		return err
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
	if ev.Comment != nil {
		// /verify-owners: whoever joined the org since counts now.
		env.Recheck()
	}
	h := &handler{Env: env, cfg: ConfigFrom(env.Set, env.Org, env.Repo), n: number}
	return h.handle(ctx)
}

type handler struct {
	*pluginbase.Env
	cfg *Config
	n   int
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
	pull, err := h.PullRequest(ctx, h.n)
	if err != nil {
		return err
	}
	if pull.GetState() != "open" {
		return nil
	}
	files, err := h.PullFiles(ctx, h.n)
	if err != nil {
		return err
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
	checks := newTrustChecks(h)

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
			if err := checks.check(ctx, u, aliasesFile.GetFilename(), untrustedUsers); err != nil {
				return err
			}
		}
	}

	problems, err := h.checkOwnersFiles(ctx, ownersFiles, head, base, aliases, checks, untrustedUsers)
	if err != nil {
		return err
	}
	return h.report(ctx, pull, files, hasLabel, problems, untrustedUsers)
}

// checkOwnersFiles checks each changed OWNERS file at head, and the trust
// of the users it adds since base; it records the untrusted in found.
func (h *handler) checkOwnersFiles(ctx context.Context, ownersFiles []*github.CommitFile, head, base string,
	aliases map[string][]string, checks *trustChecks, found map[string]*untrusted) ([]problem, error) {
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
			if err := checks.check(ctx, u, f.GetFilename(), found); err != nil {
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
		joinURL = orgPeopleURL(pull, h.Org)
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
		return h.comment(ctx, untrustedComment(intro, joinURL, h.Org, untrustedUsers))
	}
	if len(problems) == 0 {
		if hasLabel {
			if err := h.RemoveLabel(ctx, h.n, InvalidOwnersLabel); err != nil {
				return err
			}
		}
		return h.prune(ctx, intro)
	}
	return nil
}

// read returns a file at ref, or nil when it does not exist there.
func (h *handler) read(ctx context.Context, p, ref string) ([]byte, error) {
	fc, _, _, err := h.GitHub.Repositories.GetContents(ctx, h.Org, h.Repo, p, &github.RepositoryContentGetOptions{Ref: ref})
	if ghclient.IsNotFound(err) {
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

func (h *handler) label(ctx context.Context) error { return h.AddLabel(ctx, h.n, InvalidOwnersLabel) }

func (h *handler) comment(ctx context.Context, body string) error { return h.Comment(ctx, h.n, body) }

// prune deletes the bot's comments that contain s.
func (h *handler) prune(ctx context.Context, s string) error {
	return h.PruneComments(ctx, h.n, func(body string) bool { return strings.Contains(body, s) })
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
	if _, _, err := h.GitHub.PullRequests.CreateReview(ctx, h.Org, h.Repo, h.n, req); err != nil {
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
