package automation_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/scm/webhook"
)

// FuzzHook signs arbitrary payloads under arbitrary event types: the server
// answers each with one of its documented codes and never crashes, and what
// it accepts reaches the plugins as a decoded event.
func FuzzHook(f *testing.F) {
	for _, event := range []string{"issue_comment", "pull_request", "push", "pull_request_review", "issues"} {
		files, _ := filepath.Glob(filepath.Join("..", "test", "testdata", "github-webhooks", event, "*.json"))
		for _, file := range files[:min(2, len(files))] {
			body, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(event, body)
		}
	}
	f.Add("push", []byte(`{"repository": {"full_name": 7}}`))
	f.Add("issue_comment", []byte(`{"issue": null, "comment": {"body": "/retest"}}`))
	f.Add("", []byte(`{}`))

	rec := &recorder{name: "all", events: []string{"issue_comment", "pull_request", "push", "pull_request_review", "issues", plugin.GenericComment}}
	en := &switchable{}
	en.set("all")
	opts := automation.DefaultOptions()
	opts.MaxBodyBytes, opts.MaxQueuedBytes = 1<<20, 64<<20
	srv, err := automation.NewServer(opts, automation.Deps{Plugins: []plugin.Plugin{rec}, Enablement: en,
		Secrets: automation.Secrets{"*": {[]byte(secret)}}})
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, automation.HookPath, bytes.NewReader(body))
		req.Header.Set(webhook.HeaderEvent, event)
		req.Header.Set(webhook.HeaderDelivery, "fuzz")
		req.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte(secret), body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK, http.StatusAccepted, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable:
		default:
			t.Fatalf("event %q: status %d", event, w.Code)
		}
	})
}
