package ownerslabel_test

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/ownerslabel"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/sandbox/forge"
)

const seed = `
users:
- {login: alice}
orgs:
- login: acme
  members: [alice]
repos:
- name: acme/widgets
  files:
    OWNERS: "approvers: [alice]\nlabels: [sig/all]\n"
    docs/OWNERS: "approvers: [alice]\nlabels: [area/docs, kind/missing]\n"
    api/OWNERS: "options: {no_parent_owners: true}\napprovers: [alice]\nlabels: [area/api]\n"
    go/OWNERS: "filters:\n  '\\.go$':\n    labels: [lang/go]\n"
  labels: [{name: sig/all}, {name: area/docs}, {name: area/api}, {name: lang/go}]
`

var branches atomic.Int64

func TestOwnersLabel(t *testing.T) {
	e := plugintest.Start(t, plugintest.Options{
		Seed:   seed,
		Config: map[string]string{"plugins.yaml": "plugins:\n  acme:\n    plugins: [owners-label]\n"},
		Plugins: func(d plugintest.Deps) []plugin.Plugin {
			return []plugin.Plugin{ownerslabel.New(d.Base, d.Owners)}
		},
	})
	tests := []struct {
		name  string
		files []string
		want  []string
	}{
		{"the root's labels", []string{"README.md"}, []string{"sig/all"}},
		{"a directory's and its parents'; labels the repository lacks are skipped", []string{"docs/a.md"}, []string{"area/docs", "sig/all"}},
		{"no_parent_owners stops the parents'", []string{"api/x.proto"}, []string{"area/api"}},
		{"filters", []string{"go/x.go", "go/README"}, []string{"lang/go", "sig/all"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{}
			for _, f := range tc.files {
				files[f] = "x\n"
			}
			b := fmt.Sprintf("b%d", branches.Add(1))
			n := e.OpenPR("alice", "acme/widgets", forge.PullRequest{Head: b, Files: plugintest.Files(files)}).GetNumber()
			if got := e.Labels("acme/widgets", n); !slices.Equal(got, tc.want) {
				t.Errorf("labels %q, want %q", got, tc.want)
			}
			// A push that touches another directory adds its labels.
			if tc.name == "the root's labels" {
				e.Push("alice", "acme/widgets", b, n, map[string]string{"api/y.proto": "y\n"})
				if got := e.Labels("acme/widgets", n); !slices.Equal(got, []string{"area/api", "sig/all"}) {
					t.Errorf("labels after a push %q", got)
				}
			}
		})
	}
}
