package forge

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v89/github"
)

// Reviews, review requests and review (diff) comments.

func (f *Forge) reviewJSON(s *state, r *repo, i *issue, rv *review) *github.PullRequestReview {
	num := fmt.Sprint(i.Number)
	out := &github.PullRequestReview{ID: github.Ptr(rv.ID), NodeID: nodeID("PRR", rv.ID),
		User: f.userJSON(s, rv.User), Body: github.Ptr(rv.Body), State: github.Ptr(rv.State),
		CommitID:       github.Ptr(rv.CommitID),
		HTMLURL:        github.Ptr(f.repoHTML(r, "pull", num) + fmt.Sprintf("#pullrequestreview-%d", rv.ID)),
		PullRequestURL: github.Ptr(f.repoAPI(r, "pulls", num)),
		//lint:ignore SA1019 REST responses and webhooks still carry author_association, which Prow's trust rules read.
		AuthorAssociation: github.Ptr(s.association(r, rv.User)),
	}
	if rv.State != "PENDING" {
		out.SubmittedAt = ts(rv.Submitted)
	}
	return out
}

func (f *Forge) listReviews(c *call) error {
	var out []*github.PullRequestReview
	err := f.read(func(s *state) error {
		r, i, err := c.pullFor(s, permRead)
		if err != nil {
			return err
		}
		out = []*github.PullRequestReview{}
		for _, rv := range i.PR.Reviews {
			// Pending reviews are visible only to their author.
			if rv.State == "PENDING" && key(rv.User) != key(c.who.login) {
				continue
			}
			out = append(out, f.reviewJSON(s, r, i, rv))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func (c *call) reviewFor(s *state, want string) (*repo, *issue, *review, error) {
	r, i, err := c.pullFor(s, want)
	if err != nil {
		return nil, nil, nil, err
	}
	id, err := c.int64Param("id")
	if err != nil {
		return nil, nil, nil, err
	}
	for _, rv := range i.PR.Reviews {
		if rv.ID == id && (rv.State != "PENDING" || key(rv.User) == key(c.who.login)) {
			return r, i, rv, nil
		}
	}
	return nil, nil, nil, errNotFound()
}

func (f *Forge) getReview(c *call) error {
	var out *github.PullRequestReview
	err := f.read(func(s *state) error {
		r, i, rv, err := c.reviewFor(s, permRead)
		if err != nil {
			return err
		}
		out = f.reviewJSON(s, r, i, rv)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

type reviewRequest struct {
	CommitID string                 `json:"commit_id"`
	Body     string                 `json:"body"`
	Event    string                 `json:"event"`
	Comments []reviewCommentRequest `json:"comments"`
	Message  string                 `json:"message"`
}

type reviewCommentRequest struct {
	Body      string `json:"body"`
	Path      string `json:"path"`
	Line      int    `json:"line"`
	Position  int    `json:"position"`
	Side      string `json:"side"`
	CommitID  string `json:"commit_id"`
	InReplyTo int64  `json:"in_reply_to"`
}

var reviewStates = map[string]string{"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}

// submitState validates a review event as GitHub does.
func submitState(event, body, author, who string) (string, error) {
	st, ok := reviewStates[strings.ToUpper(event)]
	if !ok {
		return "", errInvalid("PullRequestReview", "event", "invalid")
	}
	if key(author) == key(who) && st != "COMMENTED" {
		verb := "approve"
		if st == "CHANGES_REQUESTED" {
			verb = "request changes on"
		}
		return "", errInvalidMsg(fmt.Sprintf("Unprocessable Entity: Can not %s your own pull request", verb))
	}
	if st != "APPROVED" && strings.TrimSpace(body) == "" {
		return "", errInvalidMsg("Unprocessable Entity: Body is required for this event")
	}
	return st, nil
}

func (f *Forge) createReview(c *call) error {
	if err := c.needLogin(); err != nil {
		return err
	}
	var req reviewRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.PullRequestReview
	err := f.write(func(t *tx) error {
		r, i, err := c.pullFor(t.state, permRead)
		if err != nil {
			return err
		}
		rv, err := t.addReview(c.r.Context(), r, i, c.who.login, req)
		if err != nil {
			return err
		}
		out = f.reviewJSON(t.state, r, i, rv)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// addReview records a review (pending when event is empty), its comments,
// and for a submitted one clears the reviewer's request and sends
// pull_request_review "submitted".
func (t *tx) addReview(ctx context.Context, r *repo, i *issue, who string, req reviewRequest) (*review, error) {
	st := "PENDING"
	if req.Event != "" {
		var err error
		if st, err = submitState(req.Event, req.Body, i.User, who); err != nil {
			return nil, err
		}
	}
	commit := req.CommitID
	if commit == "" {
		commit = i.PR.HeadSHA
	}
	rv := &review{ID: t.id(), User: t.accountLogin(who), Body: req.Body, State: st, CommitID: commit, Submitted: t.now}
	i.PR.Reviews = append(i.PR.Reviews, rv)
	for _, cr := range req.Comments {
		t.addReviewComment(r, i, who, cr, rv.ID)
	}
	if st != "PENDING" {
		t.submitted(ctx, r, i, rv)
	}
	return rv, nil
}

func (t *tx) submitted(ctx context.Context, r *repo, i *issue, rv *review) {
	i.PR.RequestedReviewers = removeFold(i.PR.RequestedReviewers, rv.User)
	i.Updated = t.now
	t.reviewEvent(ctx, r, i, rv, "submitted")
}

func removeFold(list []string, s string) []string {
	var out []string
	for _, l := range list {
		if key(l) != key(s) {
			out = append(out, l)
		}
	}
	return out
}

func (f *Forge) submitReview(c *call) error {
	var req reviewRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.PullRequestReview
	err := f.write(func(t *tx) error {
		r, i, rv, err := c.reviewFor(t.state, permRead)
		if err != nil {
			return err
		}
		if rv.State != "PENDING" {
			return errInvalidMsg("Unprocessable Entity: Review has already been submitted")
		}
		body := rv.Body
		if req.Body != "" {
			body = req.Body
		}
		st, err := submitState(req.Event, body, i.User, rv.User)
		if err != nil {
			return err
		}
		rv.State, rv.Body, rv.Submitted = st, body, t.now
		t.submitted(c.r.Context(), r, i, rv)
		out = f.reviewJSON(t.state, r, i, rv)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) dismissReview(c *call) error {
	var req reviewRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.PullRequestReview
	err := f.write(func(t *tx) error {
		r, i, rv, err := c.reviewFor(t.state, permWrite)
		if err != nil {
			return err
		}
		if rv.State == "PENDING" {
			return errInvalidMsg("Can not dismiss a pending review")
		}
		rv.State = "DISMISSED"
		t.reviewEvent(c.r.Context(), r, i, rv, "dismissed")
		out = f.reviewJSON(t.state, r, i, rv)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// reviewDecision is GitHub's review decision from each reviewer's latest
// approving or change-requesting review: "approved", "changes_requested"
// or "" (none). approvals counts approvers with write access.
func (s *state) reviewDecision(r *repo, i *issue) (decision string, approvals int) {
	latest := map[string]string{}
	for _, rv := range i.PR.Reviews {
		switch rv.State {
		case "APPROVED", "CHANGES_REQUESTED", "DISMISSED":
			latest[key(rv.User)] = rv.State
		}
	}
	changes := false
	for login, st := range latest {
		switch st {
		case "APPROVED":
			if atLeast(s.perm(principal{login: login}, r), permWrite) {
				approvals++
			}
			if decision == "" {
				decision = "approved"
			}
		case "CHANGES_REQUESTED":
			changes = true
		}
	}
	if changes {
		decision = "changes_requested"
	}
	return decision, approvals
}

// Review requests.

func (f *Forge) reviewersJSON(s *state, r *repo, i *issue) *github.Reviewers {
	out := &github.Reviewers{Users: f.usersJSON(s, i.PR.RequestedReviewers), Teams: []*github.Team{}}
	if o := s.org(r.Owner); o != nil {
		for _, slug := range i.PR.RequestedTeams {
			if tm := o.Teams[slug]; tm != nil {
				out.Teams = append(out.Teams, f.teamJSON(o, tm))
			}
		}
	}
	return out
}

func (f *Forge) listRequestedReviewers(c *call) error {
	var out *github.Reviewers
	err := f.read(func(s *state) error {
		r, i, err := c.pullFor(s, permRead)
		if err != nil {
			return err
		}
		out = f.reviewersJSON(s, r, i)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

type reviewersRequest struct {
	Reviewers     []string `json:"reviewers"`
	TeamReviewers []string `json:"team_reviewers"`
}

func (f *Forge) requestReviewers(c *call) error {
	var req reviewersRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.PullRequest
	err := f.write(func(t *tx) error {
		r, i, err := c.pullFor(t.state, permTriage)
		if err != nil {
			return err
		}
		ctx := c.r.Context()
		for _, login := range req.Reviewers {
			if key(login) == key(i.User) {
				return errInvalidMsg("Review cannot be requested from pull request author.")
			}
			if !t.hasAccess(r, login) {
				return errInvalidMsg("Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the " + r.fullName() + " repository.")
			}
		}
		o := t.org(r.Owner)
		for _, slug := range req.TeamReviewers {
			if o == nil || o.Teams[key(slug)] == nil {
				return errInvalidMsg("Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the " + r.fullName() + " repository.")
			}
		}
		for _, login := range req.Reviewers {
			if !containsFold(i.PR.RequestedReviewers, login) {
				i.PR.RequestedReviewers = append(i.PR.RequestedReviewers, t.accountLogin(login))
				t.pullEvent(ctx, r, i, "review_requested", c.who.login, func(ev *github.PullRequestEvent) {
					ev.RequestedReviewer = f.userJSON(t.state, login)
				})
			}
		}
		for _, slug := range req.TeamReviewers {
			if !contains(i.PR.RequestedTeams, key(slug)) {
				i.PR.RequestedTeams = append(i.PR.RequestedTeams, key(slug))
				t.pullEvent(ctx, r, i, "review_requested", c.who.login, func(ev *github.PullRequestEvent) {
					ev.RequestedTeam = f.teamJSON(o, o.Teams[key(slug)])
				})
			}
		}
		i.Updated = t.now
		out = f.pullJSON(ctx, t.state, r, i, false)
		return nil
	})
	if err != nil {
		return err
	}
	return c.created(out)
}

func (f *Forge) removeReviewers(c *call) error {
	var req reviewersRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.PullRequest
	err := f.write(func(t *tx) error {
		r, i, err := c.pullFor(t.state, permTriage)
		if err != nil {
			return err
		}
		ctx := c.r.Context()
		for _, login := range req.Reviewers {
			if containsFold(i.PR.RequestedReviewers, login) {
				i.PR.RequestedReviewers = removeFold(i.PR.RequestedReviewers, login)
				t.pullEvent(ctx, r, i, "review_request_removed", c.who.login, func(ev *github.PullRequestEvent) {
					ev.RequestedReviewer = f.userJSON(t.state, login)
				})
			}
		}
		for _, slug := range req.TeamReviewers {
			i.PR.RequestedTeams = removeAll(i.PR.RequestedTeams, []string{key(slug)})
		}
		out = f.pullJSON(ctx, t.state, r, i, false)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// Review comments: comments on lines of a pull request's diff.

func (f *Forge) reviewCommentJSON(s *state, r *repo, cm *comment) *github.PullRequestComment {
	id := fmt.Sprint(cm.ID)
	num := fmt.Sprint(cm.Issue)
	out := &github.PullRequestComment{ID: github.Ptr(cm.ID), NodeID: nodeID("PRRC", cm.ID), Body: github.Ptr(cm.Body),
		Path: github.Ptr(cm.Path), CommitID: github.Ptr(cm.CommitID), OriginalCommitID: github.Ptr(cm.CommitID),
		User: f.userJSON(s, cm.User), CreatedAt: ts(cm.Created), UpdatedAt: ts(cm.Updated),
		//lint:ignore SA1019 REST responses and webhooks still carry author_association, which Prow's trust rules read.
		AuthorAssociation: github.Ptr(s.association(r, cm.User)),
		URL:               github.Ptr(f.repoAPI(r, "pulls", "comments", id)),
		HTMLURL:           github.Ptr(f.repoHTML(r, "pull", num) + "#discussion_r" + id),
		PullRequestURL:    github.Ptr(f.repoAPI(r, "pulls", num)),
	}
	if cm.Line > 0 {
		out.Line, out.OriginalLine = github.Ptr(cm.Line), github.Ptr(cm.Line)
	}
	if cm.Side != "" {
		out.Side = github.Ptr(cm.Side)
	}
	if cm.ReviewID != 0 {
		out.PullRequestReviewID = github.Ptr(cm.ReviewID)
	}
	if cm.InReplyTo != 0 {
		out.InReplyTo = github.Ptr(cm.InReplyTo)
	}
	return out
}

func (t *tx) addReviewComment(r *repo, i *issue, who string, req reviewCommentRequest, reviewID int64) *comment {
	commit := req.CommitID
	if commit == "" {
		commit = i.PR.HeadSHA
	}
	line := req.Line
	if line == 0 {
		line = req.Position
	}
	side := req.Side
	if side == "" {
		side = "RIGHT"
	}
	cm := &comment{ID: t.id(), Issue: i.Number, User: t.accountLogin(who), Body: req.Body, Path: req.Path,
		Line: line, Side: side, CommitID: commit, ReviewID: reviewID, InReplyTo: req.InReplyTo,
		Created: t.now, Updated: t.now}
	if parent := r.ReviewComments[req.InReplyTo]; parent != nil {
		cm.Path, cm.Line, cm.Side, cm.CommitID = parent.Path, parent.Line, parent.Side, parent.CommitID
	}
	r.ReviewComments[cm.ID] = cm
	return cm
}

func (f *Forge) listReviewComments(c *call) error {
	var out []*github.PullRequestComment
	err := f.read(func(s *state) error {
		r, i, err := c.pullFor(s, permRead)
		if err != nil {
			return err
		}
		out = []*github.PullRequestComment{}
		for _, cm := range sortedComments(r.ReviewComments, i.Number, sinceParam(c)) {
			out = append(out, f.reviewCommentJSON(s, r, cm))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func (f *Forge) createReviewComment(c *call) error {
	if err := c.needLogin(); err != nil {
		return err
	}
	var req reviewCommentRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Body) == "" {
		return errInvalid("PullRequestReviewComment", "body", "missing_field")
	}
	var out *github.PullRequestComment
	err := f.write(func(t *tx) error {
		r, i, err := c.pullFor(t.state, permRead)
		if err != nil {
			return err
		}
		if req.InReplyTo == 0 && req.Path == "" {
			return errInvalid("PullRequestReviewComment", "path", "missing_field")
		}
		rv := &review{ID: t.id(), User: t.accountLogin(c.who.login), State: "COMMENTED", CommitID: i.PR.HeadSHA, Submitted: t.now}
		i.PR.Reviews = append(i.PR.Reviews, rv)
		cm := t.addReviewComment(r, i, c.who.login, req, rv.ID)
		out = f.reviewCommentJSON(t.state, r, cm)
		return nil
	})
	if err != nil {
		return err
	}
	return c.created(out)
}

func (f *Forge) getReviewComment(c *call) error {
	var out *github.PullRequestComment
	err := f.read(func(s *state) error {
		r, cm, err := c.commentFor(s, reviewComments)
		if err != nil {
			return err
		}
		out = f.reviewCommentJSON(s, r, cm)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) editReviewComment(c *call) error {
	var req bodyRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Body == nil {
		return errInvalid("PullRequestReviewComment", "body", "missing_field")
	}
	var out *github.PullRequestComment
	err := f.write(func(t *tx) error {
		r, cm, err := c.commentFor(t.state, reviewComments)
		if err != nil {
			return err
		}
		if err := c.mayModify(t.state, r, cm.User); err != nil {
			return err
		}
		cm.Body, cm.Updated = *req.Body, t.now
		out = f.reviewCommentJSON(t.state, r, cm)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) deleteReviewComment(c *call) error {
	err := f.write(func(t *tx) error {
		r, cm, err := c.commentFor(t.state, reviewComments)
		if err != nil {
			return err
		}
		if err := c.mayModify(t.state, r, cm.User); err != nil {
			return err
		}
		delete(r.ReviewComments, cm.ID)
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}
