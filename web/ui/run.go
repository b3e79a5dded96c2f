package ui

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/web/api"
)

// lookup reads the run a request names, through the API (so that hidden
// runs are not found), answering errors itself.
func (h *Handler) lookup(w http.ResponseWriter, r *http.Request) (*v1alpha1.ProwJob, bool) {
	pj, err := h.API.Run(r.Context(), client.ObjectKey{Namespace: r.PathValue("namespace"), Name: r.PathValue("name")})
	if err != nil {
		if api.ActionCode(err) == http.StatusNotFound {
			h.renderError(w, r, http.StatusNotFound, "There is no such run, or it is not shown here.")
		} else {
			h.renderError(w, r, http.StatusServiceUnavailable, "The run cannot be read right now.")
		}
		return nil, false
	}
	return pj, true
}

// refView is a repository a run tests, with links to the forge.
type refView struct {
	Org, Repo, RepoURL        string
	BaseRef, BaseSHA, BaseURL string
	Pulls                     []pullView
}

type pullView struct {
	Number                    int32
	Title, Author, SHA        string
	URL, CommitURL, AuthorURL string
	Page                      string
}

// refsView links a run's refs: the links the refs carry (Prow's repo_link,
// base_link, link, commit_link), else ones under github.link_url.
func refsView(r v1alpha1.Refs, link string) refView {
	repoURL := link + "/" + url.PathEscape(r.Org) + "/" + url.PathEscape(r.Repo)
	v := refView{Org: r.Org, Repo: r.Repo, RepoURL: cmpOr(r.RepoLink, repoURL), BaseRef: r.BaseRef, BaseSHA: r.BaseSHA}
	switch {
	case r.BaseLink != "":
		v.BaseURL = r.BaseLink
	case r.BaseSHA != "":
		v.BaseURL = repoURL + "/commit/" + url.PathEscape(r.BaseSHA)
	case r.BaseRef != "":
		v.BaseURL = repoURL + "/tree/" + url.PathEscape(r.BaseRef)
	}
	for _, p := range r.Pulls {
		prURL := repoURL + "/pull/" + strconv.Itoa(int(p.Number))
		pv := pullView{Number: p.Number, Title: p.Title, Author: p.Author, SHA: p.SHA, URL: cmpOr(p.Link, prURL),
			Page: PRPathPrefix + url.PathEscape(r.Org) + "/" + url.PathEscape(r.Repo) + "/" + strconv.Itoa(int(p.Number))}
		if p.SHA != "" {
			pv.CommitURL = cmpOr(p.CommitLink, prURL+"/commits/"+url.PathEscape(p.SHA))
		}
		if p.Author != "" {
			pv.AuthorURL = link + "/" + url.PathEscape(p.Author)
		}
		v.Pulls = append(v.Pulls, pv)
	}
	return v
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// actions says what the run's page offers: rerun and abort, and for whom.
type actions struct {
	// Served is false when this server cannot rerun (no GitHub client).
	Served bool
	// Abortable is true while the run has not ended.
	Abortable bool
	// Allowed: the viewer may act. Reason says why not.
	Allowed bool
	Reason  string
}

func (h *Handler) actionsFor(ctx context.Context, pj *v1alpha1.ProwJob, login string) actions {
	a := actions{Served: h.API.Rerun != nil, Abortable: !pj.Complete() && pj.Status.State != v1alpha1.AbortedState}
	if !a.Served {
		return a
	}
	if login == "" && !h.API.AnyoneMay(pj) {
		a.Reason = "Log in with GitHub to rerun or abort this job."
		return a
	}
	err := h.API.Authorize(ctx, pj, login)
	a.Allowed = err == nil
	if err != nil {
		a.Reason = err.Error()
	}
	return a
}

type runData struct {
	Row         runRow
	PJ          *v1alpha1.ProwJob
	Refs        []refView
	TriggeredBy string
	Log         logView
	JUnit       *junitView
	Artifacts   int
	Actions     actions
	Notice      string
	Now         time.Time
	// JSONURL and RawLogURL are the API's.
	JSONURL, RawLogURL string
}

func (h *Handler) runData(r *http.Request, pj *v1alpha1.ProwJob, login string) *runData {
	now := h.now()
	link := h.settings().LinkURL
	d := &runData{Row: rowOf(pj, now), PJ: pj, TriggeredBy: pj.Annotations[v1alpha1.TriggeredByAnnotation], Now: now,
		JSONURL:   "/api/prowjobs/" + url.PathEscape(pj.Namespace) + "/" + url.PathEscape(pj.Name),
		RawLogURL: "/api/prowjobs/" + url.PathEscape(pj.Namespace) + "/" + url.PathEscape(pj.Name) + "/log"}
	if pj.Spec.Refs != nil {
		d.Refs = append(d.Refs, refsView(*pj.Spec.Refs, link))
	}
	for _, e := range pj.Spec.ExtraRefs {
		d.Refs = append(d.Refs, refsView(e, link))
	}
	d.Actions = h.actionsFor(r.Context(), pj, login)
	switch r.URL.Query().Get("done") {
	case "rerun":
		d.Notice = "This run was started from the web UI."
	case "abort":
		d.Notice = "The run was asked to stop."
	}
	return d
}

// run is a run's page: Deck's job page (Spyglass) with the metadata, the
// refs, the log (streamed while the run goes on), the failed tests and the
// artifacts.
func (h *Handler) run(w http.ResponseWriter, r *http.Request) {
	pj, ok := h.lookup(w, r)
	if !ok {
		return
	}
	v := h.view(r, pj.Spec.Job+" "+string(runState(pj)), "runs", nil)
	d := h.runData(r, pj, v.User)
	v.Data, v.Live = d, h.Events != nil
	if fragment(r) == "header" {
		h.render(w, http.StatusOK, "run", "run-header", v)
		return
	}
	d.Log = h.pageLog(r.Context(), pj)
	if h.API.Artifacts != nil && pj.Status.BuildID != "" {
		if objs, err := h.API.Artifacts.List(r.Context(), pj); err == nil {
			d.Artifacts = len(objs)
			if pj.Complete() {
				d.JUnit = h.junitResults(r.Context(), pj, objs)
			}
		}
	}
	h.render(w, http.StatusOK, "run", "", v)
}

type action int

const (
	actRerun action = iota
	actAbort
)

// act handles the rerun and abort forms: the API decides who may, as it
// does for its own JSON endpoints.
func (h *Handler) act(a action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		login := ""
		if h.Auth != nil {
			s := h.Auth.session(r)
			if s != nil && !h.Auth.checkCSRF(r, s) {
				h.renderError(w, r, http.StatusForbidden, "The form is stale: load the page again and retry.")
				return
			}
			if s != nil {
				login = s.Login
			}
		}
		pj, ok := h.lookup(w, r)
		if !ok {
			return
		}
		page := RunPathPrefix + url.PathEscape(pj.Namespace) + "/" + url.PathEscape(pj.Name)
		var err error
		if a == actRerun {
			var rerun *v1alpha1.ProwJob
			if rerun, err = h.API.RerunAs(r.Context(), pj, login); err == nil {
				page = RunPathPrefix + url.PathEscape(rerun.Namespace) + "/" + url.PathEscape(rerun.Name) + "?done=rerun"
			}
		} else if err = h.API.AbortAs(r.Context(), pj, login); err == nil {
			page += "?done=abort"
		}
		if err != nil {
			code := api.ActionCode(err)
			msg := err.Error()
			if code == http.StatusInternalServerError {
				msg = "The action failed; try again."
			}
			h.renderError(w, r, code, msg)
			return
		}
		http.Redirect(w, r, page, http.StatusSeeOther)
	}
}

// artifactsData is a directory of a run's files.
type artifactsData struct {
	Run       runRow
	Dir       string
	Crumbs    []crumb
	Dirs      []artifactDir
	Files     []artifactFile
	Base, Raw string
}

type crumb struct{ Name, URL string }

type artifactDir struct {
	Name, URL string
	Files     int
	Size      int64
}

type artifactFile struct {
	Name, URL string
	Size      int64
	Modified  time.Time
}

// artifacts browses a run's files a directory at a time; files are served
// by the API, sandboxed.
func (h *Handler) artifacts(w http.ResponseWriter, r *http.Request) {
	pj, ok := h.lookup(w, r)
	if !ok {
		return
	}
	dir := strings.Trim(r.PathValue("dir"), "/")
	if dir != "" && path.Clean(dir) != dir || strings.Contains(dir, "\\") {
		h.renderError(w, r, http.StatusBadRequest, "That is not a directory name.")
		return
	}
	var objs []artifacts.Object
	if h.API.Artifacts != nil && pj.Status.BuildID != "" {
		var err error
		if objs, err = h.API.Artifacts.List(r.Context(), pj); err != nil {
			h.renderError(w, r, http.StatusServiceUnavailable, "The run's files cannot be listed right now.")
			return
		}
	}
	runPage := RunPathPrefix + url.PathEscape(pj.Namespace) + "/" + url.PathEscape(pj.Name)
	d := &artifactsData{Run: rowOf(pj, h.now()), Dir: dir, Base: runPage + "/artifacts/",
		Raw: "/api/prowjobs/" + url.PathEscape(pj.Namespace) + "/" + url.PathEscape(pj.Name) + "/artifacts/"}
	d.Crumbs = append(d.Crumbs, crumb{"files", d.Base})
	if dir != "" {
		acc := ""
		for part := range strings.SplitSeq(dir, "/") {
			acc = path.Join(acc, part)
			d.Crumbs = append(d.Crumbs, crumb{part, d.Base + escapePath(acc) + "/"})
		}
	}
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	dirs := map[string]*artifactDir{}
	for _, o := range objs {
		rest, ok := strings.CutPrefix(o.Name, prefix)
		if !ok {
			continue
		}
		if sub, _, isDir := strings.Cut(rest, "/"); isDir {
			ad := dirs[sub]
			if ad == nil {
				ad = &artifactDir{Name: sub, URL: d.Base + escapePath(prefix+sub) + "/"}
				dirs[sub] = ad
			}
			ad.Files++
			ad.Size += o.Size
			continue
		}
		d.Files = append(d.Files, artifactFile{Name: rest, URL: d.Raw + escapePath(o.Name), Size: o.Size, Modified: o.Modified})
	}
	for _, k := range slices.Sorted(maps.Keys(dirs)) {
		d.Dirs = append(d.Dirs, *dirs[k])
	}
	if dir != "" && len(d.Dirs) == 0 && len(d.Files) == 0 {
		h.renderError(w, r, http.StatusNotFound, fmt.Sprintf("The run has no directory %s.", dir))
		return
	}
	title := "Files of " + pj.Spec.Job
	if dir != "" {
		title += ": " + dir
	}
	h.render(w, http.StatusOK, "artifacts", "", h.view(r, title, "runs", d))
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
