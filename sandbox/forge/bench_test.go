package forge_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
)

// benchEnv is a forge with one open pull request, a budget no benchmark
// exhausts, and go-github's client.
func benchEnv(b *testing.B) (*forgetest.Env, *github.Client) {
	b.Helper()
	seed, err := forge.ParseSeed([]byte(seedYAML))
	if err != nil {
		b.Fatal(err)
	}
	env := forgetest.StartSeed(b, seed, forge.Options{RateLimit: 1 << 30, SearchRateLimit: 1 << 30})
	if _, err := env.As("bob").OpenPR(context.Background(), "acme/widgets", forge.PullRequest{Title: "Bench", Head: "bench",
		Files: map[string][]byte{"b.txt": []byte("b\n")}}); err != nil {
		b.Fatal(err)
	}
	return env, env.Client(b, "alice-token")
}

// BenchmarkForgeAPI measures go-github calls per second against the forge
// for the reads bowline's controllers make most.
func BenchmarkForgeAPI(b *testing.B) {
	env, c := benchEnv(b)
	_ = env
	ctx := context.Background()
	calls := []struct {
		name string
		do   func() error
	}{
		{"GetRepo", func() error { _, _, err := c.Repositories.Get(ctx, "acme", "widgets"); return err }},
		{"ListPulls", func() error {
			_, _, err := c.PullRequests.List(ctx, "acme", "widgets", nil)
			return err
		}},
		{"ListLabels", func() error { _, _, err := c.Issues.ListLabels(ctx, "acme", "widgets", nil); return err }},
		{"SearchIssues", func() error {
			_, _, err := c.Search.Issues(ctx, "is:pr state:open repo:acme/widgets label:lgtm", nil)
			return err
		}},
		{"CreateComment", func() error {
			_, _, err := c.Issues.CreateComment(ctx, "acme", "widgets", 1, &github.IssueComment{Body: github.Ptr("/retest")})
			return err
		}},
	}
	for _, call := range calls {
		b.Run(call.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := call.do(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}

// BenchmarkForgeConditionalGet measures repeated reads revalidated with
// If-None-Match, which the forge answers 304 without spending budget.
func BenchmarkForgeConditionalGet(b *testing.B) {
	env, _ := benchEnv(b)
	hc := env.Server.Client()
	first, err := hc.Do(newGet(b, env.URL+"/repos/acme/widgets/pulls/1", ""))
	if err != nil {
		b.Fatal(err)
	}
	first.Body.Close()
	etag := first.Header.Get("ETag")
	var notModified int
	b.ResetTimer()
	for b.Loop() {
		resp, err := hc.Do(newGet(b, env.URL+"/repos/acme/widgets/pulls/1", etag))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotModified {
			notModified++
		}
	}
	b.ReportMetric(float64(notModified)/float64(b.N)*100, "%304")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

func newGet(b *testing.B, url, etag string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "token alice-token")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	return req
}

func ExampleForge_As() {
	f, err := forge.New(forge.Options{})
	if err != nil {
		panic(err)
	}
	defer f.Close()
	ctx := context.Background()
	seed, _ := forge.ParseSeed([]byte(`
users: [{login: alice}]
repos: [{name: alice/demo, files: {README.md: "hi\n"}}]
`))
	if err := f.Seed(ctx, seed); err != nil {
		panic(err)
	}
	pr, err := f.As("alice").OpenPR(ctx, "alice/demo", forge.PullRequest{Title: "Say more", Head: "more",
		Files: map[string][]byte{"README.md": []byte("hi there\n")}})
	if err != nil {
		panic(err)
	}
	sha, err := f.As("alice").Merge(ctx, "alice/demo", pr.GetNumber(), "squash")
	fmt.Println(pr.GetNumber(), len(sha), err)
	// Output: 1 40 <nil>
}
