package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// create makes a run in ns; mut changes it first.
func create(t *testing.T, ns, name string, mut func(*v1alpha1.ProwJob)) *v1alpha1.ProwJob {
	t.Helper()
	pj := &v1alpha1.ProwJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"team": "infra"}},
		Spec: v1alpha1.ProwJobSpec{Type: v1alpha1.PostsubmitJob, Job: name, Agent: v1alpha1.KubernetesAgent,
			Refs: &v1alpha1.Refs{Org: "acme", Repo: "rocket", BaseRef: "main", BaseSHA: "base"},
			PodSpec: &corev1.PodSpec{Containers: []corev1.Container{{Name: "test", Image: "alpine",
				Env: []corev1.EnvVar{{Name: "TOKEN_FILE", Value: "/etc/token"}}}}},
			DecorationConfig: &v1alpha1.DecorationConfig{}}}
	if mut != nil {
		mut(pj)
	}
	if err := env.Client.Create(context.Background(), pj); err != nil {
		t.Fatal(err)
	}
	return pj
}

// TestServesOnlyWhatDeckServes: the runs of config.yaml's prowjob_namespace,
// without hidden jobs (spec.hidden) or repositories (deck.hidden_repos),
// everywhere the API shows runs.
func TestServesOnlyWhatDeckServes(t *testing.T) {
	other := env.Namespace(t)
	create(t, other, "elsewhere", nil)
	var ns string
	srv, ns := fixture(t, func(h *Handler) {
		h.Config = func() Config { return Config{Namespace: ns, HiddenRepos: []string{"secret-org", "acme/private"}} }
	})
	create(t, ns, "hidden-job", func(pj *v1alpha1.ProwJob) { pj.Spec.Hidden = true })
	create(t, ns, "hidden-org", func(pj *v1alpha1.ProwJob) { pj.Spec.Refs.Org = "secret-org" })
	create(t, ns, "hidden-repo", func(pj *v1alpha1.ProwJob) { pj.Spec.Refs.Repo = "private" })
	create(t, ns, "hidden-extra-ref", func(pj *v1alpha1.ProwJob) {
		pj.Spec.ExtraRefs = []v1alpha1.Refs{{Org: "acme", Repo: "private", BaseRef: "main"}}
	})
	create(t, ns, "visible", nil)

	names := func(path string) []string {
		t.Helper()
		resp, body := get(t, srv.URL+path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		var list struct {
			Items []struct {
				Name     string `json:"name"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range list.Items {
			out = append(out, it.Name+it.Metadata.Name)
		}
		slices.Sort(out)
		return out
	}
	want := []string{"nightly", "post", "pre-7", "pre-8", "visible"}
	for _, path := range []string{"/api/prowjobs", "/prowjobs.js"} {
		if got := names(path); !slices.Equal(got, want) {
			t.Errorf("%s lists %v, want %v", path, got, want)
		}
	}
	for _, path := range []string{
		"/api/prowjobs/" + other + "/elsewhere",
		"/api/prowjobs/" + ns + "/hidden-job",
		"/api/prowjobs/" + ns + "/hidden-repo/log",
		"/api/prowjobs/" + ns + "/hidden-org/artifacts",
		"/api/prowjobs/" + ns + "/hidden-extra-ref",
	} {
		if resp, body := get(t, srv.URL+path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d %s, want 404", path, resp.StatusCode, body)
		}
	}
	if resp, _ := get(t, srv.URL+"/api/prowjobs/"+ns+"/visible"); resp.StatusCode != http.StatusOK {
		t.Errorf("visible run: %d", resp.StatusCode)
	}
}

// TestProwJobsJS: Deck's /prowjobs.js, {"items": [...]}, with Deck's omit=
// parts left out and org/repo narrowing the list.
func TestProwJobsJS(t *testing.T) {
	var ns string
	srv, ns := fixture(t, func(h *Handler) { h.Config = func() Config { return Config{Namespace: ns} } })
	create(t, ns, "other-repo", func(pj *v1alpha1.ProwJob) { pj.Spec.Refs.Repo = "engine" })
	create(t, ns, "full", nil)

	fetch := func(query string) map[string]v1alpha1.ProwJob {
		t.Helper()
		resp, body := get(t, srv.URL+"/prowjobs.js?"+query)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		var list struct{ Items []v1alpha1.ProwJob }
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatal(err)
		}
		out := map[string]v1alpha1.ProwJob{}
		for _, pj := range list.Items {
			if pj.ManagedFields != nil || pj.Kind != "ProwJob" {
				t.Errorf("%s: managed fields %v, kind %q", pj.Name, pj.ManagedFields, pj.Kind)
			}
			out[pj.Name] = pj
		}
		return out
	}
	all := fetch("")
	if pj := all["full"]; pj.Spec.PodSpec == nil || pj.Spec.DecorationConfig == nil || pj.Labels["team"] != "infra" {
		t.Errorf("without omit: %+v", pj)
	}
	omitted := fetch("omit=pod_spec,decoration_config,labels,annotations")
	if pj := omitted["full"]; pj.Spec.PodSpec != nil || pj.Spec.DecorationConfig != nil || pj.Labels != nil || pj.Annotations != nil || pj.Spec.Job != "full" {
		t.Errorf("omitted: %+v", pj)
	}
	if got := fetch("repo=acme/engine"); len(got) != 1 || got["other-repo"].Name == "" {
		t.Errorf("repo=acme/engine: %v", got)
	}
	if got := fetch("org=acme&repo=rocket"); len(got) != 4 {
		t.Errorf("org=acme&repo=rocket: %d runs", len(got))
	}
	// Prow's format, for tools written against Deck.
	resp, body := get(t, srv.URL+"/prowjobs.js?format=prow&omit=pod_spec&repo=acme/engine")
	var prow struct {
		Items []struct {
			APIVersion string `json:"apiVersion"`
			Spec       struct {
				Job     string         `json:"job"`
				PodSpec map[string]any `json:"pod_spec"`
				Refs    struct {
					BaseRef string `json:"base_ref"`
				} `json:"refs"`
			} `json:"spec"`
		} `json:"items"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &prow) != nil || len(prow.Items) != 1 ||
		prow.Items[0].APIVersion != "prow.k8s.io/v1" || prow.Items[0].Spec.Refs.BaseRef != "main" || prow.Items[0].Spec.PodSpec != nil {
		t.Errorf("format=prow: %s", body)
	}
}

// TestLogOfARunThatFailedCloning: the link on the GitHub status of a run
// that failed in clonerefs (a merge conflict) leads to its clone log, not
// to a 404; the log carries the same headers as artifacts.
func TestLogOfARunThatFailedCloning(t *testing.T) {
	var ns string
	bucket := t.TempDir()
	srv, ns := fixture(t, func(h *Handler) {
		h.Config = func() Config { return Config{Namespace: ns} }
		h.Artifacts = &BlobArtifacts{DefaultBucket: bucket}
	})
	pj := create(t, ns, "conflict", func(pj *v1alpha1.ProwJob) { pj.Spec.Type = v1alpha1.PeriodicJob; pj.Spec.Refs = nil })
	now := metav1.Now()
	pj.Status = v1alpha1.ProwJobStatus{State: v1alpha1.FailureState, BuildID: "7", StartTime: &now, CompletionTime: &now,
		Description: "Job failed: the repositories could not be cloned (see clone-log.txt)."}
	if err := env.Client.Status().Update(context.Background(), pj); err != nil {
		t.Fatal(err)
	}
	store, err := artifacts.Open(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	dir, err := artifacts.ConfigFor(pj, bucket).RunPathFor(pj)
	if err != nil {
		t.Fatal(err)
	}
	cloneLog := "$ git merge --no-ff head\nCONFLICT (content): Merge conflict in main.go\n"
	if err := store.WriteFile(context.Background(), artifacts.Key(dir, podutils.CloneLogFile), []byte(cloneLog)); err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, srv.URL+"/api/prowjobs/"+ns+"/conflict/log")
	if resp.StatusCode != http.StatusOK || string(body) != cloneLog || resp.Header.Get(HeaderLogFile) != podutils.CloneLogFile {
		t.Errorf("log: %d %q (%s)", resp.StatusCode, body, resp.Header.Get(HeaderLogFile))
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Security-Policy") != "sandbox" {
		t.Errorf("log headers: %v", resp.Header)
	}
	// Once a build log exists, it is the log.
	if err := store.WriteFile(context.Background(), artifacts.Key(dir, podutils.BuildLogFile), []byte("tests\n")); err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, srv.URL+"/api/prowjobs/"+ns+"/conflict/log"); string(body) != "tests\n" || resp.Header.Get(HeaderLogFile) != podutils.BuildLogFile {
		t.Errorf("build log: %q (%s)", body, resp.Header.Get(HeaderLogFile))
	}
}
