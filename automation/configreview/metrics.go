package configreview

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the review's Prometheus metrics; the result label is one of
// valid, invalid and error.
type Metrics struct {
	duration *prometheus.HistogramVec
}

// NewMetrics creates the metrics and registers them on reg (in the
// operator, controller-runtime's metrics.Registry).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "bowline_configreview_plan_duration_seconds",
		Help:    "Time from taking up a pull request to a config repository to its plan posted, by result (valid, invalid, error).",
		Buckets: []float64{.1, .25, .5, 1, 2, 5, 10, 30, 60, 120},
	}, []string{"result"})}
	if err := reg.Register(m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Metrics) observe(result string, d time.Duration) {
	if m != nil {
		m.duration.WithLabelValues(result).Observe(d.Seconds())
	}
}
