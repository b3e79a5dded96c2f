package ghclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxBufferedBody is the largest request body without GetBody that is
// kept in memory so that the request can be retried; larger ones are sent
// once.
const maxBufferedBody = 8 << 20

// maxInspectedBody bounds how much of a 403 body is read to tell a
// secondary rate limit from a permission error.
const maxInspectedBody = 64 << 10

// retryTransport retries failed attempts with exponential backoff and
// jitter. 5xx responses and connection errors are retried for idempotent
// methods only: a POST that reached GitHub may have taken effect (a
// duplicate comment is worse than a failed one). Rate-limit rejections are
// retried for every method because GitHub did not act on the request.
type retryTransport struct {
	next          http.RoundTripper
	maxRetries    int
	initial, max  time.Duration
	secondaryWait time.Duration
	maxWait       time.Duration
	jitter        func() float64
	pacer
}

// verdict is what to do after one attempt.
type verdict struct {
	retry  bool
	reason string
	// after is the least time to wait before the next attempt.
	after time.Duration
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	hasBody := req.Body != nil && req.Body != http.NoBody
	if hasBody && req.GetBody == nil && req.ContentLength >= 0 && req.ContentLength <= maxBufferedBody {
		// A retry needs the body again. go-github's JSON bodies come with
		// GetBody already; this is for uploads of known, modest size.
		body, err := io.ReadAll(req.Body)
		closeBody(req)
		if err != nil {
			return nil, err
		}
		req = req.Clone(ctx)
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 {
			r = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := t.next.RoundTrip(r)
		if ctx.Err() != nil {
			// The caller is gone; its error says more than the attempt's.
			if resp != nil {
				resp.Body.Close()
			}
			return nil, ctx.Err()
		}
		v := t.classify(req.Method, resp, err)
		replayable := !hasBody || req.GetBody != nil
		if !v.retry || !replayable || attempt >= t.maxRetries {
			return resp, err
		}
		d := max(v.after, backoff(attempt, t.initial, t.max, t.random()))
		if v.reason == waitPrimary {
			// The rate transport waits for the reset on the next attempt.
			d = 0
		}
		if d > t.maxWait {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxInspectedBody))
			resp.Body.Close()
		}
		if err := t.wait(ctx, v.reason, d); err != nil {
			return nil, err
		}
	}
}

func (t *retryTransport) random() float64 {
	if t.jitter != nil {
		return t.jitter()
	}
	return rand.Float64()
}

// classify decides whether an attempt is worth repeating. It may replace
// resp.Body with an equivalent reader after inspecting it.
func (t *retryTransport) classify(method string, resp *http.Response, err error) verdict {
	if err != nil {
		var rle *RateLimitError
		if errors.As(err, &rle) || errors.Is(err, context.Canceled) {
			// Waiting longer is what the error says cannot be done.
			return verdict{}
		}
		return verdict{retry: idempotent(method), reason: waitBackoff}
	}
	switch code := resp.StatusCode; {
	case code >= 500:
		return verdict{retry: idempotent(method), reason: waitBackoff}
	case code == http.StatusForbidden || code == http.StatusTooManyRequests:
		if resp.Header.Get("X-RateLimit-Remaining") == "0" {
			if resp.Header.Get("X-RateLimit-Reset") == "" {
				// Without a reset time the rate transport cannot wait for
				// it; back off instead.
				return verdict{retry: true, reason: waitBackoff, after: t.secondaryWait}
			}
			return verdict{retry: true, reason: waitPrimary}
		}
		if after, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			return verdict{retry: true, reason: waitSecondary, after: after}
		}
		if code == http.StatusTooManyRequests || mentionsSecondaryLimit(resp) {
			return verdict{retry: true, reason: waitSecondary, after: t.secondaryWait}
		}
	}
	return verdict{}
}

// mentionsSecondaryLimit reads the start of a 403 body, which is the only
// place GitHub sometimes says that a secondary rate limit was hit, and puts
// it back for the caller.
func mentionsSecondaryLimit(resp *http.Response) bool {
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxInspectedBody))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil {
		return false
	}
	body := strings.ToLower(string(head))
	return strings.Contains(body, "secondary rate limit") || strings.Contains(body, "abuse detection")
}

// retryAfter parses a Retry-After header: seconds, as GitHub sends it.
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	s, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || s < 0 {
		return 0, false
	}
	return time.Duration(s) * time.Second, true
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// backoff is the wait before retry number attempt+1: initial doubled per
// attempt, capped at ceiling, with "equal jitter" (half fixed, half random) so
// that clients that failed together do not retry together. r is in [0,1).
func backoff(attempt int, initial, ceiling time.Duration, r float64) time.Duration {
	d := initial
	for i := 0; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	half := d / 2
	return half + time.Duration(r*float64(d-half))
}
