package merge

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// PRPagePath is where the web role answers "why isn't my pull request
// merging?": GET /pr/<org>/<repo>/<number>. The tide status on every pull
// request links there (unless target_urls or pr_status_base_urls say
// otherwise).
const PRPagePath = "/pr/"

// PRPage serves a pull request's place in its merge pool as JSON, from the
// MergePools' status.
type PRPage struct {
	// Client reads MergePools.
	Client client.Reader
}

// PRStatus is what PRPage answers.
type PRStatus struct {
	Org    string `json:"org"`
	Repo   string `json:"repo"`
	Number int    `json:"number"`
	// Branch is the branch it targets; MergePool names the pool's
	// resource as namespace/name.
	Branch    string `json:"branch"`
	MergePool string `json:"mergePool"`
	// State and Reason are where it stands and why; Reason is the tide
	// status's description.
	State       v1alpha1.PoolPullRequestState `json:"state"`
	Reason      string                        `json:"reason,omitempty"`
	HeadSHA     string                        `json:"headSHA,omitempty"`
	MissingJobs []string                      `json:"missingJobs,omitempty"`
	// Pool is what the pool is doing: its base, last action and the
	// batches under test that include the pull request.
	BaseSHA string                    `json:"baseSHA,omitempty"`
	Action  v1alpha1.MergeAction      `json:"action,omitempty"`
	Targets []int32                   `json:"targets,omitempty"`
	Batches []v1alpha1.PoolBatch      `json:"batches,omitempty"`
	Summary v1alpha1.MergePoolSummary `json:"summary"`
}

// ServeHTTP implements http.Handler.
func (h *PRPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, PRPagePath), "/"), "/")
	if len(parts) != 3 {
		http.Error(w, "want /pr/<org>/<repo>/<number>", http.StatusNotFound)
		return
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil || n <= 0 {
		http.Error(w, "want /pr/<org>/<repo>/<number>", http.StatusNotFound)
		return
	}
	org, repo := parts[0], parts[1]
	var list v1alpha1.MergePoolList
	if err := h.Client.List(r.Context(), &list, client.MatchingLabels{
		v1alpha1.OrgLabel: v1alpha1.LabelValue(org), v1alpha1.RepoLabel: v1alpha1.LabelValue(repo),
	}); err != nil {
		http.Error(w, "cannot read merge pools", http.StatusServiceUnavailable)
		return
	}
	for i := range list.Items {
		mp := &list.Items[i]
		if !strings.EqualFold(mp.Spec.Org, org) || !strings.EqualFold(mp.Spec.Repo, repo) {
			continue
		}
		j := slices.IndexFunc(mp.Status.PullRequests, func(p v1alpha1.PoolPullRequest) bool { return int(p.Number) == n })
		if j < 0 {
			continue
		}
		e := mp.Status.PullRequests[j]
		out := PRStatus{Org: mp.Spec.Org, Repo: mp.Spec.Repo, Number: n, Branch: mp.Spec.Branch,
			MergePool: mp.Namespace + "/" + mp.Name, State: e.State, Reason: e.Reason, HeadSHA: e.HeadSHA,
			MissingJobs: e.MissingJobs, BaseSHA: mp.Status.BaseSHA, Action: mp.Status.Action,
			Targets: mp.Status.Targets, Summary: mp.Status.Summary}
		for _, b := range mp.Status.Batches {
			if slices.ContainsFunc(b.Pulls, func(p v1alpha1.PoolPull) bool { return int(p.Number) == n }) {
				out.Batches = append(out.Batches, b)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
		return
	}
	http.Error(w, "no merge pool knows this pull request: it is closed, not covered by a tide query, or not synced yet", http.StatusNotFound)
}
