package deploy

import "github.com/prometheus/client_golang/prometheus"

// Metrics count the roles' rollouts.
type Metrics struct {
	rollouts *prometheus.CounterVec
}

// NewMetrics registers the metrics on reg (nil registers nothing).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{rollouts: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bowline_deploy_rollouts_total",
		Help: "Rollouts of a role's Deployment from the config repository, by role and result (succeeded, rolled_back).",
	}, []string{"role", "result"})}
	if reg != nil {
		if err := reg.Register(m.rollouts); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) rollout(role, result string) {
	if m != nil {
		m.rollouts.WithLabelValues(role, result).Inc()
	}
}
