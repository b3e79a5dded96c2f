package automation_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/scm/webhook"
)

// TestForgedEventForAnotherOrg performs the attack of an org that has its
// own webhook secret: it signs an event with that secret whose repository
// names another org's repository. Before the secret and the route came from
// the same field, the event was accepted and routed to the victim.
func TestForgedEventForAnotherOrg(t *testing.T) {
	rec := &recorder{name: "all", events: []string{"issue_comment", plugin.GenericComment}, ch: make(chan *plugin.Event, 10)}
	secrets := automation.Secrets{"evil": {[]byte("evil-secret")}, "acme": {[]byte("acme-secret")}}
	ts := newServer(t, testOptions(), secrets, rec)

	forged := []byte(`{"action":"created","issue":{"number":1,"pull_request":{}},"comment":{"body":"/ok-to-test","user":{"login":"mallory"}},` +
		`"repository":{"name":"widgets","full_name":"acme/widgets","owner":{"login":"evil"}}}`)
	if resp := ts.post(t, "issue_comment", "forged-1", forged, "evil-secret"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("forged event: %s, want 400", resp.Status)
	}
	consistent := []byte(`{"action":"created","issue":{"number":1},"comment":{"body":"/ok-to-test"},` +
		`"repository":{"name":"widgets","full_name":"acme/widgets","owner":{"login":"acme"}}}`)
	if resp := ts.post(t, "issue_comment", "forged-2", consistent, "evil-secret"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("acme's event signed with evil's secret: %s, want 401", resp.Status)
	}
	// acme's own event still arrives, routed to acme.
	if resp := ts.post(t, "issue_comment", "real", consistent, "acme-secret"); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("acme's event: %s", resp.Status)
	}
	ev := waitEvent(t, rec.ch, "acme's event")
	if ev.DeliveryID != "real" || ev.Org != "acme" || ev.Repo != "widgets" {
		t.Errorf("handled %s for %s/%s", ev.DeliveryID, ev.Org, ev.Repo)
	}
}

// TestReplayedDelivery: a delivery replayed within the window is answered
// 200 and not handled again; one whose handling failed for good may be
// redelivered, as the failure's log line says.
func TestReplayedDelivery(t *testing.T) {
	var calls atomic.Int32
	rec := &recorder{name: "count", events: []string{"issue_comment"}, ch: make(chan *plugin.Event, 10),
		handle: func(_ context.Context, ev *plugin.Event) error {
			calls.Add(1)
			if ev.DeliveryID == "fails" && calls.Load() == 2 {
				return plugin.Permanent(errors.New("GitHub said no"))
			}
			return nil
		}}
	ts := newServer(t, testOptions(), nil, rec)
	body := commentPayload(t)

	if resp := ts.post(t, "issue_comment", "once", body, secret); resp.StatusCode != http.StatusAccepted {
		t.Fatal(resp.Status)
	}
	waitEvent(t, rec.ch, "first delivery")
	if resp := ts.post(t, "issue_comment", "once", body, secret); resp.StatusCode != http.StatusOK {
		t.Errorf("replay: %s, want 200", resp.Status)
	}
	if got := ts.count("issue_comment", automation.OutcomeDuplicate); got != 1 {
		t.Errorf("duplicate count %v", got)
	}
	// A failed delivery may be redelivered.
	if resp := ts.post(t, "issue_comment", "fails", body, secret); resp.StatusCode != http.StatusAccepted {
		t.Fatal(resp.Status)
	}
	waitEvent(t, rec.ch, "failing delivery")
	// Once the failure is recorded, the delivery is forgotten; until then
	// a redelivery is still a duplicate.
	if err := waitFor(func() bool {
		return ts.post(t, "issue_comment", "fails", body, secret).StatusCode == http.StatusAccepted
	}); err != nil {
		t.Fatal("a delivery whose handling failed cannot be redelivered")
	}
	waitEvent(t, rec.ch, "redelivery")
	if n := calls.Load(); n != 3 {
		t.Errorf("plugin called %d times, want 3", n)
	}
}

// waitFor polls cond for up to 10s.
func waitFor(cond func() bool) error {
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// TestFloodWithoutSignatureKeepsHeapBounded performs the attack: many
// connections post bodies of the largest size accepted, none correctly
// signed, with and without a Content-Length. Before the byte budget, each
// body was buffered in full before its signature was checked: 24
// connections took the heap from 3 MiB to 672 MiB. Now the bytes being read
// unauthenticated never exceed --hook-max-unverified-bytes, and the rest
// are turned away with 503 before their body is read. The test asserts a
// bound on the heap during the flood, not a time.
func TestFloodWithoutSignatureKeepsHeapBounded(t *testing.T) {
	const (
		bodySize    = 8 << 20
		budget      = 16 << 20
		connections = 32
		rounds      = 3
	)
	opts := testOptions()
	opts.MaxBodyBytes = bodySize
	opts.MaxUnverifiedBytes = budget
	opts.MaxQueuedBytes = budget
	srv, err := automation.NewServer(opts, automation.Deps{
		Enablement: &switchable{}, Secrets: automation.Secrets{"*": {[]byte(secret)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served })
	url := "http://" + ln.Addr().String() + automation.HookPath

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: connections, MaxIdleConnsPerHost: connections}}
	codes := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for c := range connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				// The body is generated as it is sent: the client holds
				// none of it.
				body := io.LimitReader(pattern{}, bodySize)
				req, err := http.NewRequest(http.MethodPost, url, body)
				if err != nil {
					t.Error(err)
					return
				}
				if (c+r)%2 == 0 {
					req.ContentLength = bodySize
				} else {
					req.ContentLength = -1 // chunked
				}
				req.Header.Set(webhook.HeaderEvent, "issue_comment")
				req.Header.Set(webhook.HeaderDelivery, fmt.Sprintf("flood-%d-%d", c, r))
				req.Header.Set(webhook.HeaderSignature, "sha256="+fmt.Sprintf("%064x", c))
				resp, err := client.Do(req)
				if err != nil {
					// The server may close a connection whose body it
					// refused to read.
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				codes[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled

	grown := int64(peak.Load()) - int64(base.HeapAlloc)
	// Live unauthenticated bodies stay within the budget. With Go's
	// default GOGC=100 the heap may grow to twice what is live before a
	// collection, and a body without a Content-Length leaves the buffers
	// it outgrew (as much again) as garbage: four times the budget, and
	// one more for the rest of the test process.
	bound := int64(5 * budget)
	t.Logf("heap grew by %d MiB at most (bound %d MiB, unbounded reading would hold %d MiB); answers %v",
		grown>>20, bound>>20, (connections*bodySize)>>20, codes)
	if grown > bound {
		t.Errorf("heap grew by %d MiB during the flood, bound %d MiB", grown>>20, bound>>20)
	}
	if codes[http.StatusAccepted] != 0 {
		t.Errorf("%d unsigned deliveries accepted", codes[http.StatusAccepted])
	}
	if codes[http.StatusServiceUnavailable] == 0 || codes[http.StatusBadRequest]+codes[http.StatusUnauthorized] == 0 {
		t.Errorf("want both bodies read within the budget and refused (400, 401) and bodies refused unread (503): %v", codes)
	}
}

// pattern is an endless reader of JSON-ish bytes.
type pattern struct{}

func (pattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "{\"a\":1}"[i%7]
	}
	return len(p), nil
}

func TestHTTPServerTimeouts(t *testing.T) {
	s := automation.NewHTTPServer(http.NotFoundHandler())
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.IdleTimeout <= 0 || s.MaxHeaderBytes <= 0 {
		t.Errorf("server without limits: %+v", s)
	}
	if s.ReadTimeout > time.Minute {
		t.Errorf("read timeout %s lets a slow client hold its budget for long", s.ReadTimeout)
	}
}

// listedEnablement enables plugins per plugins.yaml entry and lists them.
type listedEnablement map[string][]string

func (l listedEnablement) EnabledPlugins(org, repo string) []string { return l[org+"/"+repo] }
func (l listedEnablement) EnabledRepos() map[string][]string        { return l }
func (l listedEnablement) ExternalPlugins() map[string][]string {
	return map[string][]string{"acme/secret": {"cherrypicker"}, "acme/public": {"cherrypicker"}}
}
func (l listedEnablement) Enablement() plugin.Enablement { return l }

// TestPluginHelpNamesNoPrivateRepository: plugin help is served to anyone;
// a private repository enabled in plugins.yaml (or one deck.hidden_repos
// names) must not appear in it.
func TestPluginHelpNamesNoPrivateRepository(t *testing.T) {
	fg := forgetest.Start(t, `
users:
- {login: bowline-bot, token: bot-token, bot: true}
orgs:
- {login: acme, admins: [bowline-bot]}
repos:
- {name: acme/public}
- {name: acme/secret, private: true}
- {name: acme/unlisted}
`)
	bot := fg.Client(t, "bot-token")
	vis := &automation.RepoVisibility{
		GitHub: func(string) (*github.Client, error) { return bot, nil },
		Hidden: func() []string { return []string{"acme/unlisted"} },
	}
	en := listedEnablement{"acme": {"a"}, "acme/public": {"a"}, "acme/secret": {"a"}, "acme/unlisted": {"a"}}
	srv, err := automation.NewServer(automation.DefaultOptions(), automation.Deps{
		Plugins:    []plugin.Plugin{&recorder{name: "a", events: []string{"push"}}},
		Enablement: en,
		Secrets:    automation.Secrets{"*": {[]byte(secret)}},
		PublicRepo: vis.Public,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Shutdown(t.Context()) })
	for _, path := range []string{automation.PluginHelpPath, automation.APIPluginHelpPath} {
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "acme/public") {
			t.Errorf("%s does not name the public repository: %s", path, body)
		}
		for _, private := range []string{"acme/secret", "acme/unlisted"} {
			if strings.Contains(string(body), private) {
				t.Errorf("%s names %s: %s", path, private, body)
			}
		}
	}
}
