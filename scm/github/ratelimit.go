package ghclient

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/utils/clock"
)

// pacer waits on behalf of the transports and records how long.
type pacer struct {
	clock   clock.PassiveClock
	sleep   func(ctx context.Context, d time.Duration) error
	metrics *Metrics
}

func (p pacer) wait(ctx context.Context, reason string, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	start := p.clock.Now()
	err := p.sleep(ctx, d)
	waited := d
	if err != nil {
		waited = p.clock.Since(start)
	}
	p.metrics.observeWait(reason, waited)
	return err
}

// rateWindow is GitHub's last report on one rate-limit resource.
type rateWindow struct {
	remaining int
	reset     time.Time
}

// rateState holds one identity's rate-limit windows by resource (core,
// search, graphql …); each resource has its own limit at GitHub.
type rateState struct {
	mu      sync.Mutex
	windows map[string]rateWindow
}

func (s *rateState) get(resource string) (rateWindow, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.windows[resource]
	return w, ok
}

func (s *rateState) set(resource string, w rateWindow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.windows[resource] = w
}

// forget drops a window that has reset, so the waiters that woke up do not
// wait again before the next response reports the new window.
func (s *rateState) forget(resource string, reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.windows[resource]; ok && !w.reset.After(reset) {
		delete(s.windows, resource)
	}
}

// rateLimitResource names the rate-limit resource a request counts
// against, as GitHub's X-RateLimit-Resource header does.
func rateLimitResource(path string) string {
	switch {
	case strings.Contains(path, "/search/code"):
		return "code_search"
	case strings.Contains(path, "/search/"):
		return "search"
	case strings.HasSuffix(path, "/graphql"):
		return "graphql"
	default:
		return "core"
	}
}

// rateTransport waits for the primary rate limit to reset when GitHub
// reports that few requests remain, and charges the shared budget.
type rateTransport struct {
	next     http.RoundTripper
	identity string
	state    *rateState
	reserve  int
	budget   *rate.Limiter
	maxWait  time.Duration
	pacer
}

// budgetResource is RateLimitError.Resource when the process's own budget
// is exhausted.
const budgetResource = "budget"

// RateLimitError reports that a request would have had to wait longer than
// Options.MaxWait for GitHub's rate limit to reset, or for the budget to
// allow it.
type RateLimitError struct {
	// Resource is GitHub's rate-limit resource (core, search …), or
	// "budget" for the process's own budget.
	Resource string
	// Reset is when GitHub said the window resets.
	Reset time.Time
}

func (e *RateLimitError) Error() string {
	if e.Reset.IsZero() {
		return fmt.Sprintf("github %s rate limit exhausted", e.Resource)
	}
	return fmt.Sprintf("github %s rate limit exhausted until %s", e.Resource, e.Reset.UTC().Format(time.RFC3339))
}

func (t *rateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	resource := rateLimitResource(req.URL.Path)
	if w, ok := t.state.get(resource); ok && w.remaining <= t.reserve {
		// GitHub's reset is a whole second; a second more avoids arriving
		// just before it.
		d := w.reset.Sub(t.clock.Now()) + time.Second
		if d > t.maxWait {
			closeBody(req)
			return nil, &RateLimitError{Resource: resource, Reset: w.reset}
		}
		if err := t.wait(ctx, waitPrimary, d); err != nil {
			closeBody(req)
			return nil, err
		}
		t.state.forget(resource, w.reset)
	}
	// A revalidation answered 304 is free at GitHub, so conditional
	// requests are charged afterwards, and only when they were not.
	conditional := req.Header.Get("If-None-Match") != "" || req.Header.Get("If-Modified-Since") != ""
	if t.budget != nil && !conditional {
		if err := t.takeBudget(ctx); err != nil {
			closeBody(req)
			return nil, err
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if t.budget != nil && conditional && resp.StatusCode != http.StatusNotModified {
		// Charged after the fact: the token is borrowed and the next
		// request waits for it.
		t.budget.ReserveN(t.clock.Now(), 1)
	}
	t.observe(resource, resp)
	return resp, nil
}

func (t *rateTransport) takeBudget(ctx context.Context) error {
	now := t.clock.Now()
	r := t.budget.ReserveN(now, 1)
	if !r.OK() {
		return &RateLimitError{Resource: budgetResource}
	}
	d := r.DelayFrom(now)
	if d > t.maxWait {
		r.CancelAt(now)
		return &RateLimitError{Resource: budgetResource, Reset: now.Add(d)}
	}
	if err := t.wait(ctx, waitBudget, d); err != nil {
		r.CancelAt(t.clock.Now())
		return err
	}
	return nil
}

// observe records GitHub's rate-limit headers.
func (t *rateTransport) observe(resource string, resp *http.Response) {
	remaining, err := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining"))
	if err != nil {
		return
	}
	reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil {
		return
	}
	if r := resp.Header.Get("X-RateLimit-Resource"); r != "" {
		resource = r
	}
	t.state.set(resource, rateWindow{remaining: remaining, reset: time.Unix(reset, 0)})
	t.metrics.remaining.WithLabelValues(t.identity, resource).Set(float64(remaining))
}
