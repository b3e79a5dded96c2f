package trigger_test

import (
	"context"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/bowline-ci/bowline/automation/inrepo"
	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/plugins"
	"github.com/bowline-ci/bowline/schema/snapshot"
)

type applied struct{ set *configset.Set }

func (a applied) Current() *snapshot.Snapshot {
	return &snapshot.Snapshot{Revision: "main@sha1:c", Config: a.set}
}

// inRepoJob is a .prow.yaml with one always_run presubmit.
const inRepoJob = `presubmits:
- name: in-repo-unit
  always_run: true
  spec: {containers: [{image: alpine, command: ["true"]}]}
`

// TestInRepoConfig: a trusted pull request runs the presubmits its own
// .prow.yaml adds, read from the forge; an untrusted one runs nothing,
// and its .prow.yaml counts once /ok-to-test trusts it.
func TestInRepoConfig(t *testing.T) {
	h := start(t, []jobs.Presubmit{presubmit("unit", always)}, nil, plugins.Trigger{})
	set, err := configset.Load(context.Background(), fstest.MapFS{"config.yaml": {Data: []byte(fmt.Sprintf(
		"pod_namespace: %s\nin_repo_config: {enabled: {acme/widgets: true}}\n", h.ns))}}, configset.Options{ConfigPath: "config.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	var src trigger.InRepo = inrepo.New(applied{set}, func(context.Context, string) (inrepo.GitHub, error) {
		return inrepo.FromClient(h.gh), nil
	})
	h.inRepo.Store(&src)

	n, _ := h.openPR("alice", "add-job", map[string]string{".prow.yaml": inRepoJob}, false)
	h.wantRuns("presubmit in-repo-unit -", "presubmit unit -")
	if st := status(t, h, n); st != "success" {
		t.Errorf("in-repo config status = %q, want success", st)
	}

	u, _ := h.openPR("bob", "outsider", map[string]string{".prow.yaml": inRepoJob}, false)
	h.wantLabels(u, "needs-ok-to-test")
	h.wantRuns("presubmit in-repo-unit -", "presubmit unit -")
	h.Comment("alice", repo, u, "/ok-to-test")
	h.wantRuns("presubmit in-repo-unit -", "presubmit in-repo-unit -", "presubmit unit -", "presubmit unit -")
}

// status reads the in-repo config status of a pull request's head.
func status(t *testing.T, h *harness, number int) string {
	t.Helper()
	pr, _, err := h.gh.PullRequests.Get(h.Ctx, "acme", "widgets", number)
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := h.gh.Repositories.ListStatuses(h.Ctx, "acme", "widgets", pr.GetHead().GetSHA(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.GetContext() == inrepo.StatusContext {
			return s.GetState()
		}
	}
	return ""
}
