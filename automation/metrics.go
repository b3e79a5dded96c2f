package automation

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a delivery, the outcome label of bowline_webhook_events_total.
const (
	OutcomeAccepted     = "accepted"
	OutcomeIgnored      = "ignored"
	OutcomeBadSignature = "bad_signature"
	OutcomeTooLarge     = "too_large"
	OutcomeMalformed    = "malformed"
	OutcomeQueueFull    = "queue_full"
	OutcomeShuttingDown = "shutting_down"
	// OutcomeBusy: too many bytes or requests being read and checked.
	OutcomeBusy = "busy"
	// OutcomeDuplicate: a delivery ID accepted before, within the window.
	OutcomeDuplicate = "duplicate"
)

// Outcomes of one plugin handling one event.
const (
	handleSucceeded = "succeeded"
	handleRetried   = "retried"
	handleFailed    = "failed"
	handlePanicked  = "panicked"
)

type metrics struct {
	events     *prometheus.CounterVec
	handled    *prometheus.CounterVec
	handleTime *prometheus.HistogramVec
	queueWait  prometheus.Histogram
	queueDepth prometheus.Gauge
	dropped    *prometheus.CounterVec
	unverified prometheus.GaugeFunc
}

// newMetrics registers the server's metrics on reg (controller-runtime's
// registry in the operator; a fresh one in tests).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bowline_webhook_events_total",
			Help: "Webhook deliveries received, by event type and outcome.",
		}, []string{"event", "outcome"}),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bowline_plugin_handled_total",
			Help: "Plugin handlings of events, by plugin, event type and outcome (succeeded, retried, failed, panicked).",
		}, []string{"plugin", "event", "outcome"}),
		handleTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bowline_plugin_handle_seconds",
			Help:    "Time one plugin took to handle one event, per attempt.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"plugin", "event"}),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "bowline_webhook_queue_wait_seconds",
			Help:    "Time accepted events waited in the queue before a worker took them.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 3, 12),
		}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bowline_webhook_queue_depth",
			Help: "Events accepted and not yet taken by a worker.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bowline_webhook_dropped_total",
			Help: "Accepted events not handled because shutdown's grace period ran out; their delivery IDs are logged for redelivery.",
		}, []string{"event"}),
	}
	for _, c := range []prometheus.Collector{m.events, m.handled, m.handleTime, m.queueWait, m.queueDepth, m.dropped} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
