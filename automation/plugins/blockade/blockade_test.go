package blockade_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/blockade"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/plugins"
)

const seed = `
users: [{login: bob}]
orgs: [{login: acme}]
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n", VERSION: "1\n"}
`

func config() *plugins.Config {
	release := "^release-"
	return &plugins.Config{Blockades: []plugins.Blockade{
		{Repos: []string{"acme"}, BlockRegexps: []string{"^docs/generated/"}, ExceptionRegexps: []string{"README.md$"},
			Explanation: "Generated docs come from make docs."},
		{Repos: []string{"acme/widgets"}, BranchRegexp: &release, BlockRegexps: []string{"^VERSION$"}},
		{Repos: []string{"other"}, BlockRegexps: []string{".*"}},
	}}
}

func TestBlockade(t *testing.T) {
	h := plugintest.StartPlugin(t, seed, plugintest.Config(config(), nil), blockade.New)
	if _, err := h.Forge.As(plugintest.BotLogin).Push(h.Ctx, h.Repo, "release-1.0", map[string][]byte{"NOTES": []byte("x")}, "release branch"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		base  string
		files []string
		want  []string // substrings of the comment; nil means not blocked
	}{
		{name: "protected file", files: []string{"docs/generated/api.md", "main.go"},
			want: []string{"Generated docs come from make docs.:\n- [docs/generated/api.md](", "@bob: "}},
		{name: "exception", files: []string{"docs/generated/README.md"}},
		{name: "unprotected", files: []string{"docs/guide.md"}},
		{name: "branch blockade elsewhere", files: []string{"VERSION"}},
		{name: "branch blockade", base: "release-1.0", files: []string{"VERSION"}, want: []string{blockade.DefaultExplanation + ":\n- [VERSION]("}},
		{name: "two reasons", base: "release-1.0", files: []string{"VERSION", "docs/generated/x.md"},
			want: []string{blockade.DefaultExplanation + ":\n- [VERSION](", "Generated docs come from make docs.:\n- [docs/generated/x.md]("}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string][]byte{}
			for _, f := range tc.files {
				files[f] = []byte(fmt.Sprintf("change %d\n", i))
			}
			n := h.OpenPR("bob", h.Repo, forge.PullRequest{Title: tc.name, Head: fmt.Sprintf("b%d", i), Base: tc.base, Files: files}).GetNumber()
			labelled := slices.Contains(h.Labels(h.Repo, n), blockade.Label)
			comments := h.BotComments(h.Repo, n)
			if tc.want == nil {
				if labelled || len(comments) > 0 {
					t.Errorf("blocked: labels %q, comments %q", h.Labels(h.Repo, n), comments)
				}
				return
			}
			if !labelled || len(comments) != 1 {
				t.Fatalf("not blocked: labels %q, comments %q", h.Labels(h.Repo, n), comments)
			}
			for _, w := range tc.want {
				if !strings.Contains(comments[0], w) {
					t.Errorf("comment %q does not contain %q", comments[0], w)
				}
			}
		})
	}
}

func TestBlockadeLifts(t *testing.T) {
	h := plugintest.StartPlugin(t, seed, plugintest.Config(config(), nil), blockade.New)
	n := h.OpenPR("bob", h.Repo, forge.PullRequest{Title: "docs", Head: "docs", Files: map[string][]byte{"docs/generated/a.md": []byte("a"), "main.go": []byte("x")}}).GetNumber()
	if !slices.Contains(h.Labels(h.Repo, n), blockade.Label) {
		t.Fatal("not blocked")
	}
	// The author takes the generated file out again.
	if _, err := h.Forge.As("bob").Push(h.Ctx, h.Repo, "docs", map[string][]byte{"docs/generated/a.md": nil}, "drop generated docs"); err != nil {
		t.Fatal(err)
	}
	h.Wait(h.Repo, "synchronize", plugintest.PRAction(n, "synchronize"))
	if got := h.Labels(h.Repo, n); len(got) != 0 {
		t.Errorf("labels = %q", got)
	}
	if got := h.BotComments(h.Repo, n); len(got) != 0 {
		t.Errorf("comments = %q", got)
	}
}
