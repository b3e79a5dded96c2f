package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/reconcilers/prowjob"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// ProwJobsJSPath is Deck's list of runs.
const ProwJobsJSPath = "/prowjobs.js"

// Parts of a ProwJob that /prowjobs.js leaves out when ?omit= names them,
// as Deck's do.
const (
	OmitAnnotations      = "annotations"
	OmitLabels           = "labels"
	OmitDecorationConfig = "decoration_config"
	OmitPodSpec          = "pod_spec"
)

// prowJobsJS serves Deck's /prowjobs.js: {"items": [ProwJob…]}, every run
// the API serves (the prowjob_namespace, hidden jobs and repositories left
// out), newest first, with the parts ?omit= names left out; ?org= and
// ?repo= (repo alone, or org/repo) narrow the list. The ProwJobs are
// bowline's (bowline.dev/v1alpha1; docs/prowjobs.md maps their fields to
// Prow's), or with ?format=prow Prow's own (prow.k8s.io/v1, snake_case, as
// prowjob.json holds them). Completed runs come from the cache, which keeps neither their pod
// spec nor their decoration config. Deck's ?var= (a JavaScript variable
// assignment) is not served: the answer is always plain JSON.
func (h *Handler) prowJobsJS(w http.ResponseWriter, r *http.Request) {
	cfg := h.config()
	q := r.URL.Query()
	omit := map[string]bool{}
	for o := range strings.SplitSeq(q.Get("omit"), ",") {
		omit[strings.TrimSpace(o)] = true
	}
	org, repo := q.Get("org"), q.Get("repo")
	if o, rp, ok := strings.Cut(repo, "/"); ok {
		org, repo = o, rp
	}
	var list v1alpha1.ProwJobList
	if err := h.Client.List(r.Context(), &list, client.InNamespace(cfg.Namespace)); err != nil {
		writeError(w, http.StatusInternalServerError, "cannot list ProwJobs")
		return
	}
	items := make([]v1alpha1.ProwJob, 0, len(list.Items))
	for i := range list.Items {
		pj := &list.Items[i]
		if cfg.hidden(pj) {
			continue
		}
		if o, rp := repoOf(pj); (org != "" && !strings.EqualFold(o, org)) || (repo != "" && !strings.EqualFold(rp, repo)) {
			continue
		}
		pj.ManagedFields = nil
		pj.APIVersion, pj.Kind = v1alpha1.GroupVersion.String(), "ProwJob"
		if omit[OmitAnnotations] {
			pj.Annotations = nil
		}
		if omit[OmitLabels] {
			pj.Labels = nil
		}
		if omit[OmitDecorationConfig] {
			pj.Spec.DecorationConfig = nil
		}
		if omit[OmitPodSpec] {
			pj.Spec.PodSpec = nil
		}
		items = append(items, *pj)
	}
	slices.SortFunc(items, func(a, b v1alpha1.ProwJob) int { return started(&b).Compare(started(&a)) })
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	if q.Get("format") == "prow" {
		// Prow's own format, for tools written against Deck.
		prow := make([]prowjob.ProwJob, 0, len(items))
		for i := range items {
			prow = append(prow, prowjob.ProwFormat(&items[i]))
		}
		_ = json.NewEncoder(w).Encode(struct {
			Items []prowjob.ProwJob `json:"items"`
		}{prow})
		return
	}
	_ = json.NewEncoder(w).Encode(struct {
		Items []v1alpha1.ProwJob `json:"items"`
	}{items})
}
