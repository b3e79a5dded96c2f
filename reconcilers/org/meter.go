package org

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/google/go-github/v89/github"
)

// Usage is what one sync cost in GitHub API requests.
type Usage struct {
	// Requests counts every request sent, retries included.
	Requests int64
	// NotModified counts reads GitHub answered 304 Not Modified: the ETag
	// cache served them and GitHub did not count them against the limit.
	NotModified int64
	// Writes counts requests that change something.
	Writes int64
	// Remaining is the rate limit left after the last response, -1 when
	// GitHub did not say.
	Remaining int64
}

// Charged is the requests counted against the rate limit.
func (u Usage) Charged() int64 { return u.Requests - u.NotModified }

// meter counts the requests of one sync on their way to the shared
// client's transport (the ETag cache, retries, rate limits).
type meter struct {
	next                          http.RoundTripper
	requests, notModified, writes atomic.Int64
	remaining                     atomic.Int64
}

func (m *meter) RoundTrip(req *http.Request) (*http.Response, error) {
	m.requests.Add(1)
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		m.writes.Add(1)
	}
	resp, err := m.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	// The cache marks a response it revalidated with a 304.
	if resp.Header.Get("X-From-Cache") != "" {
		m.notModified.Add(1)
	}
	if r, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Remaining"), 10, 64); err == nil {
		m.remaining.Store(r)
	}
	return resp, err
}

func (m *meter) usage() Usage {
	return Usage{Requests: m.requests.Load(), NotModified: m.notModified.Load(), Writes: m.writes.Load(), Remaining: m.remaining.Load()}
}

// metered returns a client sending through gh's transport, and the meter
// counting what it sends.
func metered(gh *github.Client) (*github.Client, *meter, error) {
	m := &meter{next: gh.Client().Transport}
	m.remaining.Store(-1)
	if m.next == nil {
		m.next = http.DefaultTransport
	}
	base, upload := gh.BaseURL(), gh.UploadURL()
	c, err := github.NewClient(github.WithHTTPClient(&http.Client{Transport: m}), github.WithURLs(&base, &upload),
		github.WithDisableRateLimitCheck())
	if err != nil {
		return nil, nil, fmt.Errorf("github client: %w", err)
	}
	return c, m, nil
}
