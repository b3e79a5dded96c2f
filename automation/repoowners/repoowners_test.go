package repoowners

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
)

// testFiles are the OWNERS of Prow's own repoowners tests.
var testFiles = map[string]string{
	"foo": "approvers:\n- bob",
	"OWNERS": `approvers:
- cjwagner
reviewers:
- Alice
- bob
required_reviewers:
- chris
labels:
- EVERYTHING`,
	"src/OWNERS": "approvers:\n- Best-Approvers",
	"src/dir/OWNERS": `approvers:
- bob
reviewers:
- alice
- "@CJWagner"
- jakub
required_reviewers:
- ben
labels:
- src-code`,
	"src/dir/subdir/OWNERS": "approvers:\n- bob\n- alice\nreviewers:\n- bob\n- alice",
	"src/dir/conformance/OWNERS": `options:
  no_parent_owners: true
  auto_approve_unowned_subfolders: true
approvers:
- mml`,
	"docs/file.md":                   "---\napprovers:\n- ALICE\n\nlabels:\n- docs\n---",
	"vendor/OWNERS":                  "approvers:\n- alice",
	"vendor/k8s.io/client-go/OWNERS": "approvers:\n- bob",
}

const testAliases = "aliases:\n  Best-approvers:\n  - carl\n  - cjwagner\n  best-reviewers:\n  - Carl\n  - BOB"

var collaborators = []string{"cjwagner", "k8s-ci-robot", "alice", "bob", "carl", "mml", "maggie"}

// countingTransport counts the API requests the client makes.
type countingTransport struct {
	rt       http.RoundTripper
	requests atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	return c.rt.RoundTrip(r)
}

type fixture struct {
	env   *forgetest.Env
	gh    *GitHub
	count *countingTransport
}

// startForge serves org/repo with files and the collaborators above.
func startForge(t *testing.T, files map[string]string) *fixture {
	t.Helper()
	collab := map[string]string{}
	var users []forge.SeedUser
	for _, c := range collaborators {
		collab[c] = "write"
		users = append(users, forge.SeedUser{Login: c})
	}
	users = append(users, forge.SeedUser{Login: "bot", Token: "bot-token"})
	seed := &forge.Seed{
		Users: users,
		Orgs:  []forge.SeedOrg{{Login: "org", Admins: []string{"bot"}}},
		Repos: []forge.SeedRepo{{Name: "org/repo", Files: files, Collaborators: collab}},
	}
	env := forgetest.StartSeed(t, seed, forge.Options{})
	count := &countingTransport{rt: env.Server.Client().Transport}
	base := env.URL + "/"
	c, err := github.NewClient(github.WithHTTPClient(&http.Client{Transport: count}), github.WithURLs(&base, &base), github.WithAuthToken("bot-token"))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{env: env, gh: FromClient(c), count: count}
}

func withAliases(files map[string]string) map[string]string {
	out := map[string]string{"OWNERS_ALIASES": testAliases}
	for k, v := range files {
		out[k] = v
	}
	return out
}

// dump renders one of the maps as dir → pattern → logins.
func dump(m entries) map[string]map[string][]string {
	out := map[string]map[string][]string{}
	for d, list := range m {
		out[d] = map[string][]string{}
		for _, e := range list {
			p := ""
			if e.re != nil {
				p = e.re.String()
			}
			out[d][p] = e.values
		}
	}
	return out
}

func every(values ...string) map[string][]string { return map[string][]string{"": values} }

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                               string
		aliases, md, skipCollaborators     bool
		approvers, reviewers, required, lb map[string]map[string][]string
		options                            []string
	}{
		{
			name: "no alias, no md",
			approvers: map[string]map[string][]string{
				"": every("cjwagner"), "src": every(), "src/dir": every("bob"), "src/dir/conformance": every("mml"),
				"src/dir/subdir": every("alice", "bob"), "vendor": every("alice"),
			},
			reviewers: map[string]map[string][]string{"": every("alice", "bob"), "src/dir": every("alice", "cjwagner"), "src/dir/subdir": every("alice", "bob")},
			required:  map[string]map[string][]string{"": every("chris"), "src/dir": every("ben")},
			lb:        map[string]map[string][]string{"": every("EVERYTHING"), "src/dir": every("src-code")},
		},
		{
			name:    "alias, no md",
			aliases: true,
			approvers: map[string]map[string][]string{
				"": every("cjwagner"), "src": every("carl", "cjwagner"), "src/dir": every("bob"), "src/dir/conformance": every("mml"),
				"src/dir/subdir": every("alice", "bob"), "vendor": every("alice"),
			},
			reviewers: map[string]map[string][]string{"": every("alice", "bob"), "src/dir": every("alice", "cjwagner"), "src/dir/subdir": every("alice", "bob")},
			required:  map[string]map[string][]string{"": every("chris"), "src/dir": every("ben")},
			lb:        map[string]map[string][]string{"": every("EVERYTHING"), "src/dir": every("src-code")},
		},
		{
			name:    "alias, md",
			aliases: true, md: true,
			approvers: map[string]map[string][]string{
				"": every("cjwagner"), "src": every("carl", "cjwagner"), "src/dir": every("bob"), "src/dir/conformance": every("mml"),
				"src/dir/subdir": every("alice", "bob"), "docs/file.md": every("alice"), "vendor": every("alice"),
			},
			reviewers: map[string]map[string][]string{"": every("alice", "bob"), "src/dir": every("alice", "cjwagner"), "src/dir/subdir": every("alice", "bob")},
			required:  map[string]map[string][]string{"": every("chris"), "src/dir": every("ben")},
			lb:        map[string]map[string][]string{"": every("EVERYTHING"), "src/dir": every("src-code"), "docs/file.md": every("docs")},
		},
		{
			name:    "skip collaborators",
			aliases: true, skipCollaborators: true,
			approvers: map[string]map[string][]string{
				"": every("cjwagner"), "src": every("carl", "cjwagner"), "src/dir": every("bob"), "src/dir/conformance": every("mml"),
				"src/dir/subdir": every("alice", "bob"), "vendor": every("alice"),
			},
			reviewers: map[string]map[string][]string{"": every("alice", "bob"), "src/dir": every("alice", "cjwagner", "jakub"), "src/dir/subdir": every("alice", "bob")},
			required:  map[string]map[string][]string{"": every("chris"), "src/dir": every("ben")},
			lb:        map[string]map[string][]string{"": every("EVERYTHING"), "src/dir": every("src-code")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := testFiles
			if tc.aliases {
				files = withAliases(files)
			}
			fx := startForge(t, files)
			s := SettingsFor(nil, "org", "repo")
			s.MDYAML, s.SkipCollaborators = tc.md, tc.skipCollaborators
			o, err := NewClient().Load(context.Background(), fx.gh, "org", "repo", "main", s)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what      string
				got, want map[string]map[string][]string
			}{{"approvers", dump(o.approvers), tc.approvers}, {"reviewers", dump(o.reviewers), tc.reviewers},
				{"required reviewers", dump(o.requiredReviewers), tc.required}, {"labels", dump(o.labels), tc.lb}} {
				if diff := cmp.Diff(c.want, c.got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s (-want +got):\n%s", c.what, diff)
				}
			}
			wantOpts := map[string]string{"src/dir/conformance": "{NoParentOwners:true AutoApproveUnownedSubfolders:true}"}
			gotOpts := map[string]string{}
			for d, op := range o.options {
				gotOpts[d] = fmt.Sprintf("%+v", op)
			}
			if diff := cmp.Diff(wantOpts, gotOpts); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

// Prow's denylist cases: which directories' OWNERS are read.
func TestDirDenylist(t *testing.T) {
	t.Parallel()
	fx := startForge(t, withAliases(testFiles))
	tests := []struct {
		name              string
		defaults          []string
		byRepo            map[string][]string
		ignorePreset      bool
		include, excluded []string
	}{
		{name: "denylist by org", byRepo: map[string][]string{"org": {"src"}}, include: []string{""},
			excluded: []string{"src", "src/dir", "src/dir/conformance", "src/dir/subdir"}},
		{name: "denylist by org/repo", byRepo: map[string][]string{"org/repo": {"src"}}, include: []string{""},
			excluded: []string{"src", "src/dir", "src/dir/conformance", "src/dir/subdir"}},
		{name: "denylist by default", defaults: []string{"src"}, include: []string{""},
			excluded: []string{"src", "src/dir", "src/dir/conformance", "src/dir/subdir"}},
		{name: "subdir denylist", defaults: []string{"dir"}, include: []string{"", "src"},
			excluded: []string{"src/dir", "src/dir/conformance", "src/dir/subdir"}},
		{name: "no denylist setup", include: []string{"", "src", "src/dir", "src/dir/conformance", "src/dir/subdir"}},
		{name: "denylist setup but not matching this repo", byRepo: map[string][]string{"not_org/not_repo": {"src"}, "not_org": {"src"}},
			include: []string{"", "src", "src/dir", "src/dir/conformance", "src/dir/subdir"}},
		{name: "non-matching denylist", defaults: []string{"sr$"}, include: []string{"", "src", "src/dir", "src/dir/conformance", "src/dir/subdir"}},
		{name: "path denylist", defaults: []string{"src/dir"}, include: []string{"", "src"},
			excluded: []string{"src/dir", "src/dir/conformance", "src/dir/subdir"}},
		{name: "regexp denylist path", defaults: []string{"src/dir/."}, include: []string{"", "src", "src/dir"},
			excluded: []string{"src/dir/conformance", "src/dir/subdir"}},
		{name: "path substring", defaults: []string{"/c"}, include: []string{"", "src", "src/dir", "src/dir/subdir"},
			excluded: []string{"src/dir/conformance"}},
		{name: "exclude preconfigured defaults", include: []string{"", "src", "src/dir", "src/dir/subdir", "vendor"},
			excluded: []string{"vendor/k8s.io/client-go"}},
		{name: "ignore preconfigured defaults", ignorePreset: true,
			include: []string{"", "src", "src/dir", "src/dir/subdir", "vendor", "vendor/k8s.io/client-go"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := Settings{Filenames: DefaultFilenames}
			s.DirDenylist = append(append(s.DirDenylist, tc.defaults...), tc.byRepo["org"]...)
			s.DirDenylist = append(s.DirDenylist, tc.byRepo["org/repo"]...)
			if !tc.ignorePreset {
				s.DirDenylist = append(s.DirDenylist, preconfiguredDenylist...)
			}
			o, err := NewClient().Load(context.Background(), fx.gh, "org", "repo", "main", s)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for d := range o.approvers {
				seen[d] = true
			}
			for d := range o.reviewers {
				seen[d] = true
			}
			for _, d := range tc.excluded {
				if seen[d] {
					t.Errorf("%s was read", d)
				}
			}
			for _, d := range tc.include {
				if !seen[d] {
					t.Errorf("%s was not read", d)
				}
			}
		})
	}
}

// Prow's regexp filter case: labels by file pattern.
func TestFilters(t *testing.T) {
	t.Parallel()
	fx := startForge(t, map[string]string{
		"re/OWNERS":   "filters:\n  \".*\":\n    labels:\n    - re/all\n  \"\\\\.go$\":\n    labels:\n    - re/go",
		"re/a/OWNERS": "filters:\n  \"\\\\.md$\":\n    labels:\n    - re/md-in-a\n  \"\\\\.go$\":\n    labels:\n    - re/go-in-a",
	})
	o, err := NewClient().Load(context.Background(), fx.gh, "org", "repo", "main", SettingsFor(nil, "org", "repo"))
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string][]string{
		"re/a/go.go":   {"re/all", "re/go", "re/go-in-a"},
		"re/a/md.md":   {"re/all", "re/md-in-a"},
		"re/a/txt.txt": {"re/all"},
		"re/go.go":     {"re/all", "re/go"},
		"re/txt.txt":   {"re/all"},
		"re/b/md.md":   {"re/all"},
	} {
		if got := o.FindLabelsForFile(file); !slices.Equal(got, want) {
			t.Errorf("labels of %s: got %q, want %q", file, got, want)
		}
	}
}

// Prow's ownership cases: the closest OWNERS, the leaf approvers and all
// approvers of a file.
func TestApproversOfFiles(t *testing.T) {
	t.Parallel()
	fx := startForge(t, map[string]string{
		"OWNERS":                        "approvers: [alice, bob]",
		"leaf/OWNERS":                   "approvers: [carl, dave]",
		"leaf-filter/OWNERS":            "filters:\n  '\\.md$':\n    approvers: [eve]",
		"no-parents/OWNERS":             "options: {no_parent_owners: true}\napprovers: [fred]",
		"no-parents-filter/OWNERS":      "options: {no_parent_owners: true}\nfilters:\n  '\\.txt$':\n    approvers: [gina]",
		"advisory/OWNERS":               "approvers: [hank]\nadvisory_approvers: [ivy]",
		"aliased/OWNERS":                "approvers: [Team-A]",
		"OWNERS_ALIASES":                "aliases:\n  team-a: [Joe, '@Kim']\n  empty:\n  flow: {lee, max}",
		"flow/OWNERS":                   "approvers: [flow]",
		"empty/OWNERS":                  "approvers: [empty]",
		"leaf/deeper/nested/file.go":    "package x",
		"unparseable/OWNERS":            "approvers: [unclosed",
		"unparseable/sub/OWNERS":        "reviewers: [nora]",
		"options-only/OWNERS":           "options: {auto_approve_unowned_subfolders: true}",
		"mixed/OWNERS":                  "approvers: [olga]\nfilters:\n  '.*':\n    approvers: [pete]",
		"nonexistent-sibling/README.md": "x",
	})
	s := SettingsFor(nil, "org", "repo")
	s.SkipCollaborators = true
	o, err := NewClient().Load(context.Background(), fx.gh, "org", "repo", "main", s)
	if err != nil {
		t.Fatal(err)
	}
	root := []string{"alice", "bob"}
	tests := []struct {
		file, owners string
		leaf, all    []string
	}{
		{"file.go", "", root, root},
		{"leaf/file.go", "leaf", []string{"carl", "dave"}, []string{"alice", "bob", "carl", "dave"}},
		{"leaf/deeper/nested/file.go", "leaf", []string{"carl", "dave"}, []string{"alice", "bob", "carl", "dave"}},
		{"leaf-filter/doc.md", "leaf-filter", []string{"eve"}, []string{"alice", "bob", "eve"}},
		{"leaf-filter/data.dat", "", root, root},
		{"no-parents/file.go", "no-parents", []string{"fred"}, []string{"fred"}},
		{"no-parents-filter/a.txt", "no-parents-filter", []string{"gina"}, []string{"gina"}},
		{"no-parents-filter/a.go", "", root, root},
		{"advisory/x", "advisory", []string{"hank"}, []string{"alice", "bob", "hank", "ivy"}},
		{"aliased/x", "aliased", []string{"joe", "kim"}, []string{"alice", "bob", "joe", "kim"}},
		{"flow/x", "flow", []string{"lee", "max"}, []string{"alice", "bob", "lee", "max"}},
		{"empty/x", "", root, root},
		{"unparseable/x", "", root, root},
		{"mixed/x", "mixed", []string{"olga"}, []string{"alice", "bob", "olga"}},
		{"nonexistent/x.md", "", root, root},
	}
	for _, tc := range tests {
		if got := o.FindApproverOwnersForFile(tc.file); got != tc.owners {
			t.Errorf("OWNERS of %s: got %q, want %q", tc.file, got, tc.owners)
		}
		if got := o.LeafApprovers(tc.file); !slices.Equal(got, tc.leaf) {
			t.Errorf("leaf approvers of %s: got %q, want %q", tc.file, got, tc.leaf)
		}
		if got := o.Approvers(tc.file).Set(); !slices.Equal(got, tc.all) {
			t.Errorf("approvers of %s: got %q, want %q", tc.file, got, tc.all)
		}
	}
	if got := o.Reviewers("unparseable/sub/x").Set(); !slices.Equal(got, []string{"nora"}) {
		t.Errorf("a valid OWNERS below an invalid one: reviewers %q", got)
	}
	if got := o.TopLevelApprovers(); !slices.Equal(got, root) {
		t.Errorf("top-level approvers %q", got)
	}
	if !o.IsAutoApproveUnownedSubfolders("options-only") || o.IsNoParentOwners("options-only") || !o.IsNoParentOwners("no-parents") {
		t.Error("options were not read")
	}
	if got := o.AdvisoryApprovers("advisory/x"); !slices.Equal(got, []string{"ivy"}) {
		t.Errorf("advisory approvers %q", got)
	}
	if !o.IsAlias("Team-A") || !slices.Equal(o.ExpandAlias("team-a"), []string{"joe", "kim"}) || o.IsAlias("joe") {
		t.Error("aliases were not read")
	}
}

// TestCache checks that OWNERS are read once per commit, that a new commit
// costs the tree and the changed files only, and that a change of the
// collaborators is seen without reading the files again.
func TestCache(t *testing.T) {
	t.Parallel()
	fx := startForge(t, withAliases(testFiles))
	c := NewClient()
	ctx := context.Background()
	s := SettingsFor(nil, "org", "repo")
	load := func() (*Owners, int64) {
		t.Helper()
		before := fx.count.requests.Load()
		o, err := c.Load(ctx, fx.gh, "org", "repo", "main", s)
		if err != nil {
			t.Fatal(err)
		}
		return o, fx.count.requests.Load() - before
	}
	first, n := load()
	// ref, tree, 6 OWNERS files (vendor/k8s.io/client-go is denied) and the
	// aliases, collaborators.
	if n != 10 {
		t.Errorf("first load made %d requests, want 10", n)
	}
	again, n := load()
	if n != 2 || again != first {
		t.Errorf("second load made %d requests (want the ref and collaborators only) and returned a new value", n)
	}
	if _, err := fx.env.As("bot").Push(ctx, "org/repo", "main", map[string][]byte{"src/dir/OWNERS": []byte("approvers: [maggie]")}, "Change owners"); err != nil {
		t.Fatal(err)
	}
	changed, n := load()
	if n != 4 {
		t.Errorf("load after a push made %d requests, want 4 (ref, tree, one OWNERS, collaborators)", n)
	}
	if got := changed.LeafApprovers("src/dir/x.go"); !slices.Equal(got, []string{"maggie"}) || changed.SHA() == first.SHA() {
		t.Errorf("after the push: leaf approvers %q at %s", got, changed.SHA())
	}
	// maggie stops collaborating: the same commit, fewer approvers.
	req, err := http.NewRequest(http.MethodDelete, fx.env.URL+"/repos/org/repo/collaborators/maggie", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token bot-token")
	resp, err := fx.env.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("remove collaborator: %s", resp.Status)
	}
	after, _ := load()
	if got := after.LeafApprovers("src/dir/x.go"); !slices.Equal(got, []string{"carl", "cjwagner"}) {
		t.Errorf("leaf approvers without maggie: %q, want src's", got)
	}
	if got := after.FindApproverOwnersForFile("src/dir/x.go"); got != "src" {
		t.Errorf("without collaborators there, src/dir/x.go is owned by %q, want src", got)
	}
}
