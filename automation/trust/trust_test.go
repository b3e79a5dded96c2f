package trust

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/schema/plugins"
)

// fakeGitHub answers membership and collaborator checks from sets and
// counts the questions.
type fakeGitHub struct {
	members       map[string]bool // "org/login"
	collaborators map[string]bool // login, on any repository
	asked         int
	fail          bool
}

func (f *fakeGitHub) IsMember(_ context.Context, org, user string) (bool, *github.Response, error) {
	f.asked++
	if f.fail {
		return false, nil, errors.New("GitHub is down")
	}
	return f.members[org+"/"+user], nil, nil
}

func (f *fakeGitHub) IsCollaborator(_ context.Context, _, _, user string) (bool, *github.Response, error) {
	f.asked++
	if f.fail {
		return false, nil, errors.New("GitHub is down")
	}
	return f.collaborators[user], nil, nil
}

func (f *fakeGitHub) view() GitHub { return GitHub{Organizations: f, Repositories: f} }

// Prow's trust rule, from the trigger plugin's documentation: trusted
// apps, members of the org or of trusted_org, and collaborators unless
// only_org_members.
func TestTrusted(t *testing.T) {
	tests := []struct {
		name      string
		rules     plugins.Trigger
		user      string
		want      bool
		wantAsked int
	}{
		{name: "a member of the org", user: "alice", want: true, wantAsked: 1},
		{name: "a collaborator", user: "carol", want: true, wantAsked: 2},
		{name: "an outsider", user: "bob", want: false, wantAsked: 2},
		{name: "nobody", user: "", want: false},
		{name: "only members: a collaborator is not trusted", rules: plugins.Trigger{OnlyOrgMembers: true}, user: "carol", want: false, wantAsked: 1},
		{name: "a member of trusted_org", rules: plugins.Trigger{TrustedOrg: "friends"}, user: "fred", want: true, wantAsked: 2},
		{name: "trusted_org naming the org itself is asked once", rules: plugins.Trigger{TrustedOrg: "ACME", OnlyOrgMembers: true}, user: "bob", want: false, wantAsked: 1},
		{name: "a trusted app by its name", rules: plugins.Trigger{TrustedApps: []string{"helper"}}, user: "helper[bot]", want: true},
		{name: "a trusted app by its bot's login", rules: plugins.Trigger{TrustedApps: []string{"helper[bot]"}}, user: "helper[bot]", want: true},
		{name: "an app not listed", rules: plugins.Trigger{TrustedApps: []string{"helper"}}, user: "other[bot]", want: false, wantAsked: 2},
		{name: "a user named like a trusted app", rules: plugins.Trigger{TrustedApps: []string{"helper"}}, user: "helper", want: false, wantAsked: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeGitHub{members: map[string]bool{"acme/alice": true, "friends/fred": true}, collaborators: map[string]bool{"carol": true}}
			got, err := New().Trusted(context.Background(), f.view(), tc.rules, "acme", "widgets", tc.user)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || f.asked != tc.wantAsked {
				t.Errorf("Trusted(%q) = %v after %d questions, want %v after %d", tc.user, got, f.asked, tc.want, tc.wantAsked)
			}
		})
	}
}

func TestAnswersAreCached(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := &fakeGitHub{members: map[string]bool{"acme/alice": true}, collaborators: map[string]bool{"carol": true}}
	c := NewCache(time.Minute, func() time.Time { return now })
	ctx := context.Background()
	check := func(login string, want bool, wantAsked int) {
		t.Helper()
		got, err := c.Trusted(ctx, f.view(), plugins.Trigger{}, "acme", "widgets", login)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || f.asked != wantAsked {
			t.Fatalf("Trusted(%s) = %v after %d questions, want %v after %d", login, got, f.asked, want, wantAsked)
		}
	}
	check("alice", true, 1)
	check("Alice", true, 1) // logins are case-insensitive
	check("carol", true, 3) // not a member, a collaborator
	check("carol", true, 3)
	check("bob", false, 5)
	check("bob", false, 5) // no is remembered too
	// The single questions share the answers.
	if member, err := c.IsMember(ctx, f.view(), "ACME", "alice"); err != nil || !member || f.asked != 5 {
		t.Fatalf("IsMember(alice) = %v, %v after %d questions", member, err, f.asked)
	}
	if collab, err := c.IsCollaborator(ctx, f.view(), "acme", "Widgets", "carol"); err != nil || !collab || f.asked != 5 {
		t.Fatalf("IsCollaborator(carol) = %v, %v after %d questions", collab, err, f.asked)
	}

	// A removal webhook forgets at once.
	delete(f.members, "acme/alice")
	removed := &github.OrganizationEvent{Action: github.Ptr("member_removed"),
		Membership: &github.Membership{User: &github.User{Login: github.Ptr("alice")}}}
	if !c.ForgetEvent(removed) {
		t.Fatal("organization event not recognised")
	}
	check("alice", false, 7)

	// A collaborator added: the member event forgets the old no.
	f.collaborators["bob"] = true
	added := &github.MemberEvent{Action: github.Ptr("added"), Member: &github.User{Login: github.Ptr("bob")}}
	if !c.ForgetEvent(added) {
		t.Fatal("member event not recognised")
	}
	check("bob", true, 9)

	// Without a webhook, answers expire.
	delete(f.collaborators, "carol")
	now = now.Add(time.Minute)
	check("carol", false, 11)

	if c.ForgetEvent(&github.PushEvent{}) {
		t.Error("push event taken for a membership change")
	}
}

// Errors are not remembered: the next question asks again.
func TestErrorsAreNotCached(t *testing.T) {
	f := &fakeGitHub{fail: true, members: map[string]bool{"acme/alice": true}}
	c := New()
	if _, err := c.Trusted(context.Background(), f.view(), plugins.Trigger{}, "acme", "widgets", "alice"); err == nil {
		t.Fatal("no error")
	}
	f.fail = false
	if ok, err := c.Trusted(context.Background(), f.view(), plugins.Trigger{}, "acme", "widgets", "alice"); err != nil || !ok {
		t.Fatalf("Trusted(alice) = %v, %v", ok, err)
	}
}

func TestWithoutTTLNothingIsCached(t *testing.T) {
	f := &fakeGitHub{members: map[string]bool{"acme/alice": true}}
	c := NewCache(0, time.Now)
	for range 2 {
		if _, err := c.IsMember(context.Background(), f.view(), "acme", "alice"); err != nil {
			t.Fatal(err)
		}
	}
	if f.asked != 2 {
		t.Errorf("asked %d times, want 2", f.asked)
	}
}

func TestCacheIsBounded(t *testing.T) {
	now := time.Now()
	c := NewCache(time.Minute, func() time.Time { return now })
	for i := range maxAnswers + 10 {
		c.put(key{scope: "acme", login: fmt.Sprintf("user-%d", i)}, true)
	}
	if n := len(c.answers); n > maxAnswers {
		t.Fatalf("%d answers kept, bound is %d", n, maxAnswers)
	}
}
