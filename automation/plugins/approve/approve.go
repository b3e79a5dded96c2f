// Package approve is the approve plugin: OWNERS-based approval of pull
// requests, with Prow's semantics (reference: Prow's approve plugin).
//
// A pull request is approved when, for every OWNERS file that covers a
// changed file (the closest with approvers, parents absorbing children
// unless no_parent_owners), someone who approved is one of its approvers.
// Who approved is read from the whole conversation, oldest first:
// /approve (with no-issue, which waives issue_required), /approve cancel
// and /remove-approve in comments, review comments and review bodies;
// GitHub reviews (APPROVED approves, CHANGES_REQUESTED cancels and blocks
// approval while it stands) unless ignore_review_state; /lgtm when
// lgtm_acts_as_approve; and the author, unless require_self_approval. A
// person adding the approved label by hand is respected.
//
// The plugin keeps one notification comment per pull request up to date,
// editing it when the state changes: who approved, whom to ask (a minimal
// set of approvers covering the OWNERS files still unapproved, chosen
// from the closest approvers in an order that depends on the pull request
// so that the load spreads) and each OWNERS file with its state. It adds
// or removes the approved label to match.
package approve

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	"golang.org/x/sync/errgroup"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/automation/repoowners"
	ghclient "github.com/bowline-ci/bowline/scm/github"
)

// Name is the plugin's name in plugins.yaml.
const Name = "approve"

// ApprovedLabel is the label of approved pull requests.
const ApprovedLabel = "approved"

// Commands, matched at the start of a line, case-insensitively.
const (
	approveCommand       = "APPROVE"
	removeApproveCommand = "REMOVE-APPROVE"
	lgtmCommand          = "LGTM"
	cancelArgument       = "cancel"
	noIssueArgument      = "no-issue"
)

var commandRE = regexp.MustCompile(`(?m)^/([^\s]+)[\t ]*([^\n\r]*)`)

// Plugin is the approve plugin.
type Plugin struct {
	pluginbase.Base
	owners *repoowners.Client
	// pulls runs one handling of a pull request at a time, so that two
	// events do not both write a notification, and folds bursts: handling
	// recomputes everything from GitHub, so a run that starts after an
	// event arrived covers it.
	pulls plugin.Coalescer
}

// New returns the approve plugin; owners may be shared with other plugins.
func New(b pluginbase.Base, owners *repoowners.Client) *Plugin {
	return &Plugin{Base: b, owners: owners}
}

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string {
	return []string{plugin.GenericComment, "pull_request_review", "pull_request"}
}

// pr is what handling needs to know of a pull request.
type pr struct {
	org, repo string
	number    int
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	env, err := p.Env(ctx, log, ev)
	if env == nil || err != nil {
		return err
	}
	cfg := ConfigFrom(env.Set, env.Org, env.Repo)
	isBot, err := env.IsBot(ctx)
	if err != nil {
		return err
	}
	target := pr{org: ev.Org, repo: ev.Repo}
	switch payload := ev.Payload.(type) {
	case *github.PullRequestReviewEvent:
		action := payload.GetAction()
		if action != "submitted" && action != "dismissed" {
			return nil
		}
		c := &comment{author: payload.GetReview().GetUser().GetLogin(), body: payload.GetReview().GetBody(),
			reviewState: strings.ToUpper(payload.GetReview().GetState())}
		// A review with a command is handled as a comment.
		if isApprovalCommand(isBot, cfg.Approve.LgtmActsAsApprove, c) ||
			!isApprovalState(isBot, cfg.considerReviewState(), c) {
			return nil
		}
		target.number = payload.GetPullRequest().GetNumber()
	case *github.PullRequestEvent:
		switch payload.GetAction() {
		case "opened", "reopened", "synchronize":
		case "labeled":
			if payload.GetLabel().GetName() != ApprovedLabel || isBot(payload.GetSender().GetLogin()) ||
				payload.GetPullRequest().GetState() == "closed" {
				return nil
			}
		default:
			return nil
		}
		target.number = payload.GetNumber()
	default:
		c := ev.Comment
		if ev.Type != plugin.GenericComment || c == nil || c.Action != plugin.CommentCreated || !c.IsPR || c.IssueState == "closed" {
			return nil
		}
		if !isApprovalCommand(isBot, cfg.Approve.LgtmActsAsApprove, &comment{author: c.Author, body: c.Body}) {
			return nil
		}
		target.number = c.Number
	}
	key := fmt.Sprintf("%s/%s#%d", strings.ToLower(target.org), strings.ToLower(target.repo), target.number)
	return p.pulls.Do(key, func() error {
		h := &handler{Env: env, cfg: cfg, isBot: isBot, owners: p.owners, pr: target}
		return h.handle(ctx)
	})
}

// comment is anything that may carry an approval: an issue comment, a
// review comment or a review.
type comment struct {
	body, author string
	created      time.Time
	url          string
	id           int64
	// reviewState is the upper-case state of a review, empty otherwise.
	reviewState string
}

func isApprovalCommand(isBot func(string) bool, lgtmActsAsApprove bool, c *comment) bool {
	if isBot(c.author) {
		return false
	}
	for _, m := range commandRE.FindAllStringSubmatch(c.body, -1) {
		switch strings.ToUpper(m[1]) {
		case approveCommand, removeApproveCommand:
			return true
		case lgtmCommand:
			if lgtmActsAsApprove {
				return true
			}
		}
	}
	return false
}

// isApprovalState: approving, requesting changes and dismissing a review
// change approval when reviews count.
func isApprovalState(isBot func(string) bool, considerReviewState bool, c *comment) bool {
	if isBot(c.author) || !considerReviewState {
		return false
	}
	switch c.reviewState {
	case "APPROVED", "CHANGES_REQUESTED", "DISMISSED":
		return true
	}
	return false
}

// handler handles one event.
type handler struct {
	*pluginbase.Env
	cfg    *Config
	isBot  func(string) bool
	owners *repoowners.Client
	pr     pr
}

func (h *handler) handle(ctx context.Context) error {
	org, repo, n := h.pr.org, h.pr.repo, h.pr.number
	pull, _, err := h.GitHub.PullRequests.Get(ctx, org, repo, n)
	if err != nil {
		return fmt.Errorf("get pull request #%d: %w", n, err)
	}
	if pull.GetState() == "closed" {
		return nil
	}
	branch := pull.GetBase().GetRef()
	in, err := h.read(ctx, branch)
	if err != nil {
		return err
	}
	hasLabel := slices.ContainsFunc(pull.Labels, func(l *github.Label) bool { return l.GetName() == ApprovedLabel })
	st, notifications := h.state(ctx, pull, in, hasLabel)

	l := h.links(pull, branch, in.owners.Filenames().Owners)
	if err := h.notify(ctx, notifications, st.message(l)); err != nil {
		return err
	}
	switch approved := st.isApproved(); {
	case approved && !hasLabel:
		return h.AddLabel(ctx, n, ApprovedLabel)
	case !approved && hasLabel:
		return h.RemoveLabel(ctx, n, ApprovedLabel)
	}
	return nil
}

// wrap adds context to an error, keeping nil nil.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// state replays the conversation into the approval state, and finds the
// bot's notifications.
func (h *handler) state(ctx context.Context, pull *github.PullRequest, in *inputs, hasLabel bool) (*state, []*comment) {
	var names []string
	for _, f := range in.files {
		names = append(names, f.GetFilename())
	}
	st := newState(newChangedFiles(in.owners, names, pull.GetNumber()))
	st.associatedIssue = associatedIssue(pull.GetBody(), h.pr.org)
	st.requireIssue = h.cfg.Approve.IssueRequired
	st.manuallyApproved = h.humanApproved(ctx, hasLabel)
	author := pull.GetUser().GetLogin()
	if h.cfg.selfApproval() {
		st.add(author, "Author self-approved", pull.GetHTMLURL()+"#", false)
	} else {
		// Suggest the author first, as if assigned.
		st.assignees[strings.ToLower(author)] = true
	}

	all := fromIssueComments(in.issueComments)
	notifications := slices.DeleteFunc(slices.Clone(all), func(c *comment) bool {
		return !h.isBot(c.author) || !notificationRE.MatchString(c.body)
	})
	all = append(all, fromReviewComments(in.reviewComments)...)
	all = append(all, fromReviews(in.reviews)...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].created.Before(all[j].created) })
	considerReviews := h.cfg.considerReviewState()
	var relevant []*comment
	for _, c := range all {
		if isApprovalCommand(h.isBot, h.cfg.Approve.LgtmActsAsApprove, c) || isApprovalState(h.isBot, considerReviews, c) {
			relevant = append(relevant, c)
		}
	}
	addApprovers(st, relevant, author, considerReviews)
	for _, a := range pull.Assignees {
		st.assignees[strings.ToLower(a.GetLogin())] = true
	}
	return st, notifications
}

// inputs is what handling a pull request reads besides the pull request.
type inputs struct {
	files          []*github.CommitFile
	issueComments  []*github.IssueComment
	reviewComments []*github.PullRequestComment
	reviews        []*github.PullRequestReview
	owners         *repoowners.Owners
}

// read reads the pull request's files, conversation and OWNERS (at the
// head of branch), all at once: they are independent.
func (h *handler) read(ctx context.Context, branch string) (*inputs, error) {
	org, repo, n := h.pr.org, h.pr.repo, h.pr.number
	var in inputs
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		in.files, err = plugin.AllPages(func(o github.ListOptions) ([]*github.CommitFile, *github.Response, error) {
			return h.GitHub.PullRequests.ListFiles(gctx, org, repo, n, &o)
		})
		return wrap(err, "list the files of #%d", n)
	})
	g.Go(func() (err error) {
		in.issueComments, err = plugin.AllPages(func(o github.ListOptions) ([]*github.IssueComment, *github.Response, error) {
			return h.GitHub.Issues.ListComments(gctx, org, repo, n, &github.IssueListCommentsOptions{ListOptions: o})
		})
		return wrap(err, "list the comments of #%d", n)
	})
	g.Go(func() (err error) {
		in.reviewComments, err = plugin.AllPages(func(o github.ListOptions) ([]*github.PullRequestComment, *github.Response, error) {
			return h.GitHub.PullRequests.ListComments(gctx, org, repo, n, &github.PullRequestListCommentsOptions{ListOptions: o})
		})
		return wrap(err, "list the review comments of #%d", n)
	})
	g.Go(func() (err error) {
		in.reviews, err = plugin.AllPages(func(o github.ListOptions) ([]*github.PullRequestReview, *github.Response, error) {
			return h.GitHub.PullRequests.ListReviews(gctx, org, repo, n, &o)
		})
		return wrap(err, "list the reviews of #%d", n)
	})
	g.Go(func() (err error) {
		in.owners, err = h.owners.Load(gctx, repoowners.FromClient(h.GitHub), org, repo, branch, h.cfg.Owners)
		return wrap(err, "load OWNERS")
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return &in, nil

}

// notify keeps one notification: the latest is edited when the message
// changes (or a new one is posted when there is none), older ones are
// deleted.
func (h *handler) notify(ctx context.Context, existing []*comment, message string) error {
	org, repo := h.pr.org, h.pr.repo
	var latest *comment
	if len(existing) > 0 {
		latest = existing[len(existing)-1]
		for _, old := range existing[:len(existing)-1] {
			if _, err := h.GitHub.Issues.DeleteComment(ctx, org, repo, old.id); err != nil && !ghclient.IsNotFound(err) {
				return fmt.Errorf("delete an old approval notification: %w", err)
			}
		}
	}
	switch {
	case latest == nil:
		if _, _, err := h.GitHub.Issues.CreateComment(ctx, org, repo, h.pr.number, &github.IssueComment{Body: github.Ptr(message)}); err != nil {
			return fmt.Errorf("post the approval notification: %w", err)
		}
	case latest.body != message:
		if _, _, err := h.GitHub.Issues.EditComment(ctx, org, repo, latest.id, &github.IssueComment{Body: github.Ptr(message)}); err != nil {
			return fmt.Errorf("update the approval notification: %w", err)
		}
	}
	return nil
}

// humanApproved returns a function that says, asking GitHub once and only
// when needed, whether the approved label was last added by a person.
func (h *handler) humanApproved(ctx context.Context, hasLabel bool) func() bool {
	var once sync.Once
	var yes bool
	return func() bool {
		once.Do(func() {
			if !hasLabel {
				return
			}
			events, err := plugin.AllPages(func(o github.ListOptions) ([]*github.IssueEvent, *github.Response, error) {
				return h.GitHub.Issues.ListIssueEvents(ctx, h.pr.org, h.pr.repo, h.pr.number, &o)
			})
			if err != nil {
				h.Log.Error(err, "Could not tell who added the approved label; treating it as the bot's")
				return
			}
			for i := len(events) - 1; i >= 0; i-- {
				e := events[i]
				if e.GetEvent() == "labeled" && e.GetLabel().GetName() == ApprovedLabel {
					yes = !h.isBot(e.GetActor().GetLogin())
					return
				}
			}
		})
		return yes
	}
}

// links computes where the notification links to: config.yaml's
// github.link_url when set, otherwise the forge the repository is on.
func (h *handler) links(pull *github.PullRequest, branch, ownersFilename string) links {
	l := links{commandHelp: h.cfg.commandHelpLink(), prProcess: h.cfg.prProcessLink(),
		org: h.pr.org, repoName: h.pr.repo, branch: branch, ownersFilename: ownersFilename}
	repoURL := pull.GetBase().GetRepo().GetHTMLURL()
	switch {
	case h.cfg.LinkURL != "":
		l.web = strings.TrimSuffix(h.cfg.LinkURL, "/") + "/"
	case repoURL != "":
		l.web = strings.TrimSuffix(strings.TrimSuffix(repoURL, "/"+h.pr.repo), h.pr.org)
	default:
		l.web = "https://github.com/"
	}
	l.repo = l.web + h.pr.org + "/" + h.pr.repo
	return l
}

// associatedIssue finds the issue a pull request's description references
// (#N, or a link to an issue of the same org), or 0.
func associatedIssue(body, org string) int {
	re, err := regexp.Compile(fmt.Sprintf(`(?:%s/[^/]+/issues/|#)(\d+)`, regexp.QuoteMeta(org)))
	if err != nil {
		return 0
	}
	m := re.FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
