package ghclient

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-cmp/cmp"
	clocktesting "k8s.io/utils/clock/testing"
)

const testAppID = 4242

// appServer plays GitHub's App endpoints: installation lookup by org or
// user, token minting, and a repository endpoint that records which token
// called it.
type appServer struct {
	t     *testing.T
	key   *rsa.PublicKey
	clock *clocktesting.FakePassiveClock

	mu       sync.Mutex
	minted   int
	lookups  []string
	callers  []string // Authorization of each repository request
	installs map[string]string
}

func (s *appServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	auth := r.Header.Get("Authorization")
	switch {
	case strings.HasSuffix(r.URL.Path, "/installation"):
		s.checkJWT(auth)
		s.lookups = append(s.lookups, r.URL.Path)
		if id, ok := s.installs[r.URL.Path]; ok {
			fmt.Fprintf(w, `{"id":%s}`, id)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Not Found"}`)
	case strings.HasPrefix(r.URL.Path, "/app/installations/") && r.Method == http.MethodPost:
		s.checkJWT(auth)
		s.minted++
		id := strings.Split(r.URL.Path, "/")[3]
		expires := s.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"token":"ghs_inst%s_%d","expires_at":%q}`, id, s.minted, expires)
	default:
		s.callers = append(s.callers, auth)
		fmt.Fprint(w, `{"number":1}`)
	}
}

// checkJWT verifies that App endpoints are called with a JWT signed by the
// App's key and issued for its ID.
func (s *appServer) checkJWT(auth string) {
	raw, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		s.t.Errorf("App endpoint called with Authorization %q, want a bearer JWT", auth)
		return
	}
	var claims jwt.RegisteredClaims
	if _, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return s.key, nil }); err != nil {
		s.t.Errorf("App JWT does not verify: %v", err)
		return
	}
	if claims.Issuer != fmt.Sprint(testAppID) {
		s.t.Errorf("App JWT issuer = %q, want %d", claims.Issuer, testAppID)
	}
}

func newAppKey(t *testing.T) (*rsa.PrivateKey, Secret) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return key, Secret(pemKey)
}

func TestAppInstallationTokens(t *testing.T) {
	key, pemKey := newAppKey(t)
	srv := &appServer{t: t, key: &key.PublicKey, installs: map[string]string{
		"/orgs/acme/installation":  "7",
		"/users/solo/installation": "8",
	}}
	h := newHarness(t, srv, func(o *Options) {
		o.Token = ""
		o.AppID = testAppID
		o.AppPrivateKey = pemKey
	})
	srv.clock = h.clock
	ctx := context.Background()
	call := func(org string) {
		t.Helper()
		if _, _, err := h.gh(t, org).PullRequests.Get(ctx, org, "r", 1); err != nil {
			t.Fatal(err)
		}
	}

	call("acme")
	call("acme")
	h.clock.SetTime(t0.Add(54 * time.Minute)) // 6 minutes left: still used
	call("acme")
	h.clock.SetTime(t0.Add(56 * time.Minute)) // 4 minutes left: replaced
	call("acme")
	call("solo") // a user account: the org lookup 404s, the user lookup finds it
	call("ACME") // org names are case-insensitive

	srv.mu.Lock()
	defer srv.mu.Unlock()
	want := []string{
		"Bearer ghs_inst7_1", "Bearer ghs_inst7_1", "Bearer ghs_inst7_1",
		"Bearer ghs_inst7_2", "Bearer ghs_inst8_3", "Bearer ghs_inst7_2",
	}
	if diff := cmp.Diff(want, srv.callers); diff != "" {
		t.Errorf("tokens used (-want +got):\n%s", diff)
	}
	wantLookups := []string{"/orgs/acme/installation", "/orgs/solo/installation", "/users/solo/installation"}
	if diff := cmp.Diff(wantLookups, srv.lookups); diff != "" {
		t.Errorf("installation lookups (-want +got):\n%s", diff)
	}

	tok, err := h.client.Token(ctx, "acme")
	if err != nil || tok != "ghs_inst7_2" {
		t.Errorf("Token(acme) = %q, %v; want the current installation token", tok, err)
	}
}

func TestAppNotInstalled(t *testing.T) {
	key, pemKey := newAppKey(t)
	srv := &appServer{t: t, key: &key.PublicKey, installs: map[string]string{}}
	h := newHarness(t, srv, func(o *Options) {
		o.Token = ""
		o.AppID = testAppID
		o.AppPrivateKey = pemKey
	})
	srv.clock = h.clock
	_, _, err := h.gh(t, "nowhere").PullRequests.Get(context.Background(), "nowhere", "r", 1)
	if err == nil || !strings.Contains(err.Error(), "installation for nowhere") {
		t.Fatalf("err = %v, want an installation lookup error", err)
	}
	if strings.Contains(err.Error(), "BEGIN RSA") || strings.Contains(err.Error(), "Bearer") {
		t.Errorf("error leaks a credential: %v", err)
	}
	if _, err := h.client.ForOrg(""); err == nil {
		t.Error("ForOrg(\"\") succeeded for an App client, want an error")
	}
}

func TestAuthorizationHeader(t *testing.T) {
	tests := []struct {
		name  string
		token Secret
		want  string
	}{
		{"personal access token", "ghp_abc", "Bearer ghp_abc"},
		{"anonymous", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Get("Authorization")
				fmt.Fprint(w, `{}`)
			}), func(o *Options) { o.Token = tt.token })
			if _, _, err := h.gh(t, "o").PullRequests.Get(context.Background(), "o", "r", 1); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Authorization = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCredentialsNotSentToRedirectTargets(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{}
	record := func(who string, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen[who] = r.Header.Get("Authorization")
	}
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record("storage", r)
		fmt.Fprint(w, `{}`)
	}))
	t.Cleanup(storage.Close)
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record("api", r)
		http.Redirect(w, r, storage.URL+"/archive.tar.gz", http.StatusFound)
	}), nil)
	gh := h.gh(t, "o")
	req, err := gh.NewRequest(context.Background(), http.MethodGet, "repos/o/r/tarball/main", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gh.Do(req, nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"api": "Bearer ghp_test-token-value", "storage": ""}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("Authorization by host (-want +got):\n%s", diff)
	}
}

func TestIsNotFound(t *testing.T) {
	tests := []struct {
		name   string
		status int
		want   bool
	}{
		{"404", http.StatusNotFound, true},
		{"403", http.StatusForbidden, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				fmt.Fprint(w, `{"message":"nope"}`)
			}), nil)
			_, _, err := h.gh(t, "o").PullRequests.Get(context.Background(), "o", "r", 1)
			if got := IsNotFound(fmt.Errorf("wrapped: %w", err)); got != tt.want {
				t.Errorf("IsNotFound(%v) = %v, want %v", err, got, tt.want)
			}
		})
	}
	if IsNotFound(nil) {
		t.Error("IsNotFound(nil) = true")
	}
}
