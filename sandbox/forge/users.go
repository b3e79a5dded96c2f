package forge

import (
	"sort"

	"github.com/google/go-github/v89/github"
)

func (f *Forge) getAuthenticatedUser(c *call) error {
	if c.who.inst != nil {
		return errForbidden("Resource not accessible by integration")
	}
	if err := c.needUser(); err != nil {
		return err
	}
	var out *github.User
	_ = f.read(func(s *state) error {
		out = f.fullUserJSON(s, s.user(c.who.login))
		return nil
	})
	return c.ok(out)
}

func (f *Forge) getUser(c *call) error {
	var out *github.User
	err := f.read(func(s *state) error {
		login := c.param("user")
		if u := s.user(login); u != nil {
			out = f.fullUserJSON(s, u)
			return nil
		}
		if o := s.org(login); o != nil {
			out = f.userJSON(s, o.Login)
			out.CreatedAt = ts(o.Created)
			return nil
		}
		return errNotFound()
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) orgsOf(s *state, login string) []*github.Organization {
	var orgs []*org
	for _, o := range s.Orgs {
		if _, ok := o.Members[key(login)]; ok {
			orgs = append(orgs, o)
		}
	}
	sort.Slice(orgs, func(i, j int) bool { return key(orgs[i].Login) < key(orgs[j].Login) })
	out := []*github.Organization{}
	for _, o := range orgs {
		out = append(out, f.orgJSON(o))
	}
	return out
}

func (f *Forge) listMyOrgs(c *call) error {
	if err := c.needUser(); err != nil {
		return err
	}
	var out []*github.Organization
	_ = f.read(func(s *state) error {
		out = f.orgsOf(s, c.who.login)
		return nil
	})
	return c.ok(paginate(c, out))
}

func (f *Forge) listUserOrgs(c *call) error {
	var out []*github.Organization
	err := f.read(func(s *state) error {
		if s.user(c.param("user")) == nil {
			return errNotFound()
		}
		out = f.orgsOf(s, c.param("user"))
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}
