package trigger

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/schema/plugins"
)

// fakeTrust answers membership and collaborator checks from sets and
// counts the questions.
type fakeTrust struct {
	members, collaborators map[string]bool
	asked                  int
}

func (f *fakeTrust) IsMember(_ context.Context, _, user string) (bool, *github.Response, error) {
	f.asked++
	return f.members[user], nil, nil
}

func (f *fakeTrust) IsCollaborator(_ context.Context, _, _, user string) (bool, *github.Response, error) {
	f.asked++
	return f.collaborators[user], nil, nil
}

func (f *fakeTrust) GetCombinedStatus(context.Context, string, string, string, *github.ListOptions) (*github.CombinedStatus, *github.Response, error) {
	panic("not used")
}

func TestTrustAnswersAreCached(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := &fakeTrust{members: map[string]bool{"alice": true}, collaborators: map[string]bool{"carol": true}}
	p := &Plugin{trust: newTrustCache(time.Minute, func() time.Time { return now })}
	h := &handler{Plugin: p, cfg: &Config{Trigger: plugins.Trigger{}}, gh: &GitHub{Organizations: f, Repositories: f}, org: "acme", repo: "widgets"}
	ctx := context.Background()
	check := func(login string, want bool, wantAsked int) {
		t.Helper()
		got, err := h.trustedUser(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || f.asked != wantAsked {
			t.Fatalf("trustedUser(%s) = %v after %d questions, want %v after %d", login, got, f.asked, want, wantAsked)
		}
	}
	check("alice", true, 1)
	check("Alice", true, 1) // logins are case-insensitive
	check("carol", true, 3) // not a member, a collaborator
	check("carol", true, 3)
	check("bob", false, 5)
	check("bob", false, 5) // no is remembered too

	// A removal webhook forgets at once.
	delete(f.members, "alice")
	removed := &github.OrganizationEvent{Action: github.Ptr("member_removed"),
		Membership: &github.Membership{User: &github.User{Login: github.Ptr("alice")}}}
	if !p.trust.forgetFromEvent(removed) {
		t.Fatal("organization event not recognised")
	}
	check("alice", false, 7)

	// A collaborator added: the member event forgets the old no.
	f.collaborators["bob"] = true
	added := &github.MemberEvent{Action: github.Ptr("added"), Member: &github.User{Login: github.Ptr("bob")}}
	if !p.trust.forgetFromEvent(added) {
		t.Fatal("member event not recognised")
	}
	check("bob", true, 9)

	// Without a webhook, answers expire.
	f.members["carol"] = false
	delete(f.collaborators, "carol")
	now = now.Add(time.Minute)
	check("carol", false, 11)

	if p.trust.forgetFromEvent(&github.PushEvent{}) {
		t.Error("push event taken for a membership change")
	}
}

func TestTrustCacheIsBounded(t *testing.T) {
	now := time.Now()
	c := newTrustCache(time.Minute, func() time.Time { return now })
	for i := range trustCacheMax + 10 {
		c.put("acme", string(rune('a'+i%26))+time.Duration(i).String(), true)
	}
	if n := len(c.answers); n > trustCacheMax {
		t.Fatalf("%d answers kept, bound is %d", n, trustCacheMax)
	}
}
