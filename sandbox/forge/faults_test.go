package forge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
)

// faultsForge starts a seeded forge with the fault admin endpoint and a
// clock the test moves.
func faultsForge(t *testing.T, now func() time.Time) *forgetest.Env {
	t.Helper()
	seed, err := forge.ParseSeed([]byte(seedYAML))
	if err != nil {
		t.Fatal(err)
	}
	return forgetest.StartSeed(t, seed, forge.Options{FaultInjection: true, Now: now})
}

// postFaults adds rules through the admin endpoint and returns its answer's
// status and rules.
func postFaults(t *testing.T, url, body string) (int, []forge.FaultRule) {
	t.Helper()
	resp, err := http.Post(url+forge.FaultsPath, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Rules []forge.FaultRule `json:"rules"`
	}
	if resp.StatusCode == http.StatusCreated {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, out.Rules
}

func TestFaultInjection(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	env := faultsForge(t, now)
	ctx := context.Background()
	alice := env.Client(t, "alice-token")
	getRepo := func(t *testing.T) int {
		_, resp, err := alice.Repositories.Get(ctx, "acme", "widgets")
		return status(t, resp, err)
	}

	t.Run("server errors, counted", func(t *testing.T) {
		code, rules := postFaults(t, env.URL, `{"rules":[{"method":"GET","path":"/repos/acme/*","status":502,"count":2}]}`)
		if code != http.StatusCreated || len(rules) != 1 || rules[0].ID == 0 {
			t.Fatalf("POST %s = %d %+v", forge.FaultsPath, code, rules)
		}
		for i, want := range []int{502, 502, 200} {
			if got := getRepo(t); got != want {
				t.Fatalf("request %d: %d, want %d", i, got, want)
			}
		}
		// Other methods and paths were never matched.
		if _, resp, err := alice.Repositories.ListStatuses(ctx, "acme", "widgets", "main", nil); status(t, resp, err) != 200 {
			t.Fatal("a longer path matched a rule of one segment")
		}
		if got := env.Forge.Faults(); len(got) != 1 || got[0].Hits != 2 {
			t.Fatalf("rules after use: %+v", got)
		}
		env.Forge.ClearFaults()
	})

	t.Run("secondary rate limit with Retry-After", func(t *testing.T) {
		if _, err := env.Forge.AddFaults(forge.FaultRule{Path: "/repos/acme/widgets/**", Status: 403, RetryAfter: 7, Count: 1}); err != nil {
			t.Fatal(err)
		}
		// A client of its own: go-github holds back its client's requests
		// until the Retry-After passed.
		_, _, err := env.Client(t, "alice-token").Issues.ListLabels(ctx, "acme", "widgets", nil)
		var abuse *github.AbuseRateLimitError
		if !errors.As(err, &abuse) || abuse.GetRetryAfter() != 7*time.Second || !strings.Contains(abuse.Message, "secondary rate limit") {
			t.Fatalf("error %v (%T), want go-github's secondary rate limit error with Retry-After 7s", err, err)
		}
		env.Forge.ClearFaults()
	})

	t.Run("for a while", func(t *testing.T) {
		code, _ := postFaults(t, env.URL, `{"rules":[{"path":"/**","status":503,"for":"10s"}]}`)
		if code != http.StatusCreated {
			t.Fatalf("POST = %d", code)
		}
		if got := getRepo(t); got != 503 {
			t.Fatalf("during the fault: %d", got)
		}
		advance(11 * time.Second)
		if got := getRepo(t); got != 200 {
			t.Fatalf("after the fault: %d", got)
		}
		env.Forge.ClearFaults()
	})

	t.Run("a delayed write the client gave up on has no effect", func(t *testing.T) {
		if _, err := env.Forge.AddFaults(forge.FaultRule{Method: "POST", Path: "/repos/acme/widgets/statuses/*", Delay: forge.Duration{Duration: 5 * time.Second}}); err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, _, err := alice.Repositories.CreateStatus(short, "acme", "widgets", "main", github.RepoStatus{State: github.Ptr("success"), Context: github.Ptr("late")})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v, want the client's deadline", err)
		}
		env.Forge.ClearFaults()
		list, _, err := alice.Repositories.ListStatuses(ctx, "acme", "widgets", "main", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list {
			if s.GetContext() == "late" {
				t.Fatalf("the abandoned request set a status: %+v", s)
			}
		}
	})

	t.Run("a delay shorter than the client's patience only slows", func(t *testing.T) {
		if _, err := env.Forge.AddFaults(forge.FaultRule{Path: "/repos/acme/widgets", Delay: forge.Duration{Duration: 50 * time.Millisecond}, Count: 1}); err != nil {
			t.Fatal(err)
		}
		if got := getRepo(t); got != 200 {
			t.Fatalf("delayed request: %d", got)
		}
		env.Forge.ClearFaults()
	})

	t.Run("listing and clearing", func(t *testing.T) {
		postFaults(t, env.URL, `{"rules":[{"path":"/user","status":500}]}`)
		resp, err := http.Get(env.URL + forge.FaultsPath)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Rules []forge.FaultRule }
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || len(got.Rules) != 1 || got.Rules[0].Path != "/user" {
			t.Fatalf("GET %s: %v %+v", forge.FaultsPath, err, got)
		}
		req, _ := http.NewRequest(http.MethodDelete, env.URL+forge.FaultsPath, nil)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE: %v %v", err, resp)
		}
		if n := len(env.Forge.Faults()); n != 0 {
			t.Fatalf("%d rules left after DELETE", n)
		}
	})

	t.Run("bad rules", func(t *testing.T) {
		for _, body := range []string{
			`{"rules":[{"path":"repos","status":500}]}`,
			`{"rules":[{"path":"/x"}]}`,
			`{"rules":[{"path":"/x","status":200}]}`,
			`{"rules":[{"path":"/x","status":500,"method":"FETCH"}]}`,
			`{"rules":[{"path":"/x","status":500,"count":-1}]}`,
			`{"rules":[{"path":"/x","delay":"soon"}]}`,
			`{"rules":[{"path":"/x","status":500,"colour":"red"}]}`,
		} {
			if code, _ := postFaults(t, env.URL, body); code != http.StatusUnprocessableEntity && code != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400 or 422", body, code)
			}
		}
		if n := len(env.Forge.Faults()); n != 0 {
			t.Fatalf("a bad request added %d rules", n)
		}
	})
}

// TestFaultsEndpointNeedsTheOption checks that a forge started without
// FaultInjection does not let anyone break it.
func TestFaultsEndpointNeedsTheOption(t *testing.T) {
	env := forgetest.Start(t, seedYAML)
	resp, err := http.Post(env.URL+forge.FaultsPath, "application/json", bytes.NewReader([]byte(`{"rules":[{"path":"/**","status":500}]}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusCreated || len(env.Forge.Faults()) != 0 {
		t.Fatalf("POST %s without FaultInjection: %d, %d rules", forge.FaultsPath, resp.StatusCode, len(env.Forge.Faults()))
	}
}
