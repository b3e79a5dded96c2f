package forge

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/google/go-github/v89/github"
)

var slugInvalid = regexp.MustCompile(`[^a-z0-9_-]+`)

// slugify makes a team slug from its name as GitHub does.
func slugify(name string) string {
	return strings.Trim(slugInvalid.ReplaceAllString(strings.ToLower(name), "-"), "-")
}

func (f *Forge) teamJSON(o *org, t *team) *github.Team {
	base := f.apiURL("orgs", o.Login, "teams", t.Slug)
	out := &github.Team{ID: github.Ptr(t.ID), NodeID: nodeID("T", t.ID), Name: github.Ptr(t.Name),
		Slug: github.Ptr(t.Slug), Description: github.Ptr(t.Description), Privacy: github.Ptr(t.Privacy),
		Permission: github.Ptr("pull"), MembersCount: github.Ptr(len(t.Members)), ReposCount: github.Ptr(len(t.Repos)),
		URL: github.Ptr(base), HTMLURL: github.Ptr(f.apiURL("orgs", o.Login, "teams", t.Slug)),
		MembersURL: github.Ptr(base + "/members{/member}"), RepositoriesURL: github.Ptr(base + "/repos"),
		Organization: f.orgJSON(o)}
	if p := o.Teams[t.Parent]; p != nil && t.Parent != "" {
		out.Parent = &github.Team{ID: github.Ptr(p.ID), Name: github.Ptr(p.Name), Slug: github.Ptr(p.Slug)}
	}
	return out
}

// teamFor finds {org}/{team_slug}. Org members may read teams; changing
// them takes an org owner or a maintainer of the team.
func (c *call) teamFor(s *state, manage bool) (*org, *team, error) {
	o, err := c.orgFor(s, false)
	if err != nil {
		return nil, nil, err
	}
	t := o.Teams[key(c.param("team"))]
	role := s.orgRole(c.who, o)
	if t == nil || role == "" {
		return nil, nil, errNotFound()
	}
	if manage && role != "admin" && t.Members[key(c.who.login)] != "maintainer" {
		return nil, nil, errForbidden("You must be an organization owner or team maintainer to do that.")
	}
	return o, t, nil
}

func (f *Forge) listTeams(c *call) error {
	var out []*github.Team
	err := f.read(func(s *state) error {
		o, err := c.orgFor(s, false)
		if err != nil {
			return err
		}
		if s.orgRole(c.who, o) == "" {
			return errForbidden("You must be a member of the organization to list its teams.")
		}
		var ts []*team
		for _, t := range o.Teams {
			ts = append(ts, t)
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].Slug < ts[j].Slug })
		out = []*github.Team{}
		for _, t := range ts {
			out = append(out, f.teamJSON(o, t))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func (f *Forge) getTeam(c *call) error {
	var out *github.Team
	err := f.read(func(s *state) error {
		o, t, err := c.teamFor(s, false)
		if err != nil {
			return err
		}
		out = f.teamJSON(o, t)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

type teamRequest struct {
	Name         *string    `json:"name"`
	Description  *string    `json:"description"`
	Privacy      *string    `json:"privacy"`
	ParentTeamID optionalID `json:"parent_team_id"`
	Maintainers  []string   `json:"maintainers"`
	RepoNames    []string   `json:"repo_names"`
	Permission   *string    `json:"permission"`
}

// optionalID is a JSON ID that may be absent (unchanged), null (removed)
// or set.
type optionalID struct {
	set, null bool
	id        int64
}

func (o *optionalID) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) == "null" {
		o.null = true
		return nil
	}
	return json.Unmarshal(b, &o.id)
}

// applyTeam sets a team's description, privacy and parent. Nested teams
// are closed: a child team defaults to closed, and neither a parent nor a
// child can be secret, as on GitHub.
func (t *tx) applyTeam(o *org, tm *team, req *teamRequest, creating bool) error {
	if req.Description != nil {
		tm.Description = *req.Description
	}
	if req.Privacy != nil {
		if *req.Privacy != "closed" && *req.Privacy != "secret" {
			return errInvalid("Team", "privacy", "invalid")
		}
		tm.Privacy = *req.Privacy
	}
	switch pid := req.ParentTeamID; {
	case pid.set && pid.null:
		tm.Parent = ""
	case pid.set:
		parent := ""
		for slug, p := range o.Teams {
			if p.ID == pid.id {
				parent = slug
			}
		}
		if parent == "" || parent == tm.Slug || isDescendant(o, parent, tm.Slug) {
			return errInvalid("Team", "parent_team_id", "invalid")
		}
		tm.Parent = parent
		if creating && req.Privacy == nil {
			tm.Privacy = "closed"
		}
	}
	if tm.Privacy == "secret" {
		if tm.Parent != "" || hasChildren(o, tm.Slug) {
			return &apiError{Status: http.StatusUnprocessableEntity, Message: "Validation Failed",
				Errors: []fieldError{{Resource: "Team", Field: "privacy", Code: "custom", Message: "A secret team cannot be nested"}}}
		}
	}
	return nil
}

// isDescendant reports whether slug is below ancestor.
func isDescendant(o *org, slug, ancestor string) bool {
	for i := 0; slug != "" && i < len(o.Teams); i++ {
		tm := o.Teams[slug]
		if tm == nil {
			return false
		}
		if tm.Parent == ancestor {
			return true
		}
		slug = tm.Parent
	}
	return false
}

func hasChildren(o *org, slug string) bool {
	for _, c := range o.Teams {
		if c.Parent == slug && slug != "" {
			return true
		}
	}
	return false
}

// subtree lists a team and its descendants, the team first.
func subtree(o *org, tm *team) []*team {
	out := []*team{tm}
	for i := 0; i < len(out) && i < len(o.Teams); i++ {
		for _, c := range o.Teams {
			if c.Parent == out[i].Slug {
				out = append(out, c)
			}
		}
	}
	return out
}

// listedMembers are a team's members as GitHub lists them: the members of
// its child teams included, with the role they have in the nearest team,
// and those whose org invitation is still pending left out (GitHub lists
// them as the team's invitations).
func listedMembers(o *org, tm *team) map[string]string {
	out := map[string]string{}
	for _, t := range subtree(o, tm) {
		for login, role := range t.Members {
			if _, pending := o.Invitations[login]; pending {
				continue
			}
			if _, seen := out[login]; !seen {
				out[login] = role
			}
		}
	}
	return out
}

func (f *Forge) createTeam(c *call) error {
	var req teamRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Name == nil || *req.Name == "" {
		return errInvalid("Team", "name", "missing_field")
	}
	var out *github.Team
	err := f.write(func(t *tx) error {
		o, err := c.orgFor(t.state, true)
		if err != nil {
			return err
		}
		slug := slugify(*req.Name)
		if o.Teams[slug] != nil {
			return errInvalid("Team", "name", "already_exists")
		}
		tm := &team{ID: t.id(), Name: *req.Name, Slug: slug, Privacy: "secret",
			Members: map[string]string{}, Repos: map[string]string{}, Created: t.now}
		if err := t.applyTeam(o, tm, &req, true); err != nil {
			return err
		}
		for _, m := range req.Maintainers {
			tm.Members[key(m)] = "maintainer"
		}
		perm := permRead
		if req.Permission != nil && normPerm(*req.Permission) != "" {
			perm = normPerm(*req.Permission)
		}
		for _, rn := range req.RepoNames {
			owner, name, ok := strings.Cut(rn, "/")
			if !ok {
				owner, name = o.Login, rn
			}
			if r := t.repo(owner, name); r != nil && key(r.Owner) == key(o.Login) {
				tm.Repos[key(r.fullName())] = perm
			}
		}
		o.Teams[slug] = tm
		out = f.teamJSON(o, tm)
		return nil
	})
	if err != nil {
		return err
	}
	return c.created(out)
}

func (f *Forge) editTeam(c *call) error {
	var req teamRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.Team
	err := f.write(func(t *tx) error {
		o, tm, err := c.teamFor(t.state, true)
		if err != nil {
			return err
		}
		if err := t.applyTeam(o, tm, &req, false); err != nil {
			return err
		}
		if req.Name != nil && *req.Name != tm.Name {
			slug := slugify(*req.Name)
			if other := o.Teams[slug]; other != nil && other != tm {
				return errInvalid("Team", "name", "already_exists")
			}
			delete(o.Teams, tm.Slug)
			for _, child := range o.Teams {
				if child.Parent == tm.Slug {
					child.Parent = slug
				}
			}
			tm.Name, tm.Slug = *req.Name, slug
			o.Teams[slug] = tm
		}
		out = f.teamJSON(o, tm)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) deleteTeam(c *call) error {
	err := f.write(func(t *tx) error {
		o, tm, err := c.teamFor(t.state, true)
		if err != nil {
			return err
		}
		delete(o.Teams, tm.Slug)
		for _, child := range o.Teams {
			if child.Parent == tm.Slug {
				child.Parent = ""
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

func (f *Forge) listTeamMembers(c *call) error {
	var out []*github.User
	err := f.read(func(s *state) error {
		o, tm, err := c.teamFor(s, false)
		if err != nil {
			return err
		}
		role := c.query("role")
		var logins []string
		for l, r := range listedMembers(o, tm) {
			if role == "" || role == "all" || role == r {
				logins = append(logins, l)
			}
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

// teamMembershipJSON is login's membership of a team, through a child team
// if need be; pending while their org invitation is.
func (f *Forge) teamMembershipJSON(o *org, tm *team, login string) *github.Membership {
	role := tm.Members[key(login)]
	if role == "" {
		for _, t := range subtree(o, tm) {
			if r := t.Members[key(login)]; r != "" && role == "" {
				role = r
			}
		}
	}
	state := "active"
	if _, pending := o.Invitations[key(login)]; pending {
		state = "pending"
	}
	return &github.Membership{URL: github.Ptr(f.apiURL("orgs", o.Login, "teams", tm.Slug, "memberships", login)),
		State: github.Ptr(state), Role: github.Ptr(role)}
}

func (f *Forge) getTeamMembership(c *call) error {
	var out *github.Membership
	err := f.read(func(s *state) error {
		o, tm, err := c.teamFor(s, false)
		if err != nil {
			return err
		}
		inSubtree := false
		for _, t := range subtree(o, tm) {
			if _, ok := t.Members[key(c.param("user"))]; ok {
				inSubtree = true
			}
		}
		if !inSubtree {
			return errNotFound()
		}
		out = f.teamMembershipJSON(o, tm, s.accountLogin(c.param("user")))
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// setTeamMembership adds an org member to a team at once; GitHub invites
// non-members to the org first, and so does the sandbox.
func (f *Forge) setTeamMembership(c *call) error {
	var req struct {
		Role string `json:"role"`
	}
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Role == "" {
		req.Role = "member"
	}
	if req.Role != "member" && req.Role != "maintainer" {
		return errInvalid("Membership", "role", "invalid")
	}
	var out *github.Membership
	err := f.write(func(t *tx) error {
		o, tm, err := c.teamFor(t.state, true)
		if err != nil {
			return err
		}
		u := t.user(c.param("user"))
		if u == nil {
			return errNotFound()
		}
		if _, member := o.Members[key(u.Login)]; !member {
			if o.Invitations == nil {
				o.Invitations = map[string]*invitation{}
			}
			if o.Invitations[key(u.Login)] == nil {
				o.Invitations[key(u.Login)] = &invitation{ID: t.id(), Login: u.Login, Role: "member", Inviter: c.who.login, Created: t.now}
			}
		}
		tm.Members[key(u.Login)] = req.Role
		out = f.teamMembershipJSON(o, tm, u.Login)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) removeTeamMembership(c *call) error {
	err := f.write(func(t *tx) error {
		_, tm, err := c.teamFor(t.state, true)
		if err != nil {
			return err
		}
		if _, ok := tm.Members[key(c.param("user"))]; !ok {
			return errNotFound()
		}
		delete(tm.Members, key(c.param("user")))
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

func (f *Forge) teamRepoJSON(s *state, r *repo, perm string) *github.Repository {
	out := f.repoJSON(s, r, principal{})
	out.Permissions = &github.RepositoryPermissions{
		Admin: github.Ptr(atLeast(perm, permAdmin)), Maintain: github.Ptr(atLeast(perm, permMaintain)),
		Push: github.Ptr(atLeast(perm, permWrite)), Triage: github.Ptr(atLeast(perm, permTriage)),
		Pull: github.Ptr(atLeast(perm, permRead)),
	}
	out.RoleName = github.Ptr(perm)
	return out
}

func (f *Forge) listTeamRepos(c *call) error {
	var out []*github.Repository
	err := f.read(func(s *state) error {
		_, tm, err := c.teamFor(s, false)
		if err != nil {
			return err
		}
		var names []string
		for n := range tm.Repos {
			names = append(names, n)
		}
		sort.Strings(names)
		out = []*github.Repository{}
		for _, n := range names {
			if r := s.Repos[n]; r != nil {
				out = append(out, f.teamRepoJSON(s, r, tm.Repos[n]))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

// checkTeamRepo answers 204, or the repository with the team's permission
// when the client asks for it by media type, as GitHub does.
func (f *Forge) checkTeamRepo(c *call) error {
	var out *github.Repository
	err := f.read(func(s *state) error {
		_, tm, err := c.teamFor(s, false)
		if err != nil {
			return err
		}
		k := key(c.param("owner") + "/" + c.param("repo"))
		perm, ok := tm.Repos[k]
		if !ok || s.Repos[k] == nil {
			return errNotFound()
		}
		out = f.teamRepoJSON(s, s.Repos[k], perm)
		return nil
	})
	if err != nil {
		return err
	}
	if strings.Contains(c.r.Header.Get("Accept"), "repository+json") {
		return c.ok(out)
	}
	return c.noContent()
}

func (f *Forge) setTeamRepo(c *call) error {
	var req struct {
		Permission string `json:"permission"`
	}
	if err := c.decode(&req); err != nil {
		return err
	}
	perm := permWrite
	if req.Permission != "" {
		if perm = normPerm(req.Permission); perm == "" {
			return errInvalid("Team", "permission", "invalid")
		}
	}
	err := f.write(func(t *tx) error {
		o, tm, err := c.teamFor(t.state, true)
		if err != nil {
			return err
		}
		r := t.repo(c.param("owner"), c.param("repo"))
		if r == nil || key(r.Owner) != key(o.Login) {
			return errStatus(http.StatusUnprocessableEntity, "Validation Failed")
		}
		tm.Repos[key(r.fullName())] = perm
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

func (f *Forge) removeTeamRepo(c *call) error {
	err := f.write(func(t *tx) error {
		_, tm, err := c.teamFor(t.state, true)
		if err != nil {
			return err
		}
		delete(tm.Repos, key(c.param("owner")+"/"+c.param("repo")))
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

// teamByID serves a by-ID team route with the by-slug handler.
func (f *Forge) teamByID(fn handlerFunc) handlerFunc {
	return func(c *call) error {
		orgID, err := c.int64Param("orgid")
		if err != nil {
			return err
		}
		teamID, err := c.int64Param("teamid")
		if err != nil {
			return err
		}
		var login, slug string
		_ = f.read(func(s *state) error {
			for _, o := range s.Orgs {
				if o.ID != orgID {
					continue
				}
				for _, t := range o.Teams {
					if t.ID == teamID {
						login, slug = o.Login, t.Slug
					}
				}
			}
			return nil
		})
		if slug == "" {
			return errNotFound()
		}
		c.r.SetPathValue("org", login)
		c.r.SetPathValue("team", slug)
		return fn(c)
	}
}

// listTeamInvitations lists the team's members whose org invitation is
// still pending.
func (f *Forge) listTeamInvitations(c *call) error {
	var out []*github.Invitation
	err := f.read(func(s *state) error {
		o, tm, err := c.teamFor(s, false)
		if err != nil {
			return err
		}
		var logins []string
		for l := range tm.Members {
			if o.Invitations[l] != nil {
				logins = append(logins, l)
			}
		}
		sort.Strings(logins)
		out = []*github.Invitation{}
		for _, l := range logins {
			inv := o.Invitations[l]
			out = append(out, &github.Invitation{ID: github.Ptr(inv.ID), Login: github.Ptr(inv.Login),
				Role: github.Ptr("direct_member"), CreatedAt: ts(inv.Created), Inviter: f.userJSON(s, inv.Inviter)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}
