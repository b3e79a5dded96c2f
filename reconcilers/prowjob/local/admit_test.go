package local

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestGitHubTrust asks the sandbox forge, as GitHub, who may have their
// pull requests run here: members and collaborators, nobody else.
func TestGitHubTrust(t *testing.T) {
	env := forgetest.Start(t, `
users: [{login: bot, token: bot-token}, {login: ann}, {login: carol}, {login: eve}]
orgs: [{login: acme, admins: [bot], members: [ann]}]
repos: [{name: acme/widgets, files: {README.md: "# widgets\n"}, collaborators: {carol: write}}]
`)
	gh := env.Client(t, "bot-token")
	admit := TrustedAuthorsOnly(GitHubTrust(func(string) (*github.Client, error) { return gh, nil }))
	tests := []struct {
		author  string
		refused bool
	}{
		{author: "ann"},
		{author: "carol"},
		{author: "eve", refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.author, func(t *testing.T) {
			pj := presubmit("run", "", "", "true")
			pj.Spec.Refs.Pulls[0].Author = tt.author
			reason, err := admit(context.Background(), pj)
			if err != nil {
				t.Fatal(err)
			}
			if (reason != "") != tt.refused {
				t.Errorf("Admit() = %q, refused %v", reason, tt.refused)
			}
		})
	}
	// A batch refuses as soon as one of its pull requests is refused.
	pj := presubmit("run", "", "", "true")
	pj.Spec.Type = v1alpha1.BatchJob
	pj.Spec.Refs.Pulls = []v1alpha1.Pull{{Number: 1, Author: "ann"}, {Number: 2, Author: "eve"}}
	if reason, err := admit(context.Background(), pj); err != nil || reason == "" {
		t.Errorf("batch with an outsider: %q, %v", reason, err)
	}
}

func TestWorkspaceRootIsOutsideTheDataDirectory(t *testing.T) {
	data := filepath.Join(t.TempDir(), ".data")
	root, err := WorkspaceRoot(data)
	if err != nil {
		t.Fatal(err)
	}
	if rel, _ := filepath.Rel(data, root); rel == "." || filepath.IsLocal(rel) {
		t.Errorf("WorkspaceRoot(%s) = %s, inside the data directory", data, root)
	}
}
