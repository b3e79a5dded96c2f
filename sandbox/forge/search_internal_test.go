package forge

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		q    string
		want []term
	}{
		{"is:pr", []term{{qualifier: "is", values: []string{"pr"}}}},
		{`-label:"do-not-merge/hold" repo:a/b`, []term{
			{neg: true, qualifier: "label", values: []string{"do-not-merge/hold"}},
			{qualifier: "repo", values: []string{"a/b"}}}},
		{`label:"needs rebase"`, []term{{qualifier: "label", values: []string{"needs rebase"}}}},
		{"label:a,b fix", []term{{qualifier: "label", values: []string{"a", "b"}}, {values: []string{"fix"}}}},
		{"is:pr+state:open", []term{{qualifier: "is", values: []string{"pr"}}, {qualifier: "state", values: []string{"open"}}}},
		{"  ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, parseQuery(tt.q), cmp.AllowUnexported(term{})); diff != "" {
				t.Fatalf("parseQuery(%q) (-want +got):\n%s", tt.q, diff)
			}
		})
	}
}

func TestMatchDate(t *testing.T) {
	at := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		spec string
		want bool
	}{
		{"2026-03-15", true},
		{"2026-03-14", false},
		{">=2026-03-15", true},
		{">2026-03-15", false},
		{"<=2026-03-15", true},
		{"<2026-03-15", false},
		{">2026-03-15T11:00:00Z", true},
		{"2026-03-01..2026-03-31", true},
		{"2026-03-16..*", false},
		{"*..2026-03-15", true},
		{"yesterday", false},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			if got := matchDate(at, tt.spec); got != tt.want {
				t.Fatalf("matchDate(%s) = %v, want %v", tt.spec, got, tt.want)
			}
		})
	}
}

func TestPerm(t *testing.T) {
	s := newState()
	for _, l := range []string{"owner", "member", "teamed", "collab", "outsider", "root"} {
		s.Users[l] = &user{Login: l}
	}
	s.Users["root"].SiteAdmin = true
	s.Orgs["o"] = &org{Login: "o", Members: map[string]string{"owner": "admin", "member": "member", "teamed": "member"},
		Teams: map[string]*team{"t": {Members: map[string]string{"teamed": "member"}, Repos: map[string]string{"o/private": permMaintain}}}}
	public := &repo{Owner: "o", Name: "public", Collaborators: map[string]string{"collab": permTriage}}
	private := &repo{Owner: "o", Name: "private", Private: true, Collaborators: map[string]string{"collab": permWrite}}
	inst := &installation{Account: "o"}
	tests := []struct {
		name string
		p    principal
		r    *repo
		want string
	}{
		{"anonymous on public", principal{}, public, permRead},
		{"anonymous on private", principal{}, private, permNone},
		{"org owner", principal{login: "owner"}, private, permAdmin},
		{"member gets the default", principal{login: "member"}, private, permRead},
		{"team grant", principal{login: "teamed"}, private, permMaintain},
		{"collaborator on private", principal{login: "collab"}, private, permWrite},
		{"collaborator on public", principal{login: "collab"}, public, permTriage},
		{"outsider on private", principal{login: "outsider"}, private, permNone},
		{"site admin", principal{login: "root"}, private, permAdmin},
		{"installation on its account", principal{inst: inst}, private, permAdmin},
		{"installation elsewhere", principal{inst: &installation{Account: "x"}}, private, permNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.perm(tt.p, tt.r); got != tt.want {
				t.Fatalf("perm = %s, want %s", got, tt.want)
			}
		})
	}
}
