// Package forgetest starts a sandbox forge for a test: an in-process
// forge.Forge behind an httptest server, a go-github client for any token,
// and a webhook receiver that checks signatures and parses payloads the
// way a GitHub webhook consumer does.
package forgetest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge"
)

// Env is a running forge.
type Env struct {
	// Forge is the forge itself, for Seed, As and Flush.
	Forge *forge.Forge
	// Server serves Forge.Handler().
	Server *httptest.Server
	// URL is the base URL: the API root and the prefix of clone URLs.
	URL string
}

// Start runs a forge seeded from YAML (empty for none) until the test ends.
func Start(t testing.TB, seedYAML string) *Env {
	t.Helper()
	seed, err := forge.ParseSeed([]byte(seedYAML))
	if err != nil {
		t.Fatal(err)
	}
	return StartSeed(t, seed, forge.Options{})
}

// StartSeed runs a forge with options and a seed until the test ends.
func StartSeed(t testing.TB, seed *forge.Seed, opts forge.Options) *Env {
	t.Helper()
	f, err := forge.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.Handler())
	f.SetBaseURL(srv.URL)
	t.Cleanup(func() {
		srv.Close()
		if err := f.Close(); err != nil {
			t.Errorf("close forge: %v", err)
		}
	})
	if seed != nil {
		if err := f.Seed(context.Background(), seed); err != nil {
			t.Fatal(err)
		}
	}
	return &Env{Forge: f, Server: srv, URL: srv.URL}
}

// Client is a go-github client that authenticates with token (none when
// empty) against the forge.
func (e *Env) Client(t testing.TB, token string) *github.Client {
	t.Helper()
	base := e.URL + "/"
	opts := []github.ClientOptionsFunc{github.WithHTTPClient(e.Server.Client()), github.WithURLs(&base, &base)}
	if token != "" {
		opts = append(opts, github.WithAuthToken(token))
	}
	c, err := github.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// As acts as a user from Go; see forge.Actor.
func (e *Env) As(login string) *forge.Actor { return e.Forge.As(login) }

// Delivery is one webhook request received.
type Delivery struct {
	Event    string
	GUID     string
	HookID   string
	Header   http.Header
	Payload  []byte
	Parsed   any
	Received time.Time
}

// Receiver is a webhook endpoint for a test. It rejects (and reports as a
// test error) deliveries whose signature does not match the secret or whose
// payload go-github cannot parse.
type Receiver struct {
	// URL is where hooks should deliver.
	URL    string
	t      testing.TB
	secret string
	ch     chan Delivery
	// done is closed when the test ends, so that a delivery nobody reads
	// (more than the buffer holds) does not hold the server's Close.
	done chan struct{}
}

// NewReceiver starts a receiver that lives until the test ends.
func NewReceiver(t testing.TB, secret string) *Receiver {
	t.Helper()
	rc := &Receiver{t: t, secret: secret, ch: make(chan Delivery, 1000), done: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(rc.serve))
	// Cleanups run last to first: deliveries stop waiting, then the
	// server closes.
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(rc.done) })
	rc.URL = srv.URL + "/hook"
	return rc
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if rc.secret != "" {
		if err := github.ValidateSignature(r.Header.Get(github.SHA256SignatureHeader), body, []byte(rc.secret)); err != nil {
			rc.t.Errorf("webhook %s: bad signature: %v", r.Header.Get(github.EventTypeHeader), err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
	}
	payload := body
	if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		payload = []byte(form.Get("payload"))
	}
	event := r.Header.Get(github.EventTypeHeader)
	parsed, err := github.ParseWebHook(event, payload)
	if err != nil {
		rc.t.Errorf("webhook %s: go-github cannot parse the payload: %v", event, err)
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	d := Delivery{Event: event, GUID: r.Header.Get(github.DeliveryIDHeader), HookID: r.Header.Get("X-GitHub-Hook-ID"),
		Header: r.Header.Clone(), Payload: payload, Parsed: parsed, Received: time.Now()}
	select {
	case rc.ch <- d:
		w.WriteHeader(http.StatusNoContent)
	case <-rc.done:
		http.Error(w, "the test is over", http.StatusServiceUnavailable)
	}
}

// Next waits for the next delivery; the test fails after timeout.
func (rc *Receiver) Next(timeout time.Duration) Delivery {
	rc.t.Helper()
	select {
	case d := <-rc.ch:
		return d
	case <-time.After(timeout):
		rc.t.Fatalf("no webhook delivery within %s", timeout)
		return Delivery{}
	}
}

// WaitFor skips deliveries until one of event (and action, when not empty)
// arrives.
func (rc *Receiver) WaitFor(event, action string, timeout time.Duration) Delivery {
	rc.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case d := <-rc.ch:
			if d.Event == event && (action == "" || actionOf(d.Parsed) == action) {
				return d
			}
		case <-deadline:
			rc.t.Fatalf("no %s %s webhook within %s", event, action, timeout)
			return Delivery{}
		}
	}
}

// Pending returns what has been received and not yet taken, without
// waiting; call Forge.Flush first to have every queued delivery attempted.
func (rc *Receiver) Pending() []Delivery {
	var out []Delivery
	for {
		select {
		case d := <-rc.ch:
			out = append(out, d)
		default:
			return out
		}
	}
}

// actionOf reads the action field most payloads carry.
func actionOf(p any) string {
	if a, ok := p.(interface{ GetAction() string }); ok {
		return a.GetAction()
	}
	return ""
}
