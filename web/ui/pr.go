package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// wantsHTML reports whether a client asked for a page (browsers do) rather
// than data.
func wantsHTML(r *http.Request) bool { return strings.Contains(r.Header.Get("Accept"), "text/html") }

type prData struct {
	Org, Repo     string
	Number        int
	Title, Author string
	URL           string
	Verdict       *verdict
	// NoPool says why there is no verdict.
	NoPool  string
	Commits []prCommit
}

type prCommit struct {
	SHA, URL string
	Latest   time.Time
	Jobs     []prJob
}

type prJob struct {
	Job    string
	Latest runRow
	// Earlier are the job's other runs on the commit, newest first.
	Earlier []runRow
}

// verdict is where a pull request stands in its merge pool.
type verdict struct {
	Pool, PoolAnchor string
	Branch           string
	State            v1alpha1.PoolPullRequestState
	Reason           string
	MissingJobs      []string
	Action           v1alpha1.MergeAction
	Targets          []int32
	BaseSHA          string
	Batches          []v1alpha1.PoolBatch
	Summary          v1alpha1.MergePoolSummary
	Namespace        string
}

// pullRequest is a pull request's page: the merge queue's verdict (the
// page the tide status links to) and every run of every job, per commit
// (Deck's PR history). Clients that do not ask for HTML get the merge
// controller's JSON.
func (h *Handler) pullRequest(w http.ResponseWriter, r *http.Request) {
	org, repo := r.PathValue("org"), r.PathValue("repo")
	n, err := strconv.Atoi(r.PathValue("number"))
	if err != nil || n <= 0 {
		h.renderError(w, r, http.StatusNotFound, "Pull requests are /pr/<org>/<repo>/<number>.")
		return
	}
	if h.API.HiddenRepo(org, repo) {
		h.renderError(w, r, http.StatusNotFound, "There is no such pull request, or it is not shown here.")
		return
	}
	if !wantsHTML(r) {
		if h.PRStatus == nil {
			http.Error(w, "this page is HTML only", http.StatusNotAcceptable)
			return
		}
		h.PRStatus.ServeHTTP(w, r)
		return
	}
	link := h.settings().LinkURL
	d := &prData{Org: org, Repo: repo, Number: n,
		URL: link + "/" + url.PathEscape(org) + "/" + url.PathEscape(repo) + "/pull/" + strconv.Itoa(n)}
	runs, err := h.API.Runs(r.Context(), func(pj *v1alpha1.ProwJob) bool {
		refs := pj.Spec.Refs
		return refs != nil && strings.EqualFold(refs.Org, org) && strings.EqualFold(refs.Repo, repo) &&
			slices.ContainsFunc(refs.Pulls, func(p v1alpha1.Pull) bool { return int(p.Number) == n })
	})
	if err != nil {
		h.renderError(w, r, http.StatusServiceUnavailable, "The runs cannot be read right now.")
		return
	}
	now := h.now()
	commits := map[string]*prCommit{}
	jobs := map[string]map[string]*prJob{}
	for _, pj := range runs {
		var sha string
		for _, p := range pj.Spec.Refs.Pulls {
			if int(p.Number) == n {
				sha = p.SHA
				if d.Title == "" {
					d.Title, d.Author = p.Title, p.Author
				}
			}
		}
		c := commits[sha]
		if c == nil {
			c = &prCommit{SHA: sha, URL: d.URL + "/commits/" + url.PathEscape(sha)}
			commits[sha] = c
			jobs[sha] = map[string]*prJob{}
		}
		row := rowOf(pj, now)
		if row.Started.After(c.Latest) {
			c.Latest = row.Started
		}
		// Runs come newest first: the first of a job is its latest.
		if j := jobs[sha][pj.Spec.Job]; j != nil {
			j.Earlier = append(j.Earlier, row)
		} else {
			jobs[sha][pj.Spec.Job] = &prJob{Job: pj.Spec.Job, Latest: row}
		}
	}
	for sha, c := range commits {
		for _, j := range jobs[sha] {
			c.Jobs = append(c.Jobs, *j)
		}
		slices.SortFunc(c.Jobs, func(a, b prJob) int { return strings.Compare(a.Job, b.Job) })
		d.Commits = append(d.Commits, *c)
	}
	slices.SortFunc(d.Commits, func(a, b prCommit) int { return b.Latest.Compare(a.Latest) })
	d.Verdict, d.NoPool = h.verdict(r, org, repo, n)
	title := org + "/" + repo + "#" + strconv.Itoa(n)
	v := h.view(r, title, "", d)
	v.Live = h.Events != nil
	if fragment(r) == "pr" {
		h.render(w, http.StatusOK, "pr", "pr-live", v)
		return
	}
	h.render(w, http.StatusOK, "pr", "", v)
}

// verdict finds the pull request in its merge pool.
func (h *Handler) verdict(r *http.Request, org, repo string, n int) (*verdict, string) {
	if h.Client == nil {
		return nil, "This server does not read the merge pools."
	}
	var list v1alpha1.MergePoolList
	if err := h.Client.List(r.Context(), &list, client.MatchingLabels{
		v1alpha1.OrgLabel: v1alpha1.LabelValue(org), v1alpha1.RepoLabel: v1alpha1.LabelValue(repo),
	}); err != nil {
		return nil, "The merge pools cannot be read right now."
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
		v := &verdict{Pool: mp.Spec.Org + "/" + mp.Spec.Repo + ":" + mp.Spec.Branch, PoolAnchor: poolAnchor(mp),
			Branch: mp.Spec.Branch, State: e.State, Reason: e.Reason, MissingJobs: e.MissingJobs, Action: mp.Status.Action,
			Targets: mp.Status.Targets, BaseSHA: mp.Status.BaseSHA, Summary: mp.Status.Summary, Namespace: mp.Namespace}
		for _, b := range mp.Status.Batches {
			if slices.ContainsFunc(b.Pulls, func(p v1alpha1.PoolPull) bool { return int(p.Number) == n }) {
				v.Batches = append(v.Batches, b)
			}
		}
		return v, ""
	}
	return nil, "No merge pool knows this pull request: it is closed, no tide query covers it, or the merge controller has not seen it yet."
}

func poolAnchor(mp *v1alpha1.MergePool) string { return "pool-" + mp.Namespace + "-" + mp.Name }

// prHistoryRedirect serves Deck's /pr-history?org=&repo=&pr= address.
func (h *Handler) prHistoryRedirect(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err := strconv.Atoi(q.Get("pr"))
	if q.Get("org") == "" || q.Get("repo") == "" || err != nil || n <= 0 {
		h.renderError(w, r, http.StatusBadRequest, "Give org, repo and pr.")
		return
	}
	http.Redirect(w, r, PRPathPrefix+url.PathEscape(q.Get("org"))+"/"+url.PathEscape(q.Get("repo"))+"/"+strconv.Itoa(n), http.StatusMovedPermanently)
}

// myPR is one of the logged-in user's pull requests.
type myPR struct {
	Org, Repo, Title string
	Number           int32
	Page             string
	Latest           time.Time
	// Jobs are the latest run of each job on the newest commit.
	SHA  string
	Jobs []runRow
}

// dashboard is Deck's /pr: the logged-in user's pull requests with the
// state of their jobs, from the runs bowline knows.
func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	v := h.view(r, "Your pull requests", "", nil)
	if v.User == "" {
		h.render(w, http.StatusOK, "dashboard", "", v)
		return
	}
	login := v.User
	runs, err := h.API.Runs(r.Context(), func(pj *v1alpha1.ProwJob) bool {
		return pj.Spec.Refs != nil && slices.ContainsFunc(pj.Spec.Refs.Pulls, func(p v1alpha1.Pull) bool { return strings.EqualFold(p.Author, login) })
	})
	if err != nil {
		h.renderError(w, r, http.StatusServiceUnavailable, "The runs cannot be read right now.")
		return
	}
	now := h.now()
	byPR := map[string]*myPR{}
	var order []string
	seen := map[string]bool{}
	for _, pj := range runs {
		refs := pj.Spec.Refs
		for _, p := range refs.Pulls {
			if !strings.EqualFold(p.Author, login) {
				continue
			}
			k := refs.Org + "/" + refs.Repo + "#" + strconv.Itoa(int(p.Number))
			m := byPR[k]
			if m == nil {
				// Newest run first: its commit is the newest.
				m = &myPR{Org: refs.Org, Repo: refs.Repo, Number: p.Number, Title: p.Title, SHA: p.SHA,
					Page: PRPathPrefix + url.PathEscape(refs.Org) + "/" + url.PathEscape(refs.Repo) + "/" + strconv.Itoa(int(p.Number))}
				byPR[k] = m
				order = append(order, k)
			}
			row := rowOf(pj, now)
			if row.Started.After(m.Latest) {
				m.Latest = row.Started
			}
			if p.SHA == m.SHA && !seen[k+" "+pj.Spec.Job] {
				seen[k+" "+pj.Spec.Job] = true
				m.Jobs = append(m.Jobs, row)
			}
		}
	}
	var prs []myPR
	for _, k := range order {
		prs = append(prs, *byPR[k])
	}
	v.Data = prs
	h.render(w, http.StatusOK, "dashboard", "", v)
}
