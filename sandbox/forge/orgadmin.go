package forge

import (
	"net/http"
	"sort"
	"strconv"

	"github.com/google/go-github/v89/github"
)

// What org administration needs beyond the basics: org settings, the
// cancellation of invitations, child teams, collaborator invitations and
// required commit signatures. Routes are registered by orgAdminRoutes.

func (f *Forge) orgAdminRoutes(h func(pattern string, fn handlerFunc)) {
	const repo = "/repos/{owner}/{repo}"
	h("DELETE /orgs/{org}/invitations/{id}", f.cancelOrgInvitation)
	h("GET /orgs/{org}/teams/{team}/teams", f.listChildTeams)
	h("GET "+repo+"/invitations", f.listRepoInvitations)
	h("PATCH "+repo+"/invitations/{id}", f.editRepoInvitation)
	h("DELETE "+repo+"/invitations/{id}", f.deleteRepoInvitation)
	h("GET /user/repository_invitations", f.listMyRepoInvitations)
	h("PATCH /user/repository_invitations/{id}", f.answerRepoInvitation(true))
	h("DELETE /user/repository_invitations/{id}", f.answerRepoInvitation(false))
	const sigs = repo + "/branches/{branch}/protection/required_signatures"
	h("GET "+sigs, f.getSignatures)
	h("POST "+sigs, f.setSignatures(true))
	h("DELETE "+sigs, f.setSignatures(false))
}

// orgSettingsRequest is the part of PATCH /orgs/{org} that orgSettings
// holds.
type orgSettingsRequest struct {
	BillingEmail                 *string `json:"billing_email"`
	Company                      *string `json:"company"`
	Location                     *string `json:"location"`
	HasOrganizationProjects      *bool   `json:"has_organization_projects"`
	HasRepositoryProjects        *bool   `json:"has_repository_projects"`
	MembersCanCreateRepositories *bool   `json:"members_can_create_repositories"`
	MembersCanCreatePublic       *bool   `json:"members_can_create_public_repositories"`
	MembersCanCreatePrivate      *bool   `json:"members_can_create_private_repositories"`
	MembersCanCreateInternal     *bool   `json:"members_can_create_internal_repositories"`
}

func (r *orgSettingsRequest) apply(s *orgSettings) {
	for _, f := range []struct {
		dst *string
		src *string
	}{{&s.BillingEmail, r.BillingEmail}, {&s.Company, r.Company}, {&s.Location, r.Location}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	for _, f := range []struct {
		dst *bool
		src *bool
	}{{&s.HasOrganizationProjects, r.HasOrganizationProjects}, {&s.HasRepositoryProjects, r.HasRepositoryProjects},
		{&s.MembersCanCreatePublic, r.MembersCanCreatePublic}, {&s.MembersCanCreatePrivate, r.MembersCanCreatePrivate},
		{&s.MembersCanCreateInternal, r.MembersCanCreateInternal}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	// members_can_create_repositories is the switch for all three kinds,
	// and GitHub reports it on when any kind may be created.
	if v := r.MembersCanCreateRepositories; v != nil {
		s.MembersCanCreatePublic, s.MembersCanCreatePrivate, s.MembersCanCreateInternal = *v, *v, *v
	}
	s.MembersCanCreateRepositories = s.MembersCanCreatePublic || s.MembersCanCreatePrivate || s.MembersCanCreateInternal
}

func renderOrgSettings(out *github.Organization, s orgSettings) {
	if s.BillingEmail != "" {
		out.BillingEmail = github.Ptr(s.BillingEmail)
	}
	if s.Company != "" {
		out.Company = github.Ptr(s.Company)
	}
	if s.Location != "" {
		out.Location = github.Ptr(s.Location)
	}
	out.HasOrganizationProjects = github.Ptr(s.HasOrganizationProjects)
	out.HasRepositoryProjects = github.Ptr(s.HasRepositoryProjects)
	out.MembersCanCreateRepos = github.Ptr(s.MembersCanCreateRepositories)
	out.MembersCanCreatePublicRepos = github.Ptr(s.MembersCanCreatePublic)
	out.MembersCanCreatePrivateRepos = github.Ptr(s.MembersCanCreatePrivate)
	out.MembersCanCreateInternalRepos = github.Ptr(s.MembersCanCreateInternal)
}

// cancelOrgInvitation is DELETE /orgs/{org}/invitations/{id}; the
// invitee's pending team memberships go with it.
func (f *Forge) cancelOrgInvitation(c *call) error {
	id, err := c.int64Param("id")
	if err != nil {
		return err
	}
	err = f.write(func(t *tx) error {
		o, err := c.orgFor(t.state, true)
		if err != nil {
			return err
		}
		for login, inv := range o.Invitations {
			if inv.ID == id {
				t.removeMember(o, login)
				return nil
			}
		}
		return errNotFound()
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

// listChildTeams is GET /orgs/{org}/teams/{team}/teams.
func (f *Forge) listChildTeams(c *call) error {
	var out []*github.Team
	err := f.read(func(s *state) error {
		o, tm, err := c.teamFor(s, false)
		if err != nil {
			return err
		}
		out = []*github.Team{}
		var slugs []string
		for slug, child := range o.Teams {
			if child.Parent == tm.Slug {
				slugs = append(slugs, slug)
			}
		}
		sort.Strings(slugs)
		for _, slug := range slugs {
			out = append(out, f.teamJSON(o, o.Teams[slug]))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func (f *Forge) collaboratorInvitationJSON(s *state, r *repo, inv *repoInvitation) *github.CollaboratorInvitation {
	return &github.CollaboratorInvitation{ID: github.Ptr(inv.ID), Repo: f.repoJSON(s, r, principal{}),
		Invitee: f.userJSON(s, inv.Login), Inviter: f.userJSON(s, inv.Inviter), Permissions: github.Ptr(inv.Permission),
		CreatedAt: ts(inv.Created), URL: github.Ptr(f.apiURL("user", "repository_invitations", strconv.FormatInt(inv.ID, 10))),
		HTMLURL: github.Ptr(f.repoHTML(r, "invitations"))}
}

func (f *Forge) repoInvitationJSON(s *state, r *repo, inv *repoInvitation) *github.RepositoryInvitation {
	ci := f.collaboratorInvitationJSON(s, r, inv)
	return &github.RepositoryInvitation{ID: ci.ID, Repo: ci.Repo, Invitee: ci.Invitee, Inviter: ci.Inviter,
		Permissions: ci.Permissions, CreatedAt: ci.CreatedAt, URL: ci.URL, HTMLURL: ci.HTMLURL, Expired: github.Ptr(false)}
}

func sortedInvitations(r *repo) []*repoInvitation {
	out := make([]*repoInvitation, 0, len(r.Invitations))
	for _, inv := range r.Invitations {
		out = append(out, inv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// listRepoInvitations is GET /repos/{owner}/{repo}/invitations.
func (f *Forge) listRepoInvitations(c *call) error {
	var out []*github.RepositoryInvitation
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permAdmin)
		if err != nil {
			return err
		}
		out = []*github.RepositoryInvitation{}
		for _, inv := range sortedInvitations(r) {
			out = append(out, f.repoInvitationJSON(s, r, inv))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

// repoInvitation finds {id} among r's invitations.
func (c *call) repoInvitation(r *repo) (*repoInvitation, error) {
	id, err := c.int64Param("id")
	if err != nil {
		return nil, err
	}
	for _, inv := range r.Invitations {
		if inv.ID == id {
			return inv, nil
		}
	}
	return nil, errNotFound()
}

// editRepoInvitation is PATCH /repos/{owner}/{repo}/invitations/{id}.
func (f *Forge) editRepoInvitation(c *call) error {
	var req struct {
		Permissions string `json:"permissions"`
	}
	if err := c.decode(&req); err != nil {
		return err
	}
	perm := normPerm(req.Permissions)
	if perm == "" {
		return errInvalid("RepositoryInvitation", "permissions", "invalid")
	}
	var out *github.RepositoryInvitation
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permAdmin)
		if err != nil {
			return err
		}
		inv, err := c.repoInvitation(r)
		if err != nil {
			return err
		}
		inv.Permission = perm
		out = f.repoInvitationJSON(t.state, r, inv)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// deleteRepoInvitation is DELETE /repos/{owner}/{repo}/invitations/{id}.
func (f *Forge) deleteRepoInvitation(c *call) error {
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permAdmin)
		if err != nil {
			return err
		}
		inv, err := c.repoInvitation(r)
		if err != nil {
			return err
		}
		delete(r.Invitations, key(inv.Login))
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

// listMyRepoInvitations is GET /user/repository_invitations.
func (f *Forge) listMyRepoInvitations(c *call) error {
	if err := c.needUser(); err != nil {
		return err
	}
	out := []*github.RepositoryInvitation{}
	_ = f.read(func(s *state) error {
		var names []string
		for name, r := range s.Repos {
			if r.Invitations[key(c.who.login)] != nil {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			r := s.Repos[name]
			out = append(out, f.repoInvitationJSON(s, r, r.Invitations[key(c.who.login)]))
		}
		return nil
	})
	return c.ok(paginate(c, out))
}

// answerRepoInvitation accepts (PATCH) or declines (DELETE) one of the
// caller's invitations.
func (f *Forge) answerRepoInvitation(accept bool) handlerFunc {
	return func(c *call) error {
		if err := c.needUser(); err != nil {
			return err
		}
		id, err := c.int64Param("id")
		if err != nil {
			return err
		}
		err = f.write(func(t *tx) error {
			k := key(c.who.login)
			for _, r := range t.Repos {
				if inv := r.Invitations[k]; inv != nil && inv.ID == id {
					if accept {
						r.Collaborators[k] = inv.Permission
					}
					delete(r.Invitations, k)
					return nil
				}
			}
			return errNotFound()
		})
		if err != nil {
			return err
		}
		return c.noContent()
	}
}

func (f *Forge) signaturesJSON(r *repo, branch string, enabled bool) *github.SignaturesProtectedBranch {
	return &github.SignaturesProtectedBranch{URL: github.Ptr(f.repoAPI(r, "branches", branch, "protection", "required_signatures")),
		Enabled: github.Ptr(enabled)}
}

// getSignatures is GET …/protection/required_signatures.
func (f *Forge) getSignatures(c *call) error {
	var out *github.SignaturesProtectedBranch
	err := f.read(func(s *state) error {
		r, branch, err := c.protectionFor(s)
		if err != nil {
			return err
		}
		p := r.Protections[branch]
		if p == nil {
			return errStatus(http.StatusNotFound, "Branch not protected")
		}
		out = f.signaturesJSON(r, branch, p.Signatures)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// setSignatures is POST (require) or DELETE (stop requiring) on
// …/protection/required_signatures; the branch must be protected.
func (f *Forge) setSignatures(on bool) handlerFunc {
	return func(c *call) error {
		var out *github.SignaturesProtectedBranch
		err := f.write(func(t *tx) error {
			r, branch, err := c.protectionFor(t.state)
			if err != nil {
				return err
			}
			p := r.Protections[branch]
			if p == nil {
				return errStatus(http.StatusNotFound, "Branch not protected")
			}
			p.Signatures = on
			out = f.signaturesJSON(r, branch, on)
			return nil
		})
		if err != nil {
			return err
		}
		if !on {
			return c.noContent()
		}
		return c.ok(out)
	}
}
