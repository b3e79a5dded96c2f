package merge

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Metrics are the merge controller's measurements. Pool labels (org, repo,
// branch) are bounded by the configuration, as Tide's are.
type Metrics struct {
	syncDuration *prometheus.HistogramVec
	poolDuration *prometheus.HistogramVec
	poolPRs      *prometheus.GaugeVec
	merged       *prometheus.CounterVec
	mergeErrors  *prometheus.CounterVec
	runs         *prometheus.CounterVec
	heartbeat    *prometheus.GaugeVec
}

// NewMetrics creates the metrics and registers them with reg (none when nil).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		syncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bowline_merge_search_duration_seconds",
			Help:    "Time to search GitHub for the pull requests in the queries' scope, by kind (full or incremental) and result.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}, []string{"kind", "result"}),
		poolDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bowline_merge_pool_sync_duration_seconds",
			Help:    "Time to sync one pool (decide, act, write statuses), by result.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"result"}),
		poolPRs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bowline_merge_pool_pull_requests",
			Help: "Open pull requests of a pool by state (Success, Pending, Missing, NotMergeable, Blocked).",
		}, []string{"org", "repo", "branch", "state"}),
		merged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bowline_merge_merged_total",
			Help: "Pull requests merged, by pool and action (Merge or MergeBatch).",
		}, []string{"org", "repo", "branch", "action"}),
		mergeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bowline_merge_merge_failures_total",
			Help: "Merges GitHub refused, by pool.",
		}, []string{"org", "repo", "branch"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bowline_merge_runs_started_total",
			Help: "Runs the merge controller started, by kind (Batch, Speculative, Bisection, Retest).",
		}, []string{"kind"}),
		heartbeat: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bowline_merge_last_sync_timestamp_seconds",
			Help: "When a pool was last synced successfully.",
		}, []string{"org", "repo", "branch"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.syncDuration, m.poolDuration, m.poolPRs, m.merged, m.mergeErrors, m.runs, m.heartbeat} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "success"
}

func (m *Metrics) observeSync(full bool, err error, d time.Duration) {
	if m == nil {
		return
	}
	kind := "incremental"
	if full {
		kind = "full"
	}
	m.syncDuration.WithLabelValues(kind, result(err)).Observe(d.Seconds())
}

func (m *Metrics) observePool(k poolKey, res *PoolResult, err error, d time.Duration) {
	if m == nil {
		return
	}
	m.poolDuration.WithLabelValues(result(err)).Observe(d.Seconds())
	if err == nil {
		m.heartbeat.WithLabelValues(k.org, k.repo, k.branch).SetToCurrentTime()
	}
	if res == nil {
		return
	}
	if res.Plan != nil {
		counts := map[v1alpha1.PoolPullRequestState]int{}
		for _, v := range res.Plan.PRs {
			counts[v.State]++
		}
		for _, st := range []v1alpha1.PoolPullRequestState{v1alpha1.PoolPRSuccess, v1alpha1.PoolPRPending, v1alpha1.PoolPRMissing,
			v1alpha1.PoolPRNotMergeable, v1alpha1.PoolPRBlocked} {
			m.poolPRs.WithLabelValues(k.org, k.repo, k.branch, string(st)).Set(float64(counts[st]))
		}
	}
	if mg := res.Merge; mg != nil && mg.CompletionTime != nil {
		for _, p := range mg.Pulls {
			if p.MergeSHA != "" {
				m.merged.WithLabelValues(k.org, k.repo, k.branch, string(mg.Action)).Inc()
			}
		}
		if mg.Error != "" {
			m.mergeErrors.WithLabelValues(k.org, k.repo, k.branch).Inc()
		}
	}
}

func (m *Metrics) runStarted(kind v1alpha1.PoolBatchKind) {
	if m != nil {
		m.runs.WithLabelValues(string(kind)).Inc()
	}
}
