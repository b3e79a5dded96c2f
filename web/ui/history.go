package ui

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// stripRuns is how many runs the strip shows; stripHeight is its bars'
// tallest.
const (
	stripRuns   = 100
	stripHeight = 60
	stripBar    = 8
)

type historyData struct {
	Job                     string
	Rows                    []runRow
	Total, From, To         int
	Page, Pages             int
	Strip                   []stripCell
	StripWidth, StripHeight int
	Passed, Failed, Ended   int
	SuccessRate             string
	Median, P90, Longest    time.Duration
}

// stripCell is one run in the pass/fail strip: a bar as tall as the run
// was long.
type stripCell struct {
	URL, Label string
	State      v1alpha1.ProwJobState
	X, Y, W, H int
}

func (d historyData) PageQuery(p int) string { return query("page", p) }

// jobHistory is one job's runs: a strip of the last runs (state and
// duration), figures over every run known, and the runs a page at a
// time. Runs are the ProwJobs still kept (sinker's max_prowjob_age), not
// the artifact store's older builds.
func (h *Handler) jobHistory(w http.ResponseWriter, r *http.Request) {
	job := r.PathValue("job")
	page := 1
	if p := r.URL.Query().Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			h.renderError(w, r, http.StatusBadRequest, "The page must be a number.")
			return
		}
		page = n
	}
	runs, err := h.API.Runs(r.Context(), func(pj *v1alpha1.ProwJob) bool { return pj.Spec.Job == job })
	if err != nil {
		h.renderError(w, r, http.StatusServiceUnavailable, "The runs cannot be read right now.")
		return
	}
	now := h.now()
	d := &historyData{Job: job, Total: len(runs)}
	var durations []time.Duration
	for _, pj := range runs {
		if !pj.Complete() {
			continue
		}
		d.Ended++
		switch runState(pj) {
		case v1alpha1.SuccessState:
			d.Passed++
		case v1alpha1.FailureState:
			d.Failed++
		}
		if row := rowOf(pj, now); row.Duration > 0 {
			durations = append(durations, row.Duration)
		}
	}
	if d.Ended > 0 {
		d.SuccessRate = fmt.Sprintf("%.0f%%", 100*float64(d.Passed)/float64(d.Ended))
	}
	if len(durations) > 0 {
		slices.Sort(durations)
		d.Median = durations[len(durations)/2]
		d.P90 = durations[len(durations)*9/10]
		d.Longest = durations[len(durations)-1]
	}
	d.Strip, d.StripWidth, d.StripHeight = strip(runs, now)
	size := h.pageSize()
	d.Pages = max(1, (d.Total+size-1)/size)
	d.Page = min(page, d.Pages)
	start, end := (d.Page-1)*size, min(d.Page*size, d.Total)
	d.From, d.To = start+1, end
	for _, pj := range runs[start:end] {
		d.Rows = append(d.Rows, rowOf(pj, now))
	}
	h.render(w, http.StatusOK, "history", "", h.view(r, "History of "+job, "runs", d))
}

// strip lays out the last runs, oldest on the left.
func strip(runs []*v1alpha1.ProwJob, now time.Time) ([]stripCell, int, int) {
	last := runs[:min(len(runs), stripRuns)]
	rows := make([]runRow, len(last))
	var longest time.Duration
	for i, pj := range last {
		rows[len(last)-1-i] = rowOf(pj, now)
		longest = max(longest, rows[len(last)-1-i].Duration)
	}
	cells := make([]stripCell, len(rows))
	for i, row := range rows {
		h := 4
		if longest > 0 {
			h = max(4, int(float64(stripHeight)*float64(row.Duration)/float64(longest)))
		}
		label := fmt.Sprintf("%s, %s", row.State, row.Started.UTC().Format("2006-01-02 15:04 UTC"))
		if row.Duration > 0 {
			label += ", " + fmtDuration(row.Duration)
		}
		cells[i] = stripCell{URL: row.URL(), Label: label, State: row.State, X: i * stripBar, Y: stripHeight - h, W: stripBar - 2, H: h}
	}
	return cells, len(rows) * stripBar, stripHeight
}
