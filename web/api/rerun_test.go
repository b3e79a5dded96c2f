package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

const rerunSeed = `
users:
- {login: bowline-bot, token: bot-token, bot: true}
- {login: alice, token: alice-token}
- {login: tess, token: tess-token}
- {login: olga, token: olga-token}
- {login: mallory, token: mallory-token}
- {login: pat, token: pat-token}
orgs:
- login: acme
  admins: [bowline-bot]
  members: [tess, olga]
  teams:
  - {name: Release, members: [tess]}
- login: friends
  members: [olga]
repos:
- name: acme/rocket
  files: {README.md: "# rocket\n"}
`

// TestRerunAuth performs reruns as different GitHub users against Deck's
// rules (canTriggerJob): the deck-level rerun_auth_configs entry for the
// run's repository, the job's own rerun_auth_config, then for presubmits
// whoever may /test the pull request. Each user proves who they are with
// their own token, checked with GitHub.
func TestRerunAuth(t *testing.T) {
	fg := forgetest.Start(t, rerunSeed)
	bot := fg.Client(t, "bot-token")
	release, _, err := bot.Teams.GetTeamBySlug(context.Background(), "acme", "release")
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	deck := []RerunAuthEntry{
		{OrgRepo: "*", Auth: v1alpha1.RerunAuthConfig{GitHubUsers: []string{"alice"}}},
		{OrgRepo: "acme/rocket", Auth: v1alpha1.RerunAuthConfig{GitHubUsers: []string{"Alice"}, GitHubOrgs: []string{"friends"}}},
		{OrgRepo: "acme/open", Auth: v1alpha1.RerunAuthConfig{AllowAnyone: &yes}},
	}
	var ns string
	srv, ns := fixture(t, func(h *Handler) {
		h.Config = func() Config { return Config{Namespace: ns, RerunAuth: deck} }
		h.Rerun = &Reruns{
			Creator:  env.Client,
			Identify: GitHubIdentity{BaseURL: fg.URL + "/"}.Identify,
			Members:  GitHubMembership{ForOrg: func(string) (*github.Client, error) { return bot, nil }},
			// The trigger's rule, stood in for: pat may /test pull #9.
			TrustedPullRequest: func(_ context.Context, user, org, repo string, number int) (bool, error) {
				return user == "pat" && org+"/"+repo == "acme/rocket" && number == 9, nil
			},
		}
	})
	create(t, ns, "team-job", func(pj *v1alpha1.ProwJob) {
		pj.Spec.RerunAuthConfig = &v1alpha1.RerunAuthConfig{GitHubTeamSlugs: []v1alpha1.TeamSlug{{Org: "acme", Slug: "release"}}}
	})
	create(t, ns, "team-id-job", func(pj *v1alpha1.ProwJob) {
		pj.Spec.RerunAuthConfig = &v1alpha1.RerunAuthConfig{GitHubTeamIDs: []int64{release.GetID()}}
	})
	create(t, ns, "open-job", func(pj *v1alpha1.ProwJob) { pj.Spec.Refs.Repo = "open" })
	create(t, ns, "pr-job", func(pj *v1alpha1.ProwJob) {
		pj.Spec.Type = v1alpha1.PresubmitJob
		pj.Spec.Refs.Pulls = []v1alpha1.Pull{{Number: 9, SHA: "head"}}
	})

	tests := []struct {
		name, run, token string
		want             int
	}{
		{"listed user (case-insensitive)", "post", "alice-token", http.StatusCreated},
		{"member of a listed org", "post", "olga-token", http.StatusCreated},
		{"org member not listed anywhere", "post", "tess-token", http.StatusForbidden},
		{"outsider", "post", "mallory-token", http.StatusForbidden},
		{"no token", "post", "", http.StatusUnauthorized},
		{"a token GitHub refuses", "post", "forged-token", http.StatusUnauthorized},
		{"job-level team by slug", "team-job", "tess-token", http.StatusCreated},
		{"job-level team by ID", "team-id-job", "tess-token", http.StatusCreated},
		{"job-level team, not a member", "team-job", "mallory-token", http.StatusForbidden},
		{"allow_anyone needs no token", "open-job", "", http.StatusCreated},
		{"presubmit: whoever may /test the pull request", "pr-job", "pat-token", http.StatusCreated},
		{"presubmit: not allowed to /test", "pr-job", "mallory-token", http.StatusForbidden},
		{"hidden or missing run", "missing", "alice-token", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/prowjobs/"+ns+"/"+tt.run+"/rerun", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var res RerunResult
			_ = json.NewDecoder(resp.Body).Decode(&res)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want != http.StatusCreated {
				return
			}
			rerun := &v1alpha1.ProwJob{}
			if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: res.Namespace, Name: res.Name}, rerun); err != nil {
				t.Fatal(err)
			}
			orig := &v1alpha1.ProwJob{}
			if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: tt.run}, orig); err != nil {
				t.Fatal(err)
			}
			if rerun.Spec.Job != orig.Spec.Job || rerun.Labels[v1alpha1.RerunLabel] != "true" || rerun.Name == tt.run {
				t.Errorf("rerun %s: job %s, labels %v", rerun.Name, rerun.Spec.Job, rerun.Labels)
			}
			if tt.token != "" && rerun.Annotations[v1alpha1.TriggeredByAnnotation] != strings.TrimSuffix(tt.token, "-token") {
				t.Errorf("triggered by %q", rerun.Annotations[v1alpha1.TriggeredByAnnotation])
			}
		})
	}
}
