package merge

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/prowconfig"
)

func boolp(b bool) *bool { return &b }
func intp(i int) *int    { return &i }

func TestConfigFromDefaults(t *testing.T) {
	tests := []struct {
		name string
		tide prowconfig.Tide
		want [6]any // sync, status, full resync, goroutines, depth, bisect
	}{
		{name: "Prow's defaults and bowline's", want: [6]any{time.Minute, time.Minute, 10 * time.Minute, 20, 1, true}},
		{
			name: "set",
			tide: prowconfig.Tide{SyncPeriod: &jobs.Duration{Duration: 2 * time.Minute}, StatusUpdatePeriod: &jobs.Duration{Duration: 30 * time.Second},
				MaxGoroutines: 5, Bowline: prowconfig.TideBowline{SpeculativeDepth: intp(0), Bisect: boolp(false),
					FullResyncPeriod: &jobs.Duration{Duration: time.Hour}}},
			want: [6]any{2 * time.Minute, 30 * time.Second, time.Hour, 5, 0, false},
		},
		{
			name: "status_update_period follows sync_period; the full resync is never more often than a sync",
			tide: prowconfig.Tide{SyncPeriod: &jobs.Duration{Duration: 20 * time.Minute}},
			want: [6]any{20 * time.Minute, 20 * time.Minute, 20 * time.Minute, 20, 1, true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ConfigFrom(&configset.Set{Config: &prowconfig.Config{Tide: tt.tide}})
			if err != nil {
				t.Fatal(err)
			}
			got := [6]any{c.SyncPeriod, c.StatusUpdatePeriod, c.FullResyncPeriod, c.MaxGoroutines, c.SpeculativeDepth, c.Bisect}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if c.Namespace != "default" {
				t.Errorf("namespace %q, want Prow's default", c.Namespace)
			}
		})
	}
}

func TestShards(t *testing.T) {
	c := &Config{Tide: &prowconfig.Tide{Queries: []prowconfig.TideQuery{
		{Orgs: []string{"acme"}, ExcludedRepos: []string{"acme/legacy", "acme/docs"}},
		{Orgs: []string{"acme"}, ExcludedRepos: []string{"acme/legacy"}, ReviewApprovedRequired: true},
		{Repos: []string{"other/a", "other/b", "acme/docs"}},
	}}}
	var got []string
	for _, s := range c.shards() {
		got = append(got, s.org+" "+s.query+map[bool]string{true: " +reviews"}[s.reviews])
	}
	// acme/legacy is excluded by every acme query; acme/docs is listed by
	// another, so it stays in the org's search.
	want := []string{`acme org:"acme" -repo:"acme/legacy" +reviews`, `other repo:"other/a" repo:"other/b"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shards (-want +got):\n%s", diff)
	}
}

func TestPolicyFor(t *testing.T) {
	set := &configset.Set{Config: &prowconfig.Config{
		Tide: prowconfig.Tide{
			Queries:                      []prowconfig.TideQuery{{Orgs: []string{"acme"}}, {Repos: []string{"other/x"}}},
			MergeType:                    map[string]prowconfig.MergeMethods{"acme": {Method: "squash"}, "acme/widgets": {Method: "rebase"}, "acme/widgets@release": {Method: "merge"}},
			BatchSizeLimitMap:            map[string]int{"*": 5, "acme/widgets": -1},
			GitHubMergeBlocksPolicyMap:   map[string]string{"acme": "block"},
			PrioritizeExistingBatchesMap: map[string]bool{"acme": false},
			ContextOptions: prowconfig.TideContextPolicyOptions{
				TideContextPolicy: prowconfig.TideContextPolicy{RequiredContexts: []string{"cla"}},
				Orgs: map[string]prowconfig.TideOrgContextPolicy{"acme": {
					TideContextPolicy: prowconfig.TideContextPolicy{SkipUnknownContexts: boolp(true)},
					Repos: map[string]prowconfig.TideRepoContextPolicy{"widgets": {
						TideContextPolicy: prowconfig.TideContextPolicy{FromBranchProtection: boolp(true)},
						Branches:          map[string]prowconfig.TideContextPolicy{"main": {OptionalContexts: []string{"lint"}}},
					}},
				}},
			},
		},
		BranchProtection: prowconfig.BranchProtection{Policy: prowconfig.Policy{Protect: boolp(true),
			RequiredStatusChecks: &prowconfig.ContextPolicy{Contexts: []string{"security/scan"}}}},
	}}
	c, err := ConfigFrom(set)
	if err != nil {
		t.Fatal(err)
	}
	type view struct {
		Method      string
		Limit       int
		Prioritize  bool
		Queries     int
		Required    []string
		Optional    []string
		SkipUnknown bool
		Protection  []string
		Blocks      string
	}
	of := func(org, repo, branch string, github []string) view {
		p := c.PolicyFor(org, repo, branch, github, nil)
		return view{p.Method, p.BatchLimit, p.PrioritizeExisting, len(p.Queries), p.ContextOptions.RequiredContexts,
			p.ContextOptions.OptionalContexts, isTrue(p.ContextOptions.SkipUnknownContexts), p.Protection, p.MergeBlocks}
	}
	tests := []struct {
		name               string
		org, repo, branch  string
		protectionOnGitHub []string
		want               view
	}{
		{name: "org/repo@branch wins", org: "acme", repo: "widgets", branch: "release",
			want: view{Method: "merge", Limit: -1, Queries: 1, Required: []string{"cla"}, SkipUnknown: true, Protection: []string{"security/scan"}, Blocks: "block"}},
		{name: "org/repo, branch context options, GitHub's protection added", org: "acme", repo: "widgets", branch: "main", protectionOnGitHub: []string{"ci/gh"},
			want: view{Method: "rebase", Limit: -1, Queries: 1, Required: []string{"cla"}, Optional: []string{"lint"}, SkipUnknown: true,
				Protection: []string{"security/scan", "ci/gh"}, Blocks: "block"}},
		{name: "org", org: "acme", repo: "gadgets", branch: "main",
			want: view{Method: "squash", Limit: 5, Queries: 1, Required: []string{"cla"}, SkipUnknown: true, Blocks: "block"}},
		{name: "defaults", org: "other", repo: "x", branch: "main",
			want: view{Method: "merge", Limit: 5, Prioritize: true, Queries: 1, Required: []string{"cla"}, Blocks: "permit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, of(tt.org, tt.repo, tt.branch, tt.protectionOnGitHub)); diff != "" {
				t.Errorf("policy (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatusURL(t *testing.T) {
	tests := []struct {
		name string
		tide prowconfig.Tide
		def  string
		want string
	}{
		{name: "nothing configured", want: ""},
		{name: "the web role's /pr", def: "http://ci.example/pr", want: "http://ci.example/pr/acme/widgets/7"},
		{name: "pr_status_base_urls by repo", def: "http://ci.example/pr",
			tide: prowconfig.Tide{PRStatusBaseURLs: map[string]string{"*": "https://a/pr", "acme/widgets": "https://b/pr/"}},
			want: "https://b/pr/acme/widgets/7"},
		{name: "pr_status_base_url", tide: prowconfig.Tide{PRStatusBaseURL: "https://c/pr"}, want: "https://c/pr/acme/widgets/7"},
		{name: "target_urls win", tide: prowconfig.Tide{TargetURLs: map[string]string{"acme": "https://tide.example/"},
			PRStatusBaseURL: "https://c/pr"}, want: "https://tide.example/"},
		{name: "target_url", tide: prowconfig.Tide{TargetURL: "https://tide.example/"}, want: "https://tide.example/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Tide: &tt.tide}
			if got := c.statusURL("acme", "widgets", 7, tt.def); got != tt.want {
				t.Errorf("statusURL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCommitTemplates(t *testing.T) {
	c, err := ConfigFrom(&configset.Set{Config: &prowconfig.Config{Tide: prowconfig.Tide{MergeTemplate: map[string]prowconfig.MergeCommitTemplate{
		"acme":         {Title: "{{.Title}} (#{{.Number}})"},
		"acme/widgets": {Body: "{{.Body}}\n\nAuthored by {{.Author.Login}}"},
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	d := &mergeTemplateData{Number: 4, Title: "Fix it", Body: "Details."}
	d.Author.Login = "alice"
	title, body := c.commitTemplates("acme", "gadgets")
	gotTitle, _ := render(title, d)
	gotBody, _ := render(body, d)
	if gotTitle != "Fix it (#4)" || gotBody != "" {
		t.Errorf("acme/gadgets: %q, %q", gotTitle, gotBody)
	}
	title, body = c.commitTemplates("acme", "widgets")
	gotTitle, _ = render(title, d)
	gotBody, _ = render(body, d)
	if gotTitle != "" || gotBody != "Details.\n\nAuthored by alice" {
		t.Errorf("acme/widgets: %q, %q", gotTitle, gotBody)
	}
}
