package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// runsFilter is the runs page's query: Deck's filters (type, repo, job,
// state, author, pull), and the page.
type runsFilter struct {
	Type, Repo, Job, State, Author string
	Pull                           int
	Page                           int
}

func (f runsFilter) Query(page int) string {
	return query("type", f.Type, "repo", f.Repo, "job", f.Job, "state", f.State, "author", f.Author, "pull", f.Pull, "page", page)
}

// WithState is the query of the first page of the runs in state s.
func (f runsFilter) WithState(s v1alpha1.ProwJobState) string {
	f.State = string(s)
	return f.Query(0)
}

// Active reports whether any filter is set.
func (f runsFilter) Active() bool {
	return f.Type != "" || f.Repo != "" || f.Job != "" || f.State != "" || f.Author != "" || f.Pull != 0
}

func parseRunsFilter(q url.Values) (runsFilter, error) {
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	f := runsFilter{Type: get("type"), Repo: get("repo"), Job: get("job"), State: get("state"), Author: get("author"), Page: 1}
	if f.Repo != "" {
		if org, repo, ok := strings.Cut(f.Repo, "/"); !ok || org == "" || repo == "" {
			return f, fmt.Errorf("the repository must be org/repo, not %q", f.Repo)
		}
	}
	if f.Type != "" && !slices.Contains(jobTypes, v1alpha1.ProwJobType(f.Type)) {
		return f, fmt.Errorf("%q is not a job type", f.Type)
	}
	if f.State != "" && !slices.Contains(states, v1alpha1.ProwJobState(f.State)) {
		return f, fmt.Errorf("%q is not a state", f.State)
	}
	if p := get("pull"); p != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(p, "#"))
		if err != nil || n <= 0 {
			return f, fmt.Errorf("the pull request must be a number, not %q", p)
		}
		f.Pull = n
	}
	if p := get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return f, fmt.Errorf("the page must be a number, not %q", p)
		}
		f.Page = n
	}
	return f, nil
}

var (
	jobTypes = []v1alpha1.ProwJobType{v1alpha1.PresubmitJob, v1alpha1.PostsubmitJob, v1alpha1.PeriodicJob, v1alpha1.BatchJob}
	states   = []v1alpha1.ProwJobState{v1alpha1.TriggeredState, v1alpha1.PendingState, v1alpha1.SuccessState,
		v1alpha1.FailureState, v1alpha1.AbortedState, v1alpha1.ErrorState}
)

// match applies the filters but the state, which the counts ignore.
func (f runsFilter) match(pj *v1alpha1.ProwJob) bool {
	if f.Type != "" && string(pj.Spec.Type) != f.Type {
		return false
	}
	if f.Job != "" && !strings.Contains(strings.ToLower(pj.Spec.Job), strings.ToLower(f.Job)) {
		return false
	}
	if f.Repo != "" {
		org, repo := repoOf(pj)
		if !strings.EqualFold(org+"/"+repo, f.Repo) {
			return false
		}
	}
	if f.Author != "" || f.Pull != 0 {
		if pj.Spec.Refs == nil {
			return false
		}
		return slices.ContainsFunc(pj.Spec.Refs.Pulls, func(p v1alpha1.Pull) bool {
			return (f.Author == "" || strings.EqualFold(p.Author, f.Author)) && (f.Pull == 0 || int(p.Number) == f.Pull)
		})
	}
	return true
}

// repoOf is the repository a run is about: its refs, or its first extra
// ref (a periodic's).
func repoOf(pj *v1alpha1.ProwJob) (org, repo string) {
	if r := pj.Spec.Refs; r != nil {
		return r.Org, r.Repo
	}
	if len(pj.Spec.ExtraRefs) > 0 {
		return pj.Spec.ExtraRefs[0].Org, pj.Spec.ExtraRefs[0].Repo
	}
	return "", ""
}

// runRow is one run in a list.
type runRow struct {
	Namespace, Name, Job string
	Type                 v1alpha1.ProwJobType
	State                v1alpha1.ProwJobState
	Description          string
	Org, Repo, BaseRef   string
	BaseSHA              string
	Pulls                []v1alpha1.Pull
	Started              time.Time
	Duration             time.Duration
	Running              bool
}

// URL is the run's page.
func (r runRow) URL() string {
	return RunPathPrefix + url.PathEscape(r.Namespace) + "/" + url.PathEscape(r.Name)
}

func rowOf(pj *v1alpha1.ProwJob, now time.Time) runRow {
	r := runRow{Namespace: pj.Namespace, Name: pj.Name, Job: pj.Spec.Job, Type: pj.Spec.Type, State: runState(pj),
		Description: pj.Status.Description, Started: pj.CreationTimestamp.Time}
	r.Org, r.Repo = repoOf(pj)
	if refs := pj.Spec.Refs; refs != nil {
		r.BaseRef, r.BaseSHA, r.Pulls = refs.BaseRef, refs.BaseSHA, refs.Pulls
	} else if len(pj.Spec.ExtraRefs) > 0 {
		r.BaseRef, r.BaseSHA = pj.Spec.ExtraRefs[0].BaseRef, pj.Spec.ExtraRefs[0].BaseSHA
	}
	if st := pj.Status.StartTime; st != nil {
		r.Started = st.Time
	}
	switch {
	case pj.Status.CompletionTime != nil:
		r.Duration = pj.Status.CompletionTime.Sub(r.Started)
	case !r.Started.IsZero():
		r.Duration, r.Running = now.Sub(r.Started), true
	}
	return r
}

type stateCount struct {
	State v1alpha1.ProwJobState
	Count int
}

type runsData struct {
	Filter      runsFilter
	Error       string
	Rows        []runRow
	Total       int
	From, To    int
	Page, Pages int
	Counts      []stateCount
	Repos       []string
	Types       []v1alpha1.ProwJobType
	States      []v1alpha1.ProwJobState
	PageSize    int
	Now         time.Time
}

// runs is Deck's front page: every run, newest first, filtered by the
// query; a page at a time (Deck shows them all: at tens of thousands of
// runs that is megabytes).
func (h *Handler) runs(w http.ResponseWriter, r *http.Request) {
	now := h.now()
	f, err := parseRunsFilter(r.URL.Query())
	d := &runsData{Filter: f, Types: jobTypes, States: states, PageSize: h.pageSize(), Now: now}
	code := http.StatusOK
	if err != nil {
		d.Error, code = err.Error(), http.StatusBadRequest
	}
	repos := map[string]bool{}
	counts := map[v1alpha1.ProwJobState]int{}
	all, lerr := h.API.Runs(r.Context(), func(pj *v1alpha1.ProwJob) bool {
		if org, repo := repoOf(pj); org != "" {
			repos[org+"/"+repo] = true
		}
		if err != nil || !f.match(pj) {
			return false
		}
		st := runState(pj)
		counts[st]++
		return f.State == "" || string(st) == f.State
	})
	if lerr != nil {
		h.renderError(w, r, http.StatusServiceUnavailable, "The runs cannot be read right now.")
		return
	}
	for _, s := range states {
		if counts[s] > 0 {
			d.Counts = append(d.Counts, stateCount{s, counts[s]})
		}
	}
	for k := range repos {
		d.Repos = append(d.Repos, k)
	}
	slices.Sort(d.Repos)
	d.Total = len(all)
	size := h.pageSize()
	d.Pages = max(1, (d.Total+size-1)/size)
	d.Page = min(f.Page, d.Pages)
	start := (d.Page - 1) * size
	end := min(start+size, d.Total)
	d.From, d.To = start+1, end
	d.Rows = make([]runRow, 0, end-start)
	for _, pj := range all[start:end] {
		d.Rows = append(d.Rows, rowOf(pj, now))
	}
	v := h.view(r, "Runs", "runs", d)
	v.Live = h.Events != nil
	if fragment(r) == "runs" {
		h.render(w, code, "runs", "runs-live", v)
		return
	}
	h.render(w, code, "runs", "", v)
}
