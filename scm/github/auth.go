package ghclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v89/github"
	"k8s.io/utils/clock"
)

// tokenSource supplies the credential for one identity.
type tokenSource interface {
	token(ctx context.Context) (string, error)
}

// staticToken is a personal access token, or "" for anonymous requests.
type staticToken Secret

func (t staticToken) token(context.Context) (string, error) { return string(t), nil }

// authTransport sets the Authorization header on every attempt, so that a
// retry after a token refresh uses the new token. It only does so for the
// API's own hosts: GitHub redirects downloads (archives, release assets) to
// other hosts, which must not receive the credential.
type authTransport struct {
	next   http.RoundTripper
	source tokenSource
	// hosts are the host:port values of the API and upload URLs.
	hosts map[string]bool
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.hosts[req.URL.Host] {
		return t.next.RoundTrip(req)
	}
	tok, err := t.source.token(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if tok == "" {
		return t.next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	return t.next.RoundTrip(r)
}

// appAuth mints and caches installation tokens for a GitHub App, one per
// org. The App's JWT is signed by ghinstallation; which installation serves
// an org, and when its token is replaced, is decided here so that the
// refresh margin and clock are ours.
type appAuth struct {
	// api calls GitHub as the App itself (JWT), for installation lookups and
	// token minting; these calls are never cached.
	api    *github.Client
	clock  clock.PassiveClock
	margin time.Duration

	mu   sync.Mutex
	orgs map[string]*orgToken
}

// orgToken is one org's installation and current token. Its own lock lets
// one org mint while the others keep using their tokens.
type orgToken struct {
	mu             sync.Mutex
	installationID int64
	token          string
	expiresAt      time.Time
}

func newAppAuth(o Options, wire http.RoundTripper) (*appAuth, error) {
	jwt, err := ghinstallation.NewAppsTransport(wire, o.AppID, []byte(o.AppPrivateKey))
	if err != nil {
		// ghinstallation's parse errors describe the key's format, not
		// its content.
		return nil, fmt.Errorf("github app %d private key: %w", o.AppID, err)
	}
	api, err := github.NewClient(
		github.WithHTTPClient(&http.Client{Transport: jwt}),
		github.WithURLs(&o.BaseURL, &o.UploadURL),
		github.WithUserAgent(o.UserAgent),
	)
	if err != nil {
		return nil, fmt.Errorf("github app client for %s: %w", MaskURL(o.BaseURL), err)
	}
	return &appAuth{api: api, clock: o.Clock, margin: o.TokenRefreshMargin, orgs: map[string]*orgToken{}}, nil
}

func (a *appAuth) entry(org string) *orgToken {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.orgs[org]
	if !ok {
		e = &orgToken{}
		a.orgs[org] = e
	}
	return e
}

// token returns org's installation token, minting a new one when there is
// none or the current one expires within the refresh margin.
func (a *appAuth) token(ctx context.Context, org string) (string, error) {
	e := a.entry(org)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.token != "" && a.clock.Now().Before(e.expiresAt.Add(-a.margin)) {
		return e.token, nil
	}
	if e.installationID == 0 {
		id, err := a.findInstallation(ctx, org)
		if err != nil {
			return "", err
		}
		e.installationID = id
	}
	tok, _, err := a.api.Apps.CreateInstallationToken(ctx, e.installationID, nil)
	if err != nil {
		if IsNotFound(err) {
			// The App was uninstalled or reinstalled; look it up again
			// next time.
			e.installationID = 0
		}
		return "", fmt.Errorf("mint installation token for org %s: %w", org, err)
	}
	if tok.GetToken() == "" {
		return "", fmt.Errorf("mint installation token for org %s: empty token in response", org)
	}
	e.token, e.expiresAt = tok.GetToken(), tok.GetExpiresAt().Time
	return e.token, nil
}

// findInstallation returns the App's installation on org, which may also be
// a user account.
func (a *appAuth) findInstallation(ctx context.Context, org string) (int64, error) {
	inst, _, err := a.api.Apps.GetOrganizationInstallation(ctx, org)
	if IsNotFound(err) {
		inst, _, err = a.api.Apps.GetUserInstallation(ctx, org)
	}
	if err != nil {
		return 0, fmt.Errorf("find github app installation for %s: %w", org, err)
	}
	if inst.GetID() == 0 {
		return 0, fmt.Errorf("find github app installation for %s: no installation ID in response", org)
	}
	return inst.GetID(), nil
}

// orgTokenSource binds appAuth to one org.
type orgTokenSource struct {
	app *appAuth
	org string
}

func (s orgTokenSource) token(ctx context.Context) (string, error) {
	return s.app.token(ctx, s.org)
}

// IsNotFound reports whether err is GitHub's 404, which also means "no
// access" for private resources.
func IsNotFound(err error) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
