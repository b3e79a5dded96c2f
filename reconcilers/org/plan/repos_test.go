package plan

import "testing"

func TestRepos(t *testing.T) {
	t.Parallel()
	widgets := RepoSettings{Description: "The widgets.", HasIssues: true, HasWiki: true, AllowMergeCommit: true, AllowSquashMerge: true, DefaultBranch: "main", Visibility: "public"}
	tests := []struct {
		name  string
		repos string
		have  []Repo
		opts  Options
		want  []string
	}{{
		name: "a missing repository is created with its settings",
		repos: `
  gadgets:
    description: The gadgets.
    private: true
    on_create: {auto_init: true}
`,
		want: []string{"+ repo gadgets: create (private)"},
	}, {
		name:  "a repository configured as archived is not created",
		repos: "  old: {archived: true}\n",
	}, {
		name: "settings are corrected; unset ones are left alone",
		repos: `
  widgets:
    description: Widgets.
    has_wiki: false
    allow_merge_commit: false
`,
		have: []Repo{{Name: "widgets", Settings: widgets, Detailed: true}},
		want: []string{`~ repo widgets: description "The widgets." → "Widgets.", has_wiki true → false, allow_merge_commit true → false`},
	}, {
		name:  "a repository found under a previous name is renamed",
		repos: "  widgets:\n    previously: [gizmos]\n    description: The widgets.\n",
		have:  []Repo{{Name: "gizmos", Settings: widgets}},
		want:  []string{"~ repo widgets: rename from gizmos"},
	}, {
		name:  "current and previous names both taken: left alone",
		repos: "  widgets:\n    previously: [gizmos]\n    description: New.\n",
		have:  []Repo{{Name: "gizmos", Settings: widgets}, {Name: "widgets", Settings: widgets}},
	}, {
		name:  "archiving is blocked unless allowed",
		repos: "  widgets: {archived: true, description: New.}\n",
		have:  []Repo{{Name: "widgets", Settings: widgets}},
		want: []string{
			`~ repo widgets: description "The widgets." → "New."`,
			"~ repo widgets: archive [blocked: archiving a repository is not allowed (spec.safety.allowRepoArchival)]",
		},
	}, {
		name:  "archiving allowed",
		repos: "  widgets: {archived: true}\n",
		have:  []Repo{{Name: "widgets", Settings: widgets}},
		opts:  Options{AllowRepoArchival: true},
		want:  []string{"~ repo widgets: archive"},
	}, {
		name:  "publishing is blocked unless allowed; making private is not",
		repos: "  widgets: {private: true}\n  secret: {visibility: public}\n",
		have:  []Repo{{Name: "widgets", Settings: widgets}, {Name: "secret", Settings: RepoSettings{Private: true, Visibility: "private"}}},
		want: []string{
			"~ repo secret: visibility private → public [blocked: making a private repository public is not allowed (spec.safety.allowRepoPublish)]",
			"~ repo widgets: private false → true",
		},
	}, {
		name:  "an archived repository is not unarchived, nor changed",
		repos: "  widgets: {archived: false, description: New.}\n  old: {archived: true, description: New.}\n",
		have: []Repo{{Name: "widgets", Settings: RepoSettings{Archived: true}},
			{Name: "old", Settings: RepoSettings{Archived: true}}},
		want: []string{"~ repo widgets: unarchive [blocked: GitHub's API does not unarchive a repository (peribolos does not either); unarchive it by hand]"},
	}, {
		name: "collaborators: added, corrected, invitations followed, others removed",
		repos: `
  widgets:
    collaborators: {dave: push, erin: admin, frank: read, grace: triage}
`,
		have: []Repo{{Name: "widgets", Settings: widgets,
			Collaborators: map[string]string{"dave": "write", "erin": "write", "mallory": "admin"},
			Invitations:   map[string]RepoInvitation{"frank": {ID: 5, Permission: "read"}, "grace": {ID: 6, Permission: "write"}, "trent": {ID: 7, Permission: "read"}}}},
		want: []string{
			"~ repo widgets collaborator erin: permission write → admin",
			"~ repo widgets collaborator grace: invitation's permission write → triage",
			"- repo widgets collaborator mallory: remove (admin)",
			"- repo widgets collaborator trent: cancel the invitation",
		},
	}, {
		name:  "a new repository gets its collaborators",
		repos: "  fresh:\n    collaborators: {dave: read}\n",
		want: []string{
			"+ repo fresh: create",
			"+ repo fresh collaborator dave: add with read",
		},
	}, {
		name:  "a collaborator configured with none is removed, as peribolos does",
		repos: "  widgets:\n    collaborators: {dave: none, erin: none}\n",
		have: []Repo{{Name: "widgets", Settings: widgets, Collaborators: map[string]string{"dave": "write"},
			Invitations: map[string]RepoInvitation{"erin": {ID: 5, Permission: "read"}}}},
		want: []string{
			"- repo widgets collaborator dave: remove (write)",
			"- repo widgets collaborator erin: cancel the invitation",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := desired(t, map[string]string{"orgs/acme/org.yaml": "repos:\n" + tt.repos}, Options{Unmanaged: Parts{Members: true, Teams: true}, AllowRepoArchival: tt.opts.AllowRepoArchival})
			diffLines(t, Compute(d, &State{Org: "acme", Read: AllParts, Repos: tt.have}), tt.want)
		})
	}
}
