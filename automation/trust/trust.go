// Package trust decides whom bowline trusts in a repository, by Prow's
// rule: a GitHub App's bot listed in trusted_apps, a member of the
// repository's org or of trusted_org, or, unless only_org_members, a
// collaborator on the repository. The trigger plugin decides by it who may
// start jobs; retitle, welcome, dco, verify-owners and the other plugins
// ask the same questions.
//
// GitHub's answers to "is this user a member?" and "a collaborator?" carry
// no ETag, so each one would spend a request of the hourly rate limit, and
// nearly every event asks one. A Cache keeps them for TTL, yes and no
// alike, and forgets a user's answers at once when an organization or
// member webhook about that user arrives (ForgetEvent). One Cache serves
// every plugin of a process.
package trust

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/schema/plugins"
)

// TTL is how long an answer is believed. A removal from the org or the
// repository takes effect within it where no webhook says so.
const TTL = time.Minute

// maxAnswers bounds the cache; past it, expired answers are dropped, and
// if that is not enough, all of them.
const maxAnswers = 50_000

// MembersAPI is the part of GitHub's organizations API the cache asks; a
// *github.OrganizationsService satisfies it.
type MembersAPI interface {
	IsMember(ctx context.Context, org, user string) (bool, *github.Response, error)
}

// CollaboratorsAPI is the part of GitHub's repositories API the cache asks;
// a *github.RepositoriesService satisfies it.
type CollaboratorsAPI interface {
	IsCollaborator(ctx context.Context, owner, repo, user string) (bool, *github.Response, error)
}

// GitHub is what the cache asks GitHub, as one org's client.
type GitHub struct {
	Organizations MembersAPI
	Repositories  CollaboratorsAPI
}

// FromClient is the GitHub view of a go-github client.
func FromClient(c *github.Client) GitHub {
	return GitHub{Organizations: c.Organizations, Repositories: c.Repositories}
}

// Cache remembers GitHub's membership and collaborator answers for its
// TTL. Logins, orgs and repositories are compared case-insensitively, as
// GitHub does. It is safe for concurrent use.
type Cache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	answers map[key]answer
}

type key struct {
	// scope is "org" for a membership, "org/repo" for a collaborator.
	scope, login string
}

type answer struct {
	yes     bool
	expires time.Time
}

// New returns a Cache that keeps answers for TTL.
func New() *Cache { return NewCache(TTL, time.Now) }

// NewCache returns a Cache that keeps answers for ttl (none, when ttl is
// not positive), by the clock now.
func NewCache(ttl time.Duration, now func() time.Time) *Cache {
	return &Cache{ttl: ttl, now: now, answers: map[key]answer{}}
}

// Trusted reports whether user is trusted in org/repo by rules (the
// repository's triggers entry of plugins.yaml, or the zero value).
func (c *Cache) Trusted(ctx context.Context, gh GitHub, rules plugins.Trigger, org, repo, user string) (bool, error) {
	if user == "" {
		return false, nil
	}
	if app, ok := strings.CutSuffix(user, "[bot]"); ok && (slices.Contains(rules.TrustedApps, app) || slices.Contains(rules.TrustedApps, user)) {
		return true, nil
	}
	for _, o := range Orgs(rules, org) {
		if member, err := c.IsMember(ctx, gh, o, user); err != nil || member {
			return member, err
		}
	}
	if rules.OnlyOrgMembers {
		return false, nil
	}
	return c.IsCollaborator(ctx, gh, org, repo, user)
}

// Orgs are the orgs whose members rules trust in a repository of org: org,
// and trusted_org.
func Orgs(rules plugins.Trigger, org string) []string {
	if rules.TrustedOrg != "" && !strings.EqualFold(rules.TrustedOrg, org) {
		return []string{org, rules.TrustedOrg}
	}
	return []string{org}
}

// IsMember reports whether user is a member of org.
func (c *Cache) IsMember(ctx context.Context, gh GitHub, org, user string) (bool, error) {
	if user == "" {
		return false, nil
	}
	return c.ask(org, user, func() (bool, error) {
		yes, _, err := gh.Organizations.IsMember(ctx, org, user)
		if err != nil {
			return false, fmt.Errorf("check whether %s is a member of %s: %w", user, org, err)
		}
		return yes, nil
	})
}

// IsCollaborator reports whether user collaborates on org/repo (directly,
// through a team or as an org member with access), as GitHub's collaborator
// check answers.
func (c *Cache) IsCollaborator(ctx context.Context, gh GitHub, org, repo, user string) (bool, error) {
	if user == "" {
		return false, nil
	}
	return c.ask(org+"/"+repo, user, func() (bool, error) {
		yes, _, err := gh.Repositories.IsCollaborator(ctx, org, repo, user)
		if err != nil {
			return false, fmt.Errorf("check whether %s collaborates on %s/%s: %w", user, org, repo, err)
		}
		return yes, nil
	})
}

// ask returns the remembered answer about login in scope, or asks GitHub
// and remembers what it says. Errors are not remembered.
func (c *Cache) ask(scope, login string, askGitHub func() (bool, error)) (bool, error) {
	k := key{scope: strings.ToLower(scope), login: strings.ToLower(login)}
	if yes, ok := c.get(k); ok {
		return yes, nil
	}
	yes, err := askGitHub()
	if err != nil {
		return false, err
	}
	c.put(k, yes)
	return yes, nil
}

func (c *Cache) get(k key) (yes, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.answers[k]
	if !ok || !c.now().Before(a.expires) {
		return false, false
	}
	return a.yes, true
}

func (c *Cache) put(k key, yes bool) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.answers) >= maxAnswers {
		for k, a := range c.answers {
			if !now.Before(a.expires) {
				delete(c.answers, k)
			}
		}
		if len(c.answers) >= maxAnswers {
			clear(c.answers)
		}
	}
	c.answers[k] = answer{yes: yes, expires: now.Add(c.ttl)}
}

// Forget drops every answer about login: its memberships and its
// collaborations.
func (c *Cache) Forget(login string) {
	login = strings.ToLower(login)
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.answers {
		if k.login == login {
			delete(c.answers, k)
		}
	}
}

// ForgetEvent drops the answers an organization event (member added,
// removed or invited) or a member event (collaborator added, removed or
// changed) makes stale; it reports whether the payload was one of those.
func (c *Cache) ForgetEvent(payload any) bool {
	switch e := payload.(type) {
	case *github.OrganizationEvent:
		if login := e.GetMembership().GetUser().GetLogin(); login != "" {
			c.Forget(login)
		}
		return true
	case *github.MemberEvent:
		if login := e.GetMember().GetLogin(); login != "" {
			c.Forget(login)
		}
		return true
	}
	return false
}
