package forge

import (
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/google/go-github/v89/github"
)

// GitHub App endpoints. The app authenticates with an RS256 JWT signed by
// its private key (verified against the public key it was registered
// with) and exchanges it for installation tokens, which act on the
// installation account's repositories.

// installationTokenTTL is GitHub's lifetime of an installation token.
const installationTokenTTL = time.Hour

func (c *call) needJWT() error {
	if c.who.app == nil {
		return errStatus(http.StatusUnauthorized, "A JSON web token could not be decoded")
	}
	return nil
}

func permissionsJSON(p map[string]string) *github.InstallationPermissions {
	out := &github.InstallationPermissions{}
	b, _ := json.Marshal(p)
	_ = json.Unmarshal(b, out)
	return out
}

func (f *Forge) appJSON(s *state, a *app) *github.App {
	n := 0
	for _, in := range s.Installations {
		if in.App == a.ID {
			n++
		}
	}
	return &github.App{ID: github.Ptr(a.ID), Slug: github.Ptr(a.Slug), Name: github.Ptr(a.Name),
		NodeID: nodeID("A", a.ID), Owner: f.userJSON(s, a.Owner), HTMLURL: github.Ptr(f.apiURL("apps", a.Slug)),
		CreatedAt: ts(a.Created), UpdatedAt: ts(a.Created), Permissions: permissionsJSON(a.Permissions),
		Events: a.Events, InstallationsCount: github.Ptr(n)}
}

func (f *Forge) installationJSON(s *state, in *installation) *github.Installation {
	a := s.Apps[in.App]
	out := &github.Installation{ID: github.Ptr(in.ID), NodeID: nodeID("IN", in.ID), AppID: github.Ptr(in.App),
		Account: f.userJSON(s, in.Account), TargetType: github.Ptr("User"),
		AccessTokensURL:     github.Ptr(f.apiURL("app", "installations", itoa(int(in.ID)), "access_tokens")),
		RepositoriesURL:     github.Ptr(f.apiURL("installation", "repositories")),
		RepositorySelection: github.Ptr("all"), CreatedAt: ts(in.Created), UpdatedAt: ts(in.Created)}
	if o := s.org(in.Account); o != nil {
		out.TargetType, out.TargetID = github.Ptr("Organization"), github.Ptr(o.ID)
	} else if u := s.user(in.Account); u != nil {
		out.TargetID = github.Ptr(u.ID)
	}
	if a != nil {
		out.AppSlug = github.Ptr(a.Slug)
		out.Permissions = permissionsJSON(a.Permissions)
		out.Events = a.Events
	}
	return out
}

func (f *Forge) getApp(c *call) error {
	if err := c.needJWT(); err != nil {
		return err
	}
	var out *github.App
	_ = f.read(func(s *state) error {
		out = f.appJSON(s, c.who.app)
		return nil
	})
	return c.ok(out)
}

func (f *Forge) listInstallations(c *call) error {
	if err := c.needJWT(); err != nil {
		return err
	}
	out := []*github.Installation{}
	_ = f.read(func(s *state) error {
		var ins []*installation
		for _, in := range s.Installations {
			if in.App == c.who.app.ID {
				ins = append(ins, in)
			}
		}
		sort.Slice(ins, func(a, b int) bool { return ins[a].ID < ins[b].ID })
		for _, in := range ins {
			out = append(out, f.installationJSON(s, in))
		}
		return nil
	})
	return c.ok(paginate(c, out))
}

// appInstallation finds installation {id} of the calling app.
func (c *call) appInstallation(s *state) (*installation, error) {
	if err := c.needJWT(); err != nil {
		return nil, err
	}
	id, err := c.int64Param("id")
	if err != nil {
		return nil, err
	}
	in := s.Installations[id]
	if in == nil || in.App != c.who.app.ID {
		return nil, errNotFound()
	}
	return in, nil
}

func (f *Forge) getInstallation(c *call) error {
	var out *github.Installation
	err := f.read(func(s *state) error {
		in, err := c.appInstallation(s)
		if err != nil {
			return err
		}
		out = f.installationJSON(s, in)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) createInstallationToken(c *call) error {
	var out *github.InstallationToken
	err := f.write(func(t *tx) error {
		in, err := c.appInstallation(t.state)
		if err != nil {
			return err
		}
		expires := f.now().Add(installationTokenTTL).UTC().Truncate(time.Second)
		tok := newToken("ghs_")
		// Drop expired tokens so that the state does not grow forever.
		for k, old := range t.Tokens {
			if !old.Expires.IsZero() && !f.now().Before(old.Expires) {
				delete(t.Tokens, k)
			}
		}
		t.Tokens[tok] = &token{Installation: in.ID, Expires: expires}
		out = &github.InstallationToken{Token: github.Ptr(tok), ExpiresAt: ts(expires)}
		if a := t.Apps[in.App]; a != nil {
			out.Permissions = permissionsJSON(a.Permissions)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.created(out)
}

// installationOn is GET /orgs/{org}/installation, /users/{user}/installation
// and /repos/{owner}/{repo}/installation.
func (f *Forge) installationOn(c *call) error {
	if err := c.needJWT(); err != nil {
		return err
	}
	account := c.param("org")
	if account == "" {
		account = c.param("user")
	}
	if account == "" {
		account = c.param("owner")
	}
	var out *github.Installation
	err := f.read(func(s *state) error {
		if c.param("repo") != "" && s.repo(account, c.param("repo")) == nil {
			return errNotFound()
		}
		for _, in := range s.Installations {
			if in.App == c.who.app.ID && key(in.Account) == key(account) {
				out = f.installationJSON(s, in)
				return nil
			}
		}
		return errNotFound()
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) installationRepos(c *call) error {
	if c.who.inst == nil {
		return errForbidden("This endpoint requires an installation token")
	}
	var out *github.ListRepositories
	_ = f.read(func(s *state) error {
		repos := f.reposOf(s, c.who.inst.Account, c.who, nil)
		out = &github.ListRepositories{TotalCount: github.Ptr(len(repos)), Repositories: paginate(c, repos)}
		return nil
	})
	return c.ok(out)
}
