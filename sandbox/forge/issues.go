package forge

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
)

// issueFor finds {number} in a repository the caller can see with want.
func (c *call) issueFor(s *state, want string) (*repo, *issue, error) {
	r, err := c.repoFor(s, want)
	if err != nil {
		return nil, nil, err
	}
	n, err := c.intParam("number")
	if err != nil {
		return nil, nil, err
	}
	i := r.issue(n)
	if i == nil {
		return nil, nil, errNotFound()
	}
	return r, i, nil
}

// needLogin rejects anonymous callers of write endpoints.
func (c *call) needLogin() error {
	if c.who.anonymous() {
		return errStatus(http.StatusUnauthorized, "Requires authentication")
	}
	return nil
}

type issueRequest struct {
	Title       *string   `json:"title"`
	Body        *string   `json:"body"`
	State       *string   `json:"state"`
	StateReason *string   `json:"state_reason"`
	Labels      *[]string `json:"labels"`
	Assignee    *string   `json:"assignee"`
	Assignees   *[]string `json:"assignees"`
	Milestone   *int      `json:"milestone"`
	// clearMilestone is set for "milestone": null.
	clearMilestone bool
}

func (f *Forge) createIssue(c *call) error {
	if err := c.needLogin(); err != nil {
		return err
	}
	var req issueRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Title == nil || strings.TrimSpace(*req.Title) == "" {
		return errInvalid("Issue", "title", "missing_field")
	}
	var out *github.Issue
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permRead)
		if err != nil {
			return err
		}
		if !r.HasIssues {
			return errStatus(http.StatusGone, "Issues are disabled for this repo")
		}
		i := t.newIssue(r, *req.Title, c.who.login)
		if req.Body != nil {
			i.Body = *req.Body
		}
		// GitHub silently drops labels, assignees and milestones set by
		// people who may not triage.
		if atLeast(t.perm(c.who, r), permTriage) {
			if req.Labels != nil {
				t.ensureLabels(r, *req.Labels)
				i.Labels = labelKeys(*req.Labels)
			}
			i.Assignees = t.assignable(r, nil, nil, assigneesOf(req))
			if req.Milestone != nil && r.Milestones[*req.Milestone] != nil {
				i.Milestone = *req.Milestone
			}
		}
		t.issueEvent(r, i, "opened", c.who.login, nil)
		out = f.issueJSON(t.state, r, i)
		return nil
	})
	if err != nil {
		return err
	}
	return c.created(out)
}

func assigneesOf(req issueRequest) []string {
	var out []string
	if req.Assignees != nil {
		out = append(out, *req.Assignees...)
	}
	if req.Assignee != nil && *req.Assignee != "" {
		out = append(out, *req.Assignee)
	}
	return out
}

func (t *tx) newIssue(r *repo, title, author string) *issue {
	i := &issue{ID: t.id(), Number: r.NextNumber, Title: title, User: t.accountLogin(author),
		State: "open", Created: t.now, Updated: t.now}
	r.NextNumber++
	r.Issues[i.Number] = i
	return i
}

func labelKeys(names []string) []string {
	var out []string
	for _, n := range names {
		if k := key(strings.TrimSpace(n)); k != "" && !contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// ensureLabels creates labels that do not exist yet, as GitHub does when an
// issue is labeled with a new name.
func (t *tx) ensureLabels(r *repo, names []string) {
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n != "" && r.label(n) == nil {
			r.Labels[key(n)] = &label{ID: t.id(), Name: n, Color: "ededed"}
		}
	}
}

func (f *Forge) getIssue(c *call) error {
	var out *github.Issue
	err := f.read(func(s *state) error {
		r, i, err := c.issueFor(s, permRead)
		if err != nil {
			return err
		}
		out = f.issueJSON(s, r, i)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) listIssues(c *call) error {
	var out []*github.Issue
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		q := c.r.URL.Query()
		st := q.Get("state")
		if st == "" {
			st = "open"
		}
		var since time.Time
		if v := q.Get("since"); v != "" {
			since, _ = time.Parse(time.RFC3339, v)
		}
		var list []*issue
		for _, i := range r.Issues {
			if st != "all" && i.State != st {
				continue
			}
			if v := q.Get("labels"); v != "" && !hasAllLabels(i, strings.Split(v, ",")) {
				continue
			}
			if v := q.Get("creator"); v != "" && key(v) != key(i.User) {
				continue
			}
			if v := q.Get("assignee"); v != "" && !matchAssignee(i, v) {
				continue
			}
			if !since.IsZero() && i.Updated.Before(since) {
				continue
			}
			list = append(list, i)
		}
		sortIssues(r, list, q.Get("sort"), q.Get("direction"))
		out = []*github.Issue{}
		for _, i := range list {
			out = append(out, f.issueJSON(s, r, i))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func hasAllLabels(i *issue, names []string) bool {
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" && !i.hasLabel(n) {
			return false
		}
	}
	return true
}

func matchAssignee(i *issue, v string) bool {
	switch v {
	case "*":
		return len(i.Assignees) > 0
	case "none":
		return len(i.Assignees) == 0
	}
	return containsFold(i.Assignees, v)
}

func sortIssues(r *repo, list []*issue, by, dir string) {
	k := func(i *issue) int64 {
		switch by {
		case "updated":
			return i.Updated.UnixNano()
		case "comments":
			return int64(r.commentCount(i.Number))
		}
		return i.Created.UnixNano()*1000 + int64(i.Number%1000)
	}
	asc := dir == "asc"
	sort.SliceStable(list, func(a, b int) bool {
		ka, kb := k(list[a]), k(list[b])
		if ka == kb {
			ka, kb = int64(list[a].Number), int64(list[b].Number)
		}
		if asc {
			return ka < kb
		}
		return ka > kb
	})
}

func (f *Forge) editIssue(c *call) error {
	if err := c.needLogin(); err != nil {
		return err
	}
	var req issueRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.Issue
	err := f.write(func(t *tx) error {
		r, i, err := c.issueFor(t.state, permRead)
		if err != nil {
			return err
		}
		if err := t.editIssue(c.r.Context(), c, r, i, req); err != nil {
			return err
		}
		out = f.issueJSON(t.state, r, i)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// editIssue applies an edit to an issue or pull request, checking the
// caller may make each part of it and emitting GitHub's events.
func (t *tx) editIssue(ctx context.Context, c *call, r *repo, i *issue, req issueRequest) error {
	who := c.who.login
	perm := t.perm(c.who, r)
	triage := atLeast(perm, permTriage)
	author := key(i.User) == key(who)
	if !triage && !author {
		return errForbidden("Must have triage access to edit this issue")
	}
	if (req.Labels != nil || req.Assignees != nil || req.Assignee != nil || req.Milestone != nil || req.clearMilestone) && !triage {
		return errForbidden("Must have triage access to change labels, assignees or milestones")
	}
	changes := &github.EditChange{}
	edited := false
	if req.Title != nil && *req.Title != i.Title {
		if strings.TrimSpace(*req.Title) == "" {
			return errInvalid("Issue", "title", "missing_field")
		}
		changes.Title = &github.EditTitle{From: github.Ptr(i.Title)}
		i.Title, edited = *req.Title, true
	}
	if req.Body != nil && *req.Body != i.Body {
		changes.Body = &github.EditBody{From: github.Ptr(i.Body)}
		i.Body, edited = *req.Body, true
	}
	i.Updated = t.now
	if edited {
		if i.PR != nil {
			t.pullEvent(ctx, r, i, "edited", who, func(ev *github.PullRequestEvent) { ev.Changes = changes })
		} else {
			t.issueEvent(r, i, "edited", who, func(ev *github.IssuesEvent) { ev.Changes = changes })
		}
	}
	if req.Labels != nil {
		t.setLabels(ctx, r, i, *req.Labels, who)
	}
	if req.Assignees != nil || req.Assignee != nil {
		t.setAssignees(ctx, r, i, t.assignable(r, i, nil, assigneesOf(req)), who)
	}
	if req.Milestone != nil || req.clearMilestone {
		if err := t.setMilestone(ctx, r, i, deref(req.Milestone), who); err != nil {
			return err
		}
	}
	if req.State != nil && *req.State != i.State {
		reason := ""
		if req.StateReason != nil {
			reason = *req.StateReason
			if !validStateReason(reason) {
				return errInvalid("Issue", "state_reason", "invalid")
			}
		}
		switch *req.State {
		case "closed", "open":
			if err := t.setState(ctx, r, i, *req.State, reason, who); err != nil {
				return err
			}
		default:
			return errInvalid("Issue", "state", "invalid")
		}
	}
	return nil
}

// setState closes or reopens an issue or pull request.
func (t *tx) setState(ctx context.Context, r *repo, i *issue, st, reason, who string) error {
	if i.PR != nil && i.PR.Merged {
		return errInvalidMsg("Cannot change the state of a merged pull request")
	}
	i.State, i.Updated = st, t.now
	action := "reopened"
	if st == "closed" {
		now := t.now
		i.Closed, i.ClosedBy, action = &now, t.accountLogin(who), "closed"
		if reason == "" && i.PR == nil {
			reason = "completed"
		}
	} else {
		i.Closed, i.ClosedBy = nil, ""
		if i.PR == nil {
			reason = "reopened"
		}
	}
	if i.PR == nil {
		i.StateReason = reason
		t.issueEvent(r, i, action, who, nil)
		return nil
	}
	if st == "open" {
		// The head may have moved while the pull request was closed.
		hr := t.headRepo(r, i.PR)
		if hr == nil {
			return errInvalidMsg("The head repository of this pull request no longer exists")
		}
		if sha, err := t.f.git.ResolveRef(ctx, hr.Owner, hr.Name, "refs/heads/"+i.PR.Head); err == nil {
			if err := t.fetchHead(ctx, r, hr, i.PR.Head); err != nil {
				return err
			}
			i.PR.HeadSHA = sha
			_ = t.f.git.SetRef(ctx, r.Owner, r.Name, pullRef(i.Number), sha, true)
		} else {
			return errInvalidMsg("The head branch of this pull request no longer exists")
		}
	}
	t.pullEvent(ctx, r, i, action, who, nil)
	return nil
}

func (t *tx) setAssignees(ctx context.Context, r *repo, i *issue, logins []string, who string) {
	for _, old := range i.Assignees {
		if !containsFold(logins, old) {
			t.assignEvent(ctx, r, i, "unassigned", old, who)
		}
	}
	prev := i.Assignees
	i.Assignees = logins
	for _, l := range logins {
		if !containsFold(prev, l) {
			t.assignEvent(ctx, r, i, "assigned", l, who)
		}
	}
}

func (t *tx) assignEvent(ctx context.Context, r *repo, i *issue, action, login, who string) {
	t.recordAssignEvent(i, action, login, who)
	if i.PR != nil {
		t.pullEvent(ctx, r, i, action, who, func(ev *github.PullRequestEvent) { ev.Assignee = t.f.userJSON(t.state, login) })
		return
	}
	t.issueEvent(r, i, action, who, func(ev *github.IssuesEvent) { ev.Assignee = t.f.userJSON(t.state, login) })
}

type assigneesRequest struct {
	Assignees []string `json:"assignees"`
}

func (f *Forge) addAssignees(c *call) error    { return f.changeAssignees(c, true) }
func (f *Forge) removeAssignees(c *call) error { return f.changeAssignees(c, false) }

func (f *Forge) changeAssignees(c *call, add bool) error {
	var req assigneesRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.Issue
	err := f.write(func(t *tx) error {
		r, i, err := c.issueFor(t.state, permTriage)
		if err != nil {
			return err
		}
		next := append([]string(nil), i.Assignees...)
		if add {
			next = t.assignable(r, i, next, req.Assignees)
		} else {
			var kept []string
			for _, a := range next {
				if !containsFold(req.Assignees, a) {
					kept = append(kept, a)
				}
			}
			next = kept
		}
		i.Updated = t.now
		t.setAssignees(c.r.Context(), r, i, next, c.who.login)
		out = f.issueJSON(t.state, r, i)
		return nil
	})
	if err != nil {
		return err
	}
	if add {
		return c.created(out)
	}
	return c.ok(out)
}

func (f *Forge) listAssignees(c *call) error {
	var out []*github.User
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		var logins []string
		for l := range s.accessList(r, "all") {
			logins = append(logins, l)
		}
		sort.Strings(logins)
		out = f.usersJSON(s, canonical(s, logins))
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func (f *Forge) checkAssignee(c *call) error {
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		if _, ok := s.accessList(r, "all")[key(c.param("user"))]; !ok {
			return errNotFound()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}
