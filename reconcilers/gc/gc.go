// Package gc garbage-collects ProwJobs and their pods with the rules of
// Prow's sinker:
//
//   - a completed ProwJob is deleted once it started more than
//     max_prowjob_age ago, except the newest completed run of each periodic
//     still in the configuration, which the periodic runner needs to know
//     when to run next;
//   - a pod of a completed run is deleted once it started more than
//     max_pod_age ago, or its run completed more than terminated_pod_ttl ago;
//   - a pod of a run that is not complete is never deleted (the job
//     controller would only start another one);
//   - an orphaned pod, labelled as a bowline job pod but whose ProwJob no
//     longer exists, is deleted.
//
// Runs are collected in config.yaml's prowjob_namespace, where the trigger
// and the periodic runner create them.
package gc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/reconcilers/prowjob"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Sinker's defaults.
const (
	DefaultResyncPeriod  = time.Hour
	DefaultMaxProwJobAge = 7 * 24 * time.Hour
	DefaultMaxPodAge     = 24 * time.Hour
)

// Config is the configuration's sinker section, and the periodics it
// holds.
type Config struct {
	// ResyncPeriod is how often garbage is collected; default 1h.
	ResyncPeriod time.Duration
	// MaxProwJobAge is how long completed runs are kept; default 7d.
	MaxProwJobAge time.Duration
	// MaxPodAge is how long job pods are kept; default 1d.
	MaxPodAge time.Duration
	// TerminatedPodTTL is how long pods of completed runs are kept; default
	// MaxPodAge.
	TerminatedPodTTL time.Duration
	// Periodics are the names of the periodics in the configuration.
	Periodics []string
	// ExcludeClusters are build clusters whose pods are left alone.
	ExcludeClusters []string
	// Skip makes collection do nothing, while the configuration is not
	// known.
	Skip bool
	// Namespace is config.yaml's prowjob_namespace: the ProwJobs collected,
	// and the pods of runs there. Empty falls back to Collector.Namespace.
	Namespace string
}

func (c Config) withDefaults() Config {
	if c.ResyncPeriod <= 0 {
		c.ResyncPeriod = DefaultResyncPeriod
	}
	if c.MaxProwJobAge <= 0 {
		c.MaxProwJobAge = DefaultMaxProwJobAge
	}
	if c.MaxPodAge <= 0 {
		c.MaxPodAge = DefaultMaxPodAge
	}
	if c.TerminatedPodTTL <= 0 {
		c.TerminatedPodTTL = c.MaxPodAge
	}
	return c
}

// Collector deletes old ProwJobs and pods. It is a manager Runnable that
// runs only on the elected leader.
type Collector struct {
	// Client reads through the manager's cache and deletes.
	Client client.Client
	// APIReader confirms that a pod's ProwJob is gone before the pod is
	// deleted as an orphan.
	APIReader client.Reader
	// Namespace limits collection to one namespace of ProwJobs until the
	// configuration names its prowjob_namespace (Config.Namespace); empty
	// means all.
	Namespace string
	// BuildClusters returns the clients of the build clusters besides the
	// operator's own whose job pods can be read now, by alias; nil means
	// none.
	BuildClusters func() map[string]client.Client
	// Config returns the current settings; nil means sinker's defaults.
	Config func() Config
	// Clock is the time source; default the real clock.
	Clock clock.PassiveClock
	// Metrics, when set, counts deletions.
	Metrics *Metrics
}

// Metrics count what the collector deleted.
type Metrics struct {
	deleted *prometheus.CounterVec
}

// NewMetrics creates bowline_gc_deleted_total{kind,reason} and registers it
// on reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{deleted: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bowline_gc_deleted_total",
		Help: "Objects deleted by garbage collection, by kind and reason (aged, ttled, orphaned, aged-periodic).",
	}, []string{"kind", "reason"})}
	if reg != nil {
		if err := reg.Register(m.deleted); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) count(kind, reason string) {
	if m != nil {
		m.deleted.WithLabelValues(kind, reason).Inc()
	}
}

// SetupWithManager adds the collector to the manager.
func (c *Collector) SetupWithManager(mgr ctrl.Manager) error {
	if c.Client == nil {
		c.Client = mgr.GetClient()
	}
	if c.APIReader == nil {
		c.APIReader = mgr.GetAPIReader()
	}
	return mgr.Add(c)
}

// NeedLeaderElection makes only the leader delete.
func (c *Collector) NeedLeaderElection() bool { return true }

// Start collects every resync period until ctx ends.
func (c *Collector) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("gc")
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if err := c.Sync(ctx); err != nil {
			log.Error(err, "Garbage collection incomplete")
		}
	}, c.config().ResyncPeriod)
	return nil
}

func (c *Collector) config() Config {
	if c.Config == nil {
		return Config{}.withDefaults()
	}
	return c.Config().withDefaults()
}

// Sync collects once.
func (c *Collector) Sync(ctx context.Context) error {
	cfg := c.config()
	if cfg.Skip {
		return nil
	}
	now := c.now()
	ns := cfg.Namespace
	if ns == "" {
		ns = c.Namespace
	}
	var list v1alpha1.ProwJobList
	if err := c.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return fmt.Errorf("list ProwJobs: %w", err)
	}
	plan := planProwJobs(list.Items, cfg, now)
	var errs []error
	for _, d := range plan.delete {
		pj := &v1alpha1.ProwJob{}
		pj.Namespace, pj.Name = d.namespace, d.name
		if err := c.Client.Delete(ctx, pj); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete ProwJob %s/%s: %w", d.namespace, d.name, err))
			continue
		}
		c.Metrics.count("ProwJob", d.reason)
	}
	clusters := map[string]client.Client{prowjob.DefaultCluster: c.Client}
	if c.BuildClusters != nil {
		for alias, cl := range c.BuildClusters() {
			clusters[alias] = cl
		}
	}
	for alias, cl := range clusters {
		if slices.Contains(cfg.ExcludeClusters, alias) {
			continue
		}
		if err := c.collectPods(ctx, cl, alias, ns, plan, cfg, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// collectPods deletes the job pods of one build cluster that the rules
// allow.
func (c *Collector) collectPods(ctx context.Context, cl client.Client, alias, ns string, plan plan, cfg Config, now time.Time) error {
	nsReq, err := labels.NewRequirement(v1alpha1.ProwJobNamespaceLabel, selection.Exists, nil)
	if err != nil {
		return err
	}
	sel := labels.SelectorFromSet(labels.Set{v1alpha1.CreatedByLabel: "true"}).Add(*nsReq)
	var pods corev1.PodList
	if err := cl.List(ctx, &pods, client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return fmt.Errorf("list pods in cluster %s: %w", alias, err)
	}
	var errs []error
	for i := range pods.Items {
		pod := &pods.Items[i]
		jobNS, jobName := pod.Labels[v1alpha1.ProwJobNamespaceLabel], pod.Labels[v1alpha1.IDLabel]
		if ns != "" && jobNS != ns {
			continue
		}
		run, inCache := plan.runs[key{jobNS, jobName}]
		known := inCache && !run.deleted
		if !inCache {
			// Confirm with the API server: the cache may lag behind a run
			// created moments ago.
			err := c.APIReader.Get(ctx, client.ObjectKey{Namespace: jobNS, Name: jobName}, &v1alpha1.ProwJob{})
			if err == nil {
				continue
			}
			if !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("check ProwJob of pod %s/%s: %w", pod.Namespace, pod.Name, err))
				continue
			}
		}
		reason := podReason(pod, run, known, cfg, now)
		if reason == "" {
			continue
		}
		if err := cl.Delete(ctx, pod); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete pod %s/%s in cluster %s: %w", pod.Namespace, pod.Name, alias, err))
			continue
		}
		c.Metrics.count("Pod", reason)
	}
	return errors.Join(errs...)
}

func (c *Collector) now() time.Time {
	if c.Clock == nil {
		return time.Now()
	}
	return c.Clock.Now()
}
