package configplan_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/configplan"
	examples "github.com/bowline-ci/bowline/config-examples"
	"github.com/bowline-ci/bowline/reconcilers/configrepo"
	"github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// now is the tests' clock.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// exampleFiles are the files of one of config-examples.
func exampleFiles(t *testing.T, name string) map[string]string {
	t.Helper()
	fsys, err := examples.FS(name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	err = fs.WalkDir(fsys, "config", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// replace edits one file of a revision; the old text must be there.
func replace(t *testing.T, files map[string]string, name, old, new string) {
	t.Helper()
	if !strings.Contains(files[name], old) {
		t.Fatalf("%s lacks %q", name, old)
	}
	files[name] = strings.Replace(files[name], old, new, 1)
}

// commits makes a git repository of the revisions, one commit each, with
// fixed authors and times so that their hashes are the same every run.
func commits(t *testing.T, revisions ...map[string]string) (*git.Repository, []*object.Commit) {
	t.Helper()
	repo, err := git.Init(memory.NewStorage(), memfs.New())
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	var out []*object.Commit
	var prev map[string]string
	for i, files := range revisions {
		for name := range prev {
			if _, ok := files[name]; !ok {
				if _, err := wt.Remove(name); err != nil {
					t.Fatal(err)
				}
			}
		}
		for name, content := range files {
			if err := wt.Filesystem.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := wt.Filesystem.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write([]byte(content)); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if _, err := wt.Add(name); err != nil {
				t.Fatal(err)
			}
		}
		sig := &object.Signature{Name: "Alice", Email: "alice@example.com", When: now.Add(time.Duration(i) * time.Hour)}
		h, err := wt.Commit(fmt.Sprintf("Revision %d", i), &git.CommitOptions{Author: sig, Committer: sig, AllowEmptyCommits: true})
		if err != nil {
			t.Fatal(err)
		}
		c, err := repo.CommitObject(h)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
		prev = files
	}
	return repo, out
}

// quickstartForge is the sandbox forge with the demo org of the quickstart
// and four open pull requests on demo/hello.
func quickstartForge(t *testing.T) *forgetest.Env {
	t.Helper()
	env := forgetest.Start(t, `
users:
- {login: alice, token: alice-token}
- {login: bowline-bot, token: bot-token, bot: true}
orgs:
- {login: demo, admins: [alice, bowline-bot]}
repos:
- name: demo/hello
  files: {test.sh: "exit 0\n", README.md: "# hello\n"}
  labels:
  - {name: lgtm, color: 15dd18, description: "Looks good to me; ready to merge once approved."}
  - {name: approved, color: 0ffa16, description: Approved by an owner of the changed files.}
  - {name: needs-rebase, color: e11d21}
`)
	ctx := context.Background()
	alice := env.As("alice")
	for i, pr := range []struct {
		title  string
		files  map[string][]byte
		labels []string
		draft  bool
	}{
		{"Fix the test script", map[string][]byte{"test.sh": []byte("exit 0 # fixed\n")}, []string{"lgtm", "approved"}, false},
		{"Update the readme", map[string][]byte{"README.md": []byte("# hello!\n")}, []string{"lgtm", "approved", "needs-rebase"}, false},
		{"Rewrite the tests", map[string][]byte{"test.sh": []byte("exit 1\n")}, nil, true},
		{"Add docs", map[string][]byte{"docs/a.md": []byte("docs\n")}, nil, false},
	} {
		opened, err := alice.OpenPR(ctx, "demo/hello", forge.PullRequest{Title: pr.title, Head: fmt.Sprintf("change-%d", i), Files: pr.files, Draft: pr.draft})
		if err != nil {
			t.Fatal(err)
		}
		if len(pr.labels) > 0 {
			if err := alice.Label(ctx, "demo/hello", opened.GetNumber(), pr.labels...); err != nil {
				t.Fatal(err)
			}
		}
	}
	return env
}

// fullForge is the sandbox forge with the acme org of the full example
// and open pull requests on both its repositories: on widgets, one that
// changes Go code, one that changes only docs, and one against a release
// branch; on gadgets, one that has lgtm but not approved, one that has
// both, and a draft.
func fullForge(t *testing.T) *forgetest.Env {
	t.Helper()
	env := forgetest.Start(t, `
users:
- {login: alice, token: alice-token}
- {login: bowline-bot, token: bot-token, bot: true}
orgs:
- {login: acme, admins: [alice, bowline-bot]}
repos:
- name: acme/widgets
  files: {main.go: "package main\n", docs/guide.md: "# Guide\n"}
  labels: [{name: lgtm}, {name: approved}]
- name: acme/gadgets
  files: {gadget.go: "package gadgets\n"}
  labels: [{name: lgtm}, {name: approved}]
`)
	ctx := context.Background()
	alice := env.As("alice")
	if _, err := alice.Push(ctx, "acme/widgets", "release-1", map[string][]byte{"RELEASE": []byte("1\n")}, "Release 1"); err != nil {
		t.Fatal(err)
	}
	for i, pr := range []struct {
		repo, title, base string
		files             map[string][]byte
		labels            []string
		draft             bool
	}{
		{"acme/widgets", "Speed up the parser", "", map[string][]byte{"parser.go": []byte("package main\n")}, nil, false},
		{"acme/widgets", "Fix a typo in the guide", "", map[string][]byte{"docs/guide.md": []byte("# The guide\n")}, nil, false},
		{"acme/widgets", "Backport the parser fix", "release-1", map[string][]byte{"parser.go": []byte("package main\n")}, nil, false},
		{"acme/gadgets", "Add a gadget", "", map[string][]byte{"new.go": []byte("package gadgets\n")}, []string{"lgtm"}, false},
		{"acme/gadgets", "Polish the gadgets", "", map[string][]byte{"gadget.go": []byte("package gadgets // polished\n")}, []string{"lgtm", "approved"}, false},
		{"acme/gadgets", "Rework the gadgets", "", map[string][]byte{"gadget.go": []byte("package gadgets // reworked\n")}, []string{"lgtm"}, true},
	} {
		opened, err := alice.OpenPR(ctx, pr.repo, forge.PullRequest{Title: pr.title, Head: fmt.Sprintf("change-%d", i), Base: pr.base, Files: pr.files, Draft: pr.draft})
		if err != nil {
			t.Fatal(err)
		}
		if len(pr.labels) > 0 {
			if err := alice.Label(ctx, pr.repo, opened.GetNumber(), pr.labels...); err != nil {
				t.Fatal(err)
			}
		}
	}
	return env
}

// planCase is one hand-made change of an example.
type planCase struct {
	name    string
	example string
	// base edits the example before the change, when set.
	base func(t *testing.T, files map[string]string)
	edit func(t *testing.T, files map[string]string)
	// forge serves the open pull requests, and the orgs unless states
	// are given.
	forge  func(t *testing.T) *forgetest.Env
	states configplan.OrgStates
	// deployApplied plans for an install that applies the deployment
	// file.
	deployApplied bool
}

var planCases = []planCase{{
	name:    "quickstart-every-section",
	example: "quickstart",
	forge:   quickstartForge,
	edit: func(t *testing.T, f map[string]string) {
		const jobs = "config/jobs/demo/hello/hello.yaml"
		// A changed presubmit, a new one that runs only on some pull
		// requests, a postsubmit on more branches, a periodic removed.
		replace(t, f, jobs, "      - image: alpine:3.22\n        command:\n        - sh\n        - ./test.sh\n\npostsubmits:",
			"      - image: alpine:3.23\n        command:\n        - sh\n        - ./test.sh\n  - name: pull-hello-shellcheck\n    run_if_changed: '\\.sh$'\n    decorate: true\n    spec:\n      containers:\n      - image: koalaman/shellcheck-alpine\n        command: [shellcheck, test.sh]\n\npostsubmits:")
		replace(t, f, jobs, "    - ^main$\n", "    - ^main$\n    - ^release-\n")
		f[jobs] = f[jobs][:strings.Index(f[jobs], "periodics:")]
		// Plugins: one disabled, one enabled for the repository (which
		// bowline does not implement), a setting.
		replace(t, f, "config/prow/plugins.yaml", "    - size           # size/XS … size/XXL labels\n", "")
		replace(t, f, "config/prow/plugins.yaml", "\ntriggers:", "  demo/hello:\n    plugins:\n    - cat\n\ntriggers:")
		replace(t, f, "config/prow/plugins.yaml", "request_count: 1", "request_count: 2")
		// Tide: a pull request that needs a rebase leaves the pool; a
		// setting of the runner.
		replace(t, f, "config/prow/config.yaml", "    - needs-ok-to-test\n", "    - needs-ok-to-test\n    - needs-rebase\n")
		replace(t, f, "config/prow/config.yaml", "max_revivals: 3", "max_revivals: 5")
		// Labels: one more for every repository.
		f["config/labels.yaml"] += "  - name: kind/bug\n    color: e11d21\n    description: Something is broken.\n"
		// bowline's own deployment.
		f["config/bowline/deployment.yaml"] = "image: ghcr.io/bowline-ci/bowline:v0.2.0\nroles:\n  hook:\n    replicas: 3\n"
	},
}, {
	name:    "quickstart-refused",
	example: "quickstart",
	forge:   quickstartForge,
	edit: func(t *testing.T, f map[string]string) {
		const jobs = "config/jobs/demo/hello/hello.yaml"
		replace(t, f, jobs, "    always_run: true\n", "    always_runn: true\n    decorate: true\n")
		replace(t, f, "config/prow/plugins.yaml", "    - skip           # /skip\n", "    - skip           # /skip\n    - cat\n")
	},
}, {
	name:          "full-orgs-and-jobs",
	example:       "full",
	forge:         fullForge,
	deployApplied: true,
	base: func(t *testing.T, f map[string]string) {
		f["config/bowline/deployment.yaml"] = "image: ghcr.io/bowline-ci/bowline:v0.1.0\nroles:\n  hook:\n    replicas: 2\n  web: {}\n"
	},
	states: configplan.OrgStates{"acme": {Org: "acme", Bot: "bowline-bot", Read: plan.AllParts,
		Members: map[string]string{"alice": "admin", "bowline-bot": "admin", "bob": "member", "carol": "member"},
		Teams:   []plan.Team{{ID: 1, Slug: "maintainers", Name: "maintainers", Privacy: "closed", Members: map[string]string{"alice": "maintainer", "bob": "member"}, Repos: map[string]string{"widgets": "maintain", "gadgets": "write"}}},
		Repos: []plan.Repo{
			{Name: "widgets", Settings: plan.RepoSettings{Description: "The widgets.", DefaultBranch: "main", AllowSquashMerge: true, Visibility: "public"},
				Branches: []plan.Branch{{Name: "main"}}},
			{Name: "gadgets", Settings: plan.RepoSettings{Description: "The gadgets.", Private: true, Visibility: "private"}, Collaborators: map[string]string{"dave": "read"},
				Branches: []plan.Branch{{Name: "main"}}},
		}}},
	edit: func(t *testing.T, f map[string]string) {
		const widgets = "config/jobs/acme/widgets/widgets.yaml"
		// The required unit test becomes optional (branch protection
		// follows), the lint job runs on release branches too.
		replace(t, f, widgets, "  - name: pull-widgets-unit\n    always_run: true\n", "  - name: pull-widgets-unit\n    always_run: true\n    optional: true\n")
		replace(t, f, widgets, "    branches:\n    - ^main$\n    decorate: true\n    spec:\n      containers:\n      - image: golang:1.26\n        command: [make, lint]",
			"    branches:\n    - ^main$\n    - ^release-\n    decorate: true\n    spec:\n      containers:\n      - image: golang:1.26\n        command: [make, lint]")
		// A periodic moves to 04:00.
		replace(t, f, "config/jobs/acme/gadgets/gadgets-periodics.yaml", "'0 3 * * *'", "'0 4 * * *'")
		// The e2e job goes: it stops on the pull requests that change
		// more than docs.
		replace(t, f, widgets, "  - name: pull-widgets-e2e\n    skip_if_only_changed: '^docs/|\\.md$'\n    optional: true\n    job_queue_name: e2e\n    max_concurrency: 4\n    decorate: true\n    decoration_config:\n      timeout: 3h\n    spec:\n      containers:\n      - image: golang:1.26\n        command: [make, e2e]\n\n", "")
		// People: bob and carol leave (half the members: beyond the
		// safety limits), erin joins the maintainers team and a new
		// release team; the org's description changes.
		replace(t, f, "config/orgs/acme/org.yaml", "- bob\n- carol\n", "- erin\n")
		replace(t, f, "config/orgs/acme/org.yaml", "tested by bowline.", "tested and merged by bowline.")
		replace(t, f, "config/orgs/acme/maintainers/teams.yaml", "    - bob\n", "    - erin\n")
		f["config/orgs/acme/maintainers/teams.yaml"] += "  release:\n    description: Cuts the releases.\n    privacy: closed\n    members:\n    - erin\n    repos:\n      widgets: write\n"
		// bowline's own deployment: a new version, one more hook, the web
		// UI back in the operator's Deployment, the merge controller in
		// one of its own.
		f["config/bowline/deployment.yaml"] = "image: ghcr.io/bowline-ci/bowline:v0.2.0\nroles:\n  hook:\n    replicas: 3\n  merge:\n    flags:\n      merge-workers: 10\n"
		// Protection: one more required context.
		replace(t, f, "config/prow/config.yaml", "        - cla/linuxfoundation\n", "        - cla/linuxfoundation\n        - dco\n")
		// Tide: a second query for gadgets without approval.
		replace(t, f, "config/prow/config.yaml", "  merge_method:\n", "  - repos:\n    - acme/gadgets\n    labels:\n    - lgtm\n  merge_method:\n")
		// Plugins: size's thresholds, welcome for widgets.
		replace(t, f, "config/prow/plugins.yaml", "  xxl: 1000", "  xxl: 2000")
		replace(t, f, "config/prow/plugins.yaml", "    - cherry-pick-unapproved\n", "    - cherry-pick-unapproved\n    - welcome\n")
		// A label changes its color.
		replace(t, f, "config/labels.yaml", "    color: 0052cc\n", "    color: 1d76db\n")
		// The presets change every job that uses them.
		replace(t, f, "config/prow/config.yaml", "    value: /cache/go-build", "    value: /cache/go")
	},
}}

// TestPlanGolden plans hand-made changes of the example configurations and
// compares the three renderings with testdata/<case>.{md,txt,json}
// (UPDATE=1 rewrites them).
func TestPlanGolden(t *testing.T) {
	for _, tc := range planCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			base := exampleFiles(t, tc.example)
			if tc.base != nil {
				tc.base(t, base)
			}
			head := map[string]string{}
			for k, v := range base {
				head[k] = v
			}
			tc.edit(t, head)
			repo, cs := commits(t, base, head)
			spec := &v1alpha1.ConfigRepositorySpec{}
			bv, cache, err := configplan.Load(ctx, repo, cs[0], spec, configrepo.Limits{}, nil, nil)
			if err != nil || !bv.Valid() {
				t.Fatalf("base: %+v, %v", bv, err)
			}
			hv, _, err := configplan.Load(ctx, repo, cs[1], spec, configrepo.Limits{}, nil, cache)
			if err != nil {
				t.Fatal(err)
			}
			cmp, err := configplan.Compare(cs[0], cs[1], "config/bowline")
			if err != nil {
				t.Fatal(err)
			}
			blob := func(c *object.Commit) func(string, int) string {
				return func(file string, line int) string {
					u := fmt.Sprintf("https://github.example/%s/config/blob/%s/%s", tc.example, c.Hash, file)
					if line > 0 {
						u += fmt.Sprintf("#L%d", line)
					}
					return u
				}
			}
			in := configplan.Input{
				Base:          configplan.Side{Revision: configplan.Revision{Name: "main@sha1:" + cs[0].Hash.String(), Commit: cs[0].Hash.String()}, Verdict: bv},
				Head:          configplan.Side{Revision: configplan.Revision{Name: "pull/7@sha1:" + cs[1].Hash.String(), Commit: cs[1].Hash.String()}, Verdict: hv},
				Changed:       cmp.Changed,
				ConfigPath:    "config/prow/config.yaml",
				Deploy:        cmp.Deploy,
				DeployPath:    "config/bowline",
				DeployApplied: tc.deployApplied,
				Plugins:       []string{"trigger", "approve", "lgtm", "blunderbuss", "verify-owners", "owners-label", "hold", "wip", "label", "assign", "lifecycle", "size", "welcome", "help"},
				Links:         cmp.PullRequestLinks(fmt.Sprintf("https://github.example/%s/config/pull/7", tc.example), configplan.Links{Head: blob(cs[1]), Base: blob(cs[0])}),
				Now:           now,
				Orgs:          tc.states,
			}
			forgeURL := ""
			if tc.forge != nil {
				env := tc.forge(t)
				forgeURL = env.URL
				forOrg := func(context.Context, string) (*github.Client, error) { return env.Client(t, "bot-token"), nil }
				in.PullRequests = configplan.GitHub{ForOrg: forOrg}
				if tc.states == nil {
					in.Orgs = configplan.ObservedOrgs{ForOrg: forOrg}
				}
			}
			p, err := configplan.Compute(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			var text, js bytes.Buffer
			if err := p.Text(&text); err != nil {
				t.Fatal(err)
			}
			if err := p.JSON(&js); err != nil {
				t.Fatal(err)
			}
			for ext, got := range map[string]string{"md": p.Markdown(), "txt": text.String(), "json": js.String()} {
				if forgeURL != "" {
					got = strings.ReplaceAll(got, forgeURL, "https://github.example")
				}
				golden(t, filepath.Join("testdata", tc.name+"."+ext), got)
			}
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if os.Getenv("UPDATE") == "1" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (UPDATE=1 writes it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s (-want +got; UPDATE=1 rewrites it):\n%s", path, d)
	}
}

// TestChangedFilesSkipsOnlyUnchangedJobs: told which files changed, a plan
// compares only the jobs of those files, and says the same as one that
// compares every job; a change to what every job depends on (config.yaml,
// presets) compares them all.
func TestChangedFilesSkipsOnlyUnchangedJobs(t *testing.T) {
	ctx := context.Background()
	base := exampleFiles(t, "full")
	const widgets = "config/jobs/acme/widgets/widgets.yaml"
	onlyJobs := map[string]string{}
	for k, v := range base {
		onlyJobs[k] = v
	}
	replace(t, onlyJobs, widgets, "command: [make, lint]", "command: [make, vet]")
	onlyJobs["config/jobs/acme/gadgets/more.yaml"] = "periodics:\n- name: ci-gadgets-hourly\n  interval: 1h\n  decorate: true\n  spec: {containers: [{image: golang:1.26}]}\n"
	presets := map[string]string{}
	for k, v := range onlyJobs {
		presets[k] = v
	}
	replace(t, presets, "config/prow/config.yaml", "    value: /cache/go-build", "    value: /cache/go")
	for name, head := range map[string]map[string]string{"job files only": onlyJobs, "presets too": presets} {
		t.Run(name, func(t *testing.T) {
			repo, cs := commits(t, base, head)
			spec := &v1alpha1.ConfigRepositorySpec{}
			bv, _, err := configplan.Load(ctx, repo, cs[0], spec, configrepo.Limits{}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			hv, _, err := configplan.Load(ctx, repo, cs[1], spec, configrepo.Limits{}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			comparison, err := configplan.Compare(cs[0], cs[1], "config/bowline")
			if err != nil {
				t.Fatal(err)
			}
			in := configplan.Input{Base: configplan.Side{Verdict: bv}, Head: configplan.Side{Verdict: hv}, Now: now, Orgs: configplan.OrgStates{}}
			full, err := configplan.Compute(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			in.Changed, in.ConfigPath = comparison.Changed, "config/prow/config.yaml"
			quick, err := configplan.Compute(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(full, quick); d != "" {
				t.Errorf("plans differ (-every job +changed files):\n%s", d)
			}
			if a, c, _ := quick.JobCounts(); a != 1 || c < 1 {
				t.Errorf("jobs +%d ~%d: the test proves nothing", a, c)
			}
		})
	}
}

// TestComparisonLines: a comparison tells the lines a change adds (as the
// head numbers them) and deletes (as the base does), so that a plan links
// those to the pull request's diff and the others to the files.
func TestComparisonLines(t *testing.T) {
	const deployFile = "config/bowline/deployment.yaml"
	_, cs := commits(t,
		map[string]string{"a.yaml": "one\ntwo\nthree\nfour\n", "gone.yaml": "x\ny\n", "same.yaml": "s\n", deployFile: "image: a:v1\n"},
		map[string]string{"a.yaml": "one\nTWO\nthree\nfour\nfive", "new.yaml": "n\n", "same.yaml": "s\n", deployFile: "image: a:v2\n"})
	c, err := configplan.Compare(cs[0], cs[1], "config/bowline")
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]bool{"a.yaml": true, "gone.yaml": true, "new.yaml": true, deployFile: true, "same.yaml": false} {
		if c.Changed[file] != want {
			t.Errorf("Changed[%s] = %t, want %t", file, c.Changed[file], want)
		}
	}
	if len(c.Deploy) != 1 || c.Deploy[0].Path != deployFile || c.Deploy[0].Action != configplan.Changed || !strings.Contains(c.Deploy[0].Diff, "+image: a:v2") {
		t.Errorf("deploy changes %+v", c.Deploy)
	}
	for _, tt := range []struct {
		file           string
		line           int
		added, deleted bool
	}{
		{"a.yaml", 1, false, false},
		{"a.yaml", 2, true, true},
		{"a.yaml", 3, false, false},
		{"a.yaml", 5, true, false},
		{"new.yaml", 1, true, false},
		{"gone.yaml", 2, false, true},
		{"same.yaml", 1, false, false},
		{"none.yaml", 1, false, false},
	} {
		if got := c.Added(tt.file, tt.line); got != tt.added {
			t.Errorf("Added(%s, %d) = %t, want %t", tt.file, tt.line, got, tt.added)
		}
		if got := c.Deleted(tt.file, tt.line); got != tt.deleted {
			t.Errorf("Deleted(%s, %d) = %t, want %t", tt.file, tt.line, got, tt.deleted)
		}
	}
	links := c.PullRequestLinks("https://github.example/o/config/pull/3", configplan.Links{
		Head: func(file string, line int) string { return fmt.Sprintf("head/%s#L%d", file, line) }})
	anchor := configplan.DiffAnchor("a.yaml")
	for _, tt := range []struct {
		got, want string
	}{
		{links.Head("a.yaml", 2), "https://github.example/o/config/pull/3/files#" + anchor + "R2"},
		{links.Head("a.yaml", 3), "head/a.yaml#L3"},
		{links.Base("a.yaml", 2), "https://github.example/o/config/pull/3/files#" + anchor + "L2"},
		{links.Base("a.yaml", 3), ""},
	} {
		if tt.got != tt.want {
			t.Errorf("link %q, want %q", tt.got, tt.want)
		}
	}
}
