package prowjob

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Metrics are the job controller's Prometheus metrics.
type Metrics struct {
	transitions *prometheus.CounterVec
	podLatency  prometheus.Histogram
	jobs        *jobsCollector
}

// NewMetrics creates the metrics and registers them on reg (nil: not
// registered, for tests):
//
//   - bowline_prowjobs{state,type}: runs in the cluster, counted from the
//     cache at each scrape;
//   - bowline_prowjob_transition_total{state,type}: state changes made by
//     this controller, by the state entered;
//   - bowline_prowjob_pod_creation_latency_seconds: from a run's creation to
//     its pod's.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bowline_prowjob_transition_total",
			Help: "State changes of ProwJobs made by the job controller, by the state entered and the job type.",
		}, []string{"state", "type"}),
		podLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "bowline_prowjob_pod_creation_latency_seconds",
			Help:    "Time from a ProwJob's creation to the creation of its pod.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10, 30, 60},
		}),
		jobs: &jobsCollector{desc: prometheus.NewDesc("bowline_prowjobs",
			"ProwJobs in the cluster by state and type.", []string{"state", "type"}, nil)},
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.transitions, m.podLatency, m.jobs} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// transition records a state change.
func (m *Metrics) transition(pj *v1alpha1.ProwJob, from v1alpha1.ProwJobState) {
	if m == nil || pj.Status.State == from {
		return
	}
	m.transitions.WithLabelValues(string(pj.Status.State), string(pj.Spec.Type)).Inc()
}

// podCreated records how long a run waited for its pod.
func (m *Metrics) podCreated(pj *v1alpha1.ProwJob, now time.Time) {
	if m == nil {
		return
	}
	m.podLatency.Observe(now.Sub(pj.CreationTimestamp.Time).Seconds())
}

// readFrom makes the bowline_prowjobs gauge count the runs r lists.
func (m *Metrics) readFrom(r client.Reader) {
	if m != nil {
		m.jobs.reader.Store(&r)
	}
}

// jobsCollector counts ProwJobs by state and type at scrape time, from the
// informer cache, without copying the objects.
type jobsCollector struct {
	desc   *prometheus.Desc
	reader atomic.Pointer[client.Reader]
}

func (c *jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.reader.Load()
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var list v1alpha1.ProwJobList
	if err := (*r).List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	type key struct{ state, typ string }
	counts := map[key]int{}
	for i := range list.Items {
		pj := &list.Items[i]
		counts[key{string(indexedState(pj)), string(pj.Spec.Type)}]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), k.state, k.typ)
	}
}
