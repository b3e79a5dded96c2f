package inrepo

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
)

// central is the applied configuration of the tests: in-repo config for
// acme/widgets, a preset, plank's decoration defaults and one static
// presubmit.
const central = `
in_repo_config:
  enabled: {acme/widgets: true}
  allowed_clusters: {acme: [trusted]}
plank:
  default_decoration_config_entries:
  - config: {timeout: 2h, gcs_configuration: {bucket: "s3://logs", path_strategy: explicit}}
presets:
- labels: {preset-go: "true"}
  env: [{name: GOFLAGS, value: -mod=readonly}]
decorate_all_jobs: true
presubmits:
  acme/widgets:
  - name: static-unit
    always_run: true
    spec: {containers: [{image: golang, command: [make]}]}
`

func centralSet(t *testing.T) *configset.Set {
	t.Helper()
	set, err := configset.Load(context.Background(), fstest.MapFS{"config.yaml": {Data: []byte(central)}}, configset.Options{ConfigPath: "config.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// job is the rest of a job of .prow.yaml.
const job = `
  spec: {containers: [{image: golang, command: [make, test]}]}`

// TestLoad: the jobs of a repository's own files, with the applied
// configuration's defaults, and every way they can be refused, at the
// line concerned.
func TestLoad(t *testing.T) {
	set := centralSet(t)
	tests := []struct {
		name  string
		files map[string]string
		want  []string // presubmit names and postsubmit names
		errs  []string
	}{
		{name: "none", files: map[string]string{"README.md": "x"}},
		{
			name:  ".prow.yaml",
			files: map[string]string{".prow.yaml": "presubmits:\n- name: unit\n  labels: {preset-go: \"true\"}" + job + "\npostsubmits:\n- name: push" + job + "\n"},
			want:  []string{"unit", "push"},
		},
		{
			name: ".prow/ wins over .prow.yaml, and .prowignore leaves files out",
			files: map[string]string{
				".prow.yaml":          "presubmits: [{name: ignored}]\n",
				".prow/a.yaml":        "presubmits:\n- name: a" + job + "\n",
				".prow/sub/b.yml":     "presubmits:\n- name: b" + job + "\n",
				".prow/wip/c.yaml":    "presubmits: [{name: c, bad: field}]\n",
				".prow/README.md":     "not yaml: [",
				".prow/.prowignore":   "wip/\n",
				".github/ignored.yml": "x",
			},
			want: []string{"a", "b"},
		},
		{
			name:  "unknown field, at its line",
			files: map[string]string{".prow.yaml": "presubmits:\n- name: unit\n  alwyas_run: true" + job + "\n"},
			errs:  []string{`.prow.yaml:3:3: unknown field "alwyas_run", did you mean "always_run"?`},
		},
		{
			name:  "a cluster in_repo_config does not allow",
			files: map[string]string{".prow.yaml": "presubmits:\n- name: unit\n  cluster: private" + job + "\n"},
			errs:  []string{`.prow.yaml:3:12: job "unit": cluster "private" is not allowed for in-repo jobs of acme/widgets (in_repo_config.allowed_clusters)`},
		},
		{
			name:  "an allowed cluster: default everywhere, trusted for the org",
			files: map[string]string{".prow.yaml": "presubmits:\n- name: unit\n  cluster: trusted" + job + "\n- name: other" + job + "\n"},
			want:  []string{"unit", "other"},
		},
		{
			name:  "a name the applied configuration has",
			files: map[string]string{".prow.yaml": "presubmits:\n- name: static-unit" + job + "\n"},
			errs:  []string{`.prow.yaml:2:9: presubmit "static-unit": duplicate job name for acme/widgets (also at config.yaml:14:5)`},
		},
		{
			name:  "a bad regular expression, quoted as written",
			files: map[string]string{".prow.yaml": "presubmits:\n- name: unit\n  run_if_changed: '^src/(.*'" + job + "\n"},
			errs:  []string{".prow.yaml:3:19: presubmit \"unit\": run_if_changed: error parsing regexp: missing closing ): `^src/(.*`"},
		},
		{
			name:  "a syntax error",
			files: map[string]string{".prow.yaml": "presubmits:\n- name: unit\n  branches: [main\n"},
			errs:  []string{`.prow.yaml:3:13: invalid YAML: sequence end token ']' not found, in "branches: [main"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string][]byte{}
			for p, s := range tt.files {
				files[p] = []byte(s)
			}
			got, err := Load(set, "acme", "widgets", files, func(p string) string { return p })
			var errs *configset.Errors
			var msgs []string
			if errors.As(err, &errs) {
				for _, e := range errs.List {
					msgs = append(msgs, e.String())
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.errs, msgs); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			var names []string
			for _, p := range got.Presubmits {
				names = append(names, p.Name)
			}
			for _, p := range got.Postsubmits {
				names = append(names, p.Name)
			}
			if diff := cmp.Diff(tt.want, names); diff != "" {
				t.Errorf("jobs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadDefaults: in-repo jobs get what the applied configuration gives
// its own jobs: decoration defaults, presets, context and trigger.
func TestLoadDefaults(t *testing.T) {
	got, err := Load(centralSet(t), "acme", "widgets", map[string][]byte{
		".prow.yaml": []byte("presubmits:\n- name: unit\n  labels: {preset-go: \"true\"}" + job + "\n"),
	}, func(p string) string { return p })
	if err != nil {
		t.Fatal(err)
	}
	p := got.Presubmits[0]
	if p.DecorationConfig == nil || p.DecorationConfig.Timeout.String() != "2h0m0s" || p.Cluster != "default" {
		t.Errorf("decoration %+v, cluster %q", p.DecorationConfig, p.Cluster)
	}
	if env := p.Spec.Containers[0].Env; len(env) != 1 || env[0].Name != "GOFLAGS" {
		t.Errorf("preset not applied: env %v", env)
	}
	if p.Context != "unit" || p.RerunCommand != "/test unit" || !p.TriggerMatches("/test unit") {
		t.Errorf("context %q, rerun %q, trigger %q", p.Context, p.RerunCommand, p.Trigger)
	}
}

// store is a snapshot source holding one applied configuration.
type store struct{ set *configset.Set }

func (s store) Current() *snapshot.Snapshot {
	return &snapshot.Snapshot{Revision: "main@sha1:central", Config: s.set}
}

// counting counts requests, to show the caches at work.
type counting struct {
	GitHub
	calls atomic.Int32
}

func (c *counting) GetContents(ctx context.Context, owner, repo, path string, opts *github.RepositoryContentGetOptions) (*github.RepositoryContent, []*github.RepositoryContent, *github.Response, error) {
	c.calls.Add(1)
	return c.GitHub.GetContents(ctx, owner, repo, path, opts)
}

// TestPullRequest: a pull request's in-repo config is its head merged into
// the base branch's tip, read through the forge's API, cached, and reported
// in a status when it changes or does not load.
func TestPullRequest(t *testing.T) {
	ctx := context.Background()
	fg := forgetest.Start(t, `
users:
- {login: bowline-bot, token: bot-token, bot: true}
- {login: alice, token: alice-token}
orgs:
- {login: acme, admins: [bowline-bot], members: [alice]}
repos:
- name: acme/widgets
  files:
    README.md: "# widgets\n"
    .prow.yaml: |
      presubmits:
      - name: base-job
        spec: {containers: [{image: golang, command: [make]}]}
`)
	gh := &counting{GitHub: FromClient(fg.Client(t, "bot-token"))}
	l := New(store{centralSet(t)}, func(context.Context, string) (GitHub, error) { return gh, nil })
	alice := fg.As("alice")
	names := func(base, head string) ([]string, error) {
		ps, err := l.Presubmits(ctx, "acme", "widgets", base, head)
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out, err
	}
	tip := func() string {
		ref, _, err := fg.Client(t, "bot-token").Git.GetRef(ctx, "acme", "widgets", "heads/main")
		if err != nil {
			t.Fatal(err)
		}
		return ref.GetObject().GetSHA()
	}

	// A pull request that does not touch the in-repo config has the base's.
	pr1, err := alice.OpenPR(ctx, "acme/widgets", forge.PullRequest{Title: "docs", Head: "docs", Files: map[string][]byte{"README.md": []byte("# more\n")}})
	if err != nil {
		t.Fatal(err)
	}
	base1 := tip()
	got, err := names(base1, pr1.GetHead().GetSHA())
	if err != nil || !cmp.Equal(got, []string{"base-job"}) {
		t.Fatalf("untouched: jobs %v, err %v", got, err)
	}
	calls := gh.calls.Load()
	if _, err := names(base1, pr1.GetHead().GetSHA()); err != nil || gh.calls.Load() != calls {
		t.Errorf("a second load read GitHub again (%d requests, err %v)", gh.calls.Load()-calls, err)
	}

	// One that adds a job has it too, and a success status says so.
	pr2, err := alice.OpenPR(ctx, "acme/widgets", forge.PullRequest{Title: "job", Head: "job", Files: map[string][]byte{
		".prow.yaml": []byte("presubmits:\n- name: base-job\n  spec: {containers: [{image: golang, command: [make]}]}\n- name: new-job\n  spec: {containers: [{image: golang, command: [make, new]}]}\n"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err = names(base1, pr2.GetHead().GetSHA())
	if err != nil || !cmp.Equal(got, []string{"base-job", "new-job"}) {
		t.Fatalf("changed: jobs %v, err %v", got, err)
	}
	if st := status(t, fg, pr2.GetHead().GetSHA()); st == nil || st.GetState() != "success" {
		t.Errorf("status after a change that loads = %+v", st)
	}

	// The base branch moves on with a new .prow/ file: the pull request
	// that did not touch its config gets it (the tip's), and the one that
	// changed .prow.yaml conflicts with nothing (a different file).
	if _, err := fg.As("bowline-bot").Push(ctx, "acme/widgets", "main", map[string][]byte{
		".prow/extra.yaml": []byte("presubmits:\n- name: extra\n  spec: {containers: [{image: golang, command: [make]}]}\n"),
	}, "add .prow"); err != nil {
		t.Fatal(err)
	}
	base2 := tip()
	got, err = names(base2, pr1.GetHead().GetSHA())
	if err != nil || !cmp.Equal(got, []string{"extra"}) {
		t.Errorf("after the base moved: jobs %v, err %v (.prow/ replaces .prow.yaml)", got, err)
	}

	// A pull request whose config does not load: an error, an error
	// status at its head, and the next load is cached.
	pr3, err := alice.OpenPR(ctx, "acme/widgets", forge.PullRequest{Title: "bad", Head: "bad", Files: map[string][]byte{
		".prow/extra.yaml": []byte("presubmits:\n- name: extra\n  clustr: x\n"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := names(base2, pr3.GetHead().GetSHA()); err == nil || err.Error() != `.prow/extra.yaml:3:3: unknown field "clustr", did you mean "cluster"?` {
		t.Errorf("invalid: err %v", err)
	}
	st := status(t, fg, pr3.GetHead().GetSHA())
	if st == nil || st.GetState() != "error" || st.GetDescription() != `In-repo config does not load: .prow/extra.yaml:3:3: unknown field "clustr", did you mean "cluster"?` {
		t.Errorf("status of an invalid config = %+v", st)
	}

	// Both sides changed the same file since the pull request branched
	// off: a conflict to rebase.
	if _, err := fg.As("bowline-bot").Push(ctx, "acme/widgets", "main", map[string][]byte{
		".prow/extra.yaml": []byte("presubmits:\n- name: extra2\n  spec: {containers: [{image: golang, command: [make]}]}\n"),
	}, "change .prow"); err != nil {
		t.Fatal(err)
	}
	pr4, err := alice.OpenPR(ctx, "acme/widgets", forge.PullRequest{Title: "mine", Head: "mine", Files: map[string][]byte{
		".prow/extra.yaml": []byte("presubmits:\n- name: mine\n  spec: {containers: [{image: golang, command: [make]}]}\n"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fg.As("bowline-bot").Push(ctx, "acme/widgets", "main", map[string][]byte{
		".prow/extra.yaml": []byte("presubmits:\n- name: extra3\n  spec: {containers: [{image: golang, command: [make]}]}\n"),
	}, "change .prow again"); err != nil {
		t.Fatal(err)
	}
	if _, err := names(tip(), pr4.GetHead().GetSHA()); err == nil || err.Error() != ".prow/extra.yaml changed both on the base branch and in the pull request since it branched off: rebase the pull request" {
		t.Errorf("conflict: err %v", err)
	}

	// Postsubmits of a pushed commit are the commit's own.
	post, err := l.Postsubmits(ctx, "acme", "widgets", base1)
	if err != nil || len(post) != 0 {
		t.Errorf("postsubmits %v, err %v", post, err)
	}
	// Not enabled: nothing is read.
	calls = gh.calls.Load()
	if ps, err := l.Presubmits(ctx, "acme", "gadgets", base1, pr1.GetHead().GetSHA()); ps != nil || err != nil || gh.calls.Load() != calls {
		t.Errorf("not enabled: %v, %v, %d requests", ps, err, gh.calls.Load()-calls)
	}
}

func status(t *testing.T, fg *forgetest.Env, sha string) *github.RepoStatus {
	t.Helper()
	list, _, err := fg.Client(t, "bot-token").Repositories.ListStatuses(context.Background(), "acme", "widgets", sha, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.GetContext() == StatusContext {
			return s
		}
	}
	return nil
}
