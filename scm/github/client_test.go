package ghclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v89/github"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "token", opts: Options{Token: "t"}},
		{name: "app", opts: Options{AppID: 1, AppPrivateKey: "pem"}},
		{name: "anonymous", opts: Options{}},
		{name: "enterprise", opts: Options{Token: "t", BaseURL: "https://ghe.example.com/api/v3/"}},
		{name: "token and app", opts: Options{Token: "t", AppID: 1, AppPrivateKey: "pem"}, wantErr: "either a token or a GitHub App"},
		{name: "app without key", opts: Options{AppID: 1}, wantErr: "needs both"},
		{name: "relative base URL", opts: Options{BaseURL: "/api/v3"}, wantErr: "absolute"},
		{name: "negative cache", opts: Options{CacheMaxBytes: -1}, wantErr: "cache max bytes"},
		{
			name:    "credentials in a bad URL are masked",
			opts:    Options{BaseURL: "ftp://user:hunter2@ghe.example.com/"},
			wantErr: "ftp://user:%5Bredacted%5D@ghe.example.com/",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Errorf("Validate() leaks a password: %v", err)
			}
		})
	}
}

func TestURLDefaults(t *testing.T) {
	tests := []struct {
		name                 string
		base, upload         string
		wantBase, wantUpload string
	}{
		{"github.com", "", "", "https://api.github.com/", "https://uploads.github.com/"},
		{"enterprise", "https://ghe.example.com/api/v3", "", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/uploads/"},
		{"enterprise with upload", "https://ghe.example.com/api/v3/", "https://up.example.com", "https://ghe.example.com/api/v3/", "https://up.example.com/"},
		{"forge on one root", "http://127.0.0.1:8080", "", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{BaseURL: tt.base, UploadURL: tt.upload}.withDefaults()
			if o.BaseURL != tt.wantBase || o.UploadURL != tt.wantUpload {
				t.Errorf("URLs = %q, %q; want %q, %q", o.BaseURL, o.UploadURL, tt.wantBase, tt.wantUpload)
			}
		})
	}
}

func TestEnterpriseBaseURL(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		fmt.Fprint(w, `{"number":1}`)
	}), nil)
	c, err := New(Options{BaseURL: h.server.URL + "/api/v3/", Token: "t", Metrics: h.metrics})
	if err != nil {
		t.Fatal(err)
	}
	gh, err := c.ForOrg("o")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.PullRequests.Get(context.Background(), "o", "r", 1); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/api/v3/repos/o/r/pulls/1"}, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	if got, want := gh.UploadURL(), h.server.URL+"/api/uploads/"; got != want {
		t.Errorf("upload URL = %q, want %q", got, want)
	}
	// The metric's path template drops the Enterprise prefix.
	if got := testutil.ToFloat64(h.metrics.requests.WithLabelValues("GET", "/repos/:owner/:repo/pulls/:number", "200")); got != 1 {
		t.Errorf("requests_total for the templated path = %v, want 1", got)
	}
}

func TestSecretsStayOutOfOutput(t *testing.T) {
	const token = "ghp_SuperSecretValue123"
	opts := Options{Token: token, AppPrivateKey: "-----BEGIN RSA PRIVATE KEY-----"}
	var out bytes.Buffer
	fmt.Fprintf(&out, "%v %+v %#v %s", opts, opts, opts, opts.Token)
	j, err := json.Marshal(map[string]Secret{"token": opts.Token, "key": opts.AppPrivateKey})
	if err != nil {
		t.Fatal(err)
	}
	out.Write(j)

	// A rejected request's error names the URL and GitHub's message only.
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"Bad credentials"}`)
	}), func(o *Options) { o.Token = token })
	_, _, err = h.gh(t, "o").PullRequests.Get(context.Background(), "o", "r", 1)
	if err == nil {
		t.Fatal("want an error for 401")
	}
	fmt.Fprint(&out, err)

	// Nor do the metrics.
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	h2 := newHarness(t, &limitServer{remaining: 10, resource: "core"}, func(o *Options) { o.Token = token; o.Metrics = m; o.RateLimitReserve = 1 })
	if _, _, err := h2.gh(t, "o").PullRequests.Get(context.Background(), "o", "r", 1); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		fmt.Fprint(&out, f.String())
	}

	for _, secret := range []string{token, "BEGIN RSA"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("output contains %q:\n%s", secret, out.String())
		}
	}
	if !strings.Contains(out.String(), "Bad credentials") {
		t.Errorf("error lost GitHub's message: %v", err)
	}
}

func TestMaskURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.github.com/", "https://api.github.com/"},
		{"https://x-access-token:ghs_abc@github.com/o/r.git", "https://x-access-token:%5Bredacted%5D@github.com/o/r.git"},
		{"https://ghp_abc@github.com/o/r.git", "https://%5Bredacted%5D@github.com/o/r.git"},
		{"https://ghe.example.com/login?access_token=abc&page=2", "https://ghe.example.com/login?access_token=%5Bredacted%5D&page=2"},
		{"://bad", "[redacted]"},
	}
	for _, tt := range tests {
		if got := MaskURL(tt.in); got != tt.want {
			t.Errorf("MaskURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMetricsRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := NewMetrics(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg); err == nil {
		t.Error("registering twice succeeded, want an AlreadyRegistered error")
	}
}

func TestRequestsByTemplate(t *testing.T) {
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
		}
		fmt.Fprint(w, `{}`)
	}), nil)
	gh := h.gh(t, "o")
	ctx := context.Background()
	for n := range 3 {
		if _, _, err := gh.Issues.CreateComment(ctx, "o", "r", n+1, &github.IssueComment{Body: github.Ptr("x")}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := gh.Repositories.GetCombinedStatus(ctx, "o", "r", fmt.Sprintf("sha%d", n), nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ method, path, status string }{
		{"POST", "/repos/:owner/:repo/issues/:number/comments", "201"},
		{"GET", "/repos/:owner/:repo/commits/:ref/status", "200"},
	} {
		if got := testutil.ToFloat64(h.metrics.requests.WithLabelValues(tt.method, tt.path, tt.status)); got != 3 {
			t.Errorf("requests_total{%s %s %s} = %v, want 3", tt.method, tt.path, tt.status, got)
		}
	}
	if n := testutil.CollectAndCount(h.metrics.requests); n != 2 {
		t.Errorf("requests_total has %d series, want 2", n)
	}
}
