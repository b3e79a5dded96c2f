package automation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/scm/webhook"
)

const secret = "global-secret"

// recorder is a plugin that reports every event it handles.
type recorder struct {
	name   string
	events []string
	ch     chan *plugin.Event
	handle func(ctx context.Context, ev *plugin.Event) error
}

func (r *recorder) Name() string      { return r.name }
func (r *recorder) Events() []string  { return r.events }
func (r *recorder) Help() plugin.Help { return plugin.Help{Description: "records " + r.name} }
func (r *recorder) Handle(ctx context.Context, _ logr.Logger, ev *plugin.Event) error {
	var err error
	if r.handle != nil {
		err = r.handle(ctx, ev)
	}
	if r.ch != nil {
		r.ch <- ev
	}
	return err
}

// switchable enablement: which plugins are on for everyone.
type switchable struct{ on atomic.Pointer[[]string] }

func (s *switchable) set(names ...string) { s.on.Store(&names) }
func (s *switchable) Enablement() plugin.Enablement {
	return enablementFunc(func(string, string) []string { return *s.on.Load() })
}

type enablementFunc func(org, repo string) []string

func (f enablementFunc) EnabledPlugins(org, repo string) []string { return f(org, repo) }

type testServer struct {
	*automation.Server
	url     string
	reg     *prometheus.Registry
	enabled *switchable
	logs    *logBuffer
}

// logBuffer collects log lines for assertions.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) add(prefix, args string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, prefix+" "+args)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

func newServer(t *testing.T, opts automation.Options, secrets automation.Secrets, plugins ...plugin.Plugin) *testServer {
	t.Helper()
	if secrets == nil {
		secrets = automation.Secrets{"*": {[]byte(secret)}}
	}
	ts := &testServer{reg: prometheus.NewRegistry(), enabled: &switchable{}, logs: &logBuffer{}}
	var names []string
	for _, p := range plugins {
		names = append(names, p.Name())
	}
	ts.enabled.set(names...)
	srv, err := automation.NewServer(opts, automation.Deps{
		Plugins: plugins, Enablement: ts.enabled, Secrets: secrets, Registerer: ts.reg,
		Log: funcr.New(ts.logs.add, funcr.Options{}),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = srv
	hs := httptest.NewServer(srv.Handler())
	ts.url = hs.URL
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ts
}

func testOptions() automation.Options {
	o := automation.DefaultOptions()
	o.RetryBackoff, o.MaxRetryBackoff = time.Millisecond, 5*time.Millisecond
	return o
}

// post delivers a payload signed with key (unsigned when key is empty).
func (ts *testServer) post(t *testing.T, event, delivery string, body []byte, key string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.url+automation.HookPath, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(webhook.HeaderEvent, event)
	req.Header.Set(webhook.HeaderDelivery, delivery)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte(key), body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (ts *testServer) count(event, outcome string) float64 {
	return metricValue(ts.reg, "bowline_webhook_events_total", map[string]string{"event": event, "outcome": outcome})
}

// metricValue sums the series of a counter, gauge or histogram (its count)
// whose labels include labels.
func metricValue(reg *prometheus.Registry, name string, labels map[string]string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		return -1
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				total += m.GetCounter().GetValue()
			case m.Gauge != nil:
				total += m.GetGauge().GetValue()
			case m.Histogram != nil:
				total += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return total
}

// examples reads GitHub's published payload examples: event name → files.
func examples(t *testing.T) map[string][]string {
	t.Helper()
	dir := filepath.Join("..", "test", "testdata", "github-webhooks")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, e.Name(), "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = files
	}
	if len(out) == 0 {
		t.Fatal("no webhook examples found")
	}
	return out
}

// scope reads the org and repo a payload is about, independently of the
// server's code.
func scope(t *testing.T, body []byte) (string, string) {
	var p struct {
		Repository *struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
		Organization *struct {
			Login string `json:"login"`
		} `json:"organization"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Repository != nil {
		org, repo, _ := strings.Cut(p.Repository.FullName, "/")
		return org, repo
	}
	if p.Organization != nil {
		return p.Organization.Login, ""
	}
	return "", ""
}

// TestGitHubExamples feeds every published example payload to the server:
// each is accepted and reaches the plugin that handles its event type once,
// with the right repository, and comments also arrive as generic comments.
func TestGitHubExamples(t *testing.T) {
	all := examples(t)
	var events []string
	for e := range all {
		events = append(events, e)
	}
	events = append(events, plugin.GenericComment)
	rec := &recorder{name: "all", events: events, ch: make(chan *plugin.Event, 1000)}
	ts := newServer(t, testOptions(), nil, rec)

	type sent struct{ file, event, org, repo string }
	deliveries := map[string]sent{}
	n := 0
	for event, files := range all {
		for _, f := range files {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			n++
			delivery := fmt.Sprintf("d-%d", n)
			resp := ts.post(t, event, delivery, body, secret)
			want := http.StatusAccepted
			switch {
			case event == "ping":
				want = http.StatusOK
			case strings.HasSuffix(f, "ized.with-organization.payload.json"):
				// GitHub composed these two examples from parts: the
				// repository's owner is not its full_name's, the shape of
				// a forged event.
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("%s: %s, want 400", f, resp.Status)
				}
				continue
			}
			if resp.StatusCode != want {
				t.Errorf("%s: %s, want %d", f, resp.Status, want)
				continue
			}
			if event != "ping" {
				org, repo := scope(t, body)
				deliveries[delivery] = sent{f, event, org, repo}
			}
		}
	}
	// Shutdown drains the queue: afterwards every event has been handled.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ts.Shutdown(ctx)
	close(rec.ch)
	got := map[string][]*plugin.Event{}
	for ev := range rec.ch {
		got[ev.DeliveryID] = append(got[ev.DeliveryID], ev)
	}
	for id, s := range deliveries {
		var main, comments int
		for _, ev := range got[id] {
			if ev.Org != s.org || ev.Repo != s.repo {
				t.Errorf("%s: %s event routed to %q/%q, want %q/%q", s.file, ev.Type, ev.Org, ev.Repo, s.org, s.repo)
			}
			switch ev.Type {
			case s.event:
				main++
				if ev.Payload == nil {
					t.Errorf("%s: no payload", s.file)
				}
			case plugin.GenericComment:
				comments++
				if ev.Comment == nil || ev.Comment.Number == 0 {
					t.Errorf("%s: generic comment without its issue: %+v", s.file, ev.Comment)
				}
			default:
				t.Errorf("%s: delivered as %q", s.file, ev.Type)
			}
		}
		wantComments := 0
		if s.event == "issue_comment" || s.event == "pull_request_review_comment" {
			wantComments = 1
		}
		if main != 1 || (wantComments == 1 && comments != 1) || comments > 1 {
			t.Errorf("%s: handled %d times as %s and %d times as a generic comment", s.file, main, s.event, comments)
		}
	}
	if len(deliveries) < 100 {
		t.Errorf("only %d examples", len(deliveries))
	}
	if got := ts.count("pull_request", automation.OutcomeAccepted); got != float64(len(all["pull_request"])) {
		t.Errorf("accepted pull_request deliveries: %v, want %d", got, len(all["pull_request"]))
	}
}

func waitEvent(t *testing.T, ch chan *plugin.Event, what string) *plugin.Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no event handled within 10s", what)
		return nil
	}
}

func TestRejections(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("..", "test", "testdata", "github-webhooks", "issue_comment", "created.payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.MaxBodyBytes = int64(len(body)) + 10
	tests := []struct {
		name    string
		event   string
		body    []byte
		key     string
		want    int
		outcome string
		log     string
	}{
		{name: "bad signature", event: "issue_comment", body: body, key: "wrong", want: http.StatusUnauthorized, outcome: automation.OutcomeBadSignature, log: "Rejected a webhook with a missing or bad signature"},
		{name: "no signature", event: "issue_comment", body: body, want: http.StatusUnauthorized, outcome: automation.OutcomeBadSignature},
		{name: "oversize", event: "issue_comment", body: append(bytes.Clone(body), bytes.Repeat([]byte(" "), 100)...), key: secret, want: http.StatusRequestEntityTooLarge, outcome: automation.OutcomeTooLarge},
		{name: "garbage", event: "issue_comment", body: []byte("{not json"), key: secret, want: http.StatusBadRequest, outcome: automation.OutcomeMalformed, log: "Rejected a malformed webhook"},
		{name: "wrong shape", event: "issue_comment", body: []byte(`{"comment": "a string"}`), key: secret, want: http.StatusBadRequest, outcome: automation.OutcomeMalformed, log: "Rejected a malformed webhook"},
		{name: "no event type", event: "", body: body, key: secret, want: http.StatusBadRequest, outcome: automation.OutcomeMalformed},
		{name: "unknown event type", event: "no_such_event", body: body, key: secret, want: http.StatusOK, outcome: automation.OutcomeIgnored},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{name: "rec", events: []string{"issue_comment", plugin.GenericComment}, ch: make(chan *plugin.Event, 10)}
			ts := newServer(t, opts, nil, rec)
			resp := ts.post(t, tc.event, "d-1", tc.body, tc.key)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %s, want %d", resp.Status, tc.want)
			}
			label := tc.event
			if label != "issue_comment" {
				label = "unknown"
			}
			if got := ts.count(label, tc.outcome); got != 1 {
				t.Errorf("bowline_webhook_events_total{event=%q,outcome=%q} = %v, want 1", label, tc.outcome, got)
			}
			// Nothing was done: shut down, which drains, then look.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ts.Shutdown(ctx)
			if len(rec.ch) != 0 {
				t.Errorf("a rejected delivery reached the plugin")
			}
			if !strings.Contains(ts.logs.String(), tc.log) {
				t.Errorf("no log line %q in:\n%s", tc.log, ts.logs.String())
			}
			if strings.Contains(ts.logs.String(), secret) {
				t.Errorf("the secret was logged")
			}
		})
	}
	// A good delivery for comparison: it is accepted and handled.
	rec := &recorder{name: "rec", events: []string{"issue_comment"}, ch: make(chan *plugin.Event, 10)}
	ts := newServer(t, opts, nil, rec)
	if resp := ts.post(t, "issue_comment", "d-ok", body, secret); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("good delivery: %s", resp.Status)
	}
	waitEvent(t, rec.ch, "good delivery")
}

// TestScopedSecrets: a repository's own secret replaces its org's, which
// replaces the global one.
func TestScopedSecrets(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("..", "test", "testdata", "github-webhooks", "issue_comment", "created.payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	org, repo := scope(t, body)
	tests := []struct {
		name    string
		secrets automation.Secrets
		key     string
		want    int
	}{
		{"global", automation.Secrets{"*": {[]byte("g")}}, "g", http.StatusAccepted},
		{"org secret", automation.Secrets{"*": {[]byte("g")}, org: {[]byte("o")}}, "o", http.StatusAccepted},
		{"org secret replaces global", automation.Secrets{"*": {[]byte("g")}, org: {[]byte("o")}}, "g", http.StatusUnauthorized},
		{"repo secret", automation.Secrets{org: {[]byte("o")}, org + "/" + repo: {[]byte("r")}}, "r", http.StatusAccepted},
		{"repo secret replaces org", automation.Secrets{org: {[]byte("o")}, org + "/" + repo: {[]byte("r")}}, "o", http.StatusUnauthorized},
		{"rotation: either of two", automation.Secrets{"*": {[]byte("old"), []byte("new")}}, "old", http.StatusAccepted},
		{"no secret for the org", automation.Secrets{"other-org": {[]byte("x")}}, "x", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newServer(t, testOptions(), tc.secrets)
			if resp := ts.post(t, "issue_comment", "d", body, tc.key); resp.StatusCode != tc.want {
				t.Errorf("status %s, want %d", resp.Status, tc.want)
			}
		})
	}
}

func TestParseSecrets(t *testing.T) {
	s, err := automation.ParseSecrets([]byte("plain-token\n"))
	if err != nil || string(s.Secrets("a", "b")[0]) != "plain-token" {
		t.Fatalf("plain token: %v %q", err, s)
	}
	s, err = automation.ParseSecrets([]byte("'*':\n- value: g\n  created_at: 2024-01-02T03:04:05Z\nacme:\n- value: o1\n- value: o2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Secrets("acme", "x"); len(got) != 2 || string(got[1]) != "o2" {
		t.Errorf("acme: %q", got)
	}
	if got := s.Secrets("other", "x"); len(got) != 1 || string(got[0]) != "g" {
		t.Errorf("other: %q", got)
	}
	if _, err := automation.ParseSecrets([]byte("acme:\n- created_at: 2024-01-02T03:04:05Z\n")); err == nil {
		t.Error("an entry without a value was accepted")
	}
	if _, err := automation.ParseSecrets([]byte("  \n")); err == nil {
		t.Error("an empty file was accepted")
	}
}

func newHTTP(t *testing.T, srv *automation.Server) string {
	t.Helper()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return hs.URL
}
