package approve_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/approve"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/sandbox/forge"
)

// Sizes of BenchmarkCommentToLabel; BENCH_RATE overrides the rate.
const (
	benchRate       = 100
	benchOwners     = 500
	benchApprovers  = 20
	benchPulls      = 50
	benchFilesPerPR = 3
)

// labelCall matches the bot's label changes on the forge: adding labels to
// an issue and removing one.
var labelCall = regexp.MustCompile(`^/repos/acme/big/issues/(\d+)/labels(/approved)?$`)

// BenchmarkCommentToLabel measures the time from an /approve or /approve
// cancel comment's webhook reaching the server to the approved label being
// added or removed on the forge, at a steady 100 comments a second, on a
// repository with 500 OWNERS files (OWNERS resolution included: the
// plugin loads them through the API, cached per commit of the base
// branch). Each delivery is a new comment on one of 50 pull requests that
// each touch three directories; comments alternate between /approve and
// /approve cancel by an approver of all three, so each one changes the
// label and edits the approval notification. The GitHub side is the
// sandbox forge, reached through bowline's own client. One op is one
// delivery; "lost" counts deliveries that were refused, failed, or changed
// no label, and must be zero.
func BenchmarkCommentToLabel(b *testing.B) {
	// Every directory has an OWNERS file with one of the approvers; the
	// pull requests' approver owns all three of its directories.
	files := map[string]string{"OWNERS": "approvers: [root]\n", "OWNERS_ALIASES": "aliases:\n  roots: [root]\n"}
	var users strings.Builder
	users.WriteString("users:\n- {login: root}\n")
	collaborators := []string{"root: write"}
	for i := range benchApprovers {
		fmt.Fprintf(&users, "- {login: approver%d, token: approver%d-token}\n", i, i)
		collaborators = append(collaborators, fmt.Sprintf("approver%d: write", i))
	}
	for d := range benchOwners {
		files[fmt.Sprintf("d%03d/OWNERS", d)] = fmt.Sprintf("approvers: [approver%d]\nreviewers: [roots]\n", d%benchApprovers)
		files[fmt.Sprintf("d%03d/src.go", d)] = "package d\n"
	}
	filesYAML, _ := json.Marshal(files)
	seed := users.String() + fmt.Sprintf(`- {login: author}
orgs:
- login: acme
repos:
- name: acme/big
  collaborators: {%s}
  labels: [{name: approved}]
  files: %s
`, strings.Join(collaborators, ", "), filesYAML)

	// Label changes seen on the forge resolve the comments waiting for
	// them: a change to "labelled" (or not) resolves every comment on the
	// pull request up to the newest that asked for it. (When handling falls
	// behind, the plugin folds several comments into one run, which changes
	// the label once.)
	type sentComment struct {
		at   time.Time
		want bool // labelled approved once handled
	}
	var (
		mu         sync.Mutex
		pending    = map[int][]sentComment{}
		lat        []time.Duration
		unexpected atomic.Int64
		failures   atomic.Int64
		measure    atomic.Bool
	)
	observe := func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(r)
			m := labelCall.FindStringSubmatch(r.URL.Path)
			if m == nil || err != nil || resp.StatusCode >= 300 || !measure.Load() {
				return resp, err
			}
			labelled := r.Method == http.MethodPost
			if labelled != (m[2] == "") {
				return resp, err
			}
			end := time.Now()
			n, _ := strconv.Atoi(m[1])
			mu.Lock()
			q := pending[n]
			j := -1
			for i, c := range q {
				if c.want == labelled {
					j = i
				}
			}
			if j < 0 {
				unexpected.Add(1)
			} else {
				for _, c := range q[:j+1] {
					lat = append(lat, end.Sub(c.at))
				}
				pending[n] = q[j+1:]
			}
			mu.Unlock()
			return resp, err
		})
	}
	e := plugintest.Start(b, plugintest.Options{
		Seed:    seed,
		Config:  map[string]string{"plugins.yaml": "plugins:\n  acme:\n    plugins: [approve]\n"},
		Quiet:   true,
		NoHooks: true,
		// 100 comments a second cost some 400 requests a second that
		// GitHub counts (the rest are revalidations answered 304): far
		// beyond one token's 5000 an hour, which the client would wait
		// for. The benchmark measures bowline, not the budget.
		Forge: forge.Options{RateLimit: 100_000_000},
		Plugins: func(d plugintest.Deps) []plugin.Plugin {
			return []plugin.Plugin{approve.New(d.Base, d.Owners)}
		},
		Transport: observe,
	})

	// Open the pull requests; each touches three directories of one
	// approver.
	type pull struct {
		n        int
		approver string
		pr       *github.PullRequest
	}
	pulls := make([]pull, benchPulls)
	for i := range pulls {
		approver := i % benchApprovers
		changed := map[string][]byte{}
		for k := range benchFilesPerPR {
			d := approver + benchApprovers*((i+k)%(benchOwners/benchApprovers))
			changed[fmt.Sprintf("d%03d/src.go", d)] = []byte(fmt.Sprintf("package d // %d\n", i))
		}
		pr, err := e.Forge.As("author").OpenPR(e.Ctx, "acme/big", forge.PullRequest{Title: fmt.Sprintf("Change %d", i), Head: fmt.Sprintf("change-%d", i), Files: changed})
		if err != nil {
			b.Fatal(err)
		}
		pulls[i] = pull{n: pr.GetNumber(), approver: fmt.Sprintf("approver%d", approver), pr: pr}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	// comment creates a comment on the forge and returns its webhook.
	comment := func(p pull, body string) ([]byte, error) {
		c, err := e.Forge.As(p.approver).Comment(e.Ctx, "acme/big", p.n, body)
		if err != nil {
			return nil, err
		}
		return json.Marshal(&github.IssueCommentEvent{Action: github.Ptr("created"), Repo: p.pr.GetBase().GetRepo(),
			Sender: c.GetUser(), Comment: c,
			Issue: &github.Issue{Number: github.Ptr(p.n), State: github.Ptr("open"), User: p.pr.GetUser(),
				PullRequestLinks: &github.PullRequestLinks{URL: p.pr.URL}}})
	}
	// Warm up: the first event reads the 500 OWNERS files; every pull
	// request gets its notification. Each pull request ends unapproved.
	for i, p := range pulls {
		for j, body := range []string{"/approve", "/approve cancel"} {
			payload, err := comment(p, body)
			if err != nil {
				b.Fatal(err)
			}
			if err := e.Deliver(client, "issue_comment", fmt.Sprintf("warm-%d-%d", i, j), payload); err != nil {
				b.Fatal(err)
			}
			e.Wait("acme/big", "warm-up", plugintest.CommentBody(p.n, p.approver, body))
		}
	}
	if fs := e.Failures(); len(fs) > 0 {
		b.Fatalf("warm-up failed: %v", fs)
	}
	measure.Store(true)

	rate := benchRate
	if r, err := strconv.Atoi(os.Getenv("BENCH_RATE")); err == nil {
		rate = r
	}
	b.ResetTimer()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	var posts sync.WaitGroup
	for i := range b.N {
		<-tick.C
		p := pulls[i%len(pulls)]
		body := "/approve"
		if (i/len(pulls))%2 == 1 {
			body = "/approve cancel"
		}
		posts.Go(func() {
			payload, err := comment(p, body)
			if err != nil {
				failures.Add(1)
				b.Errorf("comment: %v", err)
				return
			}
			mu.Lock()
			pending[p.n] = append(pending[p.n], sentComment{at: time.Now(), want: body == "/approve"})
			mu.Unlock()
			if err := e.Deliver(client, "issue_comment", fmt.Sprintf("bench-%d", i), payload); err != nil {
				failures.Add(1)
				b.Errorf("deliver: %v", err)
			}
		})
	}
	posts.Wait()
	isBench := plugintest.Match{Type: plugin.GenericComment, Fn: func(ev *plugin.Event) bool { return strings.HasPrefix(ev.DeliveryID, "bench-") }}
	e.Await(2*time.Minute, func() bool {
		handled, failed := e.CountLocked(isBench)
		return handled+int(failures.Load()) >= b.N || failed > 0
	})
	b.StopTimer()
	handled, failed := e.Count(isBench)
	// Every pull request must show the state its last comment asked for:
	// the label changes the plugin made have all landed once it handled
	// every comment.
	mu.Lock()
	defer mu.Unlock()
	waiting := 0
	for _, q := range pending {
		waiting += len(q)
	}
	lost := int64(b.N-handled) + int64(waiting) + unexpected.Load()
	b.ReportMetric(quantile(lat, 0.50), "p50-ms")
	b.ReportMetric(quantile(lat, 0.99), "p99-ms")
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(0, "ns/op")
	if lost != 0 || failed != 0 {
		b.Fatalf("%d of %d comments lost (%d not handled, %d failed attempts, %d without their label change, %d unexpected changes)",
			lost, b.N, b.N-handled, failed, waiting, unexpected.Load())
	}
}

// quantile of durations, in milliseconds.
func quantile(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))].Microseconds()) / 1000
}
