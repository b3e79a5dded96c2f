package forge

import (
	"context"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/gitstore"
)

// event is one webhook event, rendered while the state was locked and
// addressed to the hooks that wanted it at that moment.
type event struct {
	name    string
	action  string
	repoID  int64
	payload any
	targets []hookTarget
}

// hookTarget is a copy of what delivery needs from a hook, so that delivery
// runs without the state lock.
type hookTarget struct {
	id          int64
	url         string
	secret      string
	contentType string
	kind        string // repository|organization
	targetID    int64
	instID      int64
}

// emit addresses an event to the repository's hooks and its org's hooks.
// A nil repository (org-level events) uses org only.
func (t *tx) emit(name, action string, r *repo, orgLogin string, payload any) {
	ev := event{name: name, action: action, payload: payload}
	var instID int64
	owner := orgLogin
	if r != nil {
		owner = r.Owner
		ev.repoID = r.ID
		for _, h := range r.Hooks {
			if h.wants(name) {
				ev.targets = append(ev.targets, hookTarget{id: h.ID, url: h.URL, secret: h.Secret,
					contentType: h.ContentType, kind: "repository", targetID: r.ID})
			}
		}
	}
	if in := t.installationFor(owner); in != nil {
		instID = in.ID
	}
	if o := t.org(owner); o != nil {
		for _, h := range o.Hooks {
			if h.wants(name) {
				ev.targets = append(ev.targets, hookTarget{id: h.ID, url: h.URL, secret: h.Secret,
					contentType: h.ContentType, kind: "organization", targetID: o.ID})
			}
		}
	}
	for i := range ev.targets {
		ev.targets[i].instID = instID
	}
	if len(ev.targets) > 0 {
		t.events = append(t.events, ev)
	}
}

// envelope holds the fields every payload carries.
type envelope struct {
	repo   *github.Repository
	sender *github.User
	org    *github.Organization
	inst   *github.Installation
}

func (t *tx) envelope(r *repo, sender string) envelope {
	e := envelope{repo: t.f.repoJSON(t.state, r, principal{}), sender: t.f.userJSON(t.state, sender)}
	if o := t.org(r.Owner); o != nil {
		e.org = t.f.orgJSON(o)
	}
	if in := t.installationFor(r.Owner); in != nil {
		e.inst = &github.Installation{ID: github.Ptr(in.ID), NodeID: nodeID("IN", in.ID)}
	}
	return e
}

// hasHooks is a cheap check that spares rendering payloads nobody receives.
func (t *tx) hasHooks(r *repo) bool {
	if len(r.Hooks) > 0 {
		return true
	}
	o := t.org(r.Owner)
	return o != nil && len(o.Hooks) > 0
}

func (t *tx) issueEvent(r *repo, i *issue, action, sender string, mod func(*github.IssuesEvent)) {
	if !t.hasHooks(r) {
		return
	}
	e := t.envelope(r, sender)
	ev := &github.IssuesEvent{Action: github.Ptr(action), Issue: t.f.issueJSON(t.state, r, i),
		Repo: e.repo, Sender: e.sender, Installation: e.inst, Org: e.org}
	if mod != nil {
		mod(ev)
	}
	t.emit("issues", action, r, "", ev)
}

func (t *tx) pullEvent(ctx context.Context, r *repo, i *issue, action, sender string, mod func(*github.PullRequestEvent)) {
	if !t.hasHooks(r) {
		return
	}
	e := t.envelope(r, sender)
	ev := &github.PullRequestEvent{Action: github.Ptr(action), Number: github.Ptr(i.Number),
		PullRequest: t.f.pullJSON(ctx, t.state, r, i, false),
		Repo:        e.repo, Sender: e.sender, Installation: e.inst, Organization: e.org}
	if mod != nil {
		mod(ev)
	}
	t.emit("pull_request", action, r, "", ev)
}

// issueOrPullLabelEvent sends "labeled"/"unlabeled" as a pull_request or
// issues event, as GitHub does.
func (t *tx) labelEvent(ctx context.Context, r *repo, i *issue, action, sender string, l *label) {
	t.recordLabelEvent(i, action, sender, l)
	if i.PR != nil {
		t.pullEvent(ctx, r, i, action, sender, func(ev *github.PullRequestEvent) { ev.Label = t.f.labelJSON(r, l) })
		return
	}
	t.issueEvent(r, i, action, sender, func(ev *github.IssuesEvent) { ev.Label = t.f.labelJSON(r, l) })
}

func (t *tx) commentEvent(r *repo, i *issue, c *comment, action, sender string, changes *github.EditChange) {
	if !t.hasHooks(r) {
		return
	}
	e := t.envelope(r, sender)
	ev := &github.IssueCommentEvent{Action: github.Ptr(action), Issue: t.f.issueJSON(t.state, r, i),
		Comment: t.f.commentJSON(t.state, r, c), Changes: changes,
		Repo: e.repo, Sender: e.sender, Installation: e.inst, Organization: e.org}
	t.emit("issue_comment", action, r, "", ev)
}

func (t *tx) reviewEvent(ctx context.Context, r *repo, i *issue, rv *review, action string) {
	if !t.hasHooks(r) {
		return
	}
	e := t.envelope(r, rv.User)
	ev := &github.PullRequestReviewEvent{Action: github.Ptr(action), Review: t.f.reviewJSON(t.state, r, i, rv),
		PullRequest: t.f.pullJSON(ctx, t.state, r, i, false),
		Repo:        e.repo, Sender: e.sender, Installation: e.inst, Organization: e.org}
	t.emit("pull_request_review", action, r, "", ev)
}

func (t *tx) statusEvent(r *repo, sha string, st *status) {
	if !t.hasHooks(r) {
		return
	}
	e := t.envelope(r, st.Creator)
	ev := &github.StatusEvent{ID: github.Ptr(st.ID), SHA: github.Ptr(sha), Name: github.Ptr(r.fullName()),
		State: github.Ptr(st.State), Context: github.Ptr(st.Context),
		Description: github.Ptr(st.Description), TargetURL: github.Ptr(st.TargetURL),
		Commit:    &github.RepositoryCommit{SHA: github.Ptr(sha), URL: github.Ptr(t.f.repoAPI(r, "commits", sha))},
		CreatedAt: ts(st.Created), UpdatedAt: ts(st.Updated), Branches: []*github.Branch{},
		Repo: e.repo, Sender: e.sender, Installation: e.inst, Org: e.org}
	t.emit("status", "", r, "", ev)
}

func (t *tx) checkRunEvent(r *repo, cr *checkRun, action, sender string) {
	if !t.hasHooks(r) {
		return
	}
	e := t.envelope(r, sender)
	ev := &github.CheckRunEvent{Action: github.Ptr(action), CheckRun: t.f.checkRunJSON(t.state, r, cr),
		Repo: e.repo, Sender: e.sender, Installation: e.inst, Org: e.org}
	t.emit("check_run", action, r, "", ev)
}

// pushEvent describes one ref update as GitHub's push payload.
func (t *tx) pushEvent(ctx context.Context, r *repo, u gitstore.RefUpdate, pusher string) {
	if !t.hasHooks(r) {
		return
	}
	zero := strings.Repeat("0", 40)
	before, after := u.Old, u.New
	if before == "" {
		before = zero
	}
	if after == "" {
		after = zero
	}
	e := t.envelope(r, pusher)
	pr := &github.PushEventRepository{
		ID: github.Ptr(r.ID), NodeID: nodeID("R", r.ID), Name: github.Ptr(r.Name), FullName: github.Ptr(r.fullName()),
		Owner: t.f.userJSON(t.state, r.Owner), Private: github.Ptr(r.Private), Description: github.Ptr(r.Description),
		Fork: github.Ptr(r.Parent != ""), CreatedAt: ts(r.Created), UpdatedAt: ts(r.Updated), PushedAt: ts(t.now),
		DefaultBranch: github.Ptr(r.DefaultBranch), MasterBranch: github.Ptr(r.DefaultBranch),
		Archived: github.Ptr(r.Archived), URL: github.Ptr(t.f.repoHTML(r)), HTMLURL: github.Ptr(t.f.repoHTML(r)),
		CloneURL: github.Ptr(t.f.repoHTML(r) + ".git"), GitURL: github.Ptr(t.f.repoHTML(r) + ".git"),
		SSHURL: github.Ptr(t.f.repoHTML(r) + ".git"), StatusesURL: github.Ptr(t.f.repoAPI(r, "statuses/{sha}")),
	}
	if t.org(r.Owner) != nil {
		pr.Organization = github.Ptr(r.Owner)
	}
	email := ""
	if u := t.user(pusher); u != nil {
		email = u.Email
	}
	ev := &github.PushEvent{
		Ref: github.Ptr(u.Ref), Before: github.Ptr(before), After: github.Ptr(after),
		Created: github.Ptr(u.Old == ""), Deleted: github.Ptr(u.New == ""), Forced: github.Ptr(false),
		Compare: github.Ptr(t.f.repoHTML(r, "compare", shortSHA(before)+"..."+shortSHA(after))),
		Repo:    pr, Pusher: &github.CommitAuthor{Name: github.Ptr(pusher), Email: github.Ptr(email)},
		Commits: []*github.HeadCommit{},
		Sender:  e.sender, Installation: e.inst, Organization: e.org,
	}
	if u.New != "" {
		base := u.Old
		commits, err := t.f.git.Log(ctx, r.Owner, r.Name, base, u.New, 20)
		if err == nil {
			for _, c := range commits {
				ev.Commits = append(ev.Commits, t.f.headCommit(ctx, r, c))
			}
		}
		if u.Old != "" {
			if mb, err := t.f.git.MergeBase(ctx, r.Owner, r.Name, u.Old, u.New); err == nil && mb != u.Old {
				ev.Forced = github.Ptr(true)
			}
		}
		if len(ev.Commits) > 0 {
			ev.HeadCommit = ev.Commits[len(ev.Commits)-1]
		} else if c, err := t.f.git.GetCommit(ctx, r.Owner, r.Name, u.New); err == nil {
			ev.HeadCommit = t.f.headCommit(ctx, r, *c)
		}
	}
	t.emit("push", "", r, "", ev)
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func (f *Forge) headCommit(ctx context.Context, r *repo, c gitstore.Commit) *github.HeadCommit {
	hc := &github.HeadCommit{
		ID: github.Ptr(c.SHA), SHA: github.Ptr(c.SHA), TreeID: github.Ptr(c.Tree), Message: github.Ptr(c.Message),
		Timestamp: ts(c.Committer.When), Distinct: github.Ptr(true),
		URL:       github.Ptr(f.repoHTML(r, "commit", c.SHA)),
		Author:    &github.CommitAuthor{Name: github.Ptr(c.Author.Name), Email: github.Ptr(c.Author.Email)},
		Committer: &github.CommitAuthor{Name: github.Ptr(c.Committer.Name), Email: github.Ptr(c.Committer.Email)},
		Added:     []string{}, Removed: []string{}, Modified: []string{},
	}
	parent := ""
	if len(c.Parents) > 0 {
		parent = c.Parents[0]
	}
	if changes, err := f.git.Diff(ctx, r.Owner, r.Name, parent, c.SHA); err == nil {
		for _, fc := range changes {
			switch fc.Status {
			case "added":
				hc.Added = append(hc.Added, fc.Filename)
			case "removed":
				hc.Removed = append(hc.Removed, fc.Filename)
			default:
				hc.Modified = append(hc.Modified, fc.Filename)
			}
		}
	}
	return hc
}

// pingEvent is what GitHub sends to a hook just created.
func (t *tx) pingEvent(r *repo, o *org, h *hook, sender string) {
	ev := &github.PingEvent{Zen: github.Ptr("Keep it logically awesome."), HookID: github.Ptr(h.ID),
		Sender: t.f.userJSON(t.state, sender)}
	target := hookTarget{id: h.ID, url: h.URL, secret: h.Secret, contentType: h.ContentType}
	if r != nil {
		ev.Hook = t.f.hookJSON(r, nil, h)
		ev.Repo = t.f.repoJSON(t.state, r, principal{})
		target.kind, target.targetID = "repository", r.ID
	} else {
		ev.Hook = t.f.hookJSON(nil, o, h)
		ev.Org = t.f.orgJSON(o)
		target.kind, target.targetID = "organization", o.ID
	}
	t.events = append(t.events, event{name: "ping", payload: ev, targets: []hookTarget{target}})
}
