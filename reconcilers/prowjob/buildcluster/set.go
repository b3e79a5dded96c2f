package buildcluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Defaults of a Set.
const (
	// DefaultCheckInterval is how often each cluster's health is checked.
	DefaultCheckInterval = 30 * time.Second
	// DefaultCheckTimeout bounds one cluster's check.
	DefaultCheckTimeout = 10 * time.Second
	// syncTimeout bounds the wait for a new pod cache to sync.
	syncTimeout = time.Minute
)

// podVerbs are what the jobs controller does with pods in a build cluster.
var podVerbs = []string{"create", "get", "list", "watch", "delete"}

// Health reasons.
const (
	// ReasonReady: the cluster answers and allows every pod verb.
	ReasonReady = "Ready"
	// ReasonUnreachable: the cluster's API server could not be asked.
	ReasonUnreachable = "Unreachable"
	// ReasonMissingPermissions: the credentials lack pod verbs in the pod
	// namespace.
	ReasonMissingPermissions = "MissingPermissions"
	// ReasonNotChecked: no check has finished yet.
	ReasonNotChecked = "NotChecked"
)

// Health is what the last check of a cluster found.
type Health struct {
	// Alias is the cluster's name in job configuration.
	Alias string
	// Ready is true when the cluster answered and allows every pod verb in
	// the pod namespace.
	Ready bool
	// Reason is one of the Reason constants.
	Reason string
	// Message says what was found, for people.
	Message string
	// Namespace is the pod namespace that was checked.
	Namespace string
}

// Cluster is one build cluster.
type Cluster struct {
	alias string
	// local is true for the operator's own cluster, served by the
	// manager's client and cache.
	local bool
	// config connects to a remote cluster; direct is an uncached client
	// on it, for the health checks.
	config *rest.Config
	direct client.Client

	mu     sync.Mutex
	health Health
	// cl is a remote cluster's client and pod cache, made and started the
	// first time the cluster is found healthy.
	cl      cluster.Cluster
	started bool
	synced  bool
	// stop ends the cache (with the Set's context otherwise).
	stop context.CancelFunc
	// cacheNS is the pod namespace the cache holds.
	cacheNS string
}

// Alias is the cluster's name in job configuration.
func (c *Cluster) Alias() string { return c.alias }

// Local reports whether the cluster is the operator's own.
func (c *Cluster) Local() bool { return c.local }

// Health returns the last check's result.
func (c *Cluster) Health() Health {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.health
}

// Ready reports whether pods may be created and watched in the cluster: the
// operator's own always; a remote cluster once it was found healthy and its
// pod cache has synced.
func (c *Cluster) Ready() bool {
	if c.local {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.synced
}

// Direct returns an uncached client of a remote cluster, usable whether or
// not its cache runs; nil for the operator's own cluster.
func (c *Cluster) Direct() client.Client { return c.direct }

// Remote returns a remote cluster's client and pod cache once Ready; nil
// before, and for the operator's own cluster.
func (c *Cluster) Remote() cluster.Cluster {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.synced {
		return nil
	}
	return c.cl
}

// Set is the build clusters of one jobs controller, by alias. It is a
// manager Runnable, run by the elected leader: it checks every cluster
// each CheckInterval, starts a remote cluster's pod cache once the cluster
// is healthy (calling OnReady then) and hands each round of results to
// Report.
type Set struct {
	clusters map[string]*Cluster
	// local checks the operator's own cluster.
	local  client.Client
	scheme *runtime.Scheme

	// Namespace returns the pod namespace (Prow's pod_namespace): the
	// namespace whose pod permissions are checked and whose job pods a
	// remote cluster's cache holds (a new namespace restarts the caches).
	// "" (no configuration yet) postpones the checks; nil means "default".
	Namespace func() string
	// CheckInterval and CheckTimeout default to DefaultCheckInterval and
	// DefaultCheckTimeout.
	CheckInterval, CheckTimeout time.Duration
	// OnReady, when set, is called once per remote cluster, after its pod
	// cache has synced.
	OnReady func(ctx context.Context, c *Cluster) error
	// Report, when set, receives every cluster's health after each round
	// of checks, sorted by alias.
	Report func(ctx context.Context, health []Health) error
}

// New makes the set of the operator's own cluster, known through the
// manager's client, and the remote clusters of the kubeconfig set. A
// context named DefaultAlias replaces the operator's own cluster as the
// default. Nothing connects to a remote cluster before Start.
func New(local client.Client, remote map[string]*rest.Config, scheme *runtime.Scheme) (*Set, error) {
	s := &Set{clusters: map[string]*Cluster{}, local: local, scheme: scheme}
	if _, ok := remote[DefaultAlias]; !ok {
		s.clusters[DefaultAlias] = &Cluster{alias: DefaultAlias, local: true, health: notChecked(DefaultAlias)}
	}
	for _, alias := range slices.Sorted(maps.Keys(remote)) {
		c := &Cluster{alias: alias, config: rest.CopyConfig(remote[alias]), health: notChecked(alias)}
		var err error
		if c.direct, err = client.New(c.config, client.Options{Scheme: scheme}); err != nil {
			return nil, fmt.Errorf("build cluster %q: %w", alias, err)
		}
		s.clusters[alias] = c
	}
	return s, nil
}

func notChecked(alias string) Health {
	return Health{Alias: alias, Reason: ReasonNotChecked, Message: fmt.Sprintf("Build cluster %q has not been checked yet.", alias)}
}

// Get returns the cluster of an alias; "" is DefaultAlias.
func (s *Set) Get(alias string) (*Cluster, bool) {
	if alias == "" {
		alias = DefaultAlias
	}
	c, ok := s.clusters[alias]
	return c, ok
}

// Aliases lists the known aliases, sorted.
func (s *Set) Aliases() []string { return slices.Sorted(maps.Keys(s.clusters)) }

// Known reports whether alias names a build cluster; "" is DefaultAlias.
func (s *Set) Known(alias string) bool {
	_, ok := s.Get(alias)
	return ok
}

// ReadyClients returns the clients of the remote clusters whose pod caches
// have started, by alias, for components that read their job pods
// (garbage collection).
func (s *Set) ReadyClients() map[string]client.Client {
	out := map[string]client.Client{}
	for alias, c := range s.clusters {
		if cl := c.Remote(); cl != nil {
			out[alias] = cl.GetClient()
		}
	}
	return out
}

func (s *Set) namespace() string {
	if s.Namespace == nil {
		return "default"
	}
	return s.Namespace()
}

// NeedLeaderElection is true: the leader creates the pods and writes the
// conditions.
func (s *Set) NeedLeaderElection() bool { return true }

// Start checks the clusters at once and then every CheckInterval until ctx
// ends, stopping the remote caches it started when it returns.
func (s *Set) Start(ctx context.Context) error {
	interval := s.CheckInterval
	if interval <= 0 {
		interval = DefaultCheckInterval
	}
	var caches sync.WaitGroup
	defer caches.Wait()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.CheckAll(ctx, &caches)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// CheckAll checks every cluster concurrently, starts the caches of remote
// clusters found healthy for the first time (their goroutines are added to
// caches), and reports.
func (s *Set) CheckAll(ctx context.Context, caches *sync.WaitGroup) {
	log := ctrl.LoggerFrom(ctx).WithName("buildclusters")
	ns := s.namespace()
	if ns == "" {
		return
	}
	var wg sync.WaitGroup
	for _, c := range s.clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := s.check(ctx, c, ns)
			c.mu.Lock()
			changed := c.health != h
			c.health = h
			c.mu.Unlock()
			if changed {
				log.Info("Build cluster health", "cluster", c.alias, "ready", h.Ready, "reason", h.Reason, "message", h.Message)
			}
			if h.Ready && !c.local {
				if err := s.startCache(ctx, c, ns, caches); err != nil {
					log.Error(err, "Cannot start the pod cache of a build cluster", "cluster", c.alias)
				}
			}
		}()
	}
	wg.Wait()
	if s.Report == nil || ctx.Err() != nil {
		return
	}
	if err := s.Report(ctx, s.Health()); err != nil {
		log.Error(err, "Cannot report the health of the build clusters")
	}
}

// Health returns every cluster's last health, sorted by alias.
func (s *Set) Health() []Health {
	out := make([]Health, 0, len(s.clusters))
	for _, alias := range s.Aliases() {
		out = append(out, s.clusters[alias].Health())
	}
	return out
}

// check asks a cluster, through SelfSubjectAccessReviews, whether its
// credentials allow every pod verb in the pod namespace: one call per verb
// proves the API server answers and the permissions are there.
func (s *Set) check(ctx context.Context, c *Cluster, ns string) Health {
	timeout := s.CheckTimeout
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl := s.local
	if !c.local {
		cl = c.direct
	}
	h := Health{Alias: c.alias, Namespace: ns}
	var missing []string
	for _, verb := range podVerbs {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Resource: "pods"},
		}}
		if err := cl.Create(ctx, review); err != nil {
			h.Reason = ReasonUnreachable
			h.Message = fmt.Sprintf("Build cluster %q cannot be reached: %s", c.alias, firstLine(err))
			return h
		}
		if !review.Status.Allowed {
			missing = append(missing, verb)
		}
	}
	if len(missing) > 0 {
		h.Reason = ReasonMissingPermissions
		h.Message = fmt.Sprintf("Build cluster %q does not allow %s of pods in namespace %s.", c.alias, strings.Join(missing, ", "), ns)
		return h
	}
	h.Ready, h.Reason = true, ReasonReady
	h.Message = fmt.Sprintf("Build cluster %q is reachable and allows running pods in namespace %s.", c.alias, ns)
	return h
}

// startCache makes and starts a remote cluster's pod cache the first time
// the cluster is found healthy: job pods (created-by-prow) of the pod
// namespace ns, as Prow's build cluster managers cache them. It waits for
// the cache to sync and calls OnReady; a failure leaves the cluster to the
// next round.
func (s *Set) startCache(ctx context.Context, c *Cluster, ns string, caches *sync.WaitGroup) error {
	c.mu.Lock()
	if c.started && c.cacheNS == ns {
		c.mu.Unlock()
		return nil
	}
	if c.stop != nil {
		// The pod namespace changed: the old cache watches the wrong one.
		c.stop()
		c.cl, c.synced, c.stop = nil, false, nil
	}
	c.started, c.cacheNS = true, ns
	c.mu.Unlock()
	fail := func(err error) error {
		c.mu.Lock()
		c.started = false
		c.mu.Unlock()
		return err
	}
	cl, err := cluster.New(c.config, func(o *cluster.Options) {
		o.Scheme = s.scheme
		o.Cache.ByObject = map[client.Object]cache.ByObject{&corev1.Pod{}: {
			Label:     labels.SelectorFromSet(labels.Set{v1alpha1.CreatedByLabel: "true"}),
			Transform: cache.TransformStripManagedFields(),
		}}
		o.Cache.DefaultNamespaces = map[string]cache.Config{ns: {}}
	})
	if err != nil {
		return fail(fmt.Errorf("build cluster %q: %w", c.alias, err))
	}
	cctx, stop := context.WithCancel(ctx)
	caches.Add(1)
	go func() {
		defer caches.Done()
		if err := cl.Start(cctx); err != nil && cctx.Err() == nil {
			ctrl.LoggerFrom(ctx).Error(err, "Build cluster cache stopped", "cluster", c.alias)
		}
	}()
	// The credentials may allow the checks but not the watch: give up on
	// this round rather than wait for ever.
	wctx, cancel := context.WithTimeout(cctx, syncTimeout)
	defer cancel()
	if _, err := cl.GetCache().GetInformer(wctx, &corev1.Pod{}); err != nil {
		stop()
		return fail(fmt.Errorf("pod informer of build cluster %q: %w", c.alias, err))
	}
	if !cl.GetCache().WaitForCacheSync(wctx) {
		stop()
		return fail(fmt.Errorf("the pod cache of build cluster %q did not sync within %s", c.alias, syncTimeout))
	}
	c.mu.Lock()
	c.stop = stop
	c.mu.Unlock()
	c.mu.Lock()
	c.cl, c.synced = cl, true
	c.mu.Unlock()
	if s.OnReady != nil {
		return s.OnReady(ctx, c)
	}
	return nil
}

// firstLine keeps the first line of an error, which for client errors is
// the useful one.
func firstLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}
