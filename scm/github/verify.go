package ghclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-github/v89/github"
)

// Access is what GitHub says the client's credentials are and may do.
type Access struct {
	// Login is the token's user, or the GitHub App's slug.
	Login string
	// Scopes are a classic personal access token's OAuth scopes, from
	// GitHub's X-OAuth-Scopes header. ScopesKnown is false when GitHub sent
	// none (fine-grained tokens), so that nothing is known about them.
	Scopes      []string
	ScopesKnown bool
	// Installations are a GitHub App's installations; nil for a token.
	Installations []Installation
}

// Installation is one installation of a GitHub App.
type Installation struct {
	// Account is the org or user the App is installed on.
	Account string
	// Permissions maps each permission to "read" or "write".
	Permissions map[string]string
}

// ErrBadCredentials is GitHub's 401: the token or App key is not valid.
var ErrBadCredentials = errors.New("GitHub rejected the credentials (401 Bad credentials)")

// Verify makes one authenticated call (two for a GitHub App: the App, then
// its installations) and reports what the credentials are. A client with no
// credentials fails.
func (c *Client) Verify(ctx context.Context) (*Access, error) {
	if c.app != nil {
		app, _, err := c.app.api.Apps.Get(ctx, "")
		if err != nil {
			return nil, verifyError(err)
		}
		a := &Access{Login: app.GetSlug(), Installations: []Installation{}}
		opts := &github.ListOptions{PerPage: 100}
		for {
			list, resp, err := c.app.api.Apps.ListInstallations(ctx, opts)
			if err != nil {
				return nil, verifyError(err)
			}
			for _, in := range list {
				a.Installations = append(a.Installations, Installation{Account: in.GetAccount().GetLogin(), Permissions: permissionMap(in.GetPermissions())})
			}
			if resp.NextPage == 0 {
				return a, nil
			}
			opts.Page = resp.NextPage
		}
	}
	if c.opts.Token == "" {
		return nil, errors.New("no GitHub credentials to verify")
	}
	gh, err := c.ForOrg("")
	if err != nil {
		return nil, err
	}
	u, resp, err := gh.Users.Get(ctx, "")
	if err != nil {
		return nil, verifyError(err)
	}
	a := &Access{Login: u.GetLogin()}
	if v, ok := resp.Header[http.CanonicalHeaderKey("X-OAuth-Scopes")]; ok {
		a.ScopesKnown = true
		for s := range strings.SplitSeq(strings.Join(v, ","), ",") {
			if s = strings.TrimSpace(s); s != "" {
				a.Scopes = append(a.Scopes, s)
			}
		}
	}
	return a, nil
}

func verifyError(err error) error {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnauthorized {
		return ErrBadCredentials
	}
	return fmt.Errorf("verify GitHub credentials: %w", err)
}

// permissionMap turns go-github's permissions struct into a map of the
// permissions that are set.
func permissionMap(p *github.InstallationPermissions) map[string]string {
	out := map[string]string{}
	if p == nil {
		return out
	}
	for name, v := range map[string]*string{
		"contents": p.Contents, "issues": p.Issues, "pull_requests": p.PullRequests, "statuses": p.Statuses,
		"checks": p.Checks, "members": p.Members, "metadata": p.Metadata, "administration": p.Administration,
		"organization_administration": p.OrganizationAdministration,
	} {
		if v != nil && *v != "" {
			out[name] = *v
		}
	}
	return out
}

// TokenScopes are the classic token scopes bowline needs: repo (pull
// requests, issues, statuses, contents; public_repo suffices where every
// repository is public) and read:org (org and team membership, for trust
// checks).
var TokenScopes = []string{"repo", "read:org"}

// scopeImplies lists, for each scope, the scopes it includes (GitHub's
// scope hierarchy, as far as bowline's scopes go).
var scopeImplies = map[string][]string{
	"repo":      {"repo:status", "public_repo"},
	"admin:org": {"write:org", "read:org"},
	"write:org": {"read:org"},
}

// MissingScopes returns the scopes of want that have does not grant.
// public_repo counts for repo, as it grants the same on public
// repositories.
func MissingScopes(have, want []string) []string {
	granted := map[string]bool{}
	for _, s := range have {
		granted[s] = true
		for _, sub := range scopeImplies[s] {
			granted[sub] = true
		}
	}
	if granted["public_repo"] {
		granted["repo"] = true
	}
	var missing []string
	for _, s := range want {
		if !granted[s] {
			missing = append(missing, s)
		}
	}
	return missing
}

// AppPermissions are the GitHub App permissions bowline needs on each
// installation: the repository permissions of its reporting and plugins,
// and reading org members for trust checks.
var AppPermissions = map[string]string{
	"contents":      "write",
	"issues":        "write",
	"pull_requests": "write",
	"statuses":      "write",
	"members":       "read",
}

// MissingPermissions returns "name: level" for each permission of want
// that have lacks or grants at a lower level, sorted.
func MissingPermissions(have, want map[string]string) []string {
	rank := map[string]int{"read": 1, "write": 2, "admin": 3}
	var missing []string
	for name, level := range want {
		if rank[have[name]] < rank[level] {
			missing = append(missing, name+": "+level)
		}
	}
	slices.Sort(missing)
	return missing
}
