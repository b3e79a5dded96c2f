package forge

import (
	"strconv"
	"time"

	"github.com/google/go-github/v89/github"
)

// issueEvent is one entry of an issue's or pull request's events, as
// GitHub's issue events API lists them: who labeled, unlabeled, assigned or
// unassigned it, and what.
type issueEvent struct {
	ID       int64     `json:"id"`
	Event    string    `json:"event"`
	Actor    string    `json:"actor"`
	Label    string    `json:"label,omitempty"`
	Color    string    `json:"color,omitempty"`
	Assignee string    `json:"assignee,omitempty"`
	Created  time.Time `json:"created"`
}

// recordEvent appends an event to an issue's history.
func (t *tx) recordEvent(i *issue, ev issueEvent) {
	ev.ID, ev.Created, ev.Actor = t.id(), t.now, t.accountLogin(ev.Actor)
	i.Events = append(i.Events, &ev)
}

func (t *tx) recordLabelEvent(i *issue, action, who string, l *label) {
	if l == nil {
		return
	}
	t.recordEvent(i, issueEvent{Event: action, Actor: who, Label: l.Name, Color: l.Color})
}

func (t *tx) recordAssignEvent(i *issue, action, login, who string) {
	t.recordEvent(i, issueEvent{Event: action, Actor: who, Assignee: login})
}

// listIssueEvents is GET /repos/{owner}/{repo}/issues/{number}/events,
// oldest first.
func (f *Forge) listIssueEvents(c *call) error {
	var out []*github.IssueEvent
	err := f.read(func(s *state) error {
		r, i, err := c.issueFor(s, permRead)
		if err != nil {
			return err
		}
		out = []*github.IssueEvent{}
		for _, ev := range i.Events {
			e := &github.IssueEvent{
				ID: github.Ptr(ev.ID), Event: github.Ptr(ev.Event),
				URL:       github.Ptr(f.repoAPI(r, "issues", "events", strconv.FormatInt(ev.ID, 10))),
				Actor:     f.userJSON(s, ev.Actor),
				CreatedAt: &github.Timestamp{Time: ev.Created},
			}
			if ev.Label != "" {
				e.Label = &github.Label{Name: github.Ptr(ev.Label), Color: github.Ptr(ev.Color)}
			}
			if ev.Assignee != "" {
				e.Assignee = f.userJSON(s, ev.Assignee)
				e.Assigner = f.userJSON(s, ev.Actor)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}
