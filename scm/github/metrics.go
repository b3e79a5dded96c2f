package ghclient

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"
)

// Cache results recorded in bowline_github_cache_responses_total.
const (
	cacheHit304    = "hit304"
	cacheMiss      = "miss"
	cacheCoalesced = "coalesced"
)

// Reasons for waiting recorded in bowline_github_wait_seconds.
const (
	waitBackoff   = "backoff"
	waitSecondary = "secondary_rate_limit"
	waitPrimary   = "primary_rate_limit"
	waitBudget    = "budget"
)

// Metrics are the GitHub client's Prometheus collectors. One Metrics is
// shared by every Client of a process.
type Metrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	remaining *prometheus.GaugeVec
	cache     *prometheus.CounterVec
	wait      *prometheus.HistogramVec
}

// NewMetrics creates the collectors and registers them on reg
// (controller-runtime's metrics.Registry in production). A nil reg leaves
// them unregistered, which suits tests and tools.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bowline_github_requests_total",
			Help: "HTTP requests sent to GitHub, by method, path template and status code (\"error\" when no response arrived).",
		}, []string{"method", "path", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bowline_github_request_duration_seconds",
			Help:    "Time from sending a request to GitHub to its response headers, by method and path template.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "path"}),
		remaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bowline_github_tokens_remaining",
			Help: "Requests left in GitHub's primary rate limit window, as last reported, by identity and rate-limit resource.",
		}, []string{"identity", "resource"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bowline_github_cache_responses_total",
			Help: "Cacheable GET requests by result: hit304 (revalidated, served from cache), miss (full response), coalesced (shared a concurrent identical request).",
		}, []string{"result"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bowline_github_wait_seconds",
			Help:    "Time spent waiting before sending a request, by reason: backoff, secondary_rate_limit, primary_rate_limit, budget.",
			Buckets: []float64{.1, .5, 1, 5, 15, 60, 300, 900, 3600},
		}, []string{"reason"}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.remaining, m.cache, m.wait} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Metrics) observeWait(reason string, d time.Duration) {
	m.wait.WithLabelValues(reason).Observe(d.Seconds())
}

func (m *Metrics) cacheResult(result string) {
	m.cache.WithLabelValues(result).Inc()
}

// instrumentTransport counts and times every request that goes on the wire.
type instrumentTransport struct {
	next    http.RoundTripper
	metrics *Metrics
	clock   clock.PassiveClock
	// prefix is the API base path (/api/v3/ for GitHub Enterprise), removed
	// before templating.
	prefix string
}

func (t *instrumentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	path := pathTemplate(t.prefix, req.URL.EscapedPath())
	start := t.clock.Now()
	resp, err := t.next.RoundTrip(req)
	t.metrics.duration.WithLabelValues(req.Method, path).Observe(t.clock.Since(start).Seconds())
	status := "error"
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
	}
	t.metrics.requests.WithLabelValues(req.Method, path, status).Inc()
	return resp, err
}
