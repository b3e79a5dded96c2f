package automation

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
)

// PublicRepoFunc reports whether a repository may be named to anyone who
// asks (plugin help is served without authentication).
type PublicRepoFunc func(ctx context.Context, org, repo string) bool

// publicOnly is an enablement whose lists name only public repositories,
// for the plugin help endpoints: plugins.yaml may enable plugins for
// private repositories, whose names are not the business of anonymous
// readers.
type publicOnly struct {
	plugin.Enablement
	ctx    context.Context
	public PublicRepoFunc
}

func (p publicOnly) keep(scope string) bool {
	org, repo, ok := strings.Cut(scope, "/")
	return !ok || p.public(p.ctx, org, repo)
}

// EnabledRepos lists the entries of public repositories (and orgs).
func (p publicOnly) EnabledRepos() map[string][]string {
	l, ok := p.Enablement.(interface{ EnabledRepos() map[string][]string })
	if !ok {
		return nil
	}
	out := map[string][]string{}
	for scope, names := range l.EnabledRepos() {
		if p.keep(scope) {
			out[scope] = names
		}
	}
	return out
}

// ExternalPlugins lists the external plugins of public repositories.
func (p publicOnly) ExternalPlugins() map[string][]string {
	l, ok := p.Enablement.(plugin.ExternalEnablement)
	if !ok {
		return nil
	}
	out := map[string][]string{}
	for scope, names := range l.ExternalPlugins() {
		if p.keep(scope) {
			out[scope] = names
		}
	}
	return out
}

// RepoVisibility tells which repositories are public: GitHub says so, and
// deck.hidden_repos does not name them (or their org). Answers are kept
// for TTL; a repository GitHub will not describe (private and out of
// reach, an error) counts as private.
type RepoVisibility struct {
	// GitHub returns the client for an org.
	GitHub func(org string) (*github.Client, error)
	// Hidden returns deck.hidden_repos of the applied configuration.
	Hidden func() []string
	// TTL is how long GitHub's answers are kept; default 10 minutes.
	TTL time.Duration

	mu    sync.Mutex
	cache map[string]visibility
}

type visibility struct {
	public  bool
	expires time.Time
}

// Public implements PublicRepoFunc.
func (v *RepoVisibility) Public(ctx context.Context, org, repo string) bool {
	if v.Hidden != nil {
		for _, h := range v.Hidden() {
			if strings.EqualFold(h, org) || strings.EqualFold(h, org+"/"+repo) {
				return false
			}
		}
	}
	key := strings.ToLower(org + "/" + repo)
	now := time.Now()
	v.mu.Lock()
	if e, ok := v.cache[key]; ok && now.Before(e.expires) {
		v.mu.Unlock()
		return e.public
	}
	v.mu.Unlock()
	public := false
	if gh, err := v.GitHub(org); err == nil {
		r, resp, err := gh.Repositories.Get(ctx, org, repo)
		switch {
		case err == nil:
			public = !r.GetPrivate() && (r.GetVisibility() == "" || r.GetVisibility() == "public")
		case resp != nil && resp.StatusCode == http.StatusNotFound:
			// Absent or out of reach: not to be named.
		default:
			// Not cached: GitHub may answer next time.
			return false
		}
	}
	ttl := v.TTL
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	v.mu.Lock()
	if v.cache == nil {
		v.cache = map[string]visibility{}
	}
	v.cache[key] = visibility{public: public, expires: now.Add(ttl)}
	v.mu.Unlock()
	return public
}
