package forge

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/google/go-github/v89/github"
)

// UnmarshalJSON tells "milestone": null (GitHub's way of clearing an
// issue's milestone) from a request that does not mention the milestone.
func (r *issueRequest) UnmarshalJSON(b []byte) error {
	type plain issueRequest
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*r = issueRequest(p)
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	if raw, ok := fields["milestone"]; ok && bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		r.clearMilestone = true
	}
	return nil
}

// setMilestone sets (n > 0) or clears (n == 0) the milestone of an issue or
// pull request and sends GitHub's milestoned or demilestoned event.
func (t *tx) setMilestone(ctx context.Context, r *repo, i *issue, n int, who string) error {
	if n != 0 && r.Milestones[n] == nil {
		return errInvalid("Issue", "milestone", "invalid")
	}
	if i.Milestone == n {
		return nil
	}
	old := i.Milestone
	i.Milestone, i.Updated = n, t.now
	action, m := "milestoned", n
	if n == 0 {
		action, m = "demilestoned", old
	}
	if i.PR != nil {
		t.pullEvent(ctx, r, i, action, who, nil)
		return nil
	}
	t.issueEvent(r, i, action, who, func(ev *github.IssuesEvent) { ev.Milestone = t.f.milestoneJSON(r, m) })
	return nil
}

// validStateReason reports whether GitHub accepts a state_reason.
func validStateReason(r string) bool {
	switch r {
	case "completed", "not_planned", "reopened", "duplicate":
		return true
	}
	return false
}
