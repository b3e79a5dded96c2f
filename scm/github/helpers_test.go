package ghclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
	clocktesting "k8s.io/utils/clock/testing"
)

// t0 is the fake clock's start; GitHub's reset times are whole seconds.
var t0 = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

// sleeper is a fake Sleep: it records each wait and moves the clock on, so
// backoff and rate-limit waits take no real time.
type sleeper struct {
	clock *clocktesting.FakePassiveClock
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	s.clock.SetTime(s.clock.Now().Add(d))
	return nil
}

func (s *sleeper) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// harness is a Client against an httptest server with a fake clock.
type harness struct {
	client  *Client
	server  *httptest.Server
	clock   *clocktesting.FakePassiveClock
	sleeper *sleeper
	metrics *Metrics
}

func newHarness(t testing.TB, handler http.Handler, mutate func(*Options)) *harness {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	clk := clocktesting.NewFakePassiveClock(t0)
	sl := &sleeper{clock: clk}
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		BaseURL: srv.URL + "/",
		Token:   "ghp_test-token-value",
		Metrics: m,
		Clock:   clk,
		Sleep:   sl.sleep,
		Jitter:  func() float64 { return 0 },
	}
	if mutate != nil {
		mutate(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{client: c, server: srv, clock: clk, sleeper: sl, metrics: m}
}

func (h *harness) gh(t *testing.T, org string) *github.Client {
	t.Helper()
	gh, err := h.client.ForOrg(org)
	if err != nil {
		t.Fatal(err)
	}
	return gh
}

// eventually polls cond until it holds, for state another goroutine
// reaches without telling the test (a request joining a flight).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
