package ghclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// etagServer serves a pull request with an ETag and answers 304 when asked
// with a matching If-None-Match, as GitHub does.
type etagServer struct {
	mu       sync.Mutex
	title    string
	requests []string // If-None-Match of each request
}

func (s *etagServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Header.Get("If-None-Match"))
	etag := fmt.Sprintf("%q", s.title)
	w.Header().Set("X-RateLimit-Remaining", "4000")
	w.Header().Set("X-RateLimit-Reset", fmt.Sprint(t0.Add(3600e9).Unix()))
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	fmt.Fprintf(w, `{"number":1,"title":%q}`, s.title)
}

func TestETagRevalidation(t *testing.T) {
	srv := &etagServer{title: "first"}
	h := newHarness(t, srv, nil)
	gh := h.gh(t, "o")
	ctx := context.Background()

	var titles []string
	get := func() {
		pr, _, err := gh.PullRequests.Get(ctx, "o", "r", 1)
		if err != nil {
			t.Fatal(err)
		}
		titles = append(titles, pr.GetTitle())
	}
	get()
	get()
	srv.mu.Lock()
	srv.title = "second"
	srv.mu.Unlock()
	get()
	get()

	if diff := cmp.Diff([]string{"first", "first", "second", "second"}, titles); diff != "" {
		t.Errorf("titles (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"", `"first"`, `"first"`, `"second"`}, srv.requests); diff != "" {
		t.Errorf("If-None-Match sent (-want +got):\n%s", diff)
	}
	for result, want := range map[string]float64{cacheHit304: 2, cacheMiss: 2, cacheCoalesced: 0} {
		if got := testutil.ToFloat64(h.metrics.cache.WithLabelValues(result)); got != want {
			t.Errorf("cache %s = %v, want %v", result, got, want)
		}
	}
}

func TestCacheKeyedByIdentityAndAccept(t *testing.T) {
	srv := &etagServer{title: "t"}
	h := newHarness(t, srv, nil)
	wire := h.client.wire
	cache := newLRUCache(1<<20, 100)
	ctx := context.Background()
	send := func(identity, accept string) {
		tr := &cacheTransport{next: wire, identity: identity, cache: cache, flights: &flightGroup{}, maxEntryBytes: 1 << 20, metrics: h.metrics}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.server.URL+"/repos/o/r/pulls/1", nil)
		req.Header.Set("Accept", accept)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	send("token/a", "application/json")
	send("token/b", "application/json") // another credential: no validator
	send("token/a", "application/vnd.github.diff")
	send("token/a", "application/json") // same as the first: revalidated
	if diff := cmp.Diff([]string{"", "", "", `"t"`}, srv.requests); diff != "" {
		t.Errorf("If-None-Match sent (-want +got):\n%s", diff)
	}
}

func TestUncacheableRequestsPassThrough(t *testing.T) {
	srv := &etagServer{title: "t"}
	h := newHarness(t, srv, nil)
	gh := h.gh(t, "o")
	ctx := context.Background()
	for range 2 {
		req, err := gh.NewRequest(ctx, http.MethodGet, "repos/o/r/pulls/1", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("If-None-Match", `"caller's own"`)
		if _, err := gh.Do(req, nil); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{`"caller's own"`, `"caller's own"`}, srv.requests); diff != "" {
		t.Errorf("If-None-Match sent (-want +got):\n%s", diff)
	}
	if entries, _ := h.client.cache.stats(); entries != 0 {
		t.Errorf("cache holds %d entries, want 0", entries)
	}
}

func TestLRUBounds(t *testing.T) {
	body := func(n int) *response {
		return &response{statusCode: 200, header: http.Header{}, body: make([]byte, n)}
	}
	tests := []struct {
		name       string
		maxBytes   int64
		maxEntries int
		ops        func(c *lruCache)
		want       []string // keys present, most recent first
	}{
		{
			name: "entry bound evicts least recently added", maxBytes: 1 << 20, maxEntries: 2,
			ops:  func(c *lruCache) { c.add("a", body(1)); c.add("b", body(1)); c.add("c", body(1)) },
			want: []string{"c", "b"},
		},
		{
			name: "a read makes an entry recent", maxBytes: 1 << 20, maxEntries: 2,
			ops: func(c *lruCache) {
				c.add("a", body(1))
				c.add("b", body(1))
				c.get("a")
				c.add("c", body(1))
			},
			want: []string{"c", "a"},
		},
		{
			name: "byte bound evicts until it fits", maxBytes: 250, maxEntries: 100,
			ops:  func(c *lruCache) { c.add("a", body(100)); c.add("b", body(100)); c.add("c", body(100)) },
			want: []string{"c", "b"},
		},
		{
			name: "an entry larger than the cache is not stored", maxBytes: 50, maxEntries: 100,
			ops:  func(c *lruCache) { c.add("a", body(10)); c.add("big", body(100)) },
			want: []string{"a"},
		},
		{
			name: "replacing a key keeps one entry", maxBytes: 1 << 20, maxEntries: 100,
			ops:  func(c *lruCache) { c.add("a", body(10)); c.add("a", body(20)) },
			want: []string{"a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newLRUCache(tt.maxBytes, tt.maxEntries)
			tt.ops(c)
			var got []string
			var sum int64
			for el := c.order.Front(); el != nil; el = el.Next() {
				e := el.Value.(*cacheEntry)
				got = append(got, e.key)
				sum += e.size
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if _, bytes := c.stats(); bytes != sum || bytes > tt.maxBytes {
				t.Errorf("accounted bytes = %d, entries hold %d, bound %d", bytes, sum, tt.maxBytes)
			}
		})
	}
}

// blockingServer holds every request until released, so that the test can
// line concurrent callers up behind one request.
type blockingServer struct {
	arrived chan struct{}
	release chan struct{}
	count   atomic.Int32
}

func (s *blockingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.count.Add(1)
	s.arrived <- struct{}{}
	<-s.release
	w.Header().Set("ETag", `"v"`)
	fmt.Fprint(w, `{"number":1,"title":"shared"}`)
}

func TestConcurrentIdenticalGETsCoalesce(t *testing.T) {
	srv := &blockingServer{arrived: make(chan struct{}, 10), release: make(chan struct{})}
	h := newHarness(t, srv, nil)
	gh := h.gh(t, "o")
	const callers = 5

	// The first caller's context is cancelled while it waits; the shared
	// request must still complete for everyone else.
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	type result struct {
		title string
		err   error
	}
	results := make(chan result, callers)
	call := func(ctx context.Context) {
		pr, _, err := gh.PullRequests.Get(ctx, "o", "r", 1)
		results <- result{pr.GetTitle(), err}
	}
	go call(leaderCtx)
	<-srv.arrived
	for range callers - 1 {
		go call(context.Background())
	}
	waiters := func() int {
		h.client.flights.mu.Lock()
		defer h.client.flights.mu.Unlock()
		for _, f := range h.client.flights.calls {
			return f.waiters
		}
		return 0
	}
	eventually(t, "all callers to join the request", func() bool { return waiters() == callers })
	cancelLeader()
	eventually(t, "the cancelled caller to leave", func() bool { return waiters() == callers-1 })
	close(srv.release)

	var titles []string
	var cancelled int
	for range callers {
		r := <-results
		switch {
		case errors.Is(r.err, context.Canceled):
			cancelled++
		case r.err != nil:
			t.Errorf("call failed: %v", r.err)
		default:
			titles = append(titles, r.title)
		}
	}
	if diff := cmp.Diff([]string{"shared", "shared", "shared", "shared"}, titles); diff != "" {
		t.Errorf("titles (-want +got):\n%s", diff)
	}
	if cancelled != 1 {
		t.Errorf("%d calls cancelled, want 1", cancelled)
	}
	if got := srv.count.Load(); got != 1 {
		t.Errorf("server saw %d requests, want 1", got)
	}
	if got := testutil.ToFloat64(h.metrics.cache.WithLabelValues(cacheCoalesced)); got != callers-1 {
		t.Errorf("coalesced = %v, want %d", got, callers-1)
	}
}

func TestFlightCancelledWhenEveryCallerLeaves(t *testing.T) {
	var g flightGroup
	started := make(chan struct{})
	stopped := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	_, _, err := g.do(ctx, "k", func(fctx context.Context) (*response, error) {
		close(started)
		<-fctx.Done()
		stopped <- fctx.Err()
		return nil, fctx.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("do() = %v, want context.Canceled", err)
	}
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Errorf("shared request context = %v, want cancelled", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.calls) != 0 {
		t.Errorf("%d calls left in the group, want 0", len(g.calls))
	}
}
