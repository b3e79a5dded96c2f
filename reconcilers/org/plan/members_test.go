package plan

import (
	"slices"
	"strings"
	"testing"
)

func TestMembers(t *testing.T) {
	t.Parallel()
	const org = `
admins: [Alice, bot]
members: [bob, carol]
`
	tests := []struct {
		name        string
		members     map[string]string
		invitations map[string]string
		opts        Options
		want        []string
	}{{
		name: "empty org: everyone is invited",
		want: []string{
			"+ member Alice: invite as admin",
			"+ member bob: invite as member",
			"+ member bot: invite as admin",
			"+ member carol: invite as member",
		},
	}, {
		name:    "logins compare case-insensitively",
		members: map[string]string{"alice": "admin", "bot": "admin", "bob": "member", "carol": "member"},
	}, {
		name:    "a member becomes admin and an admin becomes member",
		members: map[string]string{"alice": "member", "bot": "admin", "bob": "admin", "carol": "member"},
		want: []string{
			"~ member Alice: role member → admin",
			"~ member bob: role admin → member",
		},
	}, {
		name:        "pending invitations are waited for, whatever their role",
		members:     map[string]string{"alice": "admin", "bot": "admin"},
		invitations: map[string]string{"bob": "admin", "carol": "member"},
	}, {
		name:        "members and invitations the config does not name are removed",
		members:     map[string]string{"alice": "admin", "bot": "admin", "bob": "member", "carol": "member", "mallory": "admin"},
		invitations: map[string]string{"trent": "member"},
		want: []string{
			"- member mallory: remove from the org (admin)",
			"- member trent: cancel the invitation (member)",
		},
	}, {
		name:        "ignoring invitees invites them again and leaves others alone",
		members:     map[string]string{"alice": "admin", "bot": "admin", "bob": "member"},
		invitations: map[string]string{"carol": "member", "trent": "member"},
		opts:        Options{IgnoreInvitees: true},
		want:        []string{"+ member carol: invite as member"},
	}, {
		name:    "members unmanaged",
		members: map[string]string{"mallory": "admin"},
		opts:    Options{Unmanaged: Parts{Members: true}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := desired(t, map[string]string{"orgs/acme/org.yaml": org}, tt.opts)
			s := &State{Org: "acme", Read: AllParts, Members: tt.members, Invitations: tt.invitations}
			diffLines(t, Compute(d, s), tt.want)
		})
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	d := desired(t, map[string]string{"orgs/acme/org.yaml": `
name: ACME
description: Widgets.
default_repository_permission: read
members_can_create_repositories: false
admins: [alice]
`}, Options{})
	s := &State{Org: "acme", Members: map[string]string{"alice": "admin"},
		Settings: OrgSettings{Name: "ACME", Description: "Old", DefaultRepositoryPermission: "read", MembersCanCreateRepositories: true, Company: "left alone"}}
	diffLines(t, Compute(d, s), []string{
		`~ org acme: description "Old" → "Widgets.", members_can_create_repositories true → false`,
	})
}

func TestCheck(t *testing.T) {
	t.Parallel()
	ten := map[string]string{"bot": "admin", "alice": "admin"}
	for _, u := range []string{"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"} {
		ten[u] = "member"
	}
	limits := Limits{MaxRemovalPercent: 25, MinAdmins: 2, RequireSelf: true}
	tests := []struct {
		name   string
		org    string
		limits Limits
		bot    string
		want   []string // reasons
	}{{
		name:   "removing 2 of 10 members is within 25%",
		org:    "admins: [bot, alice]\nmembers: [m1, m2, m3, m4, m5, m6]\n",
		limits: limits, bot: "bot",
	}, {
		name:   "removing 3 of 10 members (30%) is refused",
		org:    "admins: [bot, alice]\nmembers: [m1, m2, m3, m4, m5]\n",
		limits: limits, bot: "bot",
		want: []string{ReasonTooManyRemovals},
	}, {
		name:   "a higher limit allows it",
		org:    "admins: [bot, alice]\nmembers: [m1, m2, m3, m4, m5]\n",
		limits: Limits{MaxRemovalPercent: 30, MinAdmins: 2}, bot: "bot",
	}, {
		name:   "too few admins",
		org:    "admins: [bot]\nmembers: [alice, m1, m2, m3, m4, m5, m6, m7, m8]\n",
		limits: limits, bot: "bot",
		want: []string{ReasonTooFewAdmins},
	}, {
		name:   "a required admin is missing",
		org:    "admins: [bot, alice]\nmembers: [m1, m2, m3, m4, m5, m6, m7, m8]\n",
		limits: Limits{MaxRemovalPercent: 25, MinAdmins: 2, RequiredAdmins: []string{"Carol"}}, bot: "bot",
		want: []string{ReasonTooFewAdmins},
	}, {
		name:   "bowline's own account must stay an admin",
		org:    "admins: [alice, m1]\nmembers: [bot, m2, m3, m4, m5, m6, m7, m8]\n",
		limits: limits, bot: "bot",
		want: []string{ReasonTooFewAdmins},
	}, {
		name:   "a GitHub App is no member, so it need not be an admin",
		org:    "admins: [alice, m1]\nmembers: [bot, m2, m3, m4, m5, m6, m7, m8]\n",
		limits: limits,
	}, {
		name:   "team members must be org members",
		org:    "admins: [bot, alice]\nmembers: [m1, m2, m3, m4, m5, m6, m7, m8]\nteams:\n  t:\n    members: [stranger]\n",
		limits: limits, bot: "bot",
		want: []string{ReasonInvalidConfig},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := desired(t, map[string]string{"orgs/acme/org.yaml": tt.org}, Options{})
			p := Compute(d, &State{Org: "acme", Read: AllParts, Members: ten})
			var got []string
			for _, v := range p.Check(tt.limits, tt.bot, p.Changes) {
				got = append(got, v.Reason)
				if !strings.HasSuffix(v.Message, ".") && !strings.Contains(v.Message, ":") {
					t.Errorf("message %q is not a sentence", v.Message)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("violations = %v, want %v (%v)", got, tt.want, p.Check(tt.limits, tt.bot, p.Changes))
			}
		})
	}
}

func TestTooManyTeamRemovals(t *testing.T) {
	t.Parallel()
	d := desired(t, map[string]string{"orgs/acme/org.yaml": "admins: [a, b]\nteams:\n  keep: {}\n"}, Options{})
	s := &State{Org: "acme", Members: map[string]string{"a": "admin", "b": "admin"},
		Teams: []Team{{ID: 1, Slug: "keep", Name: "keep", Privacy: "closed"}, {ID: 2, Slug: "gone", Name: "gone", Privacy: "closed"}}}
	p := Compute(d, s)
	v := p.Check(Limits{MaxRemovalPercent: 25, MinAdmins: 2}, "", p.Changes)
	if len(v) != 1 || v[0].Reason != ReasonTooManyRemovals || !strings.Contains(v[0].Message, "deletes 1 of the org's 2 teams (50%)") {
		t.Fatalf("violations = %v", v)
	}
}
