package forge

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
)

// Rendering turns the model into go-github's types, which marshal to
// GitHub's JSON. Callers hold f.mu.

func ts(t time.Time) *github.Timestamp { return &github.Timestamp{Time: t} }

func tsp(t *time.Time) *github.Timestamp {
	if t == nil || t.IsZero() {
		return nil
	}
	return ts(*t)
}

func nodeID(kind string, id int64) *string {
	return github.Ptr(fmt.Sprintf("%s_%d", kind, id))
}

func (f *Forge) apiURL(parts ...string) string {
	return f.URL() + "/" + strings.Join(parts, "/")
}

func (f *Forge) repoAPI(r *repo, parts ...string) string {
	return f.apiURL(append([]string{"repos", r.Owner, r.Name}, parts...)...)
}

func (f *Forge) repoHTML(r *repo, parts ...string) string {
	return f.apiURL(append([]string{r.Owner, r.Name}, parts...)...)
}

// userJSON renders a user or organization account by login.
func (f *Forge) userJSON(s *state, login string) *github.User {
	if login == "" {
		return nil
	}
	if u := s.user(login); u != nil {
		return &github.User{
			Login: github.Ptr(u.Login), ID: github.Ptr(u.ID), NodeID: nodeID("U", u.ID),
			Type: github.Ptr(u.Type), SiteAdmin: github.Ptr(u.SiteAdmin),
			URL: github.Ptr(f.apiURL("users", u.Login)), HTMLURL: github.Ptr(f.apiURL(u.Login)),
			AvatarURL: github.Ptr(f.apiURL("avatars", u.Login)),
		}
	}
	if o := s.org(login); o != nil {
		return &github.User{
			Login: github.Ptr(o.Login), ID: github.Ptr(o.ID), NodeID: nodeID("O", o.ID),
			Type: github.Ptr("Organization"), SiteAdmin: github.Ptr(false),
			URL: github.Ptr(f.apiURL("users", o.Login)), HTMLURL: github.Ptr(f.apiURL(o.Login)),
			AvatarURL: github.Ptr(f.apiURL("avatars", o.Login)),
		}
	}
	return &github.User{Login: github.Ptr(login), Type: github.Ptr("User")}
}

// fullUserJSON adds the profile fields that GET /users/{u} reports.
func (f *Forge) fullUserJSON(s *state, u *user) *github.User {
	out := f.userJSON(s, u.Login)
	if u.Name != "" {
		out.Name = github.Ptr(u.Name)
	}
	if u.Email != "" {
		out.Email = github.Ptr(u.Email)
	}
	out.CreatedAt = ts(u.Created)
	out.UpdatedAt = ts(u.Created)
	return out
}

func (f *Forge) orgJSON(o *org) *github.Organization {
	out := &github.Organization{
		Login: github.Ptr(o.Login), ID: github.Ptr(o.ID), NodeID: nodeID("O", o.ID),
		URL:       github.Ptr(f.apiURL("orgs", o.Login)),
		HTMLURL:   github.Ptr(f.apiURL(o.Login)),
		ReposURL:  github.Ptr(f.apiURL("orgs", o.Login, "repos")),
		HooksURL:  github.Ptr(f.apiURL("orgs", o.Login, "hooks")),
		Type:      github.Ptr("Organization"),
		CreatedAt: ts(o.Created),
	}
	if o.Name != "" {
		out.Name = github.Ptr(o.Name)
	}
	if o.Description != "" {
		out.Description = github.Ptr(o.Description)
	}
	if o.Email != "" {
		out.Email = github.Ptr(o.Email)
	}
	def := o.DefaultPerm
	if def == "" {
		def = permRead
	}
	out.DefaultRepoPermission = github.Ptr(def)
	renderOrgSettings(out, o.Settings)
	return out
}

// repoJSON renders a repository as seen by p (the permissions block).
func (f *Forge) repoJSON(s *state, r *repo, p principal) *github.Repository {
	vis := "public"
	switch {
	case r.Internal:
		vis = "internal"
	case r.Private:
		vis = "private"
	}
	out := &github.Repository{
		ID: github.Ptr(r.ID), NodeID: nodeID("R", r.ID),
		Name: github.Ptr(r.Name), FullName: github.Ptr(r.fullName()),
		Owner:                    f.userJSON(s, r.Owner),
		Private:                  github.Ptr(r.Private),
		Visibility:               github.Ptr(vis),
		Archived:                 github.Ptr(r.Archived),
		Disabled:                 github.Ptr(false),
		Fork:                     github.Ptr(r.Parent != ""),
		Description:              github.Ptr(r.Description),
		Homepage:                 github.Ptr(r.Homepage),
		DefaultBranch:            github.Ptr(r.DefaultBranch),
		MasterBranch:             github.Ptr(r.DefaultBranch),
		HasIssues:                github.Ptr(r.HasIssues),
		HasWiki:                  github.Ptr(r.HasWiki),
		HasProjects:              github.Ptr(r.HasProjects),
		AllowMergeCommit:         github.Ptr(r.AllowMerge),
		AllowSquashMerge:         github.Ptr(r.AllowSquash),
		AllowRebaseMerge:         github.Ptr(r.AllowRebase),
		SquashMergeCommitTitle:   github.Ptr(cmp.Or(r.SquashTitle, "COMMIT_OR_PR_TITLE")),
		SquashMergeCommitMessage: github.Ptr(cmp.Or(r.SquashMessage, "COMMIT_MESSAGES")),
		CreatedAt:                ts(r.Created),
		UpdatedAt:                ts(r.Updated),
		URL:                      github.Ptr(f.repoAPI(r)),
		HTMLURL:                  github.Ptr(f.repoHTML(r)),
		CloneURL:                 github.Ptr(f.repoHTML(r) + ".git"),
		GitURL:                   github.Ptr(f.repoHTML(r) + ".git"),
		SSHURL:                   github.Ptr(f.repoHTML(r) + ".git"),
		HooksURL:                 github.Ptr(f.repoAPI(r, "hooks")),
		PullsURL:                 github.Ptr(f.repoAPI(r, "pulls{/number}")),
		IssuesURL:                github.Ptr(f.repoAPI(r, "issues{/number}")),
		StatusesURL:              github.Ptr(f.repoAPI(r, "statuses/{sha}")),
		OpenIssuesCount:          github.Ptr(r.openIssues()),
	}
	if !r.Pushed.IsZero() {
		out.PushedAt = ts(r.Pushed)
	}
	if o := s.org(r.Owner); o != nil {
		out.Organization = f.orgJSON(o)
	}
	if parent := s.Repos[key(r.Parent)]; r.Parent != "" && parent != nil {
		// One level deep, as GitHub nests parent and source.
		out.Parent = f.repoJSON(s, &repo{ID: parent.ID, Owner: parent.Owner, Name: parent.Name, Description: parent.Description,
			Private: parent.Private, DefaultBranch: parent.DefaultBranch, Created: parent.Created, Updated: parent.Updated,
			Pushed: parent.Pushed, Parent: "", HasIssues: parent.HasIssues}, principal{})
		out.Parent.Fork = github.Ptr(parent.Parent != "")
		root := s.root(r)
		out.Source = f.repoJSON(s, &repo{ID: root.ID, Owner: root.Owner, Name: root.Name, Description: root.Description,
			Private: root.Private, DefaultBranch: root.DefaultBranch, Created: root.Created, Updated: root.Updated,
			Pushed: root.Pushed, HasIssues: root.HasIssues}, principal{})
	}
	if !p.anonymous() {
		have := s.perm(p, r)
		out.Permissions = &github.RepositoryPermissions{
			Admin:    github.Ptr(atLeast(have, permAdmin)),
			Maintain: github.Ptr(atLeast(have, permMaintain)),
			Push:     github.Ptr(atLeast(have, permWrite)),
			Triage:   github.Ptr(atLeast(have, permTriage)),
			Pull:     github.Ptr(atLeast(have, permRead)),
		}
		out.RoleName = github.Ptr(have)
	}
	return out
}

func (r *repo) openIssues() int {
	n := 0
	for _, i := range r.Issues {
		if i.State == "open" {
			n++
		}
	}
	return n
}

func (f *Forge) labelJSON(r *repo, l *label) *github.Label {
	return &github.Label{
		ID: github.Ptr(l.ID), NodeID: nodeID("LA", l.ID),
		Name: github.Ptr(l.Name), Color: github.Ptr(l.Color),
		Description: github.Ptr(l.Description), Default: github.Ptr(l.Default),
		URL: github.Ptr(f.repoAPI(r, "labels", l.Name)),
	}
}

func (f *Forge) labelsJSON(r *repo, keys []string) []*github.Label {
	out := []*github.Label{}
	for _, k := range keys {
		if l := r.Labels[k]; l != nil {
			out = append(out, f.labelJSON(r, l))
		}
	}
	return out
}

func (f *Forge) usersJSON(s *state, logins []string) []*github.User {
	out := []*github.User{}
	for _, l := range logins {
		out = append(out, f.userJSON(s, l))
	}
	return out
}

// association is GitHub's author_association of login on r, which Prow's
// trust rules read.
func (s *state) association(r *repo, login string) string {
	if key(login) == key(r.Owner) {
		return "OWNER"
	}
	if o := s.org(r.Owner); o != nil {
		if _, ok := o.Members[key(login)]; ok {
			return "MEMBER"
		}
	}
	if _, ok := r.Collaborators[key(login)]; ok {
		return "COLLABORATOR"
	}
	for _, i := range r.Issues {
		if i.PR != nil && i.PR.Merged && key(i.User) == key(login) {
			return "CONTRIBUTOR"
		}
	}
	return "NONE"
}

func (f *Forge) milestoneJSON(r *repo, n int) *github.Milestone {
	m := r.Milestones[n]
	if m == nil {
		return nil
	}
	return &github.Milestone{ID: github.Ptr(m.ID), Number: github.Ptr(m.Number), Title: github.Ptr(m.Title),
		State: github.Ptr(m.State), URL: github.Ptr(f.repoAPI(r, "milestones", fmt.Sprint(m.Number)))}
}

func (f *Forge) issueJSON(s *state, r *repo, i *issue) *github.Issue {
	num := fmt.Sprint(i.Number)
	out := &github.Issue{
		ID: github.Ptr(i.ID), NodeID: nodeID("I", i.ID), Number: github.Ptr(i.Number),
		Title: github.Ptr(i.Title), Body: github.Ptr(i.Body), State: github.Ptr(i.State),
		Locked: github.Ptr(i.Locked), User: f.userJSON(s, i.User),
		Labels: f.labelsJSON(r, i.Labels), Assignees: f.usersJSON(s, i.Assignees),
		Comments:  github.Ptr(r.commentCount(i.Number)),
		CreatedAt: ts(i.Created),
		UpdatedAt: ts(i.Updated),
		ClosedAt:  tsp(i.Closed),
		//lint:ignore SA1019 REST responses and webhooks still carry author_association, which Prow's trust rules read.
		AuthorAssociation: github.Ptr(s.association(r, i.User)),
		URL:               github.Ptr(f.repoAPI(r, "issues", num)),
		HTMLURL:           github.Ptr(f.repoHTML(r, "issues", num)),
		CommentsURL:       github.Ptr(f.repoAPI(r, "issues", num, "comments")),
		LabelsURL:         github.Ptr(f.repoAPI(r, "issues", num, "labels{/name}")),
		RepositoryURL:     github.Ptr(f.repoAPI(r)),
		Milestone:         f.milestoneJSON(r, i.Milestone),
	}
	if i.StateReason != "" {
		out.StateReason = github.Ptr(i.StateReason)
	}
	if len(i.Assignees) > 0 {
		out.Assignee = f.userJSON(s, i.Assignees[0])
	}
	if i.ClosedBy != "" {
		out.ClosedBy = f.userJSON(s, i.ClosedBy)
	}
	if i.PR != nil {
		out.HTMLURL = github.Ptr(f.repoHTML(r, "pull", num))
		out.Draft = github.Ptr(i.PR.Draft)
		out.PullRequestLinks = &github.PullRequestLinks{
			URL:      github.Ptr(f.repoAPI(r, "pulls", num)),
			HTMLURL:  github.Ptr(f.repoHTML(r, "pull", num)),
			DiffURL:  github.Ptr(f.repoHTML(r, "pull", num) + ".diff"),
			PatchURL: github.Ptr(f.repoHTML(r, "pull", num) + ".patch"),
			MergedAt: tsp(i.PR.MergedAt),
		}
	}
	return out
}

func (r *repo) commentCount(n int) int {
	c := 0
	for _, cm := range r.Comments {
		if cm.Issue == n {
			c++
		}
	}
	return c
}

// pullJSON renders a pull request. detail adds what only GET of one pull
// request reports (mergeability, counts), which costs git work.
func (f *Forge) pullJSON(ctx context.Context, s *state, r *repo, i *issue, detail bool) *github.PullRequest {
	p := i.PR
	num := fmt.Sprint(i.Number)
	rj := f.repoJSON(s, r, principal{})
	baseSHA, _ := f.git.ResolveRef(ctx, r.Owner, r.Name, "refs/heads/"+p.Base)
	out := &github.PullRequest{
		ID: github.Ptr(i.ID), NodeID: nodeID("PR", i.ID), Number: github.Ptr(i.Number),
		State: github.Ptr(i.State), Locked: github.Ptr(i.Locked),
		Title: github.Ptr(i.Title), Body: github.Ptr(i.Body),
		CreatedAt: ts(i.Created), UpdatedAt: ts(i.Updated), ClosedAt: tsp(i.Closed), MergedAt: tsp(p.MergedAt),
		Labels: f.labelsJSON(r, i.Labels), User: f.userJSON(s, i.User),
		Draft:              github.Ptr(p.Draft),
		Assignees:          f.usersJSON(s, i.Assignees),
		RequestedReviewers: f.usersJSON(s, p.RequestedReviewers),
		Milestone:          f.milestoneJSON(r, i.Milestone),
		//lint:ignore SA1019 REST responses and webhooks still carry author_association, which Prow's trust rules read.
		AuthorAssociation:   github.Ptr(s.association(r, i.User)),
		MaintainerCanModify: github.Ptr(p.MaintainerCanModify),
		URL:                 github.Ptr(f.repoAPI(r, "pulls", num)),
		HTMLURL:             github.Ptr(f.repoHTML(r, "pull", num)),
		IssueURL:            github.Ptr(f.repoAPI(r, "issues", num)),
		DiffURL:             github.Ptr(f.repoHTML(r, "pull", num) + ".diff"),
		PatchURL:            github.Ptr(f.repoHTML(r, "pull", num) + ".patch"),
		CommitsURL:          github.Ptr(f.repoAPI(r, "pulls", num, "commits")),
		CommentsURL:         github.Ptr(f.repoAPI(r, "issues", num, "comments")),
		ReviewCommentsURL:   github.Ptr(f.repoAPI(r, "pulls", num, "comments")),
		StatusesURL:         github.Ptr(f.repoAPI(r, "statuses", p.HeadSHA)),
		Head: &github.PullRequestBranch{
			Label: github.Ptr(p.headOwner(r) + ":" + p.Head), Ref: github.Ptr(p.Head), SHA: github.Ptr(p.HeadSHA),
			Repo: rj, User: f.userJSON(s, p.headOwner(r)),
		},
		Base: &github.PullRequestBranch{
			Label: github.Ptr(r.Owner + ":" + p.Base), Ref: github.Ptr(p.Base), SHA: github.Ptr(baseSHA),
			Repo: rj, User: f.userJSON(s, r.Owner),
		},
		Merged: github.Ptr(p.Merged),
	}
	if p.HeadRepo != "" {
		// A deleted fork leaves the head repository null, as on GitHub.
		out.Head.Repo = nil
		if hr := s.headRepo(r, p); hr != nil {
			out.Head.Repo = f.repoJSON(s, hr, principal{})
		}
	}
	if len(i.Assignees) > 0 {
		out.Assignee = f.userJSON(s, i.Assignees[0])
	}
	for _, t := range p.RequestedTeams {
		if o := s.org(r.Owner); o != nil && o.Teams[t] != nil {
			out.RequestedTeams = append(out.RequestedTeams, f.teamJSON(o, o.Teams[t]))
		}
	}
	if p.Merged {
		out.MergedBy = f.userJSON(s, p.MergedBy)
		out.MergeCommitSHA = github.Ptr(p.MergeCommitSHA)
	}
	if detail {
		f.pullDetail(ctx, s, r, i, out)
	}
	return out
}

func (f *Forge) commentJSON(s *state, r *repo, c *comment) *github.IssueComment {
	id := fmt.Sprint(c.ID)
	html := f.repoHTML(r, "issues", fmt.Sprint(c.Issue))
	if i := r.issue(c.Issue); i != nil && i.PR != nil {
		html = f.repoHTML(r, "pull", fmt.Sprint(c.Issue))
	}
	return &github.IssueComment{
		ID: github.Ptr(c.ID), NodeID: nodeID("IC", c.ID), Body: github.Ptr(c.Body),
		User: f.userJSON(s, c.User), CreatedAt: ts(c.Created), UpdatedAt: ts(c.Updated),
		//lint:ignore SA1019 REST responses and webhooks still carry author_association, which Prow's trust rules read.
		AuthorAssociation: github.Ptr(s.association(r, c.User)),
		URL:               github.Ptr(f.repoAPI(r, "issues", "comments", id)),
		HTMLURL:           github.Ptr(html + "#issuecomment-" + id),
		IssueURL:          github.Ptr(f.repoAPI(r, "issues", fmt.Sprint(c.Issue))),
	}
}

// pullDetail adds what only GET of one pull request reports: counts and
// mergeability, which cost git work.
func (f *Forge) pullDetail(ctx context.Context, s *state, r *repo, i *issue, out *github.PullRequest) {
	p := i.PR
	// A merged pull request is compared with its base before the merge.
	baseSHA, _ := f.pullBase(ctx, r, i)
	out.Comments = github.Ptr(r.commentCount(i.Number))
	rc := 0
	for _, c := range r.ReviewComments {
		if c.Issue == i.Number {
			rc++
		}
	}
	out.ReviewComments = github.Ptr(rc)
	if commits, err := f.git.Log(ctx, r.Owner, r.Name, baseSHA, p.HeadSHA, 250); err == nil {
		out.Commits = github.Ptr(len(commits))
	}
	if files, err := f.git.Diff(ctx, r.Owner, r.Name, baseSHA, p.HeadSHA); err == nil {
		add, del := 0, 0
		for _, fc := range files {
			add += fc.Additions
			del += fc.Deletions
		}
		out.Additions, out.Deletions, out.ChangedFiles = github.Ptr(add), github.Ptr(del), github.Ptr(len(files))
	}
	if i.State == "open" {
		mergeable, mstate := f.mergeability(ctx, s, r, i)
		out.Mergeable = github.Ptr(mergeable)
		out.Rebaseable = github.Ptr(mergeable)
		out.MergeableState = github.Ptr(mstate)
	} else {
		out.MergeableState = github.Ptr("unknown")
	}
}
