package trigger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/scm/webhook"
)

// benchRate is the steady delivery rate of BenchmarkWebhookToProwJob.
const benchRate = 200

// BenchmarkWebhookToProwJob measures the time from a webhook reaching the
// server to its ProwJob being created in the API server, at a steady 200
// deliveries a second: half pull request pushes (synchronize, which start
// an always_run job and abort its older run), half "/test e2e" comments.
// Each delivery starts exactly one ProwJob; "lost" counts deliveries that
// were not accepted or did not end in a ProwJob. One op is one delivery.
//
// The GitHub side is the sandbox forge (membership and pull request
// lookups), the API server is the real one.
func BenchmarkWebhookToProwJob(b *testing.B) {
	const prs = 50
	ctrllog.SetLogger(logr.Discard())
	ns := env.Namespace(b)
	kc, informer := cachedClient(b, ns)
	writes := &countingWrites{Client: kc}
	h := startIn(b, ns, writes, []jobs.Presubmit{presubmit("unit", always), presubmit("e2e")}, nil, trigger.Config{}.Trigger)
	var bodies [prs][2][]byte // per PR: synchronize, comment
	for i := range prs {
		n, _ := h.openPR("alice", fmt.Sprintf("topic-%d", i), map[string]string{fmt.Sprintf("src/f%d.go", i): "x\n"}, false)
		pr, err := h.forge.As("alice").PR(h.ctx, repo, n)
		if err != nil {
			b.Fatal(err)
		}
		alice := &github.User{Login: github.Ptr("alice")}
		syncEv := &github.PullRequestEvent{Action: github.Ptr("synchronize"), Number: github.Ptr(n), PullRequest: pr, Repo: pr.GetBase().GetRepo(), Sender: alice}
		commentEv := &github.IssueCommentEvent{Action: github.Ptr("created"), Repo: pr.GetBase().GetRepo(), Sender: alice,
			Issue: &github.Issue{Number: github.Ptr(n), State: github.Ptr("open"), User: alice,
				PullRequestLinks: &github.PullRequestLinks{URL: pr.URL}},
			Comment: &github.IssueComment{Body: github.Ptr("/test e2e"), User: alice}}
		for j, ev := range []any{syncEv, commentEv} {
			if bodies[i][j], err = json.Marshal(ev); err != nil {
				b.Fatal(err)
			}
		}
	}
	before := len(h.prowJobs())
	writes.n.Store(0)

	var (
		mu        sync.Mutex
		sent      = map[string]time.Time{}
		latencies []time.Duration
		byKind    = map[string][]time.Duration{}
		kindOf    = map[string]string{}
		failures  atomic.Int64
		allDone   = make(chan struct{})
		remaining atomic.Int64
	)
	remaining.Store(int64(b.N))
	// A run counts as created when the API server's watch reports it,
	// as every other component sees it.
	created := func(obj any) {
		pj, ok := obj.(*v1alpha1.ProwJob)
		if !ok {
			return
		}
		end := time.Now()
		id := pj.Annotations[v1alpha1.DeliveryAnnotation]
		mu.Lock()
		t0, ok := sent[id]
		if ok {
			latencies = append(latencies, end.Sub(t0))
			byKind[kindOf[id]] = append(byKind[kindOf[id]], end.Sub(t0))
			delete(sent, id)
		}
		mu.Unlock()
		if ok && remaining.Add(-1) == 0 {
			close(allDone)
		}
	}
	if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: created}); err != nil {
		b.Fatal(err)
	}
	observe := func(d handled) {
		if d.err != nil && failures.Add(1) <= 3 {
			b.Logf("delivery %s: %v", d.ev.DeliveryID, d.err)
		}
	}
	h.observe.Store(&observe)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

	b.ResetTimer()
	rate := benchRate
	if r, err := strconv.Atoi(os.Getenv("BENCH_RATE")); err == nil {
		rate = r
	}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	var posts sync.WaitGroup
	for i := range b.N {
		<-tick.C
		kind := i % 2
		body := bodies[(i/2)%prs][kind]
		event := []string{"pull_request", "issue_comment"}[kind]
		id := fmt.Sprintf("bench-%d", i)
		posts.Add(1)
		go func() {
			defer posts.Done()
			req, _ := http.NewRequest(http.MethodPost, h.hookURL, bytes.NewReader(body))
			req.Header.Set(webhook.HeaderEvent, event)
			req.Header.Set(webhook.HeaderDelivery, id)
			req.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte(hookSecret), body))
			req.Header.Set("Content-Type", "application/json")
			mu.Lock()
			sent[id] = time.Now()
			kindOf[id] = event
			mu.Unlock()
			resp, err := client.Do(req)
			if err != nil || resp.StatusCode != http.StatusAccepted {
				failures.Add(1)
				mu.Lock()
				delete(sent, id)
				mu.Unlock()
				if remaining.Add(-1) == 0 {
					close(allDone)
				}
			}
			if resp != nil {
				resp.Body.Close()
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

	lost := int64(b.N-(len(h.prowJobs())-before)) + failures.Load()
	mu.Lock()
	b.ReportMetric(quantile(latencies, 0.50), "p50-ms")
	b.ReportMetric(quantile(latencies, 0.99), "p99-ms")
	b.ReportMetric(quantile(byKind["pull_request"], 0.50), "pr-p50-ms")
	b.ReportMetric(quantile(byKind["issue_comment"], 0.50), "comment-p50-ms")
	mu.Unlock()
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(writes.n.Load())/float64(b.N), "api-writes/op")
	b.ReportMetric(0, "ns/op")
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
