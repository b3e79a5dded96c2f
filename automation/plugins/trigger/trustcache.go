package trigger

import (
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v89/github"
)

// TrustCacheTTL is how long the plugin believes GitHub's answer to "is this
// user a member of the org" or "a collaborator on the repository". Every
// event checks its author's trust, and those answers carry no ETag, so
// without the cache each event would spend a request of the hourly rate
// limit: at a few events a second that budget is gone within the hour.
// An organization or member webhook about the user (org- or repo-level
// hooks deliver them) forgets the answer at once; otherwise a removal
// takes effect within the TTL.
const TrustCacheTTL = time.Minute

// trustCacheMax bounds the cache; past it, expired answers are dropped,
// and if that is not enough, all of them.
const trustCacheMax = 50_000

type trustKey struct {
	// scope is "org" for a membership, "org/repo" for a collaborator.
	scope, login string
}

type trustAnswer struct {
	yes     bool
	expires time.Time
}

// trustCache remembers membership and collaborator answers for
// TrustCacheTTL. Logins and names are compared case-insensitively, as
// GitHub does.
type trustCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	answers map[trustKey]trustAnswer
}

func newTrustCache(ttl time.Duration, now func() time.Time) *trustCache {
	return &trustCache{ttl: ttl, now: now, answers: map[trustKey]trustAnswer{}}
}

func keyOf(scope, login string) trustKey {
	return trustKey{scope: strings.ToLower(scope), login: strings.ToLower(login)}
}

func (c *trustCache) get(scope, login string) (yes, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.answers[keyOf(scope, login)]
	if !ok || !c.now().Before(a.expires) {
		return false, false
	}
	return a.yes, true
}

func (c *trustCache) put(scope, login string, yes bool) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.answers) >= trustCacheMax {
		for k, a := range c.answers {
			if !now.Before(a.expires) {
				delete(c.answers, k)
			}
		}
		if len(c.answers) >= trustCacheMax {
			clear(c.answers)
		}
	}
	c.answers[keyOf(scope, login)] = trustAnswer{yes: yes, expires: now.Add(c.ttl)}
}

// forget drops every answer about login: its memberships and its
// collaborations.
func (c *trustCache) forget(login string) {
	login = strings.ToLower(login)
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.answers {
		if k.login == login {
			delete(c.answers, k)
		}
	}
}

// forgetFromEvent drops the answers an organization or member event makes
// stale; it reports whether the payload was one of those events.
func (c *trustCache) forgetFromEvent(payload any) bool {
	switch e := payload.(type) {
	case *github.OrganizationEvent:
		if login := e.GetMembership().GetUser().GetLogin(); login != "" {
			c.forget(login)
		}
		return true
	case *github.MemberEvent:
		if login := e.GetMember().GetLogin(); login != "" {
			c.forget(login)
		}
		return true
	}
	return false
}
