package configreview

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	ghclient "github.com/bowline-ci/bowline/scm/github"
	"github.com/bowline-ci/bowline/test/kubernetes"
)

// minSamples is how many pushes BenchmarkPlanPosted measures at least, so
// that its percentiles mean something at the default benchtime.
const minSamples = 20

// benchJobs is the file of the job the benchmark changes: a presubmit of
// kubernetes/kubernetes, pull-kubernetes-e2e-containerd-gce.
const benchJobs = "config/jobs/kubernetes/sig-node/sig-node-presubmit.yaml"

// kubernetesRepo is Kubernetes' configuration as a config repository
// (kubernetes.Repo), its files as strings.
func kubernetesRepo(b testing.TB) map[string]string {
	b.Helper()
	repo, err := kubernetes.Repo()
	if err != nil {
		b.Fatal(err)
	}
	files := make(map[string]string, len(repo))
	for name, content := range repo {
		files[name] = string(content)
	}
	return files
}

// BenchmarkPlanPosted measures, with Kubernetes' configuration as the
// config repository, the way from a push of a one-line change to a pull
// request's branch to its plan posted: the sandbox forge sends the
// synchronize webhook to bowline's webhook server, whose config-review
// handler (as the hook role runs it, through bowline's ETag-cached GitHub
// client) fetches the head with the reconciler's fetch, loads and
// validates it as the reconciler would, compares it with the applied
// revision (already loaded), counts the open pull requests the changed job
// would run on, and posts the bowline/config status, the plan comment and
// the final status. The clock runs from the webhook reaching bowline to
// the forge's status event reporting the final status; it reports the
// median and 99th percentile, the same from the push, and the CPU this
// process (forge, webhook server and review together) spent per push.
//
// Sub-benchmarks change one line each: a container image (the job changes,
// nothing else), and always_run (the job starts on every open pull
// request).
func BenchmarkPlanPosted(b *testing.B) {
	for _, tc := range []struct {
		name     string
		from, to func(i int) string
		want     string
	}{
		{"image", func(i int) string { return "kubekins-e2e:v20260810-7619858115-master\n" },
			func(i int) string { return fmt.Sprintf("kubekins-e2e:v20260810-7619858115-master-%d\n", i) },
			"`spec.containers[0].image`"},
		{"always_run", func(int) string { return "      always_run: false\n      optional: true\n" },
			func(i int) string { return fmt.Sprintf("      always_run: true # %d\n      optional: true\n", i) },
			"starts on 30"},
	} {
		b.Run(tc.name, func(b *testing.B) { benchPlanPosted(b, tc.from, tc.to, tc.want) })
	}
}

func benchPlanPosted(b *testing.B, from, to func(int) string, want string) {
	ctx := b.Context()
	const openPRs = 30

	// The webhook server, as the operator runs it for the hook role; the
	// time each pull_request delivery arrives is noted.
	var mu sync.Mutex
	var arrived time.Time
	// The handler is made once the forge it talks to runs.
	var handler *Handler
	srv, err := automation.NewServer(automation.DefaultOptions(), automation.Deps{
		Always:     []plugin.Plugin{pluginFunc(func(ctx context.Context, ev *plugin.Event) error { return handler.Handle(ctx, discard, ev) })},
		Enablement: noPlugins{},
		Secrets:    automation.Secrets{"*": {[]byte(hookSecret)}},
	})
	if err != nil {
		b.Fatal(err)
	}
	srv.StartWorkers()
	h := srv.Handler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-GitHub-Event") == "pull_request" {
			mu.Lock()
			arrived = time.Now()
			mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	b.Cleanup(func() {
		hs.Close()
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(stop)
	})

	// The forge: Kubernetes' configuration in kubernetes/test-infra, open
	// pull requests on kubernetes/kubernetes; pull_request webhooks go to
	// bowline, status events to the benchmark.
	statuses := forgetest.NewReceiver(b, hookSecret)
	files := kubernetesRepo(b)
	seed := &forge.Seed{
		Users: []forge.SeedUser{{Login: "alice", Token: "alice-token"}, {Login: "bowline-bot", Token: "bot-token", Bot: true}},
		Orgs: []forge.SeedOrg{{Login: "kubernetes", Admins: []string{"alice", "bowline-bot"}, Hooks: []forge.SeedHook{
			{URL: hs.URL + automation.HookPath, Secret: hookSecret, Events: []string{"pull_request"}},
			{URL: statuses.URL, Secret: hookSecret, Events: []string{"status"}},
		}}},
		Repos: []forge.SeedRepo{{Name: "kubernetes/test-infra", Files: files}, {Name: "kubernetes/kubernetes", Files: map[string]string{"README.md": "# Kubernetes\n"}}},
	}
	f := forgetest.StartSeed(b, seed, forge.Options{})
	alice := f.As("alice")
	for i := range openPRs {
		if _, err := alice.OpenPR(ctx, "kubernetes/kubernetes", forge.PullRequest{Title: fmt.Sprintf("Change %d", i), Head: fmt.Sprintf("change-%d", i),
			Files: map[string][]byte{fmt.Sprintf("pkg/%d.go", i): []byte("package pkg\n")}}); err != nil {
			b.Fatal(err)
		}
	}

	// The ConfigRepository, and its applied revision as the reconciler
	// leaves it in the Store: loaded and validated.
	ns := env.Namespace(b)
	cr := &v1alpha1.ConfigRepository{ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: ns},
		Spec: v1alpha1.ConfigRepositorySpec{URL: f.URL + "/kubernetes/test-infra.git"}}
	if err := env.Client.Create(ctx, cr); err != nil {
		b.Fatal(err)
	}
	// The next run's forge serves the same host and path.
	b.Cleanup(func() { _ = env.Client.Delete(context.Background(), cr) })
	mfs := fstest.MapFS{}
	for name, content := range files {
		mfs[name] = &fstest.MapFile{Data: []byte(content)}
	}
	set, err := configset.Load(ctx, mfs, snapshot.Options(mfs, cr.Spec.Paths, false))
	if err != nil {
		b.Fatal(err)
	}
	if s := set.Summary(); s.Presubmits+s.Postsubmits+s.Periodics != 3849 {
		b.Fatalf("%d jobs, want Kubernetes' 3,849", s.Presubmits+s.Postsubmits+s.Periodics)
	}
	main, _, err := f.Client(b, "alice-token").Git.GetRef(ctx, "kubernetes", "test-infra", "heads/main")
	if err != nil {
		b.Fatal(err)
	}
	stores := &snapshot.Stores{}
	stores.For(types.NamespacedName{Namespace: ns, Name: cr.Name}).Set(&snapshot.Snapshot{
		Revision: "main@sha1:" + main.GetObject().GetSHA(), Digest: "bench", Config: set, LoadedAt: time.Now()})

	// bowline's own GitHub client, with its ETag cache.
	gc, err := ghclient.New(ghclient.Options{BaseURL: f.URL + "/", Token: "bot-token"})
	if err != nil {
		b.Fatal(err)
	}
	handler = New(Options{Client: env.Client, APIReader: env.Client, Stores: stores, DataDir: b.TempDir(),
		GitHub: func(_ context.Context, org string) (*github.Client, error) { return gc.ForOrg(org) }})

	// The pull request, planned once before measuring: the first fetch
	// clones the whole repository.
	orig := files[benchJobs]
	if !strings.Contains(orig, from(0)) {
		b.Fatalf("%s lacks %q", benchJobs, from(0))
	}
	change := func(i int) map[string][]byte {
		return map[string][]byte{benchJobs: []byte(strings.Replace(orig, from(0), to(i), 1))}
	}
	pr, err := alice.OpenPR(ctx, "kubernetes/test-infra", forge.PullRequest{Title: "One line", Head: "one-line", Files: change(-1)})
	if err != nil {
		b.Fatal(err)
	}
	final := func(sha string) time.Time {
		for {
			d := statuses.Next(2 * time.Minute)
			st := d.Parsed.(*github.StatusEvent)
			if st.GetSHA() == sha && st.GetContext() == Context && st.GetState() != "pending" {
				if st.GetState() != "success" {
					b.Fatalf("status %s: %s", st.GetState(), st.GetDescription())
				}
				return d.Received
			}
		}
	}
	final(pr.GetHead().GetSHA())

	n := max(b.N, minSamples)
	fromHook := make([]time.Duration, 0, n)
	fromPush := make([]time.Duration, 0, n)
	var cpu time.Duration
	b.ResetTimer()
	for i := range n {
		start, startCPU := time.Now(), processCPU()
		sha, err := alice.Push(ctx, "kubernetes/test-infra", "one-line", change(i), fmt.Sprintf("Change %d", i))
		if err != nil {
			b.Fatal(err)
		}
		done := final(sha)
		cpu += processCPU() - startCPU
		mu.Lock()
		fromHook = append(fromHook, done.Sub(arrived))
		mu.Unlock()
		fromPush = append(fromPush, done.Sub(start))
	}
	b.StopTimer()
	comments, _, err := f.Client(b, "alice-token").Issues.ListComments(ctx, "kubernetes", "test-infra", pr.GetNumber(), nil)
	if err != nil || len(comments) != 1 || !strings.Contains(comments[0].GetBody(), "pull-kubernetes-e2e-containerd-gce") || !strings.Contains(comments[0].GetBody(), want) {
		b.Fatalf("after %d pushes: %d comments (%v), want the one plan saying %q", n, len(comments), err, want)
	}
	slices.Sort(fromHook)
	slices.Sort(fromPush)
	var total time.Duration
	for _, s := range fromHook {
		total += s
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(len(fromHook)), "ns/op")
	b.ReportMetric(percentile(fromHook, 0.50).Seconds(), "p50-s")
	b.ReportMetric(percentile(fromHook, 0.99).Seconds(), "p99-s")
	b.ReportMetric(percentile(fromPush, 0.50).Seconds(), "push-p50-s")
	b.ReportMetric(cpu.Seconds()/float64(n), "cpu-s/op")
}

// percentile of sorted samples, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// noPlugins enables no plugin: only the Always handlers run.
type noPlugins struct{}

func (noPlugins) Enablement() plugin.Enablement { return nil }

// pluginFunc runs the review handler once it exists.
type pluginFunc func(ctx context.Context, ev *plugin.Event) error

func (pluginFunc) Name() string      { return Name }
func (pluginFunc) Events() []string  { return []string{"pull_request"} }
func (pluginFunc) Help() plugin.Help { return plugin.Help{} }

func (f pluginFunc) Handle(ctx context.Context, _ logr.Logger, ev *plugin.Event) error {
	return f(ctx, ev)
}
