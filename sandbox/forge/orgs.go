package forge

import (
	"net/http"
	"sort"

	"github.com/google/go-github/v89/github"
)

// orgFor finds the request's {org}; admin requires the caller to own it.
func (c *call) orgFor(s *state, admin bool) (*org, error) {
	o := s.org(c.param("org"))
	if o == nil {
		return nil, errNotFound()
	}
	if admin {
		if c.who.anonymous() {
			return nil, errStatus(http.StatusUnauthorized, "Requires authentication")
		}
		if s.orgRole(c.who, o) != "admin" {
			return nil, errForbidden("You must be an admin to do that.")
		}
	}
	return o, nil
}

func (f *Forge) getOrg(c *call) error {
	var out *github.Organization
	err := f.read(func(s *state) error {
		o, err := c.orgFor(s, false)
		if err != nil {
			return err
		}
		out = f.orgJSON(o)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) editOrg(c *call) error {
	var req struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
		Email       *string `json:"email"`
		DefaultPerm *string `json:"default_repository_permission"`
		orgSettingsRequest
	}
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.Organization
	err := f.write(func(t *tx) error {
		o, err := c.orgFor(t.state, true)
		if err != nil {
			return err
		}
		if req.Name != nil {
			o.Name = *req.Name
		}
		if req.Description != nil {
			o.Description = *req.Description
		}
		if req.Email != nil {
			o.Email = *req.Email
		}
		req.orgSettingsRequest.apply(&o.Settings)
		if req.DefaultPerm != nil {
			p := *req.DefaultPerm
			if p != "none" {
				if p = normPerm(p); p == "" {
					return errInvalid("Organization", "default_repository_permission", "invalid")
				}
			}
			o.DefaultPerm = p
		}
		out = f.orgJSON(o)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) listMembers(c *call) error {
	var out []*github.User
	err := f.read(func(s *state) error {
		o, err := c.orgFor(s, false)
		if err != nil {
			return err
		}
		role := c.query("role")
		var logins []string
		for login, r := range o.Members {
			if role == "" || role == "all" || role == r {
				logins = append(logins, login)
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

func canonical(s *state, logins []string) []string {
	out := make([]string, len(logins))
	for i, l := range logins {
		out[i] = s.accountLogin(l)
	}
	return out
}

func (f *Forge) isMember(c *call) error {
	err := f.read(func(s *state) error {
		o, err := c.orgFor(s, false)
		if err != nil {
			return err
		}
		if _, ok := o.Members[key(c.param("user"))]; !ok {
			return errNotFound()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

// removeMember drops a user from the org and all its teams.
func (t *tx) removeMember(o *org, login string) {
	delete(o.Members, key(login))
	delete(o.Invitations, key(login))
	for _, tm := range o.Teams {
		delete(tm.Members, key(login))
	}
}

func (f *Forge) removeMemberHandler(c *call) error {
	err := f.write(func(t *tx) error {
		o, err := c.orgFor(t.state, true)
		if err != nil {
			return err
		}
		t.removeMember(o, c.param("user"))
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

// orgMembershipRole converts between the model's roles and GitHub's.
func membershipJSON(f *Forge, s *state, o *org, login string) *github.Membership {
	m := &github.Membership{URL: github.Ptr(f.apiURL("orgs", o.Login, "memberships", login)),
		OrganizationURL: github.Ptr(f.apiURL("orgs", o.Login)), Organization: f.orgJSON(o),
		User: f.userJSON(s, login)}
	if role, ok := o.Members[key(login)]; ok {
		m.State, m.Role = github.Ptr("active"), github.Ptr(role)
	} else if inv := o.Invitations[key(login)]; inv != nil {
		m.State, m.Role = github.Ptr("pending"), github.Ptr(inv.Role)
	} else {
		return nil
	}
	return m
}

func (f *Forge) getMembership(c *call) error {
	var out *github.Membership
	err := f.read(func(s *state) error {
		o, err := c.orgFor(s, false)
		if err != nil {
			return err
		}
		if out = membershipJSON(f, s, o, s.accountLogin(c.param("user"))); out == nil {
			return errNotFound()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// setMembership changes a member's role, or invites a non-member, whose
// membership stays pending until they accept.
func (f *Forge) setMembership(c *call) error {
	var req struct {
		Role string `json:"role"`
	}
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Role == "" {
		req.Role = "member"
	}
	if req.Role != "admin" && req.Role != "member" {
		return errInvalid("Membership", "role", "invalid")
	}
	var out *github.Membership
	err := f.write(func(t *tx) error {
		o, err := c.orgFor(t.state, true)
		if err != nil {
			return err
		}
		u := t.user(c.param("user"))
		if u == nil {
			return errNotFound()
		}
		login := key(u.Login)
		if _, ok := o.Members[login]; ok {
			o.Members[login] = req.Role
		} else if inv := o.Invitations[login]; inv != nil {
			inv.Role = req.Role
		} else {
			if o.Invitations == nil {
				o.Invitations = map[string]*invitation{}
			}
			o.Invitations[login] = &invitation{ID: t.id(), Login: u.Login, Role: req.Role,
				Inviter: c.who.login, Created: t.now}
		}
		out = membershipJSON(f, t.state, o, u.Login)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) removeMembership(c *call) error {
	err := f.write(func(t *tx) error {
		o, err := c.orgFor(t.state, true)
		if err != nil {
			return err
		}
		login := key(c.param("user"))
		if _, ok := o.Members[login]; !ok && o.Invitations[login] == nil {
			return errNotFound()
		}
		t.removeMember(o, login)
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

func (f *Forge) listInvitations(c *call) error {
	var out []*github.Invitation
	err := f.read(func(s *state) error {
		o, err := c.orgFor(s, true)
		if err != nil {
			return err
		}
		out = []*github.Invitation{}
		var logins []string
		for l := range o.Invitations {
			logins = append(logins, l)
		}
		sort.Strings(logins)
		for _, l := range logins {
			inv := o.Invitations[l]
			role := "direct_member"
			if inv.Role == "admin" {
				role = "admin"
			}
			out = append(out, &github.Invitation{ID: github.Ptr(inv.ID), Login: github.Ptr(inv.Login),
				Role: github.Ptr(role), CreatedAt: ts(inv.Created), Inviter: f.userJSON(s, inv.Inviter)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func (f *Forge) getMyMembership(c *call) error {
	if err := c.needUser(); err != nil {
		return err
	}
	var out *github.Membership
	err := f.read(func(s *state) error {
		o, err := c.orgFor(s, false)
		if err != nil {
			return err
		}
		if out = membershipJSON(f, s, o, c.who.login); out == nil {
			return errNotFound()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) listMyMemberships(c *call) error {
	if err := c.needUser(); err != nil {
		return err
	}
	out := []*github.Membership{}
	_ = f.read(func(s *state) error {
		var orgs []*org
		for _, o := range s.Orgs {
			if m := membershipJSON(f, s, o, c.who.login); m != nil {
				if st := c.query("state"); st == "" || st == *m.State {
					orgs = append(orgs, o)
				}
			}
		}
		sort.Slice(orgs, func(i, j int) bool { return key(orgs[i].Login) < key(orgs[j].Login) })
		for _, o := range orgs {
			out = append(out, membershipJSON(f, s, o, c.who.login))
		}
		return nil
	})
	return c.ok(paginate(c, out))
}

// acceptMembership is PATCH /user/memberships/orgs/{org} with state=active.
func (f *Forge) acceptMembership(c *call) error {
	if err := c.needUser(); err != nil {
		return err
	}
	var req struct {
		State string `json:"state"`
	}
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.State != "active" {
		return errInvalid("Membership", "state", "invalid")
	}
	var out *github.Membership
	err := f.write(func(t *tx) error {
		o, err := c.orgFor(t.state, false)
		if err != nil {
			return err
		}
		login := key(c.who.login)
		if _, ok := o.Members[login]; !ok {
			inv := o.Invitations[login]
			if inv == nil {
				return errForbidden("You must have a pending invitation to accept it.")
			}
			o.Members[login] = inv.Role
			delete(o.Invitations, login)
		}
		out = membershipJSON(f, t.state, o, c.who.login)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// listOutsideCollaborators is everyone with access to one of the org's
// repositories who is not a member.
func (f *Forge) listOutsideCollaborators(c *call) error {
	var out []*github.User
	err := f.read(func(s *state) error {
		o, err := c.orgFor(s, true)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, r := range s.Repos {
			if key(r.Owner) != key(o.Login) {
				continue
			}
			for login := range r.Collaborators {
				if _, member := o.Members[login]; !member {
					seen[login] = true
				}
			}
		}
		logins := make([]string, 0, len(seen))
		for l := range seen {
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
