package prowjob

import (
	"context"
	"encoding/json"
	"path"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestRunFiles: when a run ends, prowjob.json (the run in Prow's format)
// and podinfo.json (its pod and events) are in its directory, as Prow's
// crier blob-storage reporters write them.
func TestRunFiles(t *testing.T) {
	bucket := t.TempDir()
	h := start(t, Config{}, func(r *Reconciler) { r.RunFiles = &RunFiles{DefaultBucket: bucket} })
	h.create(h.job("files", func(pj *v1alpha1.ProwJob) {
		pj.Spec.Type = v1alpha1.PostsubmitJob
		pj.Spec.Refs = &v1alpha1.Refs{Org: "acme", Repo: "rocket", BaseRef: "release/1.0", BaseSHA: "abc"}
		pj.Spec.Context, pj.Spec.Report = "ci/files", true
	}))
	pending := h.waitState("files", v1alpha1.PendingState)
	h.kubelet("files", terminated(corev1.PodFailed, 1))
	done := h.waitState("files", v1alpha1.FailureState)

	store, err := artifacts.Open(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	dir := path.Join("logs", "files", pending.Status.BuildID)
	var raw []byte
	eventually(t, "prowjob.json", func() error {
		raw, err = store.ReadFile(context.Background(), path.Join(dir, ProwJobFile))
		return err
	})
	var pj map[string]any
	if err := json.Unmarshal(raw, &pj); err != nil {
		t.Fatal(err)
	}
	spec, status := pj["spec"].(map[string]any), pj["status"].(map[string]any)
	refs, _ := spec["refs"].(map[string]any)
	for what, pair := range map[string][2]any{
		"apiVersion":         {pj["apiVersion"], "prow.k8s.io/v1"},
		"spec.job":           {spec["job"], "files"},
		"spec.type":          {spec["type"], "postsubmit"},
		"spec.refs.base_ref": {refs["base_ref"], "release/1.0"},
		"spec.context":       {spec["context"], "ci/files"},
		"status.state":       {status["state"], "failure"},
		"status.build_id":    {status["build_id"], done.Status.BuildID},
		"status.pod_name":    {status["pod_name"], "files"},
	} {
		if pair[0] != pair[1] {
			t.Errorf("prowjob.json %s = %v, want %v", what, pair[0], pair[1])
		}
	}
	if status["completionTime"] == nil || status["startTime"] == nil {
		t.Errorf("prowjob.json status lacks Prow's times: %v", status)
	}
	raw, err = store.ReadFile(context.Background(), path.Join(dir, PodInfoFile))
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Pod    corev1.Pod     `json:"pod"`
		Events []corev1.Event `json:"events"`
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatal(err)
	}
	if info.Pod.Name != "files" || info.Pod.Status.Phase != corev1.PodFailed || info.Events == nil {
		t.Errorf("podinfo.json: pod %s in phase %s, events %v", info.Pod.Name, info.Pod.Status.Phase, info.Events)
	}
}

func TestProwFormat(t *testing.T) {
	start := metav1.NewTime(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	pj := &v1alpha1.ProwJob{
		ObjectMeta: metav1.ObjectMeta{Name: "0f3a", Namespace: "ci", Labels: map[string]string{"created-by-prow": "true"}},
		Spec: v1alpha1.ProwJobSpec{
			Type: v1alpha1.PresubmitJob, Agent: v1alpha1.KubernetesAgent, Cluster: "default", Job: "pull-unit",
			Refs:         &v1alpha1.Refs{Org: "acme", Repo: "rocket", BaseRef: "main", Pulls: []v1alpha1.Pull{{Number: 7, SHA: "def", Author: "ann"}}},
			RerunCommand: "/test pull-unit", MaxConcurrency: 2, Report: true, Context: "pull-unit",
			DecorationConfig: &v1alpha1.DecorationConfig{Timeout: &metav1.Duration{Duration: time.Hour}, S3CredentialsSecret: "s3"},
		},
		Status: v1alpha1.ProwJobStatus{State: v1alpha1.SuccessState, StartTime: &start, BuildID: "17", PodName: "0f3a", PodRevivalCount: 1},
	}
	raw, err := json.Marshal(ProwFormat(pj))
	if err != nil {
		t.Fatal(err)
	}
	// Prow's field names, as its tools read them.
	want := `{"apiVersion":"prow.k8s.io/v1","kind":"ProwJob","metadata":{"name":"0f3a","namespace":"ci","labels":{"created-by-prow":"true"}},` +
		`"spec":{"type":"presubmit","agent":"kubernetes","cluster":"default","job":"pull-unit","refs":{"org":"acme","repo":"rocket","base_ref":"main","pulls":[{"number":7,"author":"ann","sha":"def"}]},` +
		`"report":true,"context":"pull-unit","rerun_command":"/test pull-unit","max_concurrency":2,"decoration_config":{"timeout":"1h0m0s","s3_credentials_secret":"s3"}},` +
		`"status":{"startTime":"2026-05-01T12:00:00Z","state":"success","pod_name":"0f3a","build_id":"17","pod_revival_count":1}}`
	if string(raw) != want {
		t.Errorf("ProwFormat =\n%s\nwant\n%s", raw, want)
	}
}
