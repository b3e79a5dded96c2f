// Package api is the JSON/HTTP API the web UI builds on, serving what
// Prow's Deck serves and no more: the runs in config.yaml's
// prowjob_namespace, never those of hidden jobs or of repositories in
// deck.hidden_repos.
//
//	GET  /prowjobs.js?omit=annotations,labels,decoration_config,pod_spec&org=&repo=
//	GET  /api/prowjobs?type=&repo=org/repo&job=&state=&author=&pull=
//	GET  /api/prowjobs/{namespace}/{name}
//	GET  /api/prowjobs/{namespace}/{name}/log?offset=N
//	GET  /api/prowjobs/{namespace}/{name}/artifacts
//	GET  /api/prowjobs/{namespace}/{name}/artifacts/{path...}
//	POST /api/prowjobs/{namespace}/{name}/rerun   (rerun_auth_configs)
//	POST /api/prowjobs/{namespace}/{name}/abort   (rerun_auth_configs)
//
// Lists are read from the informer cache without copying; single runs are
// read from the API server when an APIReader is given, because the cache
// drops the pod spec and decoration config of completed runs, and the
// decoration config says where a run's files are.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// ArtifactReader reads the files of a run: name is relative to the run's
// directory ("build-log.txt", "artifacts/junit.xml").
type ArtifactReader interface {
	// Open opens one file; a missing file gives an error wrapping
	// artifacts.ErrNotFound.
	Open(ctx context.Context, pj *v1alpha1.ProwJob, name string) (io.ReadCloser, error)
	// List lists the run's files.
	List(ctx context.Context, pj *v1alpha1.ProwJob) ([]artifacts.Object, error)
}

// Handler serves the API.
type Handler struct {
	// Client lists ProwJobs, normally from the manager's cache.
	Client client.Reader
	// APIReader, when set, reads single ProwJobs in full.
	APIReader client.Reader
	// Artifacts reads logs and artifacts; nil answers 404 for them.
	Artifacts ArtifactReader
	// MaxItems bounds a list; default 2,000, newest first.
	MaxItems int
	// Config returns the settings of the applied configuration: which
	// namespace and runs are served, who may rerun what. Nil serves the
	// runs of every namespace and allows no rerun (tests only).
	Config func() Config
	// Rerun creates reruns; nil answers 501 to rerun requests.
	Rerun *Reruns

	once sync.Once
	mux  *http.ServeMux
}

// ServeHTTP routes a request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(func() {
		mux := http.NewServeMux()
		mux.HandleFunc("GET "+ProwJobsJSPath, h.prowJobsJS)
		mux.HandleFunc("GET /api/prowjobs", h.list)
		mux.HandleFunc("GET /api/prowjobs/{namespace}/{name}", h.get)
		mux.HandleFunc("GET /api/prowjobs/{namespace}/{name}/log", h.log)
		mux.HandleFunc("GET /api/prowjobs/{namespace}/{name}/artifacts", h.listArtifacts)
		mux.HandleFunc("GET /api/prowjobs/{namespace}/{name}/artifacts/{path...}", h.artifact)
		mux.HandleFunc("POST /api/prowjobs/{namespace}/{name}/rerun", h.rerun)
		mux.HandleFunc("POST /api/prowjobs/{namespace}/{name}/abort", h.abort)
		h.mux = mux
	})
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) config() Config {
	if h.Config == nil {
		return Config{}
	}
	return h.Config()
}

// Run is one ProwJob in a list.
type Run struct {
	Namespace      string                `json:"namespace"`
	Name           string                `json:"name"`
	Job            string                `json:"job"`
	Type           v1alpha1.ProwJobType  `json:"type"`
	Agent          v1alpha1.ProwJobAgent `json:"agent,omitempty"`
	Cluster        string                `json:"cluster,omitempty"`
	Context        string                `json:"context,omitempty"`
	RerunCommand   string                `json:"rerunCommand,omitempty"`
	Refs           *v1alpha1.Refs        `json:"refs,omitempty"`
	State          v1alpha1.ProwJobState `json:"state"`
	Description    string                `json:"description,omitempty"`
	StartTime      *metav1.Time          `json:"startTime,omitempty"`
	PendingTime    *metav1.Time          `json:"pendingTime,omitempty"`
	CompletionTime *metav1.Time          `json:"completionTime,omitempty"`
	URL            string                `json:"url,omitempty"`
	BuildID        string                `json:"buildID,omitempty"`
	PodName        string                `json:"podName,omitempty"`
}

// RunList is the answer to a list request.
type RunList struct {
	Items []Run `json:"items"`
	// Truncated is true when more runs matched than were returned.
	Truncated bool `json:"truncated,omitempty"`
}

// filter is a list request's query.
type filter struct {
	typ, org, repo, job, state, author string
	pull                               int
}

func parseFilter(q map[string][]string) (filter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	f := filter{typ: get("type"), job: get("job"), state: get("state"), author: get("author")}
	if repo := get("repo"); repo != "" {
		org, name, ok := strings.Cut(repo, "/")
		if !ok || org == "" || name == "" {
			return f, fmt.Errorf("repo must be org/repo, not %q", repo)
		}
		f.org, f.repo = org, name
	}
	if p := get("pull"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return f, fmt.Errorf("pull must be a pull request number, not %q", p)
		}
		f.pull = n
	}
	return f, nil
}

func (f filter) match(pj *v1alpha1.ProwJob) bool {
	if f.typ != "" && string(pj.Spec.Type) != f.typ || f.job != "" && pj.Spec.Job != f.job {
		return false
	}
	if f.state != "" && string(state(pj)) != f.state {
		return false
	}
	refs := pj.Spec.Refs
	if f.org != "" && (refs == nil || !strings.EqualFold(refs.Org, f.org) || !strings.EqualFold(refs.Repo, f.repo)) {
		return false
	}
	if f.author != "" || f.pull != 0 {
		if refs == nil {
			return false
		}
		return slices.ContainsFunc(refs.Pulls, func(p v1alpha1.Pull) bool {
			return (f.author == "" || strings.EqualFold(p.Author, f.author)) && (f.pull == 0 || int(p.Number) == f.pull)
		})
	}
	return true
}

// state is a run's state, triggered before the job controller saw it.
func state(pj *v1alpha1.ProwJob) v1alpha1.ProwJobState {
	if pj.Status.State == "" {
		return v1alpha1.TriggeredState
	}
	return pj.Status.State
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	cfg := h.config()
	var list v1alpha1.ProwJobList
	if err := h.Client.List(r.Context(), &list, client.InNamespace(cfg.Namespace), client.UnsafeDisableDeepCopy); err != nil {
		writeError(w, http.StatusInternalServerError, "cannot list ProwJobs")
		return
	}
	var matched []*v1alpha1.ProwJob
	for i := range list.Items {
		if pj := &list.Items[i]; !cfg.hidden(pj) && f.match(pj) {
			matched = append(matched, pj)
		}
	}
	slices.SortFunc(matched, func(a, b *v1alpha1.ProwJob) int { return started(b).Compare(started(a)) })
	max := h.MaxItems
	if max <= 0 {
		max = 2000
	}
	out := RunList{Items: []Run{}}
	if len(matched) > max {
		matched, out.Truncated = matched[:max], true
	}
	for _, pj := range matched {
		out.Items = append(out.Items, summary(pj))
	}
	writeJSON(w, out)
}

func started(pj *v1alpha1.ProwJob) time.Time {
	if pj.Status.StartTime != nil {
		return pj.Status.StartTime.Time
	}
	return pj.CreationTimestamp.Time
}

func summary(pj *v1alpha1.ProwJob) Run {
	return Run{
		Namespace: pj.Namespace, Name: pj.Name, Job: pj.Spec.Job, Type: pj.Spec.Type, Agent: pj.Spec.Agent,
		Cluster: pj.Spec.Cluster, Context: pj.Spec.Context, RerunCommand: pj.Spec.RerunCommand,
		Refs: pj.Spec.Refs.DeepCopy(), State: state(pj), Description: pj.Status.Description,
		StartTime: pj.Status.StartTime.DeepCopy(), PendingTime: pj.Status.PendingTime.DeepCopy(),
		CompletionTime: pj.Status.CompletionTime.DeepCopy(), URL: pj.Status.URL, BuildID: pj.Status.BuildID, PodName: pj.Status.PodName,
	}
}

// prowJob reads the run a request names, answering the error itself. A
// run outside the served namespace, or of a hidden job or repository, is
// not found.
func (h *Handler) prowJob(w http.ResponseWriter, r *http.Request) (*v1alpha1.ProwJob, bool) {
	pj, err := h.Run(r.Context(), client.ObjectKey{Namespace: r.PathValue("namespace"), Name: r.PathValue("name")})
	if err != nil {
		if ActionCode(err) == http.StatusNotFound {
			writeError(w, http.StatusNotFound, err.Error())
		} else {
			writeError(w, http.StatusInternalServerError, "cannot read the ProwJob")
		}
		return nil, false
	}
	return pj, true
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	if pj, ok := h.prowJob(w, r); ok {
		pj.APIVersion, pj.Kind = v1alpha1.GroupVersion.String(), "ProwJob"
		writeJSON(w, pj)
	}
}

func (h *Handler) listArtifacts(w http.ResponseWriter, r *http.Request) {
	pj, ok := h.prowJob(w, r)
	if !ok {
		return
	}
	if h.Artifacts == nil || pj.Status.BuildID == "" {
		writeJSON(w, map[string]any{"items": []artifacts.Object{}})
		return
	}
	objs, err := h.Artifacts.List(r.Context(), pj)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "cannot list the run's files")
		return
	}
	if objs == nil {
		objs = []artifacts.Object{}
	}
	writeJSON(w, map[string]any{"items": objs})
}

// artifact serves one file. Files are the job's own output, so they are
// served sandboxed (jobOutputHeaders).
func (h *Handler) artifact(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("path")
	if name == "" || path.Clean("/"+name) != "/"+name || strings.Contains(name, "\\") {
		writeError(w, http.StatusBadRequest, "invalid file name")
		return
	}
	pj, ok := h.prowJob(w, r)
	if !ok {
		return
	}
	rc, ok := h.open(w, r, pj, name)
	if !ok {
		return
	}
	defer rc.Close()
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	jobOutputHeaders(w)
	_, _ = io.Copy(w, rc)
}

func (h *Handler) open(w http.ResponseWriter, r *http.Request, pj *v1alpha1.ProwJob, name string) (io.ReadCloser, bool) {
	rc, err := h.openFile(r, pj, name)
	if errors.Is(err, artifacts.ErrNotFound) {
		writeError(w, http.StatusNotFound, name+" not found")
		return nil, false
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "cannot read "+name)
		return nil, false
	}
	return rc, true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	writeJSONBody(w, v)
}

func writeJSONBody(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
