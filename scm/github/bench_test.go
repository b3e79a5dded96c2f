package ghclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// BenchmarkRevalidation measures the client's own cost for a repeated read
// answered 304, against a minimal in-process server, so that the figure is
// the transport stack's and not a server's.
func BenchmarkRevalidation(b *testing.B) {
	body := `{"number":1,"title":"` + strings.Repeat("x", 2000) + `"}`
	sum := sha256.Sum256([]byte(body))
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	srv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		fmt.Fprint(w, body)
	})
	for _, mode := range []string{"sequential", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			h := newHarness(b, srv, func(o *Options) { o.Clock = nil; o.Sleep = nil })
			gh, err := h.client.ForOrg("o")
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			const prs = 64
			start := time.Now()
			b.ResetTimer()
			if mode == "sequential" {
				for i := 0; b.Loop(); i++ {
					if _, _, err := gh.PullRequests.Get(ctx, "o", "r", i%prs+1); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.RunParallel(func(pb *testing.PB) {
					for i := 0; pb.Next(); i++ {
						if _, _, err := gh.PullRequests.Get(ctx, "o", "r", i%prs+1); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.StopTimer()
			reportCacheMetrics(b, h.metrics, prs, time.Since(start))
		})
	}
}

// reportCacheMetrics reports calls per second and the share of repeated
// reads (every read after a URL's first) that did not transfer the body:
// answered 304, or sharing a concurrent identical request.
func reportCacheMetrics(b *testing.B, m *Metrics, distinct int, elapsed time.Duration) {
	hits := testutil.ToFloat64(m.cache.WithLabelValues(cacheHit304))
	misses := testutil.ToFloat64(m.cache.WithLabelValues(cacheMiss))
	coalesced := testutil.ToFloat64(m.cache.WithLabelValues(cacheCoalesced))
	calls := hits + misses + coalesced
	b.ReportMetric(calls/elapsed.Seconds(), "calls/s")
	if repeated := calls - float64(min(distinct, int(calls))); repeated > 0 {
		b.ReportMetric(100*(hits+coalesced)/repeated, "%304")
	}
}
