package forge

import (
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
)

// Issue comments (on issues and pull requests alike).

type bodyRequest struct {
	Body *string `json:"body"`
}

func (f *Forge) createComment(c *call) error {
	if err := c.needLogin(); err != nil {
		return err
	}
	var req bodyRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Body == nil || strings.TrimSpace(*req.Body) == "" {
		return errInvalid("IssueComment", "body", "missing_field")
	}
	var out *github.IssueComment
	err := f.write(func(t *tx) error {
		r, i, err := c.issueFor(t.state, permRead)
		if err != nil {
			return err
		}
		if i.Locked && !atLeast(t.perm(c.who, r), permWrite) {
			return errForbidden("Unable to create comment because issue is locked.")
		}
		cm := t.addComment(r, i, c.who.login, *req.Body)
		out = f.commentJSON(t.state, r, cm)
		return nil
	})
	if err != nil {
		return err
	}
	return c.created(out)
}

func (t *tx) addComment(r *repo, i *issue, who, body string) *comment {
	cm := &comment{ID: t.id(), Issue: i.Number, User: t.accountLogin(who), Body: body, Created: t.now, Updated: t.now}
	r.Comments[cm.ID] = cm
	i.Updated = t.now
	t.commentEvent(r, i, cm, "created", who, nil)
	return cm
}

// sortedComments lists comments oldest first, optionally of one issue.
func sortedComments(m map[int64]*comment, issue int, since time.Time) []*comment {
	var out []*comment
	for _, cm := range m {
		if (issue == 0 || cm.Issue == issue) && !cm.Updated.Before(since) {
			out = append(out, cm)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

func sinceParam(c *call) time.Time {
	t, _ := time.Parse(time.RFC3339, c.query("since"))
	return t
}

func (f *Forge) listComments(c *call) error {
	var out []*github.IssueComment
	err := f.read(func(s *state) error {
		r, i, err := c.issueFor(s, permRead)
		if err != nil {
			return err
		}
		out = []*github.IssueComment{}
		for _, cm := range sortedComments(r.Comments, i.Number, sinceParam(c)) {
			out = append(out, f.commentJSON(s, r, cm))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func (f *Forge) listRepoComments(c *call) error {
	var out []*github.IssueComment
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		list := sortedComments(r.Comments, 0, sinceParam(c))
		if c.query("direction") == "desc" {
			for a, b := 0, len(list)-1; a < b; a, b = a+1, b-1 {
				list[a], list[b] = list[b], list[a]
			}
		}
		out = []*github.IssueComment{}
		for _, cm := range list {
			out = append(out, f.commentJSON(s, r, cm))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func (c *call) commentFor(s *state, m func(*repo) map[int64]*comment) (*repo, *comment, error) {
	r, err := c.repoFor(s, permRead)
	if err != nil {
		return nil, nil, err
	}
	id, err := c.int64Param("id")
	if err != nil {
		return nil, nil, err
	}
	cm := m(r)[id]
	if cm == nil {
		return nil, nil, errNotFound()
	}
	return r, cm, nil
}

func issueComments(r *repo) map[int64]*comment  { return r.Comments }
func reviewComments(r *repo) map[int64]*comment { return r.ReviewComments }

func (f *Forge) getComment(c *call) error {
	var out *github.IssueComment
	err := f.read(func(s *state) error {
		r, cm, err := c.commentFor(s, issueComments)
		if err != nil {
			return err
		}
		out = f.commentJSON(s, r, cm)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// mayModify: authors may change their own comments, writers anyone's.
func (c *call) mayModify(s *state, r *repo, author string) error {
	if c.who.anonymous() {
		return errForbidden("Requires authentication")
	}
	if key(author) != key(c.who.login) && !atLeast(s.perm(c.who, r), permWrite) {
		return errForbidden("Must have write access to change another user's comment")
	}
	return nil
}

func (f *Forge) editComment(c *call) error {
	var req bodyRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Body == nil {
		return errInvalid("IssueComment", "body", "missing_field")
	}
	var out *github.IssueComment
	err := f.write(func(t *tx) error {
		r, cm, err := c.commentFor(t.state, issueComments)
		if err != nil {
			return err
		}
		if err := c.mayModify(t.state, r, cm.User); err != nil {
			return err
		}
		changes := &github.EditChange{Body: &github.EditBody{From: github.Ptr(cm.Body)}}
		cm.Body, cm.Updated = *req.Body, t.now
		if i := r.issue(cm.Issue); i != nil {
			t.commentEvent(r, i, cm, "edited", c.who.login, changes)
		}
		out = f.commentJSON(t.state, r, cm)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) deleteComment(c *call) error {
	err := f.write(func(t *tx) error {
		r, cm, err := c.commentFor(t.state, issueComments)
		if err != nil {
			return err
		}
		if err := c.mayModify(t.state, r, cm.User); err != nil {
			return err
		}
		if i := r.issue(cm.Issue); i != nil {
			t.commentEvent(r, i, cm, "deleted", c.who.login, nil)
		}
		delete(r.Comments, cm.ID)
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}
