package ghclient_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v89/github"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	ghclient "github.com/bowline-ci/bowline/scm/github"
)

const forgeSeed = `
users:
- login: alice
  token: alice-token
- login: bob
  token: bob-token
- login: carol
  token: carol-token
orgs:
- login: acme
  admins: [alice]
  members: [bob]
  teams:
  - name: Maintainers
    maintainers: [alice]
    repos: {widgets: write}
repos:
- name: acme/widgets
  files:
    README.md: "# widgets\n"
    OWNERS: "approvers: [alice]\n"
  collaborators: {carol: read}
  labels: [{name: lgtm, color: 15dd18}, {name: approved, color: 0ffa16}]
`

// forgeClient returns a Client for the forge with its metrics.
func forgeClient(t testing.TB, env *forgetest.Env, opts ghclient.Options) (*ghclient.Client, *github.Client, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := ghclient.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	opts.BaseURL = env.URL
	opts.Metrics = m
	c, err := ghclient.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := c.ForOrg("acme")
	if err != nil {
		t.Fatal(err)
	}
	return c, gh, reg
}

func openPR(t testing.TB, env *forgetest.Env, author, branch string) *github.PullRequest {
	t.Helper()
	pr, err := env.As(author).OpenPR(context.Background(), "acme/widgets", forge.PullRequest{
		Title: "Add " + branch, Head: branch,
		Files: map[string][]byte{branch + ".txt": []byte("hello\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

func cacheCount(t testing.TB, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "bowline_github_cache_responses_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestAgainstForge drives the calls bowline's components make, through the
// client's transport, against the sandbox forge.
func TestAgainstForge(t *testing.T) {
	env := forgetest.Start(t, forgeSeed)
	pr := openPR(t, env, "bob", "feature")
	_, gh, reg := forgeClient(t, env, ghclient.Options{Token: "alice-token"})
	ctx := context.Background()
	const owner, repo = "acme", "widgets"
	n, sha := pr.GetNumber(), pr.GetHead().GetSHA()

	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	got, _, err := gh.PullRequests.Get(ctx, owner, repo, n)
	must("get PR", err)
	if got.GetUser().GetLogin() != "bob" || got.GetHead().GetSHA() != sha {
		t.Errorf("PR author %q head %q, want bob %q", got.GetUser().GetLogin(), got.GetHead().GetSHA(), sha)
	}
	// The same read again is revalidated: 304, served from the cache.
	_, resp, err := gh.PullRequests.Get(ctx, owner, repo, n)
	must("get PR again", err)
	if resp.Header.Get("X-From-Cache") == "" {
		t.Error("repeated read was not answered from the cache")
	}
	if hits := cacheCount(t, reg, "hit304"); hits != 1 {
		t.Errorf("hit304 = %v, want 1", hits)
	}

	files, _, err := gh.PullRequests.ListFiles(ctx, owner, repo, n, nil)
	must("list files", err)
	var names []string
	for _, f := range files {
		names = append(names, f.GetFilename())
	}
	if diff := cmp.Diff([]string{"feature.txt"}, names); diff != "" {
		t.Errorf("PR files (-want +got):\n%s", diff)
	}

	_, _, err = gh.Repositories.CreateStatus(ctx, owner, repo, sha, github.RepoStatus{
		State: github.Ptr("success"), Context: github.Ptr("ci/unit"), Description: github.Ptr("passed"),
	})
	must("create status", err)
	combined, _, err := gh.Repositories.GetCombinedStatus(ctx, owner, repo, sha, nil)
	must("combined status", err)
	if combined.GetState() != "success" || len(combined.Statuses) != 1 {
		t.Errorf("combined status %q with %d statuses, want success with 1", combined.GetState(), len(combined.Statuses))
	}

	c, _, err := gh.Issues.CreateComment(ctx, owner, repo, n, &github.IssueComment{Body: github.Ptr("/lgtm")})
	must("create comment", err)
	_, _, err = gh.Issues.EditComment(ctx, owner, repo, c.GetID(), &github.IssueComment{Body: github.Ptr("/lgtm cancel")})
	must("edit comment", err)
	comments, _, err := gh.Issues.ListComments(ctx, owner, repo, n, nil)
	must("list comments", err)
	if len(comments) != 1 || comments[0].GetBody() != "/lgtm cancel" {
		t.Errorf("comments = %v, want the edited one", comments)
	}
	_, err = gh.Issues.DeleteComment(ctx, owner, repo, c.GetID())
	must("delete comment", err)
	// A write changes what a cached list holds: the revalidation must see it.
	comments, _, err = gh.Issues.ListComments(ctx, owner, repo, n, nil)
	must("list comments after delete", err)
	if len(comments) != 0 {
		t.Errorf("%d comments after delete, want 0", len(comments))
	}

	_, _, err = gh.Issues.AddLabelsToIssue(ctx, owner, repo, n, []string{"lgtm", "approved"})
	must("add labels", err)
	_, err = gh.Issues.RemoveLabelForIssue(ctx, owner, repo, n, "approved")
	must("remove label", err)
	labels, _, err := gh.Issues.ListLabelsByIssue(ctx, owner, repo, n, nil)
	must("list labels", err)
	if len(labels) != 1 || labels[0].GetName() != "lgtm" {
		t.Errorf("labels = %v, want [lgtm]", labels)
	}

	member, _, err := gh.Organizations.IsMember(ctx, owner, "bob")
	must("is member", err)
	outsider, _, err := gh.Organizations.IsMember(ctx, owner, "carol")
	must("is member (carol)", err)
	if !member || outsider {
		t.Errorf("IsMember bob=%v carol=%v, want true false", member, outsider)
	}
	var members []string
	for m, err := range gh.Organizations.ListMembersIter(ctx, owner, nil) {
		must("list members", err)
		members = append(members, m.GetLogin())
	}
	if diff := cmp.Diff([]string{"alice", "bob"}, members); diff != "" {
		t.Errorf("org members (-want +got):\n%s", diff)
	}
	collaborator, _, err := gh.Repositories.IsCollaborator(ctx, owner, repo, "carol")
	must("is collaborator", err)
	if !collaborator {
		t.Error("carol is not a collaborator, want one")
	}
	perm, _, err := gh.Repositories.GetPermissionLevel(ctx, owner, repo, "carol")
	must("permission level", err)
	if perm.GetPermission() != "read" {
		t.Errorf("carol's permission = %q, want read", perm.GetPermission())
	}
	teams, _, err := gh.Teams.ListTeams(ctx, owner, nil)
	must("list teams", err)
	if len(teams) != 1 || teams[0].GetSlug() != "maintainers" {
		t.Errorf("teams = %v, want [maintainers]", teams)
	}

	content, _, _, err := gh.Repositories.GetContents(ctx, owner, repo, "OWNERS", nil)
	must("get contents", err)
	if text, err := content.GetContent(); err != nil || text != "approvers: [alice]\n" {
		t.Errorf("OWNERS = %q, %v", text, err)
	}

	found, _, err := gh.Search.Issues(ctx, "is:pr state:open repo:acme/widgets label:lgtm", nil)
	must("search", err)
	if found.GetTotal() != 1 || found.Issues[0].GetNumber() != n {
		t.Errorf("search found %d issues, want PR %d", found.GetTotal(), n)
	}

	merged, _, err := gh.PullRequests.Merge(ctx, owner, repo, n, "", &github.PullRequestOptions{MergeMethod: "squash", SHA: sha})
	must("merge", err)
	if !merged.GetMerged() {
		t.Errorf("merge result %+v, want merged", merged)
	}
	got, _, err = gh.PullRequests.Get(ctx, owner, repo, n)
	must("get merged PR", err)
	if !got.GetMerged() || got.GetState() != "closed" {
		t.Errorf("PR merged=%v state=%q after merge; a stale cache entry was served", got.GetMerged(), got.GetState())
	}
}

func TestForgeRejectionsComeThrough(t *testing.T) {
	env := forgetest.Start(t, forgeSeed)
	pr := openPR(t, env, "bob", "feature")
	_, gh, _ := forgeClient(t, env, ghclient.Options{Token: "carol-token"})
	// carol can read but not label: GitHub's 403 reaches the caller
	// unretried, and without the token in it.
	_, _, err := gh.Issues.AddLabelsToIssue(context.Background(), "acme", "widgets", pr.GetNumber(), []string{"lgtm"})
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode/100 != 4 {
		t.Fatalf("labelling as a reader: err = %v, want a 4xx ErrorResponse", err)
	}
	if msg := err.Error(); strings.Contains(msg, "carol-token") {
		t.Errorf("error contains the token: %s", msg)
	}
}

func TestForgeGitHubApp(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	seed, err := forge.ParseSeed([]byte(forgeSeed))
	if err != nil {
		t.Fatal(err)
	}
	seed.Apps = []forge.SeedApp{{
		ID: 77, Slug: "bowline", PublicKey: string(pubPEM),
		Permissions:   map[string]string{"issues": "write", "pull_requests": "write", "contents": "read", "metadata": "read"},
		Installations: []forge.SeedInstallation{{ID: 9, Account: "acme"}},
	}}
	env := forgetest.StartSeed(t, seed, forge.Options{})
	pr := openPR(t, env, "bob", "feature")
	c, gh, _ := forgeClient(t, env, ghclient.Options{AppID: 77, AppPrivateKey: ghclient.Secret(privPEM)})
	ctx := context.Background()

	comment, _, err := gh.Issues.CreateComment(ctx, "acme", "widgets", pr.GetNumber(), &github.IssueComment{Body: github.Ptr("Hello from the App")})
	if err != nil {
		t.Fatal(err)
	}
	if login := comment.GetUser().GetLogin(); login != "bowline[bot]" {
		t.Errorf("comment author = %q, want bowline[bot]", login)
	}
	tok, err := c.Token(ctx, "acme")
	if err != nil || tok == "" {
		t.Fatalf("Token(acme) = %v; want an installation token", err)
	}
	// The installation token works for git-style access with a plain client.
	plain := env.Client(t, tok)
	if _, _, err := plain.Repositories.Get(ctx, "acme", "widgets"); err != nil {
		t.Errorf("installation token rejected: %v", err)
	}
}

// BenchmarkClientAgainstForge measures client calls per second against the
// sandbox forge on a read-heavy workload (bowline's shape: mostly reads of
// PRs, statuses, comments and labels, with a write one call in twenty), and
// the share of repeated reads answered 304.
func BenchmarkClientAgainstForge(b *testing.B) {
	for _, mode := range []string{"sequential", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			env := forgetest.Start(b, forgeSeed)
			const prs = 8
			var numbers []int
			var shas []string
			for i := range prs {
				pr := openPR(b, env, "bob", fmt.Sprintf("change-%d", i))
				numbers = append(numbers, pr.GetNumber())
				shas = append(shas, pr.GetHead().GetSHA())
			}
			_, gh, reg := forgeClient(b, env, ghclient.Options{Token: "alice-token"})
			ctx := context.Background()
			// Six reads, each repeated, per PR: 48 distinct URLs.
			reads := []func(i int) error{
				func(i int) error { _, _, err := gh.PullRequests.Get(ctx, "acme", "widgets", numbers[i]); return err },
				func(i int) error {
					_, _, err := gh.PullRequests.ListFiles(ctx, "acme", "widgets", numbers[i], nil)
					return err
				},
				func(i int) error {
					_, _, err := gh.Repositories.GetCombinedStatus(ctx, "acme", "widgets", shas[i], nil)
					return err
				},
				func(i int) error {
					_, _, err := gh.Issues.ListComments(ctx, "acme", "widgets", numbers[i], nil)
					return err
				},
				func(i int) error {
					_, _, err := gh.Issues.ListLabelsByIssue(ctx, "acme", "widgets", numbers[i], nil)
					return err
				},
				func(i int) error {
					_, _, _, err := gh.Repositories.GetContents(ctx, "acme", "widgets", "OWNERS", nil)
					return err
				},
			}
			// The first read of each URL cannot be a 304; count them.
			var firstReads sync.Map
			const ownersRead = 5 // one URL whatever the PR
			write := func(i int) error {
				_, _, err := gh.Repositories.CreateStatus(ctx, "acme", "widgets", shas[i], github.RepoStatus{
					State: github.Ptr("success"), Context: github.Ptr(fmt.Sprintf("ci/job-%d", i%3)),
				})
				return err
			}
			var writes int64
			step := func(i int) error {
				pr := i % prs
				if i%20 == 19 {
					return write(pr)
				}
				kind := (i / prs) % len(reads)
				key := [2]int{kind, pr}
				if kind == ownersRead {
					key[1] = 0
				}
				firstReads.LoadOrStore(key, true)
				return reads[kind](pr)
			}
			b.ResetTimer()
			if mode == "sequential" {
				for i := 0; b.Loop(); i++ {
					if i%20 == 19 {
						writes++
					}
					if err := step(i); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				var next atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := int(next.Add(1) - 1)
						if err := step(i); err != nil {
							b.Error(err)
							return
						}
					}
				})
				writes = next.Load() / 20
			}
			b.StopTimer()
			elapsed := b.Elapsed()
			hits, misses, coalesced := cacheCount(b, reg, "hit304"), cacheCount(b, reg, "miss"), cacheCount(b, reg, "coalesced")
			calls := hits + misses + coalesced + float64(writes)
			b.ReportMetric(calls/elapsed.Seconds(), "calls/s")
			distinct := 0
			firstReads.Range(func(any, any) bool { distinct++; return true })
			if repeated := hits + misses + coalesced - float64(distinct); repeated > 0 {
				b.ReportMetric(100*(hits+coalesced)/repeated, "%304")
			}
		})
	}
}

// TestRetriesForgeFaults injects GitHub's failures into the forge and
// checks what the client makes of them: reads are retried through server
// errors, timeouts and secondary rate limits (waiting for Retry-After);
// writes are retried through rate limits, which GitHub did not act on,
// but not through server errors or timeouts, after which GitHub may have
// acted: their callers retry them (docs/reliability.md).
func TestRetriesForgeFaults(t *testing.T) {
	env := forgetest.Start(t, forgeSeed)
	ctx := context.Background()
	status := github.RepoStatus{State: github.Ptr("success"), Context: github.Ptr("ci")}
	tests := []struct {
		name  string
		rule  forge.FaultRule
		call  func(gh *github.Client) error
		fails bool
		// hits is how many attempts the rule answered.
		hits int
	}{
		{name: "read through server errors", rule: forge.FaultRule{Method: "GET", Path: "/repos/acme/widgets", Status: 502, Count: 3},
			call: func(gh *github.Client) error { _, _, err := gh.Repositories.Get(ctx, "acme", "widgets"); return err }, hits: 3},
		{name: "read through a secondary rate limit", rule: forge.FaultRule{Method: "GET", Path: "/repos/acme/widgets/labels", Status: 403, RetryAfter: 1, Count: 2},
			call: func(gh *github.Client) error {
				_, _, err := gh.Issues.ListLabels(ctx, "acme", "widgets", nil)
				return err
			}, hits: 2},
		{name: "read through timeouts", rule: forge.FaultRule{Method: "GET", Path: "/repos/acme/widgets/branches", Delay: forge.Duration{Duration: 5 * time.Second}, Count: 2},
			call: func(gh *github.Client) error {
				_, _, err := gh.Repositories.ListBranches(ctx, "acme", "widgets", nil)
				return err
			}, hits: 2},
		{name: "write through a secondary rate limit", rule: forge.FaultRule{Method: "POST", Path: "/repos/acme/widgets/statuses/*", Status: 429, RetryAfter: 1, Count: 1},
			call: func(gh *github.Client) error {
				_, _, err := gh.Repositories.CreateStatus(ctx, "acme", "widgets", "main", status)
				return err
			}, hits: 1},
		{name: "a write's server error is the caller's", rule: forge.FaultRule{Method: "POST", Path: "/repos/acme/widgets/statuses/*", Status: 500, Count: 1},
			call: func(gh *github.Client) error {
				_, _, err := gh.Repositories.CreateStatus(ctx, "acme", "widgets", "main", status)
				return err
			}, fails: true, hits: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.Forge.ClearFaults()
			if _, err := env.Forge.AddFaults(tt.rule); err != nil {
				t.Fatal(err)
			}
			_, gh, _ := forgeClient(t, env, ghclient.Options{Token: "alice-token", InitialBackoff: 10 * time.Millisecond,
				MaxBackoff: 50 * time.Millisecond, RequestTimeout: 300 * time.Millisecond})
			err := tt.call(gh)
			if (err != nil) != tt.fails {
				t.Fatalf("error %v, want failure %v", err, tt.fails)
			}
			if got := env.Forge.Faults()[0].Hits; got != tt.hits {
				t.Errorf("the fault answered %d attempts, want %d", got, tt.hits)
			}
		})
	}
}
