package trigger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// benchRate is the steady delivery rate of BenchmarkWebhookToProwJob;
// BENCH_RATE overrides it.
const benchRate = 200

// benchKind is one kind of delivery in a benchmark's mix.
type benchKind struct {
	name, event string
	// starts says whether the delivery starts exactly one run.
	starts  bool
	payload func(pr *github.PullRequest, sender *github.User) any
}

var (
	pushToPR = benchKind{name: "synchronize", event: "pull_request", starts: true, payload: func(pr *github.PullRequest, u *github.User) any {
		return &github.PullRequestEvent{Action: github.Ptr("synchronize"), Number: pr.Number, PullRequest: pr, Repo: pr.GetBase().GetRepo(), Sender: u}
	}}
	testCommand = benchKind{name: "test-command", event: "issue_comment", starts: true, payload: func(pr *github.PullRequest, u *github.User) any {
		return prComment(pr, u, "/test e2e")
	}}
	plainComment = benchKind{name: "comment", event: "issue_comment", payload: func(pr *github.PullRequest, u *github.User) any {
		return prComment(pr, u, "Thanks, this reads well.\n\nOne nit: the test could use a table.")
	}}
	labeled = benchKind{name: "labeled", event: "pull_request", payload: func(pr *github.PullRequest, u *github.User) any {
		return &github.PullRequestEvent{Action: github.Ptr("labeled"), Number: pr.Number, PullRequest: pr, Repo: pr.GetBase().GetRepo(), Sender: u,
			Label: &github.Label{Name: github.Ptr("kind/feature")}}
	}}
)

func prComment(pr *github.PullRequest, u *github.User, body string) *github.IssueCommentEvent {
	return &github.IssueCommentEvent{Action: github.Ptr("created"), Repo: pr.GetBase().GetRepo(), Sender: u,
		Issue:   &github.Issue{Number: pr.Number, State: github.Ptr("open"), User: u, PullRequestLinks: &github.PullRequestLinks{URL: pr.URL}},
		Comment: &github.IssueComment{Body: github.Ptr(body), User: u}}
}

// BenchmarkWebhookToProwJob measures the time from a webhook reaching the
// server to the ProwJob it starts being reported by the API server's
// watch, as every other component sees it, at a steady 200 deliveries a
// second. The GitHub side is the sandbox forge, reached through bowline's
// own client; the API server is the real one, on the same machine.
//
//   - every-delivery-starts-a-run, the headline of `make bench`: only
//     pushes to pull requests (synchronize, starting an always_run job) and
//     "/test e2e" comments, so 200 runs a second; on 2 cores this is beyond
//     what the API server alone can create with a 50 ms p99 (see
//     BenchmarkAPIServerCreate).
//   - mixed-half-start-runs: comments and pull request events, half of
//     which start a run: the same two kinds, plain review comments and
//     labels. In a deployment the share of deliveries that start runs is
//     smaller still: every run reports at least two commit statuses, each
//     a delivery.
//
// p50-ms and p99-ms are over the deliveries that start a run. "lost"
// counts deliveries that were not accepted, failed, or did not end as
// they should (a run created, or handled without one); the benchmark
// fails unless it is zero. One op is one delivery.
func BenchmarkWebhookToProwJob(b *testing.B) {
	b.Run("every-delivery-starts-a-run", func(b *testing.B) { benchWebhooks(b, []benchKind{pushToPR, testCommand}) })
	b.Run("mixed-half-start-runs", func(b *testing.B) { benchWebhooks(b, []benchKind{pushToPR, plainComment, testCommand, labeled}) })
}

func benchWebhooks(b *testing.B, mix []benchKind) {
	const prs = 50
	ctrllog.SetLogger(logr.Discard())
	ns := env.Namespace(b)
	kc, informer := cachedClient(b, ns)
	writes := &countingWrites{Client: kc}
	h := startIn(b, ns, writes, []jobs.Presubmit{presubmit("unit", always), presubmit("e2e")}, nil, trigger.Config{}.Trigger)
	bodies := make([][][]byte, prs) // per PR, per kind
	alice := &github.User{Login: github.Ptr("alice")}
	for i := range prs {
		n, _ := h.openPR("alice", fmt.Sprintf("topic-%d", i), map[string]string{fmt.Sprintf("src/f%d.go", i): "x\n"}, false)
		pr, err := h.Forge.As("alice").PR(h.Ctx, repo, n)
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range mix {
			body, err := json.Marshal(k.payload(pr, alice))
			if err != nil {
				b.Fatal(err)
			}
			bodies[i] = append(bodies[i], body)
		}
	}
	before := len(h.prowJobs())
	writes.n.Store(0)

	var (
		mu        sync.Mutex
		sent      = map[string]time.Time{}
		kindOf    = map[string]benchKind{}
		latencies []time.Duration
		byKind    = map[string][]time.Duration{}
		failures  atomic.Int64
		allDone   = make(chan struct{})
		remaining atomic.Int64
	)
	remaining.Store(int64(b.N))
	done := func() {
		if remaining.Add(-1) == 0 {
			close(allDone)
		}
	}
	// A run counts as created when the API server's watch reports it.
	created := func(obj any) {
		pj, ok := obj.(*v1alpha1.ProwJob)
		if !ok {
			return
		}
		end := time.Now()
		id := pj.Annotations[v1alpha1.DeliveryAnnotation]
		mu.Lock()
		t0, ok := sent[id]
		k := kindOf[id]
		if ok && k.starts {
			latencies = append(latencies, end.Sub(t0))
			byKind[k.name] = append(byKind[k.name], end.Sub(t0))
			delete(sent, id)
		}
		mu.Unlock()
		if ok && !k.starts {
			failures.Add(1)
			b.Errorf("delivery %s (%s) started a run", id, k.name)
		}
		if ok && k.starts {
			done()
		}
	}
	if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: created}); err != nil {
		b.Fatal(err)
	}
	// Deliveries that start nothing are done when the plugin has handled
	// them; a failed one is done and counted.
	h.Observe(func(_ string, ev *plugin.Event, err error) {
		mu.Lock()
		k, ok := kindOf[ev.DeliveryID]
		if ok && (err != nil || !k.starts) {
			delete(sent, ev.DeliveryID)
		}
		mu.Unlock()
		if !ok {
			return
		}
		if err != nil {
			if failures.Add(1) <= 3 {
				b.Logf("delivery %s: %v", ev.DeliveryID, err)
			}
			done()
		} else if !k.starts {
			done()
		}
	})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

	b.ResetTimer()
	rate := benchRate
	if r, err := strconv.Atoi(os.Getenv("BENCH_RATE")); err == nil {
		rate = r
	}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	var posts sync.WaitGroup
	starting := 0
	for i := range b.N {
		<-tick.C
		k := mix[i%len(mix)]
		if k.starts {
			starting++
		}
		body := bodies[(i/len(mix))%prs][i%len(mix)]
		id := fmt.Sprintf("bench-%d", i)
		posts.Add(1)
		go func() {
			defer posts.Done()
			mu.Lock()
			sent[id] = time.Now()
			kindOf[id] = k
			mu.Unlock()
			if err := h.Deliver(client, k.event, id, body); err != nil {
				failures.Add(1)
				mu.Lock()
				delete(sent, id)
				mu.Unlock()
				done()
			}
		}()
	}
	select {
	case <-allDone:
	case <-time.After(2 * time.Minute):
		b.Fatalf("%d deliveries not handled after 2 minutes", remaining.Load())
	}
	b.StopTimer()
	posts.Wait()

	missing := int64(starting - (len(h.prowJobs()) - before))
	mu.Lock()
	b.ReportMetric(quantile(latencies, 0.50), "p50-ms")
	b.ReportMetric(quantile(latencies, 0.99), "p99-ms")
	for _, k := range mix {
		if k.starts {
			b.ReportMetric(quantile(byKind[k.name], 0.50), k.name+"-p50-ms")
		}
	}
	mu.Unlock()
	lost := missing + failures.Load()
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(starting)/float64(b.N), "runs/op")
	b.ReportMetric(float64(writes.n.Load())/float64(b.N), "api-writes/op")
	b.ReportMetric(0, "ns/op")
	if missing != 0 || failures.Load() != 0 {
		b.Fatalf("%d of %d deliveries lost: %d failed or were not accepted, and %d runs that should have started did not (negative: started beyond them)",
			lost, b.N, failures.Load(), missing)
	}
}

// BenchmarkAPIServerCreate is the floor under BenchmarkWebhookToProwJob:
// the same ProwJobs created straight from a client at a steady rate (100
// and 200 a second), with nothing of bowline in the way, timed until the
// watch reports them.
func BenchmarkAPIServerCreate(b *testing.B) {
	for _, rate := range []int{100, 200} {
		b.Run(fmt.Sprintf("%d-per-second", rate), func(b *testing.B) {
			ns := env.Namespace(b)
			kc, informer := cachedClient(b, ns)
			var (
				mu        sync.Mutex
				sent      = map[string]time.Time{}
				latencies []time.Duration
				remaining atomic.Int64
				allDone   = make(chan struct{})
			)
			remaining.Store(int64(b.N))
			if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: func(obj any) {
				pj := obj.(*v1alpha1.ProwJob)
				end := time.Now()
				mu.Lock()
				if t0, ok := sent[pj.Name]; ok {
					latencies = append(latencies, end.Sub(t0))
					delete(sent, pj.Name)
				}
				mu.Unlock()
				if remaining.Add(-1) == 0 {
					close(allDone)
				}
			}}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			tick := time.NewTicker(time.Second / time.Duration(rate))
			defer tick.Stop()
			var wg sync.WaitGroup
			for i := range b.N {
				<-tick.C
				pj := benchRun(ns, i)
				wg.Go(func() {
					mu.Lock()
					sent[pj.Name] = time.Now()
					mu.Unlock()
					if err := kc.Create(context.Background(), pj); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
			select {
			case <-allDone:
			case <-time.After(2 * time.Minute):
				b.Fatalf("%d runs not seen after 2 minutes", remaining.Load())
			}
			b.StopTimer()
			mu.Lock()
			defer mu.Unlock()
			b.ReportMetric(quantile(latencies, 0.50), "p50-ms")
			b.ReportMetric(quantile(latencies, 0.99), "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// benchRun is a presubmit run shaped as the trigger plugin makes them.
func benchRun(ns string, i int) *v1alpha1.ProwJob {
	return &v1alpha1.ProwJob{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("run-%d", i), Namespace: ns,
			Labels: map[string]string{v1alpha1.CreatedByLabel: "true", v1alpha1.TypeLabel: "presubmit", v1alpha1.JobLabel: "unit",
				v1alpha1.OrgLabel: "acme", v1alpha1.RepoLabel: "widgets", v1alpha1.BaseRefLabel: "main", v1alpha1.PullLabel: "7", v1alpha1.IsOptionalLabel: "false"},
			Annotations: map[string]string{v1alpha1.JobAnnotation: "unit", v1alpha1.ContextAnnotation: "unit", v1alpha1.TriggeredByAnnotation: "alice",
				v1alpha1.DeliveryAnnotation: fmt.Sprintf("control-%d", i), v1alpha1.CreatedAtAnnotation: time.Now().UTC().Format(time.RFC3339Nano)}},
		Spec: v1alpha1.ProwJobSpec{Type: v1alpha1.PresubmitJob, Agent: v1alpha1.KubernetesAgent, Cluster: "default", Context: "unit", Job: "unit",
			Namespace: "test-pods", Report: true, RerunCommand: "/test unit",
			PodSpec: &corev1.PodSpec{Containers: []corev1.Container{{Name: "test", Image: "alpine", Command: []string{"true"}}}},
			Refs: &v1alpha1.Refs{Org: "acme", Repo: "widgets", BaseRef: "main", BaseSHA: strings.Repeat("a", 40),
				RepoLink: "http://forge.example/acme/widgets", BaseLink: "http://forge.example/acme/widgets/commit/" + strings.Repeat("a", 40),
				Pulls: []v1alpha1.Pull{{Number: 7, Author: "alice", SHA: strings.Repeat("b", 40), Title: "Change topic-7", HeadRef: "topic-7",
					Link: "http://forge.example/acme/widgets/pull/7", AuthorLink: "http://forge.example/alice",
					CommitLink: "http://forge.example/acme/widgets/pull/7/commits/" + strings.Repeat("b", 40)}}}},
	}
}

// cachedClient reads ProwJobs of ns from an informer cache and writes to
// the API server, as a controller-runtime manager's client does.
func cachedClient(b *testing.B, ns string) (client.Client, cache.Informer) {
	b.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 1000, 2000
	c, err := cache.New(cfg, cache.Options{Scheme: env.Scheme, DefaultNamespaces: map[string]cache.Config{ns: {}}})
	if err != nil {
		b.Fatal(err)
	}
	informer, err := c.GetInformer(b.Context(), &v1alpha1.ProwJob{})
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = c.Start(b.Context()) }()
	if !c.WaitForCacheSync(b.Context()) {
		b.Fatal("cache did not sync")
	}
	cl, err := client.New(cfg, client.Options{Scheme: env.Scheme, Cache: &client.CacheOptions{Reader: c}})
	if err != nil {
		b.Fatal(err)
	}
	return cl, informer
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

// countingWrites counts the trigger's writes to the API server, the cost
// that bounds throughput: each costs the API server several milliseconds
// of CPU.
type countingWrites struct {
	client.Client
	n atomic.Int64
}

func (c *countingWrites) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	c.n.Add(1)
	return c.Client.Create(ctx, obj, opts...)
}

func (c *countingWrites) Status() client.SubResourceWriter {
	return countingStatus{c.Client.Status(), &c.n}
}

type countingStatus struct {
	client.SubResourceWriter
	n *atomic.Int64
}

func (s countingStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	s.n.Add(1)
	return s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}
