package reporter

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/jobspec"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

// TestShouldSlack follows Prow's crier Slack reporter (ShouldReport): the
// run's type is in the entry's job_types_to_report or its job names a
// channel; its state is in job_states_to_report, the job's list winning
// over the entry's; report: false (or an empty list) reports nothing.
func TestShouldSlack(t *testing.T) {
	no := false
	states := func(s ...v1alpha1.ProwJobState) []v1alpha1.ProwJobState { return s }
	cfg := SlackConfig{Reporters: map[string]SlackSettings{
		"*": {JobTypesToReport: []v1alpha1.ProwJobType{v1alpha1.PostsubmitJob, v1alpha1.PeriodicJob},
			SlackReporterConfig: v1alpha1.SlackReporterConfig{Channel: "ci", JobStatesToReport: states(v1alpha1.FailureState, v1alpha1.ErrorState)}},
		"acme": {JobTypesToReport: []v1alpha1.ProwJobType{v1alpha1.PresubmitJob},
			SlackReporterConfig: v1alpha1.SlackReporterConfig{Channel: "acme-ci", JobStatesToReport: states(v1alpha1.FailureState)}},
		"acme/quiet": {JobTypesToReport: []v1alpha1.ProwJobType{v1alpha1.PostsubmitJob},
			SlackReporterConfig: v1alpha1.SlackReporterConfig{Channel: "q", JobStatesToReport: states(v1alpha1.FailureState), Report: &no}},
	}}
	run := func(typ v1alpha1.ProwJobType, org, repo string, st v1alpha1.ProwJobState, job *v1alpha1.SlackReporterConfig) *v1alpha1.ProwJob {
		pj := &v1alpha1.ProwJob{Spec: v1alpha1.ProwJobSpec{Type: typ}, Status: v1alpha1.ProwJobStatus{State: st}}
		if org != "" {
			pj.Spec.Refs = &v1alpha1.Refs{Org: org, Repo: repo}
		}
		if job != nil {
			pj.Spec.ReporterConfig = &v1alpha1.ReporterConfig{Slack: job}
		}
		return pj
	}
	tests := []struct {
		name        string
		pj          *v1alpha1.ProwJob
		want        bool
		wantChannel string
	}{
		{"'*': a failed periodic", run(v1alpha1.PeriodicJob, "", "", v1alpha1.FailureState, nil), true, "ci"},
		{"'*': a successful periodic is not a state to report", run(v1alpha1.PeriodicJob, "", "", v1alpha1.SuccessState, nil), false, "ci"},
		{"'*': presubmits are not a type to report", run(v1alpha1.PresubmitJob, "other", "x", v1alpha1.FailureState, nil), false, "ci"},
		{"the org's entry wins over '*'", run(v1alpha1.PresubmitJob, "acme", "rocket", v1alpha1.FailureState, nil), true, "acme-ci"},
		{"the org's entry has its own states", run(v1alpha1.PresubmitJob, "acme", "rocket", v1alpha1.ErrorState, nil), false, "acme-ci"},
		{"the repository's entry says report: false", run(v1alpha1.PostsubmitJob, "acme", "quiet", v1alpha1.FailureState, nil), false, "q"},
		{"a job's own channel reports whatever its type", run(v1alpha1.PresubmitJob, "other", "x", v1alpha1.FailureState,
			&v1alpha1.SlackReporterConfig{Channel: "mine"}), true, "mine"},
		{"a job's own states win", run(v1alpha1.PeriodicJob, "", "", v1alpha1.SuccessState,
			&v1alpha1.SlackReporterConfig{JobStatesToReport: states(v1alpha1.SuccessState)}), true, "ci"},
		{"a job's report: false silences it", run(v1alpha1.PeriodicJob, "", "", v1alpha1.FailureState,
			&v1alpha1.SlackReporterConfig{Report: &no}), false, "ci"},
		{"a periodic's extra ref chooses the entry", func() *v1alpha1.ProwJob {
			pj := run(v1alpha1.PresubmitJob, "", "", v1alpha1.FailureState, nil)
			pj.Spec.ExtraRefs = []v1alpha1.Refs{{Org: "acme", Repo: "tools"}}
			return pj
		}(), true, "acme-ci"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, got := cfg.shouldSlack(tt.pj)
			if got != tt.want || s.Channel != tt.wantChannel {
				t.Errorf("shouldSlack() = %v to %q, want %v to %q", got, s.Channel, tt.want, tt.wantChannel)
			}
		})
	}
	// job_states_to_report: [] in config.yaml means report: false.
	c := SlackConfigFrom(&configset.Set{Config: &prowconfig.Config{SlackReporterConfigs: map[string]prowconfig.SlackReporter{
		"*": {Channel: "ci", JobTypesToReport: []string{"periodic"}, JobStatesToReport: []string{}},
	}}})
	if _, ok := c.shouldSlack(run(v1alpha1.PeriodicJob, "", "", v1alpha1.FailureState, nil)); ok || c.Reporters["*"].Report == nil {
		t.Errorf("an empty job_states_to_report reports: %+v", c.Reporters["*"])
	}
}

// slackStandIn is a local HTTP server answering Slack's chat.postMessage
// as Slack does, for one bot token.
type slackStandIn struct {
	*httptest.Server
	token string
	mu    sync.Mutex
	posts []slackPost
}

type slackPost struct{ Channel, Text string }

func newSlackStandIn(t *testing.T, token string) *slackStandIn {
	s := &slackStandIn{token: token}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/api/chat.postMessage" || r.Method != http.MethodPost {
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "unknown_method"})
			return
		}
		if err := r.ParseForm(); err != nil {
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "invalid_form_data"})
			return
		}
		// Slack takes the token as a bearer header or a form field.
		if r.Header.Get("Authorization") != "Bearer "+s.token && r.PostForm.Get("token") != s.token {
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		if r.PostForm.Get("channel") == "" {
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		s.mu.Lock()
		s.posts = append(s.posts, slackPost{Channel: r.PostForm.Get("channel"), Text: r.PostForm.Get("text")})
		s.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.PostForm.Get("channel"), "ts": "1700000000.000100"})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *slackStandIn) received() []slackPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]slackPost(nil), s.posts...)
}

// TestSlackReports runs the Slack reporter against the real API server and
// a stand-in of Slack's Web API: a failed postsubmit is posted once, with
// Prow's default message, to the channel its settings name, through the
// token file of the workspace; a restart posts nothing twice.
func TestSlackReports(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	slackAPI := newSlackStandIn(t, "xoxb-test")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("xoxb-test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := Options{SlackTokenFile: tokenFile, SlackAPIURL: slackAPI.URL + "/api/"}
	clients, err := opts.SlackClients()
	if err != nil {
		t.Fatal(err)
	}
	cfg := SlackConfig{Namespace: ns, Reporters: map[string]SlackSettings{
		"*": {JobTypesToReport: []v1alpha1.ProwJobType{v1alpha1.PostsubmitJob},
			SlackReporterConfig: v1alpha1.SlackReporterConfig{Channel: "test-failures", JobStatesToReport: []v1alpha1.ProwJobState{v1alpha1.FailureState}}},
	}}
	start := func() func() {
		mgr := env.Manager(t, ns)
		r := &SlackReconciler{Config: func() SlackConfig { return cfg }, Clients: clients}
		if err := r.SetupWithManager(mgr); err != nil {
			t.Fatal(err)
		}
		return envtest.Run(t, mgr)
	}
	stop := start()

	pj := &v1alpha1.ProwJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "build-1"}, Spec: v1alpha1.ProwJobSpec{
		Type: v1alpha1.PostsubmitJob, Agent: v1alpha1.JenkinsAgent, Job: "build", Report: true,
		Refs: &v1alpha1.Refs{Org: "acme", Repo: "rocket", BaseRef: "main", BaseSHA: "abc"}}}
	if err := env.Client.Create(ctx, pj); err != nil {
		t.Fatal(err)
	}
	setState := func(s v1alpha1.ProwJobState) {
		t.Helper()
		eventually(t, "state "+string(s), func() error {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(pj), pj); err != nil {
				return err
			}
			pj.Status.State, pj.Status.URL = s, "https://ci.example/view/build-1"
			return env.Client.Status().Update(ctx, pj)
		})
	}
	setState(v1alpha1.PendingState)
	setState(v1alpha1.FailureState)
	want := slackPost{Channel: "test-failures", Text: "Job build of type postsubmit ended with state failure. <https://ci.example/view/build-1|View logs>"}
	eventually(t, "the Slack message", func() error {
		if got := slackAPI.received(); len(got) != 1 || got[0] != want {
			return fmt.Errorf("posts %+v", got)
		}
		return env.Client.Get(ctx, client.ObjectKeyFromObject(pj), pj)
	})
	eventually(t, "the report recorded", func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(pj), pj); err != nil {
			return err
		}
		if reportedBy(pj, SlackName) != v1alpha1.FailureState {
			return fmt.Errorf("reports %+v", pj.Status.Reports)
		}
		return nil
	})
	stop()
	start()
	// A second run in the same namespace proves the restarted reporter
	// works; the first is not posted again.
	pj2 := pj.DeepCopy()
	pj2.ObjectMeta = metav1.ObjectMeta{Namespace: ns, Name: "build-2"}
	pj2.Status = v1alpha1.ProwJobStatus{}
	if err := env.Client.Create(ctx, pj2); err != nil {
		t.Fatal(err)
	}
	pj = pj2
	setState(v1alpha1.FailureState)
	eventually(t, "the second message", func() error {
		if got := slackAPI.received(); len(got) != 2 {
			return fmt.Errorf("posts %+v", got)
		}
		return nil
	})
}

// TestJobSlackSilenced: a job's reporter_config.slack.job_states_to_report: []
// turns its Slack reports off, as in Prow, even with a channel of its own.
func TestJobSlackSilenced(t *testing.T) {
	spec := jobspec.Base(v1alpha1.PeriodicJob, &jobs.JobBase{Name: "nightly", ReporterConfig: &jobs.ReporterConfig{
		Slack: &jobs.SlackReporterConfig{Channel: "mine", JobStatesToReport: []string{}}}}, "nightly", true)
	pj := &v1alpha1.ProwJob{Spec: spec, Status: v1alpha1.ProwJobStatus{State: v1alpha1.FailureState}}
	cfg := SlackConfig{Reporters: map[string]SlackSettings{"*": {JobTypesToReport: []v1alpha1.ProwJobType{v1alpha1.PeriodicJob},
		SlackReporterConfig: v1alpha1.SlackReporterConfig{Channel: "ci", JobStatesToReport: []v1alpha1.ProwJobState{v1alpha1.FailureState}}}}}
	if _, ok := cfg.shouldSlack(pj); ok {
		t.Errorf("reported: %+v", spec.ReporterConfig.Slack)
	}
}
