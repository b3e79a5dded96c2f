package forge

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/gitstore"
)

var validRepoName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)

func (f *Forge) getRepo(c *call) error {
	var out *github.Repository
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		out = f.repoJSON(s, r, c.who)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

type repoRequest struct {
	Name          *string `json:"name"`
	Description   *string `json:"description"`
	Homepage      *string `json:"homepage"`
	Private       *bool   `json:"private"`
	Visibility    *string `json:"visibility"`
	Archived      *bool   `json:"archived"`
	DefaultBranch *string `json:"default_branch"`
	HasIssues     *bool   `json:"has_issues"`
	HasWiki       *bool   `json:"has_wiki"`
	HasProjects   *bool   `json:"has_projects"`
	AllowMerge    *bool   `json:"allow_merge_commit"`
	AllowSquash   *bool   `json:"allow_squash_merge"`
	AllowRebase   *bool   `json:"allow_rebase_merge"`
	SquashTitle   *string `json:"squash_merge_commit_title"`
	SquashMessage *string `json:"squash_merge_commit_message"`
	AutoInit      bool    `json:"auto_init"`
}

// validate refuses values GitHub does not know.
func (req *repoRequest) validate() error {
	if v := req.Visibility; v != nil && *v != "public" && *v != "private" && *v != "internal" {
		return errInvalid("Repository", "visibility", "invalid")
	}
	if v := req.SquashTitle; v != nil && *v != "PR_TITLE" && *v != "COMMIT_OR_PR_TITLE" {
		return errInvalid("Repository", "squash_merge_commit_title", "invalid")
	}
	if v := req.SquashMessage; v != nil && *v != "PR_BODY" && *v != "COMMIT_MESSAGES" && *v != "BLANK" {
		return errInvalid("Repository", "squash_merge_commit_message", "invalid")
	}
	return nil
}

// onlyArchived reports whether the request changes nothing but archived:
// all GitHub accepts for an archived repository.
func (req *repoRequest) onlyArchived() bool {
	rest := *req
	rest.Archived, rest.AutoInit = nil, false
	return rest == repoRequest{}
}

func (req *repoRequest) apply(r *repo) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	setb := func(dst *bool, src *bool) {
		if src != nil {
			*dst = *src
		}
	}
	set(&r.Description, req.Description)
	set(&r.Homepage, req.Homepage)
	if req.Private != nil {
		r.Private, r.Internal = *req.Private, false
	}
	if req.Visibility != nil {
		r.Private, r.Internal = *req.Visibility != "public", *req.Visibility == "internal"
	}
	set(&r.SquashTitle, req.SquashTitle)
	set(&r.SquashMessage, req.SquashMessage)
	setb(&r.Archived, req.Archived)
	setb(&r.HasIssues, req.HasIssues)
	setb(&r.HasWiki, req.HasWiki)
	setb(&r.HasProjects, req.HasProjects)
	setb(&r.AllowMerge, req.AllowMerge)
	setb(&r.AllowSquash, req.AllowSquash)
	setb(&r.AllowRebase, req.AllowRebase)
}

// newRepo makes a repository's record with GitHub's defaults.
func newRepo(t *tx, owner, name string) *repo {
	return &repo{
		ID: t.id(), Owner: owner, Name: name, DefaultBranch: "main",
		HasIssues: true, HasWiki: true, HasProjects: true,
		AllowMerge: true, AllowSquash: true, AllowRebase: true,
		Created: t.now, Updated: t.now,
		Collaborators: map[string]string{}, Labels: map[string]*label{}, Issues: map[int]*issue{},
		NextNumber: 1, Comments: map[int64]*comment{}, ReviewComments: map[int64]*comment{},
		Statuses: map[string][]*status{}, CheckRuns: map[int64]*checkRun{},
		Protections: map[string]*protection{}, Milestones: map[int]*milestone{},
	}
}

// createRepo records a repository and creates its git repository, with
// files as the first commit (none: an empty repository).
func (t *tx) createRepo(ctx context.Context, owner, name string, files map[string][]byte, author string) (*repo, error) {
	if !validRepoName.MatchString(name) || strings.HasSuffix(name, ".git") {
		return nil, errInvalid("Repository", "name", "invalid")
	}
	if t.repo(owner, name) != nil {
		return nil, &apiError{Status: http.StatusUnprocessableEntity, Message: "Repository creation failed.",
			Errors: []fieldError{{Resource: "Repository", Field: "name", Code: "custom", Message: "name already exists on this account"}}}
	}
	r := newRepo(t, t.accountLogin(owner), name)
	if _, err := t.f.git.Create(ctx, r.Owner, name, r.DefaultBranch, files, "Initial commit", t.signature(author)); err != nil {
		return nil, err
	}
	if len(files) > 0 {
		r.Pushed = t.now
	}
	t.Repos[key(r.fullName())] = r
	return r, nil
}

// accountLogin is the canonical spelling of a user's or org's login.
func (s *state) accountLogin(login string) string {
	if o := s.org(login); o != nil {
		return o.Login
	}
	if u := s.user(login); u != nil {
		return u.Login
	}
	return login
}

func (t *tx) signature(login string) gitstore.Signature {
	sig := gitstore.Signature{Name: login, Email: login + "@users.noreply.sandbox", When: t.now}
	if u := t.user(login); u != nil {
		if u.Name != "" {
			sig.Name = u.Name
		}
		if u.Email != "" {
			sig.Email = u.Email
		}
	}
	return sig
}

func (f *Forge) createOrgRepo(c *call) error { return f.createRepoFor(c, c.param("org"), true) }

func (f *Forge) createUserRepo(c *call) error {
	if err := c.needUser(); err != nil {
		return err
	}
	return f.createRepoFor(c, c.who.login, false)
}

func (f *Forge) createRepoFor(c *call, owner string, isOrg bool) error {
	var req repoRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Name == nil {
		return errInvalid("Repository", "name", "missing_field")
	}
	if err := req.validate(); err != nil {
		return err
	}
	var out *github.Repository
	err := f.write(func(t *tx) error {
		if isOrg {
			o := t.org(owner)
			if o == nil {
				return errNotFound()
			}
			if t.orgRole(c.who, o) == "" {
				return errForbidden("You need admin access to the organization before adding a repository to it.")
			}
		}
		var files map[string][]byte
		if req.AutoInit {
			files = map[string][]byte{"README.md": []byte("# " + *req.Name + "\n")}
		}
		r, err := t.createRepo(c.r.Context(), owner, *req.Name, files, c.who.login)
		if err != nil {
			return err
		}
		req.apply(r)
		out = f.repoJSON(t.state, r, c.who)
		return nil
	})
	if err != nil {
		return err
	}
	return c.created(out)
}

func (f *Forge) editRepo(c *call) error {
	var req repoRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.Repository
	err := f.write(func(t *tx) error {
		r := t.repo(c.param("owner"), c.param("repo"))
		if r == nil {
			return errNotFound()
		}
		// Unarchiving must be allowed on an archived repository.
		if have := t.perm(c.who, r); have == permNone {
			return errNotFound()
		} else if !atLeast(have, permAdmin) {
			return errForbidden("Must have admin rights to Repository.")
		}
		if err := req.validate(); err != nil {
			return err
		}
		if r.Archived && !req.onlyArchived() {
			return errForbidden("Repository was archived so is read-only.")
		}
		ctx := c.r.Context()
		if req.DefaultBranch != nil && *req.DefaultBranch != r.DefaultBranch {
			if _, err := f.git.ResolveRef(ctx, r.Owner, r.Name, "refs/heads/"+*req.DefaultBranch); err != nil {
				return errInvalid("Repository", "default_branch", "invalid")
			}
			r.DefaultBranch = *req.DefaultBranch
		}
		if req.Name != nil && *req.Name != r.Name {
			if !validRepoName.MatchString(*req.Name) {
				return errInvalid("Repository", "name", "invalid")
			}
			if other := t.repo(r.Owner, *req.Name); other != nil && other != r {
				return errInvalid("Repository", "name", "already_exists")
			}
			if err := f.git.Rename(ctx, r.Owner, r.Name, *req.Name); err != nil {
				return err
			}
			t.renameRepo(r, *req.Name)
		}
		req.apply(r)
		r.Updated = t.now
		out = f.repoJSON(t.state, r, c.who)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// renameRepo moves a repository's record and the team grants naming it.
func (t *tx) renameRepo(r *repo, name string) {
	oldKey := key(r.fullName())
	delete(t.Repos, oldKey)
	r.Name = name
	t.Repos[key(r.fullName())] = r
	if o := t.org(r.Owner); o != nil {
		for _, tm := range o.Teams {
			if p, ok := tm.Repos[oldKey]; ok {
				delete(tm.Repos, oldKey)
				tm.Repos[key(r.fullName())] = p
			}
		}
	}
}

func (f *Forge) deleteRepo(c *call) error {
	err := f.write(func(t *tx) error {
		r := t.repo(c.param("owner"), c.param("repo"))
		if r == nil {
			return errNotFound()
		}
		if have := t.perm(c.who, r); have == permNone {
			return errNotFound()
		} else if !atLeast(have, permAdmin) {
			return errForbidden("Must have admin rights to Repository.")
		}
		if err := f.git.Delete(c.r.Context(), r.Owner, r.Name); err != nil && !errors.Is(err, gitstore.ErrNotFound) {
			return err
		}
		delete(t.Repos, key(r.fullName()))
		if o := t.org(r.Owner); o != nil {
			for _, tm := range o.Teams {
				delete(tm.Repos, key(r.fullName()))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

// reposOf lists an account's repositories that p can see, by name.
func (f *Forge) reposOf(s *state, owner string, p principal, filter func(*repo) bool) []*github.Repository {
	var rs []*repo
	for _, r := range s.Repos {
		if key(r.Owner) == key(owner) && s.perm(p, r) != permNone && (filter == nil || filter(r)) {
			rs = append(rs, r)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return key(rs[i].Name) < key(rs[j].Name) })
	out := []*github.Repository{}
	for _, r := range rs {
		out = append(out, f.repoJSON(s, r, p))
	}
	return out
}

func visibilityFilter(v string) func(*repo) bool {
	switch v {
	case "public":
		return func(r *repo) bool { return !r.Private }
	case "private":
		return func(r *repo) bool { return r.Private }
	}
	return nil
}

func (f *Forge) listOrgRepos(c *call) error {
	var out []*github.Repository
	err := f.read(func(s *state) error {
		if s.org(c.param("org")) == nil {
			return errNotFound()
		}
		filter := visibilityFilter(c.query("type"))
		out = f.reposOf(s, c.param("org"), c.who, filter)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func (f *Forge) listUserRepos(c *call) error {
	var out []*github.Repository
	err := f.read(func(s *state) error {
		if s.user(c.param("user")) == nil {
			return errNotFound()
		}
		out = f.reposOf(s, c.param("user"), c.who, nil)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

// listMyRepos is GET /user/repos: every repository the caller can write to
// or owns, plus those of their orgs.
func (f *Forge) listMyRepos(c *call) error {
	if err := c.needUser(); err != nil {
		return err
	}
	out := []*github.Repository{}
	_ = f.read(func(s *state) error {
		var rs []*repo
		for _, r := range s.Repos {
			if s.perm(c.who, r) != permNone && s.affiliated(c.who.login, r) {
				if vf := visibilityFilter(c.query("visibility")); vf == nil || vf(r) {
					rs = append(rs, r)
				}
			}
		}
		sort.Slice(rs, func(i, j int) bool { return key(rs[i].fullName()) < key(rs[j].fullName()) })
		for _, r := range rs {
			out = append(out, f.repoJSON(s, r, c.who))
		}
		return nil
	})
	return c.ok(paginate(c, out))
}

// affiliated reports whether login owns r, is a member of its org, or
// was given access as a collaborator or through a team: GET /user/repos's
// owner, organization_member and collaborator affiliations.
func (s *state) affiliated(login string, r *repo) bool {
	k := key(login)
	if key(r.Owner) == k {
		return true
	}
	if _, ok := r.Collaborators[k]; ok {
		return true
	}
	o := s.org(r.Owner)
	if o == nil {
		return false
	}
	if _, ok := o.Members[k]; ok {
		return true
	}
	for _, t := range o.Teams {
		if _, member := t.Members[k]; member {
			if _, granted := t.Repos[key(r.fullName())]; granted {
				return true
			}
		}
	}
	return false
}

// collaborators

// accessList is everyone with explicit access to r and their permission.
func (s *state) accessList(r *repo, affiliation string) map[string]string {
	out := map[string]string{}
	o := s.org(r.Owner)
	if affiliation != "outside" {
		if o != nil {
			for login := range o.Members {
				if p := s.perm(principal{login: login}, r); atLeast(p, permRead) {
					if r.Private || p != permRead || o.DefaultPerm != "" {
						out[login] = p
					}
				}
			}
		} else if u := s.user(r.Owner); u != nil {
			out[key(u.Login)] = permAdmin
		}
	}
	for login := range r.Collaborators {
		if affiliation == "outside" && o != nil {
			if _, member := o.Members[login]; member {
				continue
			}
		}
		out[login] = s.perm(principal{login: login}, r)
	}
	if affiliation == "direct" {
		for login := range out {
			if _, ok := r.Collaborators[login]; !ok {
				delete(out, login)
			}
		}
	}
	return out
}

func (f *Forge) collaboratorJSON(s *state, r *repo, login, perm string) *github.User {
	u := f.userJSON(s, login)
	u.Permissions = &github.RepositoryPermissions{
		Admin: github.Ptr(atLeast(perm, permAdmin)), Maintain: github.Ptr(atLeast(perm, permMaintain)),
		Push: github.Ptr(atLeast(perm, permWrite)), Triage: github.Ptr(atLeast(perm, permTriage)),
		Pull: github.Ptr(atLeast(perm, permRead)),
	}
	u.RoleName = github.Ptr(perm)
	return u
}

func (f *Forge) listCollaborators(c *call) error {
	var out []*github.User
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permWrite)
		if err != nil {
			return err
		}
		access := s.accessList(r, c.query("affiliation"))
		logins := make([]string, 0, len(access))
		for l := range access {
			logins = append(logins, l)
		}
		sort.Strings(logins)
		out = []*github.User{}
		for _, l := range logins {
			if want := normPerm(c.query("permission")); want == "" || atLeast(access[l], want) {
				out = append(out, f.collaboratorJSON(s, r, l, access[l]))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func (f *Forge) isCollaborator(c *call) error {
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

// addCollaborator grants an org member access at once and invites anyone
// else, as GitHub does: the invitee has access once they accept it. A
// collaborator or invitee gets the new permission.
func (f *Forge) addCollaborator(c *call) error {
	var req struct {
		Permission string `json:"permission"`
	}
	if err := c.decode(&req); err != nil {
		return err
	}
	perm := permWrite
	if req.Permission != "" {
		if perm = normPerm(req.Permission); perm == "" {
			return errInvalid("Collaborator", "permission", "invalid")
		}
	}
	var out *github.CollaboratorInvitation
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permAdmin)
		if err != nil {
			return err
		}
		u := t.user(c.param("user"))
		if u == nil {
			return errNotFound()
		}
		k := key(u.Login)
		_, collaborator := r.Collaborators[k]
		member := false
		if o := t.org(r.Owner); o != nil {
			_, member = o.Members[k]
		}
		if collaborator || member || k == key(r.Owner) {
			r.Collaborators[k] = perm
			delete(r.Invitations, k)
			return nil
		}
		if r.Invitations == nil {
			r.Invitations = map[string]*repoInvitation{}
		}
		inv := r.Invitations[k]
		if inv == nil {
			inv = &repoInvitation{ID: t.id(), Login: u.Login, Inviter: c.who.login, Created: t.now}
			r.Invitations[k] = inv
		}
		inv.Permission = perm
		out = f.collaboratorInvitationJSON(t.state, r, inv)
		return nil
	})
	if err != nil {
		return err
	}
	if out == nil {
		return c.noContent()
	}
	return c.created(out)
}

func (f *Forge) removeCollaborator(c *call) error {
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permAdmin)
		if err != nil {
			return err
		}
		delete(r.Collaborators, key(c.param("user")))
		delete(r.Invitations, key(c.param("user")))
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

func (f *Forge) collaboratorPermission(c *call) error {
	var out *github.RepositoryPermissionLevel
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		if !atLeast(s.perm(c.who, r), permWrite) {
			return errForbidden("Must have push access to view collaborator permission.")
		}
		u := s.user(c.param("user"))
		if u == nil {
			return errNotFound()
		}
		// Anyone may read a public repository, so GitHub reports read
		// for everyone there.
		p := s.perm(principal{login: u.Login}, r)
		role := p
		if p == permNone {
			role = "none"
		}
		out = &github.RepositoryPermissionLevel{Permission: github.Ptr(legacyPerm(p)),
			RoleName: github.Ptr(role), User: f.collaboratorJSON(s, r, u.Login, p)}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}
