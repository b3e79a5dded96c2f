package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

var env *envtest.Env

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	envtest.Main(m, &env)
}

// fixture creates runs in a fresh namespace, writes the log and an
// artifact of the first, and serves the API over that namespace; mods
// change the handler before it serves.
func fixture(t *testing.T, mods ...func(*Handler)) (srv *httptest.Server, ns string) {
	t.Helper()
	ctx := context.Background()
	ns = env.Namespace(t)
	bucket := t.TempDir()
	type run struct {
		name    string
		typ     v1alpha1.ProwJobType
		job     string
		pull    int32
		author  string
		state   v1alpha1.ProwJobState
		buildID string
	}
	runs := []run{
		{"pre-7", v1alpha1.PresubmitJob, "unit", 7, "alice", v1alpha1.FailureState, "100"},
		{"pre-8", v1alpha1.PresubmitJob, "unit", 8, "Bob", v1alpha1.PendingState, "101"},
		{"post", v1alpha1.PostsubmitJob, "build", 0, "", v1alpha1.SuccessState, "102"},
		{"nightly", v1alpha1.PeriodicJob, "nightly", 0, "", "", ""},
	}
	var first *v1alpha1.ProwJob
	for _, r := range runs {
		pj := &v1alpha1.ProwJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: r.name},
			Spec: v1alpha1.ProwJobSpec{Type: r.typ, Job: r.job, Agent: v1alpha1.JenkinsAgent}}
		if r.typ != v1alpha1.PeriodicJob {
			pj.Spec.Refs = &v1alpha1.Refs{Org: "acme", Repo: "rocket", BaseRef: "main", BaseSHA: "base"}
		}
		if r.pull != 0 {
			pj.Spec.Refs.Pulls = []v1alpha1.Pull{{Number: r.pull, Author: r.author, SHA: "head"}}
		}
		if err := env.Client.Create(ctx, pj); err != nil {
			t.Fatal(err)
		}
		if r.state != "" {
			now := metav1.Now()
			pj.Status.State, pj.Status.BuildID, pj.Status.StartTime = r.state, r.buildID, &now
			if r.state != v1alpha1.PendingState {
				pj.Status.CompletionTime = &now
			}
			if err := env.Client.Status().Update(ctx, pj); err != nil {
				t.Fatal(err)
			}
		}
		if first == nil {
			first = pj
		}
	}
	store, err := artifacts.Open(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	dir, err := artifacts.ConfigFor(first, bucket).RunPathFor(first)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"build-log.txt": "line one\nline two\n", "artifacts/junit.xml": "<testsuites/>"} {
		if err := store.WriteFile(ctx, artifacts.Key(dir, name), []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	arts := &BlobArtifacts{DefaultBucket: bucket}
	t.Cleanup(func() { _ = arts.Close() })
	h := &Handler{Client: env.Client, APIReader: env.Client, Artifacts: arts, Config: func() Config { return Config{Namespace: ns} }}
	for _, m := range mods {
		m(h)
	}
	srv = httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, ns
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestListFilters(t *testing.T) {
	srv, _ := fixture(t)
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"nightly", "post", "pre-7", "pre-8"}},
		{"type=presubmit", []string{"pre-7", "pre-8"}},
		{"repo=acme/rocket", []string{"post", "pre-7", "pre-8"}},
		{"repo=acme/other", nil},
		{"job=unit&state=failure", []string{"pre-7"}},
		{"state=triggered", []string{"nightly"}},
		{"author=bob", []string{"pre-8"}},
		{"pull=7", []string{"pre-7"}},
		{"repo=acme/rocket&pull=8&author=alice", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, body := get(t, srv.URL+"/api/prowjobs?"+tt.query)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var list RunList
			if err := json.Unmarshal(body, &list); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range list.Items {
				got = append(got, r.Name)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"repo=rocket", "pull=x", "pull=-1"} {
		if resp, body := get(t, srv.URL+"/api/prowjobs?"+bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d (%s), want 400", bad, resp.StatusCode, body)
		}
	}
}

func TestGetLogAndArtifacts(t *testing.T) {
	srv, ns := fixture(t)
	base := srv.URL + "/api/prowjobs/" + ns

	resp, body := get(t, base+"/pre-7")
	var pj v1alpha1.ProwJob
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &pj) != nil || pj.Spec.Job != "unit" || pj.Kind != "ProwJob" {
		t.Errorf("get: status %d, body %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, base+"/missing"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing run: status %d, want 404", resp.StatusCode)
	}

	resp, body = get(t, base+"/pre-7/log")
	if resp.StatusCode != http.StatusOK || string(body) != "line one\nline two\n" || resp.Header.Get("X-Run-Complete") != "true" {
		t.Errorf("log: status %d, complete %q, body %q", resp.StatusCode, resp.Header.Get("X-Run-Complete"), body)
	}
	if resp, body = get(t, base+"/pre-7/log?offset=9"); string(body) != "line two\n" {
		t.Errorf("log from offset: status %d, body %q", resp.StatusCode, body)
	}
	// Runs without a log yet say so rather than answering 404: the link
	// on their GitHub status leads here.
	if resp, body := get(t, base+"/pre-8/log"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "No log yet: the run is pending.") {
		t.Errorf("log not uploaded yet: status %d, body %q", resp.StatusCode, body)
	}
	if resp, body := get(t, base+"/nightly/log"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "No log yet: the run is triggered.") {
		t.Errorf("log of a run without build ID: status %d, body %q", resp.StatusCode, body)
	}

	resp, body = get(t, base+"/pre-7/artifacts")
	var list struct{ Items []artifacts.Object }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &list) != nil {
		t.Fatalf("artifacts: status %d, body %s", resp.StatusCode, body)
	}
	var names []string
	for _, o := range list.Items {
		names = append(names, o.Name)
	}
	if !slices.Equal(names, []string{"artifacts/junit.xml", "build-log.txt"}) {
		t.Errorf("artifacts = %v", names)
	}
	resp, body = get(t, base+"/pre-7/artifacts/artifacts/junit.xml")
	if resp.StatusCode != http.StatusOK || string(body) != "<testsuites/>" || resp.Header.Get("Content-Security-Policy") != "sandbox" {
		t.Errorf("artifact: status %d, csp %q, body %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), body)
	}
	if resp, _ := get(t, base+"/pre-7/artifacts/artifacts/none.txt"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing artifact: status %d, want 404", resp.StatusCode)
	}
}
