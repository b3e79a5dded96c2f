package examples

import (
	"context"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestExamplesLoadStrictly loads each example the way the operator loads a
// config repository with default paths: strictly, all or nothing.
func TestExamplesLoadStrictly(t *testing.T) {
	tests := []struct {
		name string
		want configset.Summary
	}{
		{"quickstart", configset.Summary{Presubmits: 1, Postsubmits: 1, Periodics: 1, Repositories: 1, Plugins: 23, Labels: 5}},
		{"full", configset.Summary{Presubmits: 4, Postsubmits: 1, Periodics: 3, Repositories: 1, Plugins: 13, Orgs: 1, Teams: 1, Labels: 6}},
	}
	if len(tests) != len(Names) {
		t.Fatalf("%d examples tested, %d embedded", len(tests), len(Names))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys, err := FS(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			set, err := snapshot.Load(context.Background(), fsys, v1alpha1.ConfigPaths{}, false)
			if err != nil {
				t.Fatalf("load:\n%v", err)
			}
			got := set.Summary()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFullExampleCoversEveryArea makes sure the full example keeps showing
// every kind of file bowline reads, OWNERS included.
func TestFullExampleCoversEveryArea(t *testing.T) {
	fsys, err := FS("full")
	if err != nil {
		t.Fatal(err)
	}
	opts := snapshot.Options(fsys, v1alpha1.ConfigPaths{}, false)
	opts.OwnersDir = "config/owners"
	set, err := configset.Load(context.Background(), fsys, opts)
	if err != nil {
		t.Fatalf("load:\n%v", err)
	}
	if set.Config == nil || set.Plugins == nil || set.Orgs == nil || set.Labels == nil || set.Owners == nil {
		t.Fatalf("an area is missing: config %v, plugins %v, orgs %v, labels %v, owners %v",
			set.Config != nil, set.Plugins != nil, set.Orgs != nil, set.Labels != nil, set.Owners != nil)
	}
	for _, p := range []string{"config/orgs/acme/org.yaml", "config/orgs/acme/maintainers/teams.yaml", "config/owners/widgets/OWNERS", "config/owners/OWNERS_ALIASES"} {
		if _, err := fs.Stat(fsys, p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestQuickstartSandbox checks the demo repository and seed that bowline up
// puts in the sandbox.
func TestQuickstartSandbox(t *testing.T) {
	fsys, err := FS("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"sandbox/seed.yaml", "sandbox/hello/test.sh", "sandbox/hello/hello.sh", "sandbox/hello/README.md"} {
		if _, err := fs.Stat(fsys, p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
