package configset

import (
	"context"
	"testing"
)

// BenchmarkLoadKubernetes measures a strict load and validation of
// Kubernetes' own Prow configuration (config.yaml, plugins.yaml and 760
// job config files). Besides time and allocations it reports the CPU time
// per load, which stays meaningful on a busy machine, and the process's
// peak resident memory.
func BenchmarkLoadKubernetes(b *testing.B) {
	benchmarkLoad(b, false)
}

// BenchmarkLoadKubernetesTrusted measures the same load without the
// semantic checks, as for a snapshot that was validated before.
func BenchmarkLoadKubernetesTrusted(b *testing.B) {
	benchmarkLoad(b, true)
}

func benchmarkLoad(b *testing.B, trusted bool) {
	opts := Options{
		ConfigPath:       "kubernetes-prow/config.yaml",
		JobConfigPath:    "kubernetes-prow/jobs",
		PluginConfigPath: "kubernetes-prow/plugins.yaml",
		Trusted:          trusted,
	}
	b.ReportAllocs()
	startCPU := cpuTime()
	n := 0
	for b.Loop() {
		if _, err := LoadDir(context.Background(), testdata, opts); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if cpu := cpuTime() - startCPU; cpu > 0 && n > 0 {
		b.ReportMetric(cpu.Seconds()/float64(n), "cpu-s/op")
	}
	if rss := peakRSS(); rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
	}
}
