package ui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
	"github.com/bowline-ci/bowline/web/api"
)

var env *envtest.Env

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	envtest.Main(m, &env)
}

// fixture is the web role over a namespace of its own: the JSON API and
// the UI on one server, as the operator serves them, runs' files in a
// directory bucket.
type fixture struct {
	t      testing.TB
	ns     string
	bucket string
	store  *artifacts.Store
	api    *api.Handler
	ui     *Handler
	srv    *httptest.Server
	// apiCfg is what the API reads from the configuration.
	apiCfg api.Config
}

func newFixture(t testing.TB, mods ...func(*fixture)) *fixture {
	t.Helper()
	f := &fixture{t: t, ns: env.Namespace(t), bucket: t.TempDir()}
	f.apiCfg = api.Config{Namespace: f.ns}
	store, err := artifacts.Open(context.Background(), f.bucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	f.store = store
	arts := &api.BlobArtifacts{DefaultBucket: f.bucket}
	t.Cleanup(func() { _ = arts.Close() })
	f.api = &api.Handler{Client: env.Client, APIReader: env.Client, Artifacts: arts, Config: func() api.Config { return f.apiCfg }}
	f.ui = &Handler{API: f.api, Client: env.Client, Settings: func() Settings { return Settings{LinkURL: "https://forge.example"} }}
	// The server starts first, so that mods know its address (the OAuth
	// callback); it serves what they made.
	var h atomic.Pointer[http.Handler]
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*h.Load()).ServeHTTP(w, r) }))
	t.Cleanup(f.srv.Close)
	for _, m := range mods {
		m(f)
	}
	handler := f.handler()
	h.Store(&handler)
	return f
}

// handler serves the API and the UI as the operator does.
func (f *fixture) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", f.api)
	mux.Handle(api.ProwJobsJSPath, f.api)
	mux.Handle("/", f.ui)
	if f.ui.Auth != nil {
		return f.ui.Auth.Gate(mux)
	}
	return mux
}

// runSpec describes a run to create.
type runSpec struct {
	name, job string
	typ       v1alpha1.ProwJobType
	org, repo string
	pull      int32
	author    string
	sha       string
	state     v1alpha1.ProwJobState
	started   time.Time
	took      time.Duration
	buildID   string
	hidden    bool
}

func (f *fixture) create(r runSpec) *v1alpha1.ProwJob {
	f.t.Helper()
	ctx := context.Background()
	if r.typ == "" {
		r.typ = v1alpha1.PostsubmitJob
		if r.pull != 0 {
			r.typ = v1alpha1.PresubmitJob
		}
	}
	if r.org == "" {
		r.org, r.repo = "acme", "rocket"
	}
	pj := &v1alpha1.ProwJob{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: r.name},
		Spec: v1alpha1.ProwJobSpec{Type: r.typ, Job: r.job, Agent: v1alpha1.KubernetesAgent, Hidden: r.hidden,
			PodSpec: &corev1.PodSpec{Containers: []corev1.Container{{Name: "test", Image: "alpine"}}},
			Refs:    &v1alpha1.Refs{Org: r.org, Repo: r.repo, BaseRef: "main", BaseSHA: "b4se0000"}}}
	if r.typ == v1alpha1.PeriodicJob {
		pj.Spec.ExtraRefs, pj.Spec.Refs = []v1alpha1.Refs{*pj.Spec.Refs}, nil
	}
	if r.pull != 0 {
		pj.Spec.Refs.Pulls = []v1alpha1.Pull{{Number: r.pull, Author: r.author, SHA: r.sha, Title: "Make it fly"}}
	}
	if err := env.Client.Create(ctx, pj); err != nil {
		f.t.Fatal(err)
	}
	if r.state != "" {
		if r.started.IsZero() {
			r.started = time.Now().Add(-time.Hour)
		}
		st := metav1.NewTime(r.started)
		pj.Status.State, pj.Status.StartTime, pj.Status.BuildID = r.state, &st, r.buildID
		if r.state != v1alpha1.PendingState && r.state != v1alpha1.TriggeredState {
			done := metav1.NewTime(r.started.Add(r.took))
			pj.Status.CompletionTime = &done
		}
		if err := env.Client.Status().Update(ctx, pj); err != nil {
			f.t.Fatal(err)
		}
	}
	return pj
}

// write writes one of a run's files.
func (f *fixture) write(pj *v1alpha1.ProwJob, name, body string) {
	f.t.Helper()
	dir, err := artifacts.ConfigFor(pj, f.bucket).RunPathFor(pj)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.store.WriteFile(context.Background(), artifacts.Key(dir, name), []byte(body)); err != nil {
		f.t.Fatal(err)
	}
}

// get fetches a page as a browser would (Accept: text/html).
func (f *fixture) get(path string) (int, string) {
	f.t.Helper()
	return f.do(http.DefaultClient, http.MethodGet, path, nil, map[string]string{"Accept": "text/html"})
}

func (f *fixture) do(c *http.Client, method, path string, body io.Reader, hdr map[string]string) (int, string) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func contains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func lacks(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("page shows %q", w)
		}
	}
}

// TestRunsPage filters the runs as Deck's front page does, and never shows
// hidden runs.
func TestRunsPage(t *testing.T) {
	f := newFixture(t, func(f *fixture) { f.apiCfg.HiddenRepos = []string{"secret"} })
	now := time.Now()
	f.create(runSpec{name: "r1", job: "unit-test", pull: 7, author: "alice", sha: "aaaa1111", state: v1alpha1.FailureState, started: now.Add(-3 * time.Hour), took: 90 * time.Second})
	f.create(runSpec{name: "r2", job: "unit-test", pull: 8, author: "bob", sha: "bbbb2222", state: v1alpha1.PendingState, started: now.Add(-2 * time.Hour)})
	f.create(runSpec{name: "r3", job: "build-main", typ: v1alpha1.PostsubmitJob, state: v1alpha1.SuccessState, started: now.Add(-time.Hour), took: time.Minute})
	f.create(runSpec{name: "r4", job: "nightly", typ: v1alpha1.PeriodicJob, org: "acme", repo: "tools"})
	f.create(runSpec{name: "hidden-job", job: "classified", hidden: true, state: v1alpha1.SuccessState})
	f.create(runSpec{name: "hidden-repo", job: "leak", org: "secret", repo: "x", state: v1alpha1.SuccessState})

	tests := []struct {
		query string
		code  int
		want  []string
		not   []string
	}{
		{"", 200, []string{"r1", "r2", "r3", "r4", "Runs 1–4 of 4"}, nil},
		{"?type=postsubmit", 200, []string{"r3"}, []string{"/runs/NS/r1\"", "/runs/NS/r4\""}},
		{"?repo=acme/tools", 200, []string{"r4"}, []string{"/runs/NS/r1\""}},
		{"?job=UNIT", 200, []string{"r1", "r2"}, []string{"/runs/NS/r3\""}},
		{"?state=failure", 200, []string{"r1", "Runs 1–1 of 1"}, []string{"/runs/NS/r2\""}},
		{"?author=Bob", 200, []string{"r2"}, []string{"/runs/NS/r1\""}},
		{"?pull=%237", 200, []string{"r1"}, []string{"/runs/NS/r2\""}},
		{"?job=nothing-like-this", 200, []string{"No run matches."}, nil},
		{"?repo=rocket", 400, []string{"the repository must be org/repo"}, nil},
		{"?state=exploded", 400, []string{"is not a state"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			code, body := f.get("/" + tt.query)
			if code != tt.code {
				t.Fatalf("status %d, want %d", code, tt.code)
			}
			for _, w := range tt.want {
				if strings.HasPrefix(w, "r") && len(w) == 2 {
					w = "/runs/" + f.ns + "/" + w + "\""
				}
				contains(t, body, w)
			}
			for _, n := range tt.not {
				lacks(t, body, strings.ReplaceAll(n, "NS", f.ns))
			}
			lacks(t, body, "classified", "hidden-job", "hidden-repo", "secret/x")
		})
	}
	// Counts by state, each a link to the filtered list; the pull request
	// links to its page.
	_, body := f.get("/?repo=acme/rocket")
	contains(t, body, `href="/?repo=acme%2Frocket&amp;state=failure"`, `href="/pr/acme/rocket/7"`, `<select id="f-repo" name="repo">`)
	// The live part alone, for the script's updates.
	code, frag := f.get("/?fragment=runs")
	if code != 200 || strings.Contains(frag, "<html") || !strings.Contains(frag, "/runs/"+f.ns+"/r1") {
		t.Errorf("fragment: %d %.200s", code, frag)
	}
}

// TestRunsPagination: a page lists PageSize runs and says which.
func TestRunsPagination(t *testing.T) {
	f := newFixture(t, func(f *fixture) { f.ui.PageSize = 2 })
	base := time.Now().Add(-time.Hour)
	for i := range 5 {
		f.create(runSpec{name: fmt.Sprintf("p%d", i), job: "unit", state: v1alpha1.SuccessState, started: base.Add(time.Duration(i) * time.Minute), took: time.Second})
	}
	_, body := f.get("/")
	contains(t, body, "Runs 1–2 of 5, newest first, 2 a page.", "/runs/"+f.ns+"/p4\"", "/runs/"+f.ns+"/p3\"", `rel="next" href="/?page=2"`)
	lacks(t, body, "/runs/"+f.ns+"/p2\"")
	_, body = f.get("/?page=3")
	contains(t, body, "Runs 5–5 of 5", "/runs/"+f.ns+"/p0\"", `rel="prev" href="/?page=2"`)
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
