package configrepo

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	sandbox "github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestFetchRefs fetches a branch and a pull request's head, as GitHub
// serves it under refs/pull/N/head, into one cache repository, and reads
// the pull request's revision as the reconciler would.
func TestFetchRefs(t *testing.T) {
	ctx := context.Background()
	f := forgetest.Start(t, `
users: [{login: alice, token: alice-token}]
orgs: [{login: acme, admins: [alice]}]
repos:
- name: acme/config
  files:
    config/prow/config.yaml: "prowjob_namespace: default\n"
    README.md: "not configuration\n"
`)
	alice := f.As("alice")
	head, err := alice.Push(ctx, "acme/config", "change", map[string][]byte{"config/prow/config.yaml": []byte("prowjob_namespace: jobs\n")}, "Change the namespace")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.OpenPR(ctx, "acme/config", sandbox.PullRequest{Title: "Change", Head: "change", Base: "main"}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "cache")
	repo, err := FetchRefs(ctx, dir, f.URL+"/acme/config.git", nil, "refs/heads/main", "refs/pull/1/head")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.ReferenceName("refs/pull/1/head"), true)
	if err != nil || ref.Hash().String() != head {
		t.Fatalf("refs/pull/1/head = %v, %v; want %s", ref, err, head)
	}
	if _, err := repo.Reference(plumbing.NewBranchReferenceName("main"), true); err != nil {
		t.Fatalf("main: %v", err)
	}
	c, err := repo.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	files, cache, err := ReadRevision(repo, c, []string{"config/prow/config.yaml", "config/jobs"}, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cache) != 1 {
		t.Errorf("cache holds %d blobs, want the one file read", len(cache))
	}
	v, err := Validate(ctx, files, &v1alpha1.ConfigRepositorySpec{}, nil)
	if err != nil || !v.Valid() || v.Set.Config.ProwJobNamespace != "jobs" {
		t.Fatalf("Validate = %+v, %v", v, err)
	}

	// Fetching again transfers nothing and fails nothing.
	if _, err := FetchRefs(ctx, dir, f.URL+"/acme/config.git", nil, "refs/heads/main", "refs/pull/1/head"); err != nil {
		t.Fatal(err)
	}
	if _, err := FetchRefs(ctx, dir, f.URL+"/acme/config.git", nil, "main"); err == nil || !strings.Contains(err.Error(), "full ref name") {
		t.Errorf("a short ref name: %v", err)
	}
	if _, err := FetchRefs(ctx, dir, f.URL+"/acme/config.git", nil, "refs/pull/9/head"); err == nil {
		t.Error("a missing ref fetched without error")
	}
}

// TestValidate: the loader's errors with their positions, then every
// further check's, positioned or not, as one verdict.
func TestValidate(t *testing.T) {
	ctx := context.Background()
	files := fstest.MapFS{
		"config/prow/config.yaml": {Data: []byte("prowjob_namespace: default\n")},
		"config/jobs/a.yaml":      {Data: []byte("presubmits:\n  acme/w:\n  - name: test\n    always_run: true\n    spec: {containers: [{image: alpine}]}\n")},
	}
	positioned := &configset.Errors{}
	positioned.Add("config/jobs/a.yaml", 3, 5, "cluster %q is unknown", "gpu")
	tests := []struct {
		name  string
		files fstest.MapFS
		spec  v1alpha1.ConfigRepositorySpec
		check func(*configset.Set) error
		want  []string
		valid bool
	}{
		{name: "valid", files: files, valid: true},
		{name: "loader errors", files: fstest.MapFS{"config/prow/config.yaml": {Data: []byte("prowjob_namespace: default\nnot_a_field: 1\n")}},
			want: []string{"config/prow/config.yaml:2:1: unknown field \"not_a_field\""}},
		{name: "checks joined", files: files, check: func(*configset.Set) error {
			return errors.Join(errors.New("config.yaml: prowjob_namespace is wrong\nand so is pod_namespace"), positioned)
		}, want: []string{"config.yaml: prowjob_namespace is wrong", "and so is pod_namespace", `config/jobs/a.yaml:3:5: cluster "gpu" is unknown`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Validate(ctx, tt.files, &tt.spec, tt.check)
			if err != nil {
				t.Fatal(err)
			}
			if v.Valid() != tt.valid {
				t.Errorf("valid %t, want %t", v.Valid(), tt.valid)
			}
			got := v.Lines()
			for i := range got {
				// The loader may say more after the message's start.
				if i < len(tt.want) && strings.HasPrefix(got[i], tt.want[i]) {
					got[i] = tt.want[i]
				}
			}
			if diff := cmp.Diff(tt.want, got); tt.want != nil && diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
