package plan

import (
	"context"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bowline-ci/bowline/schema/configset"
)

// now is the tests' clock: labels.yaml deleteAfter dates compare to it.
var now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// load reads a configuration given as files: config.yaml, orgs/<org>/org.yaml
// (and teams.yaml files), labels.yaml and jobs/*.yaml, as a config
// repository holds them.
func load(t *testing.T, files map[string]string) *configset.Set {
	t.Helper()
	fsys := fstest.MapFS{}
	opts := configset.Options{}
	for name, content := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(content)}
		switch {
		case name == "config.yaml":
			opts.ConfigPath = name
		case name == "labels.yaml":
			opts.LabelsPath = name
		case len(name) > 5 && name[:5] == "orgs/":
			opts.OrgConfigPaths = []string{"orgs"}
		case len(name) > 5 && name[:5] == "jobs/":
			opts.JobConfigPath = "jobs"
		}
	}
	if opts.ConfigPath == "" {
		fsys["config.yaml"] = &fstest.MapFile{Data: []byte("{}\n")}
		opts.ConfigPath = "config.yaml"
	}
	set, err := configset.Load(context.Background(), fsys, opts)
	if err != nil {
		t.Fatalf("load configuration: %v", err)
	}
	return set
}

// desired is what files say about org acme.
func desired(t *testing.T, files map[string]string, opts Options) *Desired {
	t.Helper()
	return DesiredFor(load(t, files), "acme", opts, now)
}

// lines renders a plan's changes, one per line.
func lines(p *Plan) []string {
	out := []string{}
	for _, c := range p.Changes {
		out = append(out, c.String())
	}
	return out
}

func diffLines(t *testing.T, p *Plan, want []string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if d := cmp.Diff(want, lines(p)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
}
