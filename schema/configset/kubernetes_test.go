package configset

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// kubernetesOptions loads the copy of Kubernetes' own configuration in
// test/testdata (see the PROVENANCE.md files there).
func kubernetesOptions() Options {
	return Options{
		ConfigPath:       "kubernetes-prow/config.yaml",
		JobConfigPath:    "kubernetes-prow/jobs",
		PluginConfigPath: "kubernetes-prow/plugins.yaml",
		OrgConfigPaths:   []string{"kubernetes-org"},
		LabelsPath:       "kubernetes-labels.yaml",
		OwnersDir:        "kubernetes-org",
	}
}

const testdata = "../../test/testdata"

func TestLoadKubernetes(t *testing.T) {
	set, err := LoadDir(context.Background(), testdata, kubernetesOptions())
	var errs *Errors
	if errors.As(err, &errs) {
		t.Fatalf("Kubernetes' config does not load (%d errors):\n%s", errs.Len(), errs.Summary(50))
	}
	if err != nil {
		t.Fatal(err)
	}
	got := set.Summary()
	want := Summary{
		Presubmits: 2261, Postsubmits: 253, Periodics: 1335, Repositories: 185,
		Plugins: got.Plugins, ExternalPlugins: got.ExternalPlugins,
		Orgs: got.Orgs, Teams: got.Teams, Labels: got.Labels, OwnersFiles: got.OwnersFiles,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Summary() mismatch (-want +got):\n%s", diff)
	}
	t.Logf("%+v", got)
	// Prow accepts Kubernetes' configuration as it is, and so does
	// bowline: nothing suspicious besides one field spelled in capitals,
	// and warnings for what bowline does not act on or run (Prow's
	// utility images) yet.
	codes := map[string]int{}
	for _, w := range set.Warnings {
		if w.Code != CodeNotSupported {
			codes[w.Code]++
		}
	}
	if diff := cmp.Diff(map[string]int{"field-case": 1, "utility-images": 1}, codes); diff != "" {
		t.Errorf("warnings besides not-supported (-want +got):\n%s", diff)
	}
}
