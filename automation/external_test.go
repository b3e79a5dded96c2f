package automation_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/scm/webhook"
)

// externalEnablement lists external plugins per org and org/repo.
type externalEnablement map[string][]automation.ExternalPlugin

func (e externalEnablement) EnabledPlugins(string, string) []string { return nil }
func (e externalEnablement) Enablement() plugin.Enablement          { return e }
func (e externalEnablement) ExternalPluginsFor(org, repo string) []automation.ExternalPlugin {
	return append(append([]automation.ExternalPlugin(nil), e[org]...), e[org+"/"+repo]...)
}

// externalPlugin is an external plugin's HTTP server: it records what it
// receives and answers with the codes it is given, then 200.
type externalPlugin struct {
	*httptest.Server
	mu       sync.Mutex
	received []*http.Request
	bodies   [][]byte
	codes    []int
	calls    atomic.Int32
	got      chan string
}

func newExternalPlugin(t *testing.T, codes ...int) *externalPlugin {
	e := &externalPlugin{codes: codes, got: make(chan string, 100)}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n := int(e.calls.Add(1))
		code := http.StatusOK
		if n <= len(e.codes) {
			code = e.codes[n-1]
		}
		w.WriteHeader(code)
		if code != http.StatusOK {
			return
		}
		e.mu.Lock()
		e.received = append(e.received, r)
		e.bodies = append(e.bodies, body)
		e.mu.Unlock()
		e.got <- r.Header.Get(webhook.HeaderDelivery)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *externalPlugin) wait(t *testing.T, delivery string) (*http.Request, []byte) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case d := <-e.got:
			if d != delivery {
				continue
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			for i, r := range e.received {
				if r.Header.Get(webhook.HeaderDelivery) == delivery {
					return r, e.bodies[i]
				}
			}
		case <-deadline:
			t.Fatalf("external plugin did not receive %s", delivery)
		}
	}
}

// TestExternalPlugins: deliveries reach the external plugins listed for
// their org or repository (Prow's hook merges both lists), filtered by
// events, as GitHub sent them: same body, X-GitHub-Event,
// X-GitHub-Delivery and the signatures, so that the plugin checks them
// with the same secret. A 5xx is retried; event types bowline does not
// know are forwarded too.
func TestExternalPlugins(t *testing.T) {
	orgWide := newExternalPlugin(t, http.StatusBadGateway)
	commentsOnly := newExternalPlugin(t)
	elsewhere := newExternalPlugin(t)
	en := externalEnablement{
		"acme":        {{Name: "needs-rebase", Endpoint: orgWide.URL}},
		"acme/rocket": {{Name: "cherrypicker", Endpoint: commentsOnly.URL, Events: []string{"issue_comment"}}},
		"other":       {{Name: "elsewhere", Endpoint: elsewhere.URL}},
	}
	opts := testOptions()
	srv, err := automation.NewServer(opts, automation.Deps{Enablement: en, Secrets: automation.Secrets{"*": {[]byte(secret)}}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Shutdown(t.Context()) })
	ts := &testServer{Server: srv, url: hs.URL}

	comment := []byte(`{"action":"created","issue":{"number":1},"comment":{"body":"/cherrypick release-1.0"},"repository":{"name":"rocket","full_name":"acme/rocket","owner":{"login":"acme"}}}`)
	if resp := ts.post(t, "issue_comment", "c-1", comment, secret); resp.StatusCode != http.StatusAccepted {
		t.Fatal(resp.Status)
	}
	for _, ep := range []*externalPlugin{orgWide, commentsOnly} {
		r, body := ep.wait(t, "c-1")
		if string(body) != string(comment) || r.Header.Get(webhook.HeaderEvent) != "issue_comment" ||
			webhook.ValidateSignature(r.Header.Get(webhook.HeaderSignature), body, [][]byte{[]byte(secret)}) != nil {
			t.Errorf("%s received %s with headers %v", ep.URL, body, r.Header)
		}
	}
	if n := orgWide.calls.Load(); n != 2 {
		t.Errorf("the plugin that answered 502 once was called %d times, want 2", n)
	}

	// A push goes to the org-wide plugin, not to the comments-only one;
	// an event type go-github does not know is forwarded too.
	push := []byte(`{"ref":"refs/heads/main","after":"abc","repository":{"name":"rocket","full_name":"acme/rocket","owner":{"name":"acme","login":"acme"}}}`)
	if resp := ts.post(t, "push", "p-1", push, secret); resp.StatusCode != http.StatusAccepted {
		t.Fatal(resp.Status)
	}
	orgWide.wait(t, "p-1")
	unknown := []byte(`{"action":"sparkled","repository":{"name":"rocket","full_name":"acme/rocket","owner":{"login":"acme"}}}`)
	if resp := ts.post(t, "sponsorship_glitter", "u-1", unknown, secret); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("unknown event for an external plugin: %s", resp.Status)
	}
	orgWide.wait(t, "u-1")
	// Form-encoded deliveries go on as GitHub sent them, which is what the
	// signature covers.
	form := []byte(url.Values{"payload": {string(comment)}}.Encode())
	req, _ := http.NewRequest(http.MethodPost, hs.URL+automation.HookPath, bytesReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(webhook.HeaderEvent, "issue_comment")
	req.Header.Set(webhook.HeaderDelivery, "f-1")
	req.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte(secret), form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("form delivery: %v %v", resp, err)
	}
	resp.Body.Close()
	r, body := commentsOnly.wait(t, "f-1")
	if string(body) != string(form) || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("form delivery forwarded as %q (%s)", body, r.Header.Get("Content-Type"))
	}

	ctx, cancel := contextWithTimeout(10 * time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	if commentsOnly.calls.Load() != 2 || elsewhere.calls.Load() != 0 {
		t.Errorf("comments-only plugin called %d times, other org's %d", commentsOnly.calls.Load(), elsewhere.calls.Load())
	}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
