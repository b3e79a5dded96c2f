package configrepo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
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

// BenchmarkPushToApplied measures, with Kubernetes' configuration as the
// repository, the time from `git push` of a one-file change until the new
// revision is applied: fetched, validated, published and switched in the
// Store. The reconcile is requested with the annotation right after the
// push, as the webhook server does. It reports the median and the 99th
// percentile, and the CPU time the operator spent per push.
func BenchmarkPushToApplied(b *testing.B) {
	ns := env.Namespace(b)
	f := newForge(b, "")
	f.create(b, "kubernetes", kubernetesRepo(b))
	op := startOperator(b, ns, b.TempDir())
	key := newRepo(b, ns, "kubernetes", f.url("kubernetes"))
	store := op.stores.For(key)
	eventually(b, 2*time.Minute, func(g Gomega) { g.Expect(store.Current()).NotTo(BeNil()) })

	work := filepath.Join(b.TempDir(), "work")
	gitCLI(b, filepath.Dir(work), "clone", "--quiet", f.url("kubernetes"), work)
	job := filepath.Join(work, "config/jobs/kubernetes/sig-release/kubernetes-builds.yaml")
	orig, err := os.ReadFile(job)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	updates := store.Subscribe(ctx)
	<-updates // the current revision

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
		requestReconcile(b, key)
		for snap := range updates {
			if snap != nil && snap.Revision == want {
				break
			}
		}
		samples = append(samples, time.Since(start))
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
	// CPU the operator spent per push (fetch, validation, publication),
	// which unlike the latencies does not depend on what else the machine
	// is running.
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
