package ghclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/time/rate"
)

// limitServer reports a rate-limit window that the test sets.
type limitServer struct {
	mu        sync.Mutex
	remaining int
	reset     time.Time
	resource  string
	paths     []string
	etag      bool
}

func (s *limitServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paths = append(s.paths, r.URL.Path)
	if s.remaining > 0 {
		s.remaining--
	}
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", fmt.Sprint(s.remaining))
	w.Header().Set("X-RateLimit-Reset", fmt.Sprint(s.reset.Unix()))
	w.Header().Set("X-RateLimit-Resource", s.resource)
	if s.etag {
		if r.Header.Get("If-None-Match") == `"same"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"same"`)
	}
	fmt.Fprint(w, `{"number":1}`)
}

func TestPrimaryRateLimitWait(t *testing.T) {
	tests := []struct {
		name      string
		remaining int
		resetIn   time.Duration
		maxWait   time.Duration
		wantWaits []time.Duration
		wantErr   bool
		wantCalls int
		wantGauge float64
	}{
		{
			name: "plenty left: no wait", remaining: 1000, resetIn: time.Hour,
			wantCalls: 2, wantGauge: 998,
		},
		{
			name: "at the reserve: wait for the reset", remaining: 21, resetIn: 20 * time.Minute,
			wantWaits: []time.Duration{20*time.Minute + time.Second}, wantCalls: 2, wantGauge: 19,
		},
		{
			name: "reset beyond the longest wait: fail without a request", remaining: 3, resetIn: time.Hour,
			maxWait: 30 * time.Minute, wantErr: true, wantCalls: 1, wantGauge: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &limitServer{remaining: tt.remaining, reset: t0.Add(tt.resetIn), resource: "core"}
			h := newHarness(t, srv, func(o *Options) { o.MaxWait = tt.maxWait })
			gh := h.gh(t, "o")
			ctx := context.Background()
			if _, _, err := gh.PullRequests.Get(ctx, "o", "r", 1); err != nil {
				t.Fatal(err)
			}
			_, _, err := gh.PullRequests.Get(ctx, "o", "r", 2)
			if (err != nil) != tt.wantErr {
				t.Fatalf("second call err = %v, want error: %v", err, tt.wantErr)
			}
			var rle *RateLimitError
			if tt.wantErr && !errors.As(err, &rle) {
				t.Errorf("err = %v, want a *RateLimitError", err)
			}
			if diff := cmp.Diff(tt.wantWaits, h.sleeper.recorded()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if got := len(srv.paths); got != tt.wantCalls {
				t.Errorf("server saw %d requests, want %d", got, tt.wantCalls)
			}
			if got := testutil.ToFloat64(h.metrics.remaining.WithLabelValues("token", "core")); got != tt.wantGauge {
				t.Errorf("tokens remaining gauge = %v, want %v", got, tt.wantGauge)
			}
		})
	}
}

func TestRateLimitsArePerResource(t *testing.T) {
	srv := &limitServer{remaining: 2, reset: t0.Add(time.Minute), resource: "search"}
	h := newHarness(t, srv, nil)
	gh := h.gh(t, "o")
	ctx := context.Background()
	if _, _, err := gh.Search.Issues(ctx, "is:pr", nil); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	srv.resource = "core"
	srv.mu.Unlock()
	// Search is nearly exhausted; core calls do not wait for it.
	if _, _, err := gh.PullRequests.Get(ctx, "o", "r", 1); err != nil {
		t.Fatal(err)
	}
	if waits := h.sleeper.recorded(); len(waits) != 0 {
		t.Errorf("core call waited %v for the search limit", waits)
	}
}

func TestBudget(t *testing.T) {
	srv := &limitServer{remaining: 5000, reset: t0.Add(time.Hour), resource: "core", etag: true}
	// One request an hour, so each charged request after the first waits an
	// hour on the fake clock.
	budget := rate.NewLimiter(rate.Every(time.Hour), 1)
	h := newHarness(t, srv, func(o *Options) { o.Budget = budget; o.MaxWait = 2 * time.Hour })
	gh := h.gh(t, "o")
	ctx := context.Background()
	get := func(n int) {
		t.Helper()
		if _, _, err := gh.PullRequests.Get(ctx, "o", "r", n); err != nil {
			t.Fatal(err)
		}
	}
	get(1) // charged, within the burst
	get(1) // revalidated with 304: free, no wait
	get(2) // charged: waits for the bucket to refill
	if diff := cmp.Diff([]time.Duration{time.Hour}, h.sleeper.recorded()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if got := testutil.ToFloat64(h.metrics.cache.WithLabelValues(cacheHit304)); got != 1 {
		t.Errorf("hit304 = %v, want 1", got)
	}
}

func TestBudgetSharedAcrossClients(t *testing.T) {
	srv := &limitServer{remaining: 5000, reset: t0.Add(time.Hour), resource: "core"}
	budget := rate.NewLimiter(rate.Every(time.Hour), 1)
	a := newHarness(t, srv, func(o *Options) { o.Budget = budget; o.MaxWait = time.Minute })
	b := newHarness(t, srv, func(o *Options) { o.Budget = budget; o.MaxWait = time.Minute })
	ctx := context.Background()
	if _, _, err := a.gh(t, "o").PullRequests.Get(ctx, "o", "r", 1); err != nil {
		t.Fatal(err)
	}
	// The other client draws on the same, now empty, bucket; an hour's
	// wait exceeds its MaxWait, so it fails without a request.
	if _, _, err := b.gh(t, "o").PullRequests.Get(ctx, "o", "r", 1); err == nil {
		t.Fatal("second client's call succeeded, want a budget error")
	}
	if got := len(srv.paths); got != 1 {
		t.Errorf("server saw %d requests, want 1", got)
	}
}

func TestCancelDuringRateLimitWait(t *testing.T) {
	srv := &limitServer{remaining: 2, reset: t0.Add(30 * time.Minute), resource: "core"}
	ctx, cancel := context.WithCancel(context.Background())
	h := newHarness(t, srv, func(o *Options) {
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			cancel() // the caller gives up while waiting
			<-ctx.Done()
			return ctx.Err()
		}
	})
	gh := h.gh(t, "o")
	if _, _, err := gh.PullRequests.Get(context.Background(), "o", "r", 1); err != nil {
		t.Fatal(err)
	}
	_, _, err := gh.PullRequests.Get(ctx, "o", "r", 2)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := len(srv.paths); got != 1 {
		t.Errorf("server saw %d requests, want 1", got)
	}
}
