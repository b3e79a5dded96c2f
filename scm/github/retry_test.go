package ghclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v89/github"
)

// scriptedServer answers requests with a fixed sequence of responses, the
// last one repeating.
type scriptedServer struct {
	mu      sync.Mutex
	script  []scripted
	methods []string
	hook    func(n int)
}

type scripted struct {
	status int
	header map[string]string
	body   string
}

func (s *scriptedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := len(s.methods)
	s.methods = append(s.methods, r.Method)
	step := s.script[min(n, len(s.script)-1)]
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	for k, v := range step.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(step.status)
	fmt.Fprint(w, step.body)
}

func (s *scriptedServer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.methods...)
}

const okPR = `{"number":1,"title":"ok"}`

func TestRetries(t *testing.T) {
	secondaryBody := `{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
	reset := fmt.Sprint(t0.Add(10 * time.Minute).Unix())
	tests := []struct {
		name      string
		post      bool
		script    []scripted
		wantCalls int
		wantWaits []time.Duration
		wantErr   bool
	}{
		{
			name:      "502 then success",
			script:    []scripted{{status: 502}, {status: 502}, {status: 200, body: okPR}},
			wantCalls: 3,
			wantWaits: []time.Duration{500 * time.Millisecond, time.Second},
		},
		{
			name:      "5xx until retries run out",
			script:    []scripted{{status: 503}},
			wantCalls: 4,
			wantWaits: []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second},
			wantErr:   true,
		},
		{
			name:      "502 on a POST is not retried",
			post:      true,
			script:    []scripted{{status: 502}, {status: 201, body: `{}`}},
			wantCalls: 1,
			wantErr:   true,
		},
		{
			name: "secondary rate limit with Retry-After",
			script: []scripted{
				{status: 403, header: map[string]string{"Retry-After": "30"}, body: secondaryBody},
				{status: 200, body: okPR},
			},
			wantCalls: 2,
			wantWaits: []time.Duration{30 * time.Second},
		},
		{
			name: "secondary rate limit on a POST is retried",
			post: true,
			script: []scripted{
				{status: 429, header: map[string]string{"Retry-After": "7"}},
				{status: 201, body: `{}`},
			},
			wantCalls: 2,
			wantWaits: []time.Duration{7 * time.Second},
		},
		{
			name: "secondary rate limit named only in the body waits a minute",
			script: []scripted{
				{status: 403, body: secondaryBody},
				{status: 200, body: okPR},
			},
			wantCalls: 2,
			wantWaits: []time.Duration{time.Minute},
		},
		{
			name: "Retry-After beyond the longest wait fails",
			script: []scripted{
				{status: 403, header: map[string]string{"Retry-After": "7200"}, body: secondaryBody},
			},
			wantCalls: 1,
			wantErr:   true,
		},
		{
			name:      "plain 403 is not retried",
			script:    []scripted{{status: 403, body: `{"message":"Resource not accessible by integration"}`}},
			wantCalls: 1,
			wantErr:   true,
		},
		{
			name:      "404 is not retried",
			script:    []scripted{{status: 404, body: `{"message":"Not Found"}`}},
			wantCalls: 1,
			wantErr:   true,
		},
		{
			name: "primary rate limit without a reset time backs off",
			script: []scripted{
				{status: 403, header: map[string]string{"X-RateLimit-Remaining": "0"}, body: `{"message":"API rate limit exceeded"}`},
				{status: 200, body: okPR},
			},
			wantCalls: 2,
			wantWaits: []time.Duration{time.Minute},
		},
		{
			name: "primary rate limit exhausted waits for the reset",
			script: []scripted{
				{status: 403, header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, body: `{"message":"API rate limit exceeded"}`},
				{status: 200, body: okPR},
			},
			wantCalls: 2,
			wantWaits: []time.Duration{10*time.Minute + time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &scriptedServer{script: tt.script}
			h := newHarness(t, srv, func(o *Options) { o.MaxRetries = 3 })
			gh := h.gh(t, "o")
			var err error
			if tt.post {
				_, _, err = gh.Issues.CreateComment(context.Background(), "o", "r", 1, &github.IssueComment{Body: github.Ptr("hi")})
			} else {
				_, _, err = gh.PullRequests.Get(context.Background(), "o", "r", 1)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if got := len(srv.seen()); got != tt.wantCalls {
				t.Errorf("server saw %d requests, want %d", got, tt.wantCalls)
			}
			if diff := cmp.Diff(tt.wantWaits, h.sleeper.recorded()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetryKeepsTheBody(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	attempt := 0
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		b := make([]byte, r.ContentLength)
		_, _ = r.Body.Read(b)
		bodies = append(bodies, string(b))
		attempt++
		if attempt == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{}`)
	}), nil)
	if _, _, err := h.gh(t, "o").Issues.CreateComment(context.Background(), "o", "r", 1, &github.IssueComment{Body: github.Ptr("hi")}); err != nil {
		t.Fatal(err)
	}
	want := `{"body":"hi"}` + "\n"
	if diff := cmp.Diff([]string{want, want}, bodies); diff != "" {
		t.Errorf("request bodies (-want +got):\n%s", diff)
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{0, 0, 500 * time.Millisecond},
		{0, 0.999, 999500 * time.Microsecond},
		{1, 0, time.Second},
		{2, 0.5, 3 * time.Second},
		{6, 0, 30 * time.Second},
		{7, 0, 30 * time.Second},
		{60, 0.5, 45 * time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("attempt %d r %v", tt.attempt, tt.r), func(t *testing.T) {
			if got := backoff(tt.attempt, time.Second, time.Minute, tt.r); got != tt.want {
				t.Errorf("backoff = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := &scriptedServer{script: []scripted{{status: 502}}, hook: func(int) { cancel() }}
	// The real sleep: a one-hour backoff must end as soon as ctx is done.
	h := newHarness(t, srv, func(o *Options) {
		o.Sleep = nil
		o.InitialBackoff = time.Hour
		o.MaxBackoff = time.Hour
		o.MaxWait = 2 * time.Hour
	})
	start := time.Now()
	_, _, err := h.gh(t, "o").PullRequests.Get(ctx, "o", "r", 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > time.Minute {
		t.Errorf("returned after %v, want at once", elapsed)
	}
	if got := len(srv.seen()); got != 1 {
		t.Errorf("server saw %d requests, want 1", got)
	}
}

func TestRetryOnConnectionError(t *testing.T) {
	tests := []struct {
		name      string
		post      bool
		wantCalls int
		wantErr   bool
	}{
		{name: "GET is retried", wantCalls: 2},
		{name: "POST is not", post: true, wantCalls: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				calls++
				first := calls == 1
				mu.Unlock()
				if first {
					// Drop the connection without a response.
					panic(http.ErrAbortHandler)
				}
				w.WriteHeader(http.StatusCreated)
				fmt.Fprint(w, `{"number":1}`)
			}), nil)
			gh := h.gh(t, "o")
			var err error
			if tt.post {
				_, _, err = gh.Issues.CreateComment(context.Background(), "o", "r", 1, &github.IssueComment{Body: github.Ptr("x")})
			} else {
				_, _, err = gh.PullRequests.Get(context.Background(), "o", "r", 1)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			if calls != tt.wantCalls {
				t.Errorf("server saw %d requests, want %d", calls, tt.wantCalls)
			}
		})
	}
}

func TestRetriesDisabled(t *testing.T) {
	srv := &scriptedServer{script: []scripted{{status: 502}, {status: 200, body: okPR}}}
	h := newHarness(t, srv, func(o *Options) { o.MaxRetries = -1 })
	if _, _, err := h.gh(t, "o").PullRequests.Get(context.Background(), "o", "r", 1); err == nil {
		t.Fatal("want the 502 as an error")
	}
	if got := len(srv.seen()); got != 1 {
		t.Errorf("server saw %d requests, want 1", got)
	}
}

func TestRetryBodiesWithoutGetBody(t *testing.T) {
	tests := []struct {
		name          string
		contentLength int64
		wantBodies    []string
	}{
		{name: "known length is buffered and resent", contentLength: 7, wantBodies: []string{"payload", "payload"}},
		{name: "unknown length is sent once", contentLength: -1, wantBodies: []string{"payload"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var bodies []string
			h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, string(b))
				first := len(bodies) == 1
				mu.Unlock()
				if first {
					w.Header().Set("Retry-After", "1")
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				w.WriteHeader(http.StatusCreated)
			}), nil)
			gh := h.gh(t, "o")
			// A reader http.NewRequest does not recognise, so GetBody is nil.
			body := struct{ io.Reader }{strings.NewReader("payload")}
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, h.server.URL+"/repos/o/r/releases/1/assets", body)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = tt.contentLength
			resp, err := gh.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff(tt.wantBodies, bodies); diff != "" {
				t.Errorf("bodies received (-want +got):\n%s", diff)
			}
		})
	}
}
