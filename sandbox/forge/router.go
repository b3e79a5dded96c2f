package forge

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

type principalKey struct{}

// routes builds the API mux and puts it, with git's smart HTTP, behind the
// top-level handler.
func (f *Forge) routes() http.Handler {
	mux := http.NewServeMux()
	h := func(pattern string, fn handlerFunc) { mux.Handle(pattern, f.wrap(fn)) }
	const repo = "/repos/{owner}/{repo}"

	// Users and orgs.
	h("GET /user", f.getAuthenticatedUser)
	h("GET /users/{user}", f.getUser)
	h("GET /user/orgs", f.listMyOrgs)
	h("GET /users/{user}/orgs", f.listUserOrgs)
	h("GET /user/memberships/orgs", f.listMyMemberships)
	h("GET /user/memberships/orgs/{org}", f.getMyMembership)
	h("PATCH /user/memberships/orgs/{org}", f.acceptMembership)
	h("GET /orgs/{org}", f.getOrg)
	h("PATCH /orgs/{org}", f.editOrg)
	h("GET /orgs/{org}/members", f.listMembers)
	h("GET /orgs/{org}/members/{user}", f.isMember)
	h("DELETE /orgs/{org}/members/{user}", f.removeMemberHandler)
	h("GET /orgs/{org}/memberships/{user}", f.getMembership)
	h("PUT /orgs/{org}/memberships/{user}", f.setMembership)
	h("DELETE /orgs/{org}/memberships/{user}", f.removeMembership)
	h("GET /orgs/{org}/invitations", f.listInvitations)
	h("GET /orgs/{org}/outside_collaborators", f.listOutsideCollaborators)

	// Teams.
	h("GET /orgs/{org}/teams", f.listTeams)
	h("POST /orgs/{org}/teams", f.createTeam)
	h("GET /orgs/{org}/teams/{team}", f.getTeam)
	h("PATCH /orgs/{org}/teams/{team}", f.editTeam)
	h("DELETE /orgs/{org}/teams/{team}", f.deleteTeam)
	h("GET /orgs/{org}/teams/{team}/members", f.listTeamMembers)
	h("GET /orgs/{org}/teams/{team}/memberships/{user}", f.getTeamMembership)
	h("PUT /orgs/{org}/teams/{team}/memberships/{user}", f.setTeamMembership)
	h("DELETE /orgs/{org}/teams/{team}/memberships/{user}", f.removeTeamMembership)
	h("GET /orgs/{org}/teams/{team}/invitations", f.listTeamInvitations)
	h("GET /orgs/{org}/teams/{team}/repos", f.listTeamRepos)
	h("GET /orgs/{org}/teams/{team}/repos/{owner}/{repo}", f.checkTeamRepo)
	h("PUT /orgs/{org}/teams/{team}/repos/{owner}/{repo}", f.setTeamRepo)
	h("DELETE /orgs/{org}/teams/{team}/repos/{owner}/{repo}", f.removeTeamRepo)

	// Repositories and collaborators.
	h("GET /orgs/{org}/repos", f.listOrgRepos)
	h("POST /orgs/{org}/repos", f.createOrgRepo)
	h("GET /user/repos", f.listMyRepos)
	h("POST /user/repos", f.createUserRepo)
	h("GET /users/{user}/repos", f.listUserRepos)
	h("GET "+repo, f.getRepo)
	h("PATCH "+repo, f.editRepo)
	h("DELETE "+repo, f.deleteRepo)
	h("POST "+repo+"/forks", f.createFork)
	h("GET "+repo+"/forks", f.listForks)
	h("GET "+repo+"/collaborators", f.listCollaborators)
	h("GET "+repo+"/collaborators/{user}", f.isCollaborator)
	h("PUT "+repo+"/collaborators/{user}", f.addCollaborator)
	h("DELETE "+repo+"/collaborators/{user}", f.removeCollaborator)
	h("GET "+repo+"/collaborators/{user}/permission", f.collaboratorPermission)
	h("GET "+repo+"/branches", f.listBranches)
	h("GET "+repo+"/branches/{branch}", f.getBranch)
	h("GET "+repo+"/branches/{branch}/protection", f.getProtection)
	h("PUT "+repo+"/branches/{branch}/protection", f.putProtection)
	h("DELETE "+repo+"/branches/{branch}/protection", f.deleteProtection)
	h("GET "+repo+"/branches/{branch}/protection/required_status_checks", f.getRequiredChecks)
	h("PATCH "+repo+"/branches/{branch}/protection/required_status_checks", f.updateRequiredChecks)

	// Contents, git data, commits.
	h("GET "+repo+"/contents", f.getContents)
	h("GET "+repo+"/contents/{path...}", f.getContents)
	h("PUT "+repo+"/contents/{path...}", f.putContents)
	h("DELETE "+repo+"/contents/{path...}", f.deleteContents)
	h("GET "+repo+"/git/ref/{ref...}", f.getRef)
	h("GET "+repo+"/git/matching-refs/{ref...}", f.matchingRefs)
	h("GET "+repo+"/git/refs", f.listRefs)
	h("GET "+repo+"/git/refs/{ref...}", f.listRefs)
	h("POST "+repo+"/git/refs", f.createRef)
	h("PATCH "+repo+"/git/refs/{ref...}", f.updateRef)
	h("DELETE "+repo+"/git/refs/{ref...}", f.deleteRef)
	h("GET "+repo+"/git/commits/{sha}", f.getGitCommit)
	h("GET "+repo+"/git/trees/{sha}", f.getTree)
	h("GET "+repo+"/git/blobs/{sha}", f.getBlob)
	h("GET "+repo+"/commits", f.listCommits)
	h("GET "+repo+"/commits/{ref}", f.getCommit)
	h("GET "+repo+"/compare/{basehead...}", f.compare)

	// Statuses and checks.
	h("POST "+repo+"/statuses/{sha}", f.createStatus)
	h("GET "+repo+"/statuses/{ref}", f.listStatuses)
	h("GET "+repo+"/commits/{ref}/statuses", f.listStatuses)
	h("GET "+repo+"/commits/{ref}/status", f.combinedStatus)
	h("GET "+repo+"/commits/{ref}/check-runs", f.listCheckRuns)
	h("POST "+repo+"/check-runs", f.createCheckRun)
	h("GET "+repo+"/check-runs/{id}", f.getCheckRun)
	h("PATCH "+repo+"/check-runs/{id}", f.updateCheckRun)
	h("GET "+repo+"/check-runs/{id}/annotations", f.listCheckRunAnnotations)

	// Issues, comments, labels, assignees. GitHub's /issues/comments/{id}
	// and /issues/{number}/labels overlap as patterns, so one route per
	// method takes both shapes (split).
	h("GET "+repo+"/issues", f.listIssues)
	h("POST "+repo+"/issues", f.createIssue)
	h("GET "+repo+"/issues/comments", f.listRepoComments)
	h("GET "+repo+"/issues/{number}", f.getIssue)
	h("PATCH "+repo+"/issues/{number}", f.editIssue)
	h("GET "+repo+"/issues/{a}/{b}", split(f.getComment, map[string]handlerFunc{
		"comments": f.listComments, "labels": f.listIssueLabels, "events": f.listIssueEvents}))
	h("DELETE "+repo+"/issues/{a}/{b}", split(f.deleteComment, map[string]handlerFunc{
		"labels": f.removeAllIssueLabels, "assignees": f.removeAssignees}))
	h("PATCH "+repo+"/issues/comments/{id}", f.editComment)
	h("POST "+repo+"/issues/{number}/comments", f.createComment)
	h("POST "+repo+"/issues/{number}/labels", f.addIssueLabels)
	h("PUT "+repo+"/issues/{number}/labels", f.setIssueLabels)
	h("DELETE "+repo+"/issues/{number}/labels/{name...}", f.removeIssueLabel)
	h("POST "+repo+"/issues/{number}/assignees", f.addAssignees)
	h("GET "+repo+"/issues/{number}/assignees/{user}", f.checkAssignee)
	h("GET "+repo+"/assignees", f.listAssignees)
	h("GET "+repo+"/assignees/{user}", f.checkAssignee)
	h("GET "+repo+"/milestones", f.listMilestones)
	h("POST "+repo+"/milestones", f.createMilestone)
	h("GET "+repo+"/milestones/{number}", f.getMilestone)
	h("GET "+repo+"/labels", f.listLabels)
	h("POST "+repo+"/labels", f.createLabel)
	h("GET "+repo+"/labels/{name...}", f.getLabel)
	h("PATCH "+repo+"/labels/{name...}", f.editLabel)
	h("DELETE "+repo+"/labels/{name...}", f.deleteLabel)

	// Pull requests, reviews, review requests and review comments.
	h("GET "+repo+"/pulls", f.listPulls)
	h("POST "+repo+"/pulls", f.createPull)
	h("GET "+repo+"/pulls/{number}", f.getPull)
	h("PATCH "+repo+"/pulls/{number}", f.editPull)
	h("GET "+repo+"/pulls/{a}/{b}", split(f.getReviewComment, map[string]handlerFunc{
		"files": f.listPullFiles, "commits": f.listPullCommits, "merge": f.isMerged, "reviews": f.listReviews,
		"requested_reviewers": f.listRequestedReviewers, "comments": f.listReviewComments}))
	h("DELETE "+repo+"/pulls/{a}/{b}", split(f.deleteReviewComment, map[string]handlerFunc{
		"requested_reviewers": f.removeReviewers}))
	h("PATCH "+repo+"/pulls/comments/{id}", f.editReviewComment)
	h("PUT "+repo+"/pulls/{number}/merge", f.mergePull)
	h("POST "+repo+"/pulls/{number}/requested_reviewers", f.requestReviewers)
	h("POST "+repo+"/pulls/{number}/reviews", f.createReview)
	h("GET "+repo+"/pulls/{number}/reviews/{id}", f.getReview)
	h("POST "+repo+"/pulls/{number}/reviews/{id}/events", f.submitReview)
	h("PUT "+repo+"/pulls/{number}/reviews/{id}/dismissals", f.dismissReview)
	h("POST "+repo+"/pulls/{number}/comments", f.createReviewComment)

	// Search.
	h("GET /search/issues", f.searchIssues)

	// Webhooks and their deliveries, for repositories and orgs alike.
	for _, base := range []string{repo, "/orgs/{org}"} {
		h("GET "+base+"/hooks", f.listHooks)
		h("POST "+base+"/hooks", f.createHook)
		h("GET "+base+"/hooks/{id}", f.getHook)
		h("PATCH "+base+"/hooks/{id}", f.editHook)
		h("DELETE "+base+"/hooks/{id}", f.deleteHook)
		h("POST "+base+"/hooks/{id}/pings", f.pingHook)
		h("GET "+base+"/hooks/{id}/deliveries", f.listDeliveries)
		h("GET "+base+"/hooks/{id}/deliveries/{delivery}", f.getDelivery)
		h("POST "+base+"/hooks/{id}/deliveries/{delivery}/attempts", f.redeliver)
	}

	// GitHub Apps.
	h("GET /app", f.getApp)
	h("GET /app/installations", f.listInstallations)
	h("GET /app/installations/{id}", f.getInstallation)
	h("POST /app/installations/{id}/access_tokens", f.createInstallationToken)
	h("GET /orgs/{org}/installation", f.installationOn)
	h("GET /users/{user}/installation", f.installationOn)
	h("GET "+repo+"/installation", f.installationOn)
	h("GET /installation/repositories", f.installationRepos)

	// Teams by ID, as go-github's ...ByID methods address them.
	const byID = "/organizations/{orgid}/team/{teamid}"
	h("GET "+byID, f.teamByID(f.getTeam))
	h("PATCH "+byID, f.teamByID(f.editTeam))
	h("DELETE "+byID, f.teamByID(f.deleteTeam))
	h("GET "+byID+"/members", f.teamByID(f.listTeamMembers))
	h("GET "+byID+"/memberships/{user}", f.teamByID(f.getTeamMembership))
	h("PUT "+byID+"/memberships/{user}", f.teamByID(f.setTeamMembership))
	h("DELETE "+byID+"/memberships/{user}", f.teamByID(f.removeTeamMembership))
	h("GET "+byID+"/repos", f.teamByID(f.listTeamRepos))
	h("GET "+byID+"/repos/{owner}/{repo}", f.teamByID(f.checkTeamRepo))
	h("PUT "+byID+"/repos/{owner}/{repo}", f.teamByID(f.setTeamRepo))
	h("DELETE "+byID+"/repos/{owner}/{repo}", f.teamByID(f.removeTeamRepo))

	f.orgAdminRoutes(h)

	h("GET /rate_limit", f.rateLimit)
	h("/", func(c *call) error { return errNotFound() })

	f.api = mux
	git := f.gitHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.learnURL(r)
		if p, ok := strings.CutPrefix(r.URL.Path, "/api/v3"); ok && (p == "" || p[0] == '/') {
			r2 := r.Clone(r.Context())
			r2.URL.Path = p
			r2.URL.RawPath = ""
			r = r2
		}
		if f.opts.FaultInjection && r.URL.Path == FaultsPath {
			f.serveFaultsAdmin(w, r)
			return
		}
		if isGitPath(r.URL.Path) {
			git.ServeHTTP(w, r)
			return
		}
		if f.serveOAuth(w, r) {
			return
		}
		if f.injectFault(w, r) {
			return
		}
		f.serveAPI(w, r, nil)
	})
}

// split serves a route whose second-to-last segment is either "comments"
// (then the last is a comment ID) or an issue number (then the last names
// a sub-resource).
func split(comment handlerFunc, subs map[string]handlerFunc) handlerFunc {
	return func(c *call) error {
		a, b := c.param("a"), c.param("b")
		if a == "comments" {
			c.r.SetPathValue("id", b)
			return comment(c)
		}
		fn := subs[b]
		if fn == nil {
			return errNotFound()
		}
		c.r.SetPathValue("number", a)
		return fn(c)
	}
}

var apiRoots = map[string]bool{"repos": true, "orgs": true, "users": true, "user": true, "search": true,
	"app": true, "installation": true, "rate_limit": true, "organizations": true}

// isGitPath recognises /{owner}/{repo}.git/... and the smart HTTP
// endpoints of /{owner}/{repo}/...
func isGitPath(p string) bool {
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 3)
	if len(parts) < 3 || apiRoots[parts[0]] {
		return false
	}
	if strings.HasSuffix(parts[1], ".git") {
		return true
	}
	switch parts[2] {
	case "info/refs", "git-upload-pack", "git-receive-pack":
		return true
	}
	return false
}

func (f *Forge) wrap(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, _ := r.Context().Value(principalKey{}).(principal)
		c := &call{f: f, w: w, r: r, who: who}
		if err := fn(c); err != nil {
			if _, ok := err.(*apiError); !ok {
				f.log.Error(err, "API request failed", "method", r.Method, "path", r.URL.Path)
			}
			writeError(w, err)
		}
	})
}

// serveAPI authenticates (unless who is given, for an Actor), runs the
// request against the API mux with the response buffered, and finishes
// it with ETag, conditional-request and rate-limit handling.
func (f *Forge) serveAPI(w http.ResponseWriter, r *http.Request, who *principal) {
	var p principal
	if who != nil {
		p = *who
	} else {
		var err error
		if p, err = f.authenticate(r); err != nil {
			writeError(w, err)
			return
		}
	}
	resource := "core"
	if strings.HasPrefix(r.URL.Path, "/search/") {
		resource = "search"
	}
	rk := p.rateKey(r)
	hdr := w.Header()
	hdr.Set("X-GitHub-Request-Id", strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", "")[:20]))
	hdr.Set("X-GitHub-Media-Type", "github.v3; format=json")
	hdr.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	if p.scopes != nil {
		// As GitHub does for classic personal access tokens.
		hdr.Set("X-OAuth-Scopes", strings.Join(p.scopes, ", "))
	}
	if f.opts.EnforceRateLimit {
		if st := f.limits.state(rk, resource, false); st.remaining() == 0 {
			st.setHeaders(hdr)
			writeError(w, errForbidden("API rate limit exceeded. Wait for the limit to reset, or use a different token."))
			return
		}
	}
	buf := &bufferedWriter{header: http.Header{}}
	f.api.ServeHTTP(buf, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	if buf.code == 0 {
		buf.code = http.StatusOK
	}
	for k, v := range buf.header {
		hdr[k] = v
	}
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	if read && buf.code == http.StatusOK {
		etag := etagOf(buf.body.Bytes())
		hdr.Set("ETag", etag)
		hdr.Set("Cache-Control", "private, max-age=0, must-revalidate")
		hdr.Set("Vary", "Accept, Authorization, Cookie")
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
			// A 304 is free: GitHub does not count it against the limit.
			f.limits.state(rk, resource, false).setHeaders(hdr)
			hdr.Del("Content-Type")
			hdr.Del("Content-Length")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	// Actors (who != nil) stand for people using the web UI, which costs
	// nothing; /rate_limit is free on GitHub too.
	spend := who == nil && r.URL.Path != "/rate_limit"
	f.limits.state(rk, resource, spend).setHeaders(hdr)
	hdr.Set("Content-Length", strconv.Itoa(buf.body.Len()))
	w.WriteHeader(buf.code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.body.Bytes())
	}
}

// rateLimit is GET /rate_limit, which GitHub does not count either.
func (f *Forge) rateLimit(c *call) error {
	rk := c.who.rateKey(c.r)
	res := map[string]any{}
	for _, name := range []string{"core", "search"} {
		st := f.limits.state(rk, name, false)
		res[name] = map[string]any{"limit": st.limit, "remaining": st.remaining(), "reset": st.reset.Unix(),
			"used": st.used, "resource": name}
	}
	return c.ok(map[string]any{"resources": res, "rate": res["core"]})
}

// String describes the forge for logs.
func (f *Forge) String() string { return fmt.Sprintf("sandbox forge at %s", f.URL()) }
