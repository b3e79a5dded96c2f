package configset

import (
	"context"
	"testing"
)

// BenchmarkLoadKubernetes measures a strict load and validation of
// Kubernetes' own Prow configuration (config.yaml, plugins.yaml and 760
// job config files).
func BenchmarkLoadKubernetes(b *testing.B) {
	opts := Options{
		ConfigPath:       "kubernetes-prow/config.yaml",
		JobConfigPath:    "kubernetes-prow/jobs",
		PluginConfigPath: "kubernetes-prow/plugins.yaml",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadDir(context.Background(), testdata, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadKubernetesTrusted measures the same load without the
// semantic checks, as for a snapshot that was validated before.
func BenchmarkLoadKubernetesTrusted(b *testing.B) {
	opts := Options{
		ConfigPath:       "kubernetes-prow/config.yaml",
		JobConfigPath:    "kubernetes-prow/jobs",
		PluginConfigPath: "kubernetes-prow/plugins.yaml",
		Trusted:          true,
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadDir(context.Background(), testdata, opts); err != nil {
			b.Fatal(err)
		}
	}
}
