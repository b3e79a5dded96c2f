package configrepo

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the ConfigRepository reconciler's Prometheus metrics. Labels
// are bounded: namespace and name of ConfigRepositories (a handful per
// installation) and closed sets of results and reasons.
type Metrics struct {
	reconcileDuration *prometheus.HistogramVec
	commitToApplied   *prometheus.HistogramVec
	failures          *prometheus.CounterVec
	appliedTimestamp  *prometheus.GaugeVec
}

// NewMetrics creates the metrics and registers them on reg (in the operator,
// controller-runtime's metrics.Registry).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		reconcileDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bowline_configrepo_reconcile_duration_seconds",
			Help:    "Time one ConfigRepository reconcile took, by result.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"result"}),
		commitToApplied: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bowline_configrepo_commit_to_applied_seconds",
			Help:    "Time from a revision's commit to the moment it was applied.",
			Buckets: []float64{.25, .5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
		}, []string{"namespace", "name"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bowline_configrepo_failures_total",
			Help: "Failed ConfigRepository reconciles, by reason.",
		}, []string{"reason"}),
		appliedTimestamp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bowline_configrepo_applied_revision_timestamp_seconds",
			Help: "Commit time of the applied revision, as Unix seconds; time() minus it is the applied revision's age.",
		}, []string{"namespace", "name"}),
	}
	for _, c := range []prometheus.Collector{m.reconcileDuration, m.commitToApplied, m.failures, m.appliedTimestamp} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) observeReconcile(result string, d time.Duration) {
	m.reconcileDuration.WithLabelValues(result).Observe(d.Seconds())
}

func (m *Metrics) observeFailure(reason string) { m.failures.WithLabelValues(reason).Inc() }

func (m *Metrics) observeApplied(namespace, name string, commitTime, appliedAt time.Time) {
	m.commitToApplied.WithLabelValues(namespace, name).Observe(appliedAt.Sub(commitTime).Seconds())
	m.appliedTimestamp.WithLabelValues(namespace, name).Set(float64(commitTime.Unix()))
}

func (m *Metrics) setAppliedCommitTime(namespace, name string, commitTime time.Time) {
	m.appliedTimestamp.WithLabelValues(namespace, name).Set(float64(commitTime.Unix()))
}

func (m *Metrics) forget(namespace, name string) {
	m.commitToApplied.DeleteLabelValues(namespace, name)
	m.appliedTimestamp.DeleteLabelValues(namespace, name)
}
