package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

type configData struct {
	Name, Error      string
	Found, Suspended bool
	URL, Ref         string
	Ready            *metav1.Condition
	Conditions       []metav1.Condition
	Applied          string
	Attempted        string
	Errors           []string
	Summary          *v1alpha1.ConfigSummary
	History          []v1alpha1.ReconcileRecord
}

// configStatus shows the ConfigRepository bowline follows: the revision in
// effect (the last good one), the newest one tried and what is wrong with
// it, file:line first.
func (h *Handler) configStatus(w http.ResponseWriter, r *http.Request) {
	d := &configData{Name: h.ConfigRepository.String()}
	code := http.StatusOK
	var cr v1alpha1.ConfigRepository
	switch err := h.Client.Get(r.Context(), h.ConfigRepository, &cr); {
	case apierrors.IsNotFound(err):
		d.Error = "The ConfigRepository " + d.Name + " does not exist."
	case err != nil:
		d.Error, code = "The ConfigRepository cannot be read right now.", http.StatusServiceUnavailable
	default:
		d.Found, d.Suspended = true, cr.Spec.Suspend
		d.URL = maskURL(cr.Spec.URL)
		if ref := cr.Spec.Ref; ref != nil {
			d.Ref = cmpOr(ref.Commit, cmpOr(ref.Tag, ref.Branch))
		}
		d.Ready = meta.FindStatusCondition(cr.Status.Conditions, "Ready")
		d.Conditions = cr.Status.Conditions
		d.Applied, d.Attempted = cr.Status.LastAppliedRevision, cr.Status.LastAttemptedRevision
		d.Errors, d.Summary, d.History = cr.Status.ValidationErrors, cr.Status.Summary, cr.Status.History
	}
	h.render(w, code, "config", "", h.view(r, "Configuration", "config", d))
}

// maskURL leaves credentials out of a URL.
func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = url.User("***")
	return u.String()
}

type poolsData struct {
	Repo  string
	Repos []string
	Error string
	Pools []poolView
}

type poolView struct {
	Anchor, Org, Repo, Branch, Namespace string
	BaseSHA                              string
	Action                               v1alpha1.MergeAction
	Targets                              []int32
	Summary                              v1alpha1.MergePoolSummary
	PRs                                  []v1alpha1.PoolPullRequest
	Batches                              []v1alpha1.PoolBatch
	LastMerges                           []v1alpha1.PoolMerge
	Blockers                             []int32
	Ready                                *metav1.Condition
}

// PRPage is the page of one of the pool's pull requests.
func (p poolView) PRPage(n int32) string {
	return PRPathPrefix + url.PathEscape(p.Org) + "/" + url.PathEscape(p.Repo) + "/" + strconv.Itoa(int(n))
}

// pools is Deck's Tide page: every merge pool, what it does and why each
// pull request waits.
func (h *Handler) pools(w http.ResponseWriter, r *http.Request) {
	d := &poolsData{Repo: strings.TrimSpace(r.URL.Query().Get("repo"))}
	code := http.StatusOK
	var list v1alpha1.MergePoolList
	if err := h.Client.List(r.Context(), &list); err != nil {
		d.Error, code = "The merge pools cannot be read right now.", http.StatusServiceUnavailable
	}
	repos := map[string]bool{}
	for i := range list.Items {
		mp := &list.Items[i]
		if h.API.HiddenRepo(mp.Spec.Org, mp.Spec.Repo) {
			continue
		}
		full := mp.Spec.Org + "/" + mp.Spec.Repo
		repos[full] = true
		if d.Repo != "" && !strings.EqualFold(d.Repo, full) {
			continue
		}
		d.Pools = append(d.Pools, poolView{Anchor: poolAnchor(mp), Org: mp.Spec.Org, Repo: mp.Spec.Repo, Branch: mp.Spec.Branch,
			Namespace: mp.Namespace, BaseSHA: mp.Status.BaseSHA, Action: mp.Status.Action, Targets: mp.Status.Targets,
			Summary: mp.Status.Summary, PRs: mp.Status.PullRequests, Batches: mp.Status.Batches, LastMerges: mp.Status.LastMerges,
			Blockers: mp.Status.Blockers, Ready: meta.FindStatusCondition(mp.Status.Conditions, "Ready")})
	}
	for k := range repos {
		d.Repos = append(d.Repos, k)
	}
	slices.Sort(d.Repos)
	slices.SortFunc(d.Pools, func(a, b poolView) int {
		return strings.Compare(a.Org+"/"+a.Repo+":"+a.Branch, b.Org+"/"+b.Repo+":"+b.Branch)
	})
	v := h.view(r, "Merge pools", "pools", d)
	h.render(w, code, "pools", "", v)
}
