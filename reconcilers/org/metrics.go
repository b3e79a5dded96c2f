package org

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bowline-ci/bowline/reconcilers/org/plan"
)

// Metrics are the orgs role's measurements. The org label is bounded by the
// configuration, which names the orgs.
type Metrics struct {
	syncDuration *prometheus.HistogramVec
	changes      *prometheus.CounterVec
	planned      *prometheus.GaugeVec
	drift        *prometheus.GaugeVec
	requests     *prometheus.CounterVec
	lastSync     *prometheus.GaugeVec
}

// NewMetrics creates the metrics and registers them with reg (none when nil).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		syncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bowline_orgs_sync_duration_seconds",
			Help:    "Time to sync one org (read, plan, apply), by outcome: InSync, DryRun, Refused, Applied, ApplyFailed or Error.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}, []string{"outcome"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bowline_orgs_changes_total",
			Help: "Changes applied to GitHub orgs, by kind of object and result (applied or failed).",
		}, []string{"kind", "result"}),
		planned: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bowline_orgs_planned_changes",
			Help: "Changes the last plan of an org holds, applied or not.",
		}, []string{"org"}),
		drift: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bowline_orgs_drift_objects",
			Help: "Objects of an org changed by hand and not reverted, at its last sync.",
		}, []string{"org"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bowline_orgs_github_requests_total",
			Help: "GitHub API requests of org syncs, by result: charged (counted against the rate limit) or not_modified (304, free).",
		}, []string{"result"}),
		lastSync: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bowline_orgs_last_sync_timestamp_seconds",
			Help: "When an org was last synced without error.",
		}, []string{"org"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.syncDuration, m.changes, m.planned, m.drift, m.requests, m.lastSync} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// observe records one sync.
func (m *Metrics) observe(org string, res *SyncResult, err error, took time.Duration, now time.Time) {
	org = strings.ToLower(org)
	outcome := "Error"
	if err == nil && res != nil {
		outcome = string(res.Outcome)
	}
	m.syncDuration.WithLabelValues(outcome).Observe(took.Seconds())
	if res == nil {
		return
	}
	m.requests.WithLabelValues("charged").Add(float64(res.Usage.Charged()))
	m.requests.WithLabelValues("not_modified").Add(float64(res.Usage.NotModified))
	if err != nil || res.Plan == nil {
		return
	}
	m.planned.WithLabelValues(org).Set(float64(len(res.Plan.Changes)))
	m.drift.WithLabelValues(org).Set(float64(len(res.Plan.Drifted()) - res.Reverted))
	m.lastSync.WithLabelValues(org).Set(float64(now.Unix()))
}

// change records one applied change.
func (m *Metrics) change(c plan.Change, err error) {
	result := "applied"
	if err != nil {
		result = "failed"
	}
	m.changes.WithLabelValues(string(c.Kind), result).Inc()
}

// forget drops an org's gauges.
func (m *Metrics) forget(org string) {
	org = strings.ToLower(org)
	m.planned.DeleteLabelValues(org)
	m.drift.DeleteLabelValues(org)
	m.lastSync.DeleteLabelValues(org)
}
