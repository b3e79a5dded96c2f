package configrepo

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/automation/configpush"
	"github.com/bowline-ci/bowline/automation/plugin"
	sandbox "github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// minPushSamples is how many pushes BenchmarkPushToApplied measures at
// least, so that its percentiles mean something at the default benchtime.
const minPushSamples = 20

// gitCLI runs git in dir with no user or system configuration.
func gitCLI(b testing.TB, dir string, args ...string) string {
	b.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Bench", "GIT_AUTHOR_EMAIL=bench@example.com", "GIT_COMMITTER_NAME=Bench", "GIT_COMMITTER_EMAIL=bench@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// noPlugins enables no plugin: only the Always handlers run.
type noPlugins struct{}

func (noPlugins) Enablement() plugin.Enablement { return nil }

const benchHookSecret = "bench-secret"

// BenchmarkPushToApplied measures, with Kubernetes' configuration as the
// repository, the whole way from `git push` of a one-file change to the
// ConfigRepository's status naming the new revision as applied, as every
// user and tool sees it: the sandbox forge receives the push and sends
// its push webhook, bowline's webhook server (automation, with the
// configpush handler the operator runs) requests the reconcile with the
// annotation, and the reconciler fetches, validates, publishes, switches
// the Store and patches the status, which a watch of the API server then
// reports. It reports the median and the 99th percentile, and the CPU
// time this process (forge, webhook server and reconciler) spent per push.
func BenchmarkPushToApplied(b *testing.B) {
	ns := env.Namespace(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The webhook server, as the operator runs it for the hook role.
	opts := automation.DefaultOptions()
	hook, err := automation.NewServer(opts, automation.Deps{
		Always:     []plugin.Plugin{configpush.New(env.Client, nil)},
		Enablement: noPlugins{},
		Secrets:    automation.Secrets{"*": {[]byte(benchHookSecret)}},
	})
	if err != nil {
		b.Fatal(err)
	}
	hook.StartWorkers()
	hs := httptest.NewServer(hook.Handler())
	b.Cleanup(func() {
		hs.Close()
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hook.Shutdown(stop)
	})

	// The forge holds the config repository and sends its webhooks there.
	files := map[string]string{}
	for name, content := range kubernetesRepo(b) {
		files[name] = string(content)
	}
	seed := &sandbox.Seed{
		Users: []sandbox.SeedUser{{Login: "alice", Token: "alice-token"}},
		Orgs:  []sandbox.SeedOrg{{Login: "kubernetes", Admins: []string{"alice"}, Hooks: []sandbox.SeedHook{{URL: hs.URL + automation.HookPath, Secret: benchHookSecret, Events: []string{"push"}}}}},
		Repos: []sandbox.SeedRepo{{Name: "kubernetes/test-infra", Files: files}},
	}
	f := forgetest.StartSeed(b, seed, sandbox.Options{})
	repoURL := f.URL + "/kubernetes/test-infra.git"

	startOperator(b, ns, b.TempDir())
	key := newRepo(b, ns, "kubernetes", repoURL)

	// A watch on ConfigRepositories, as kubectl and every tool sees them.
	c, err := cache.New(env.Config, cache.Options{Scheme: env.Scheme, DefaultNamespaces: map[string]cache.Config{ns: {}}})
	if err != nil {
		b.Fatal(err)
	}
	informer, err := c.GetInformer(ctx, &v1alpha1.ConfigRepository{})
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	applied := map[string]time.Time{}
	waiting := map[string]chan struct{}{}
	seen := func(obj any) {
		r, ok := obj.(*v1alpha1.ConfigRepository)
		if !ok || r.Name != key.Name {
			return
		}
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		rev := r.Status.LastAppliedRevision
		if _, ok := applied[rev]; !ok && rev != "" {
			applied[rev] = now
			if ch, ok := waiting[rev]; ok {
				close(ch)
			}
		}
	}
	if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: seen, UpdateFunc: func(_, obj any) { seen(obj) }}); err != nil {
		b.Fatal(err)
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		b.Fatal("cache did not sync")
	}
	eventually(b, 2*time.Minute, func(g Gomega) { g.Expect(get(g, key).Status.LastAppliedRevision).NotTo(BeEmpty()) })
	wait := func(rev string) time.Time {
		mu.Lock()
		if t, ok := applied[rev]; ok {
			mu.Unlock()
			return t
		}
		ch := make(chan struct{})
		waiting[rev] = ch
		mu.Unlock()
		select {
		case <-ch:
		case <-time.After(2 * time.Minute):
			r := &v1alpha1.ConfigRepository{}
			_ = env.Client.Get(ctx, key, r)
			b.Fatalf("revision %s not applied after 2 minutes: %+v", rev, r.Status.Conditions)
		}
		mu.Lock()
		defer mu.Unlock()
		return applied[rev]
	}

	work := filepath.Join(b.TempDir(), "work")
	pushURL := strings.Replace(f.URL, "http://", "http://alice:alice-token@", 1) + "/kubernetes/test-infra.git"
	gitCLI(b, filepath.Dir(work), "clone", "--quiet", pushURL, work)
	job := filepath.Join(work, "config/jobs/kubernetes/sig-release/kubernetes-builds.yaml")
	orig, err := os.ReadFile(job)
	if err != nil {
		b.Fatal(err)
	}

	n := max(b.N, minPushSamples)
	samples := make([]time.Duration, 0, n)
	var cpu time.Duration
	b.ResetTimer()
	for i := range n {
		b.StopTimer()
		content := fmt.Appendf(slices.Clone(orig), "\n# Change %d.\n", i)
		if err := os.WriteFile(job, content, 0o644); err != nil {
			b.Fatal(err)
		}
		gitCLI(b, work, "commit", "--quiet", "-am", fmt.Sprintf("Change %d", i))
		want := rev(gitCLI(b, work, "rev-parse", "HEAD"))
		b.StartTimer()

		start, startCPU := time.Now(), processCPU()
		gitCLI(b, work, "push", "--quiet", "origin", "HEAD:main")
		samples = append(samples, wait(want).Sub(start))
		cpu += processCPU() - startCPU
	}
	b.StopTimer()
	slices.Sort(samples)
	var total time.Duration
	for _, s := range samples {
		total += s
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(len(samples)), "ns/op")
	b.ReportMetric(percentile(samples, 0.50).Seconds(), "p50-s")
	b.ReportMetric(percentile(samples, 0.99).Seconds(), "p99-s")
	// CPU this process spent per push (forge, webhook server, fetch,
	// validation, publication, status), which unlike the latencies does
	// not depend on what else the machine is running.
	b.ReportMetric(cpu.Seconds()/float64(len(samples)), "cpu-s/op")
}

// percentile of sorted samples, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
