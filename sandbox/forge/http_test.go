package forge_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
)

func get(t *testing.T, env *forgetest.Env, path, token string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, env.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := env.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestConditionalRequestsAndRateLimit(t *testing.T) {
	fx := setup(t)
	first := get(t, fx.env, "/repos/acme/widgets", "bob-token", nil)
	etag := first.Header.Get("ETag")
	used, _ := strconv.Atoi(first.Header.Get("X-RateLimit-Used"))
	if etag == "" || first.Header.Get("X-RateLimit-Limit") != "5000" || first.Header.Get("X-RateLimit-Resource") != "core" || used != 1 {
		t.Fatalf("headers %v", first.Header)
	}
	second := get(t, fx.env, "/repos/acme/widgets", "bob-token", map[string]string{"If-None-Match": etag})
	if second.StatusCode != http.StatusNotModified || second.Header.Get("X-RateLimit-Used") != "1" || second.Header.Get("X-RateLimit-Remaining") != "4999" {
		t.Fatalf("conditional GET: %d, used %s", second.StatusCode, second.Header.Get("X-RateLimit-Used"))
	}
	// A change makes the ETag stale.
	if _, err := fx.env.As("alice").CreateIssue(fx.ctx, "acme/widgets", "x", ""); err != nil {
		t.Fatal(err)
	}
	third := get(t, fx.env, "/repos/acme/widgets", "bob-token", map[string]string{"If-None-Match": etag})
	if third.StatusCode != http.StatusOK || third.Header.Get("ETag") == etag {
		t.Fatalf("after a change: %d", third.StatusCode)
	}
	// Budgets are per token.
	if got := get(t, fx.env, "/repos/acme/widgets", "alice-token", nil).Header.Get("X-RateLimit-Used"); got != "1" {
		t.Fatalf("alice used %s", got)
	}
	// Asking is free.
	limits := must[*github.RateLimits](t)(fx.client(t, "bob-token").RateLimit.Get(fx.ctx))
	if limits.GetCore().Remaining != 4998 || limits.GetSearch().Limit != 30 {
		t.Fatalf("rate limits %+v", limits)
	}
}

func TestRateLimitEnforced(t *testing.T) {
	seed, err := forge.ParseSeed([]byte(seedYAML))
	if err != nil {
		t.Fatal(err)
	}
	env := forgetest.StartSeed(t, seed, forge.Options{RateLimit: 2, EnforceRateLimit: true})
	c := env.Client(t, "bob-token")
	for range 2 {
		must[*github.Repository](t)(c.Repositories.Get(t.Context(), "acme", "widgets"))
	}
	_, _, err = c.Repositories.Get(t.Context(), "acme", "widgets")
	var rle *github.RateLimitError
	if !errorsAs(err, &rle) {
		t.Fatalf("third call: %v, want a rate limit error", err)
	}
}

func TestErrorsAndPagination(t *testing.T) {
	fx := setup(t)
	resp := get(t, fx.env, "/repos/acme/nope", "alice-token", nil)
	var body struct {
		Message string `json:"message"`
		Doc     string `json:"documentation_url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusNotFound || body.Message != "Not Found" || body.Doc == "" {
		t.Fatalf("404 body %+v", body)
	}
	_, r, err := fx.client(t, "alice-token").Issues.Create(fx.ctx, "acme", "widgets", &github.IssueRequest{})
	var ge *github.ErrorResponse
	if !errorsAs(err, &ge) || r.StatusCode != http.StatusUnprocessableEntity || ge.Message != "Validation Failed" || len(ge.Errors) != 1 || ge.Errors[0].Field != "title" {
		t.Fatalf("422: %v", err)
	}
	for i := range 5 {
		if _, err := fx.env.As("alice").CreateIssue(fx.ctx, "acme/widgets", "issue "+strconv.Itoa(i), ""); err != nil {
			t.Fatal(err)
		}
	}
	page := get(t, fx.env, "/repos/acme/widgets/issues?per_page=2&page=2", "alice-token", nil)
	link := page.Header.Get("Link")
	for _, want := range []string{`page=3&per_page=2>; rel="next"`, `page=3&per_page=2>; rel="last"`, `page=1&per_page=2>; rel="first"`, `page=1&per_page=2>; rel="prev"`} {
		if !strings.Contains(link, want) {
			t.Fatalf("Link %q lacks %q", link, want)
		}
	}
	var issues []github.Issue
	b, _ := io.ReadAll(page.Body)
	if err := json.Unmarshal(b, &issues); err != nil || len(issues) != 2 {
		t.Fatalf("page 2: %d issues, %v", len(issues), err)
	}
}

func TestEnterprisePrefix(t *testing.T) {
	fx := setup(t)
	c, err := github.NewClient(github.WithHTTPClient(fx.env.Server.Client()), github.WithAuthToken("alice-token"),
		github.WithEnterpriseURLs(fx.env.URL, fx.env.URL))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(c.BaseURL(), "/api/v3/") {
		t.Fatalf("base URL %s", c.BaseURL())
	}
	must[*github.Repository](t)(c.Repositories.Get(fx.ctx, "acme", "secret"))
}
