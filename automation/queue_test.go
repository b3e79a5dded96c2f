package automation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/scm/webhook"
)

func commentPayload(t *testing.T) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "test", "testdata", "github-webhooks", "issue_comment", "created.payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestQueueFull: with every worker busy and the queue full, deliveries get
// 503 and are counted; once the workers are free, the queued ones are
// handled and none is lost.
func TestQueueFull(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	rec := &recorder{name: "slow", events: []string{"issue_comment"}, ch: make(chan *plugin.Event, 10),
		handle: func(ctx context.Context, ev *plugin.Event) error {
			started <- struct{}{}
			<-release
			return nil
		}}
	opts := testOptions()
	opts.Workers, opts.QueueSize = 1, 2
	ts := newServer(t, opts, nil, rec)
	body := commentPayload(t)
	// The first is taken by the worker; two more fill the queue.
	if resp := ts.post(t, "issue_comment", "d-0", body, secret); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("d-0: %s", resp.Status)
	}
	<-started
	for i := 1; i <= 2; i++ {
		if resp := ts.post(t, "issue_comment", fmt.Sprint("d-", i), body, secret); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("d-%d: %s", i, resp.Status)
		}
	}
	resp := ts.post(t, "issue_comment", "d-3", body, secret)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over capacity: %s, Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	if got := ts.count("issue_comment", automation.OutcomeQueueFull); got != 1 {
		t.Errorf("queue_full count %v", got)
	}
	close(release)
	seen := map[string]bool{}
	for range 3 {
		seen[waitEvent(t, rec.ch, "queued event").DeliveryID] = true
	}
	if !seen["d-0"] || !seen["d-1"] || !seen["d-2"] {
		t.Errorf("handled %v", seen)
	}
}

// TestQueueBytes: the byte budget bounds memory as well as the count.
func TestQueueBytes(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	rec := &recorder{name: "slow", events: []string{"issue_comment"},
		handle: func(ctx context.Context, ev *plugin.Event) error {
			started <- struct{}{}
			<-release
			return nil
		}}
	body := commentPayload(t)
	parsed, err := webhook.Parse("issue_comment", body)
	if err != nil {
		t.Fatal(err)
	}
	// The budget counts what queued events hold in memory: the parsed
	// event (TestParsedSizeIsTheHeap).
	size := automation.ParsedSize(parsed) + automation.ParsedSize(plugin.Decode("issue_comment", "", parsed).Comment.Comment)
	opts := testOptions()
	opts.Workers, opts.QueueSize = 1, 100
	opts.MaxBodyBytes = int64(len(body))
	opts.MaxQueuedBytes = size*2 + size/2
	ts := newServer(t, opts, nil, rec)
	defer close(release)
	for i := range 3 {
		if resp := ts.post(t, "issue_comment", fmt.Sprint("d-", i), body, secret); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("d-%d: %s", i, resp.Status)
		}
		if i == 0 {
			<-started
		}
	}
	if resp := ts.post(t, "issue_comment", "d-3", body, secret); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("over the byte budget: %s", resp.Status)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		err       func(attempt int32) error
		wantCalls int32
		outcome   string
	}{
		{"transient then success", func(a int32) error {
			if a < 3 {
				return errors.New("connection reset")
			}
			return nil
		}, 3, "succeeded"},
		{"permanent is not retried", func(int32) error { return plugin.Permanent(errors.New("bad config")) }, 1, "failed"},
		{"gives up after MaxAttempts", func(int32) error { return errors.New("down") }, 4, "failed"},
		{"a panic is contained", func(int32) error { panic("boom") }, 1, "panicked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			done := make(chan struct{}, 10)
			rec := &recorder{name: "p", events: []string{"issue_comment"}, handle: func(ctx context.Context, ev *plugin.Event) error {
				n := calls.Add(1)
				defer func() {
					if n == tc.wantCalls {
						done <- struct{}{}
					}
				}()
				return tc.err(n)
			}}
			opts := testOptions()
			opts.MaxAttempts = 4
			ts := newServer(t, opts, nil, rec)
			if resp := ts.post(t, "issue_comment", "d-1", commentPayload(t), secret); resp.StatusCode != http.StatusAccepted {
				t.Fatal(resp.Status)
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("%d calls, want %d", calls.Load(), tc.wantCalls)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ts.Shutdown(ctx)
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("%d calls, want %d", got, tc.wantCalls)
			}
			if got := metricValue(ts.reg, "bowline_plugin_handled_total", map[string]string{"plugin": "p", "outcome": tc.outcome}); got != 1 {
				t.Errorf("outcome %s counted %v times", tc.outcome, got)
			}
			if got := metricValue(ts.reg, "bowline_plugin_handle_seconds", map[string]string{"plugin": "p", "event": "issue_comment"}); got != float64(tc.wantCalls) {
				t.Errorf("handle time observed %v times, want %d", got, tc.wantCalls)
			}
			// The server still works.
			if resp := ts.post(t, "issue_comment", "d-2", commentPayload(t), secret); resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("after shutdown: %s, want 503", resp.Status)
			}
		})
	}
}

// TestShutdownDrains: what was accepted before shutdown is handled.
func TestShutdownDrains(t *testing.T) {
	var handled atomic.Int32
	rec := &recorder{name: "p", events: []string{"issue_comment"}, handle: func(ctx context.Context, ev *plugin.Event) error {
		handled.Add(1)
		return nil
	}}
	opts := testOptions()
	opts.Workers = 2
	ts := newServer(t, opts, nil, rec)
	for i := range 50 {
		if resp := ts.post(t, "issue_comment", fmt.Sprint("d-", i), commentPayload(t), secret); resp.StatusCode != http.StatusAccepted {
			t.Fatal(resp.Status)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ts.Shutdown(ctx)
	if got := handled.Load(); got != 50 {
		t.Errorf("handled %d of 50", got)
	}
	if resp := ts.post(t, "issue_comment", "late", commentPayload(t), secret); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("after shutdown: %s, want 503", resp.Status)
	}
	if got := ts.count("issue_comment", automation.OutcomeShuttingDown); got != 1 {
		t.Errorf("shutting_down counted %v", got)
	}
}

// TestShutdownGraceExpires: past the grace period, the events still queued
// or cut short are logged by delivery ID for redelivery.
func TestShutdownGraceExpires(t *testing.T) {
	started := make(chan struct{}, 1)
	rec := &recorder{name: "stuck", events: []string{"issue_comment"}, handle: func(ctx context.Context, ev *plugin.Event) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}}
	opts := testOptions()
	opts.Workers = 1
	ts := newServer(t, opts, nil, rec)
	for _, id := range []string{"in-flight", "queued-1", "queued-2"} {
		if resp := ts.post(t, "issue_comment", id, commentPayload(t), secret); resp.StatusCode != http.StatusAccepted {
			t.Fatal(resp.Status)
		}
		if id == "in-flight" {
			<-started
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the grace period is over at once
	ts.Shutdown(ctx)
	logs := ts.logs.String()
	for _, id := range []string{"in-flight", "queued-1", "queued-2"} {
		if !strings.Contains(logs, `"delivery"="`+id+`"`) || !strings.Contains(logs, "redeliver it from GitHub") {
			t.Errorf("delivery %s not logged for redelivery:\n%s", id, logs)
		}
	}
	if got := metricValue(ts.reg, "bowline_webhook_dropped_total", nil); got != 3 {
		t.Errorf("dropped %v, want 3", got)
	}
}

// TestEnablementChangesWithoutRestart: plugins.yaml of the applied revision
// is read per event.
func TestEnablementChangesWithoutRestart(t *testing.T) {
	a := &recorder{name: "a", events: []string{"issue_comment"}, ch: make(chan *plugin.Event, 10)}
	b := &recorder{name: "b", events: []string{"issue_comment"}, ch: make(chan *plugin.Event, 10)}
	ts := newServer(t, testOptions(), nil, a, b)
	ts.enabled.set("a")
	ts.post(t, "issue_comment", "d-1", commentPayload(t), secret)
	waitEvent(t, a.ch, "a")
	ts.enabled.set("b")
	ts.post(t, "issue_comment", "d-2", commentPayload(t), secret)
	if ev := waitEvent(t, b.ch, "b"); ev.DeliveryID != "d-2" {
		t.Errorf("b got %s", ev.DeliveryID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts.Shutdown(ctx)
	if len(a.ch) != 0 || len(b.ch) != 0 {
		t.Errorf("a plugin ran while disabled: a %d, b %d", len(a.ch), len(b.ch))
	}
}

// TestAlwaysHandlers run whatever plugins.yaml says.
func TestAlwaysHandlers(t *testing.T) {
	always := &recorder{name: "always", events: []string{"issue_comment"}, ch: make(chan *plugin.Event, 10)}
	none := &switchable{}
	none.set()
	srv, err := automation.NewServer(testOptions(), automation.Deps{
		Always: []plugin.Plugin{always}, Enablement: none, Secrets: automation.Secrets{"*": {[]byte(secret)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: srv, url: newHTTP(t, srv)}
	ts.post(t, "issue_comment", "d-1", commentPayload(t), secret)
	waitEvent(t, always.ch, "always")
}

func TestPluginHelp(t *testing.T) {
	rec := &recorder{name: "rec", events: []string{"issue_comment", plugin.GenericComment}}
	ts := newServer(t, testOptions(), nil, rec)
	resp, err := http.Get(ts.url + automation.PluginHelpPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	var idx plugin.HelpIndex
	if err := json.NewDecoder(resp.Body).Decode(&idx); err != nil {
		t.Fatal(err)
	}
	h, ok := idx.Plugins["rec"]
	if !ok || h.Description != "records rec" || len(h.Events) != 2 {
		t.Errorf("help: %+v", idx)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*automation.Options)
		wantErr string
	}{
		{"defaults", func(*automation.Options) {}, ""},
		{"no workers", func(o *automation.Options) { o.Workers = 0 }, "hook-workers"},
		{"no queue", func(o *automation.Options) { o.QueueSize = 0 }, "hook-queue-size"},
		{"body over queue budget", func(o *automation.Options) { o.MaxQueuedBytes = o.MaxBodyBytes - 1 }, "hook-max-queued-bytes"},
		{"backoff inverted", func(o *automation.Options) { o.MaxRetryBackoff = o.RetryBackoff / 2 }, "hook-max-retry-backoff"},
		{"negative grace", func(o *automation.Options) { o.GracePeriod = -time.Second }, "hook-grace-period"},
		{"no address", func(o *automation.Options) { o.Addr = "" }, "hook-addr"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := automation.DefaultOptions()
			tc.mod(&o)
			err := o.Validate()
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Validate() = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestServe runs the server as the operator does, on a listener until its
// context ends, and checks that shutdown drains what was accepted.
func TestServe(t *testing.T) {
	var handled atomic.Int32
	rec := &recorder{name: "p", events: []string{"issue_comment"}, handle: func(ctx context.Context, ev *plugin.Event) error {
		handled.Add(1)
		return nil
	}}
	opts := testOptions()
	opts.Addr = "127.0.0.1:0"
	reg := prometheus.NewRegistry()
	en := &switchable{}
	en.set("p")
	srv, err := automation.NewServer(opts, automation.Deps{Plugins: []plugin.Plugin{rec}, Enablement: en,
		Secrets: automation.Secrets{"*": {[]byte(secret)}}, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx, ln) }()
	ts := &testServer{Server: srv, url: "http://" + ln.Addr().String(), reg: reg}
	for i := range 20 {
		if resp := ts.post(t, "issue_comment", fmt.Sprint("d-", i), commentPayload(t), secret); resp.StatusCode != http.StatusAccepted {
			t.Fatal(resp.Status)
		}
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if got := handled.Load(); got != 20 {
		t.Errorf("handled %d of 20 before Serve returned", got)
	}
}

// TestSecretFile: a rotated secret file is picked up without a restart.
func TestSecretFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hmac")
	if err := os.WriteFile(path, []byte("first\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := automation.NewSecretFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Secrets("acme", "widgets"); len(got) != 1 || string(got[0]) != "first" {
		t.Fatalf("secrets %q", got)
	}
	if err := os.WriteFile(path, []byte("'*':\n- value: second-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := f.Secrets("acme", "widgets"); len(got) != 1 || string(got[0]) != "second-token" {
		t.Errorf("after rotation %q", got)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if got := f.Secrets("acme", "widgets"); len(got) != 1 || string(got[0]) != "second-token" {
		t.Errorf("after the file vanished %q, want the last secrets read", got)
	}
	if _, err := automation.NewSecretFile(path); err == nil {
		t.Error("a missing file was accepted")
	}
}

// TestParsedSizeIsTheHeap: the queue's budget is kept in what parsed events
// hold on the heap, which parsedSize estimates; measured here over many
// copies of a comment and of a large pull request event.
func TestParsedSizeIsTheHeap(t *testing.T) {
	for _, tc := range []struct{ event, file string }{
		{"issue_comment", "issue_comment/created.payload.json"},
		{"pull_request", "pull_request/opened.payload.json"},
	} {
		t.Run(tc.event, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("..", "test", "testdata", "github-webhooks", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			const n = 500
			keep := make([]any, 0, n)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for range n {
				p, err := webhook.Parse(tc.event, body)
				if err != nil {
					t.Fatal(err)
				}
				keep = append(keep, p)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			heap := float64(after.HeapAlloc-before.HeapAlloc) / n
			est := float64(automation.ParsedSize(keep[0]))
			runtime.KeepAlive(keep)
			if est < 0.7*heap || est > 1.3*heap {
				t.Errorf("parsed size %.0f bytes, heap %.0f bytes per event (payload %d bytes)", est, heap, len(body))
			}
		})
	}
}
