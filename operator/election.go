package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/uuid"
	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/bowline-ci/bowline/schema/deploy"
)

// Each role that must act alone (config, jobs, reporter, periodic, merge,
// orgs) has a lease of its own, so that the roles can run in separate
// Deployments, each electing its own leader, and move between processes
// without ever running twice: whichever process holds a role's lease runs
// it, and no other. The hook and web roles serve on every replica.

// ElectionOptions are the timings of the roles' leases.
type ElectionOptions struct {
	// LeaseDuration is how long a lease holds after its last renewal: the
	// longest a role goes unled when its leader dies without releasing.
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps trying to renew before
	// it gives up the role (and the process exits, to start afresh).
	RenewDeadline time.Duration
	// RetryPeriod is how often a leader renews and a candidate tries.
	RetryPeriod time.Duration
}

// Default lease timings: a leader that dies is replaced within
// LeaseDuration plus up to 2.2 RetryPeriods (client-go's jitter), 15 s at
// most; one that stops (SIGTERM, a rollout) releases its leases and is
// replaced within 2.2 RetryPeriods. docs/deploy.md lists the same figures.
const (
	DefaultLeaseDuration = 10 * time.Second
	DefaultRenewDeadline = 7 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// AddFlags registers the lease flags.
func (o *ElectionOptions) AddFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", DefaultLeaseDuration, "how long a role's lease holds after its last renewal: the longest a role goes unled when its leader dies")
	fs.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", DefaultRenewDeadline, "how long a leader tries to renew its lease before it gives the role up and exits")
	fs.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", DefaultRetryPeriod, "how often a leader renews its leases and a standby replica tries to take them")
}

// Validate reports timings client-go's elector refuses.
func (o *ElectionOptions) Validate() error {
	switch {
	case o.RetryPeriod <= 0:
		return fmt.Errorf("--leader-elect-retry-period must be positive, not %s", o.RetryPeriod)
	case o.RenewDeadline <= time.Duration(leaderelection.JitterFactor*float64(o.RetryPeriod)):
		return fmt.Errorf("--leader-elect-renew-deadline (%s) must be longer than %.1f times --leader-elect-retry-period (%s)", o.RenewDeadline, leaderelection.JitterFactor, o.RetryPeriod)
	case o.LeaseDuration <= o.RenewDeadline:
		return fmt.Errorf("--leader-elect-lease-duration (%s) must be longer than --leader-elect-renew-deadline (%s)", o.LeaseDuration, o.RenewDeadline)
	}
	return nil
}

// LeaseName is the name of a role's Lease (deploy.LeaseName says why the
// config role's is what it is).
func LeaseName(role string) string { return deploy.LeaseName(role) }

// errLeadershipLost stops the process when a role's lease could not be
// renewed: another replica may lead it already, so this one must stop at
// once, and starts afresh (the kubelet restarts it).
var errLeadershipLost = errors.New("lost a role's lease")

// errRoleReturned stops the process when a role it handed to a Deployment
// of its own comes back: a controller that ran cannot be started again in
// the same process, so the process exits to start afresh with it.
var errRoleReturned = errors.New("a role this process handed over is to run here again")

// placement says which roles run in Deployments of their own; the
// operator bootstrap installs leaves those to them.
type placement interface {
	// Separate reports whether role runs in a Deployment of its own.
	Separate(role string) bool
	// Changed returns a channel closed at the next change.
	Changed() <-chan struct{}
}

// roleGroup runs the runnables of one role that must act alone: once this
// process holds the role's lease and the role is not placed elsewhere.
type roleGroup struct {
	role string
	// elect holds the lease; nil runs the role without one (bowline up,
	// --leader-elect=false).
	elect *elector
	// after, when set, must be closed before the lease can be taken: the
	// config role's elected channel, in the operator that runs it. The
	// lease is watched meanwhile, so that once it opens, a lease its dead
	// holder stopped renewing is taken at once.
	after <-chan struct{}
	// place, when set, hands the role over to its own Deployment.
	place placement
	log   logr.Logger

	mu        sync.Mutex
	runnables []manager.Runnable
	// elected is closed when the runnables first start.
	elected chan struct{}
	// active is true while the runnables run.
	active bool
}

func newRoleGroup(role string, e *elector, log logr.Logger) *roleGroup {
	return &roleGroup{role: role, elect: e, log: log.WithValues("role", role), elected: make(chan struct{})}
}

func (g *roleGroup) add(r manager.Runnable) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.runnables = append(g.runnables, r)
}

// Active reports whether the role runs in this process now.
func (g *roleGroup) Active() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.active
}

// NeedLeaderElection is false: the group elects for itself.
func (g *roleGroup) NeedLeaderElection() bool { return false }

// Start runs the role whenever this process should, until ctx ends.
func (g *roleGroup) Start(ctx context.Context) error {
	ran := false
	for {
		if !g.waitHere(ctx) {
			return nil
		}
		if ran {
			return fmt.Errorf("%w: %s", errRoleReturned, g.role)
		}
		moved, started, err := g.lead(ctx)
		ran = ran || started
		if err != nil || !moved {
			return err
		}
		if started {
			g.log.Info("Handed the role over to its own Deployment")
		}
	}
}

// waitHere waits until the role is not placed elsewhere; false when ctx
// ended first.
func (g *roleGroup) waitHere(ctx context.Context) bool {
	for g.place != nil {
		changed := g.place.Changed()
		if !g.place.Separate(g.role) {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		}
	}
	return ctx.Err() == nil
}

// movedAway returns a channel closed when the role is placed elsewhere.
func (g *roleGroup) movedAway(ctx context.Context) <-chan struct{} {
	out := make(chan struct{})
	if g.place == nil {
		return out
	}
	go func() {
		for {
			changed := g.place.Changed()
			if g.place.Separate(g.role) {
				close(out)
				return
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// lead takes the lease (if any) and runs the runnables until ctx ends, the
// lease is lost (an error) or the role moves to its own Deployment
// (moved). The runnables stop before the lease is released, so that the
// next leader never overlaps them.
func (g *roleGroup) lead(ctx context.Context) (moved, started bool, err error) {
	watch, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	away := g.movedAway(watch)
	var leading <-chan context.Context
	var lost <-chan struct{}
	release := func() {}
	if g.elect == nil {
		c := make(chan context.Context, 1)
		c <- context.WithoutCancel(ctx)
		leading = c
	} else {
		leading, lost, release = g.elect.run(g.role, g.after, g.log)
	}
	defer release()
	var leaderCtx context.Context
	select {
	case leaderCtx = <-leading:
	case <-ctx.Done():
		return false, false, nil
	case <-away:
		return true, false, nil
	case <-lost:
		return false, false, nil
	}
	runCtx, stop := context.WithCancel(leaderCtx)
	defer stop()
	done := g.run(runCtx)
	select {
	case err = <-done:
		// A runnable failed on its own: the process stops, as the manager
		// stops for any failed runnable.
		if err == nil && leaderCtx.Err() != nil {
			err = fmt.Errorf("%w: %s", errLeadershipLost, g.role)
		}
		return false, true, err
	case <-ctx.Done():
	case <-away:
		moved = true
	case <-leaderCtx.Done():
		stop()
		<-done
		return false, true, fmt.Errorf("%w: %s", errLeadershipLost, g.role)
	}
	stop()
	err = <-done
	return moved, true, err
}

// run starts every runnable with ctx and returns a channel that receives
// once all have returned: the first error, or nil.
func (g *roleGroup) run(ctx context.Context) <-chan error {
	g.mu.Lock()
	runnables := append([]manager.Runnable(nil), g.runnables...)
	g.active = true
	select {
	case <-g.elected:
	default:
		close(g.elected)
	}
	g.mu.Unlock()
	g.log.Info("Running the role")
	ctx, cancel := context.WithCancel(ctx)
	errs := make(chan error, len(runnables))
	var wg sync.WaitGroup
	for _, r := range runnables {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := r.Start(ctx)
			if err != nil && ctx.Err() == nil {
				// One failed: stop the others too.
				cancel()
			}
			errs <- err
		}()
	}
	out := make(chan error, 1)
	go func() {
		wg.Wait()
		cancel()
		close(errs)
		var first error
		for err := range errs {
			if err != nil && first == nil {
				first = err
			}
		}
		g.mu.Lock()
		g.active = false
		g.mu.Unlock()
		out <- first
	}()
	return out
}

// elector holds the roles' leases of one process.
type elector struct {
	opts      ElectionOptions
	namespace string
	identity  string
	leases    coordinationv1.CoordinationV1Interface
}

// newElector prepares the leases in namespace (empty: the pod's own).
func newElector(cfg *rest.Config, opts ElectionOptions, namespace string) (*elector, error) {
	if namespace == "" {
		b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
		if err != nil {
			return nil, errors.New("--leader-election-namespace is needed outside a cluster")
		}
		namespace = strings.TrimSpace(string(b))
	}
	host, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("leader election identity: %w", err)
	}
	// Leases get a client of their own, so that a burst of other requests
	// never delays a renewal behind the client's rate limiter.
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = 20, 40
	c.Timeout = opts.RenewDeadline / 2
	leases, err := coordinationv1.NewForConfig(c)
	if err != nil {
		return nil, err
	}
	// The host name first, so that a lease names the pod holding it.
	return &elector{opts: opts, namespace: namespace, identity: host + "_" + uuid.NewString(), leases: leases}, nil
}

// run contends for role's lease, taking it only once gate (if any) is
// closed. leading receives the leader's context once the lease is held
// (cancelled when it is lost); lost is closed when the elector stops;
// release stops contending or leading, gives the lease up and waits for
// that.
func (e *elector) run(role string, gate <-chan struct{}, log logr.Logger) (leading <-chan context.Context, lost <-chan struct{}, release func()) {
	lead := make(chan context.Context, 1)
	stopped := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	var lock resourcelock.Interface = &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: e.namespace, Name: LeaseName(role)},
		Client:     e.leases,
		LockConfig: resourcelock.ResourceLockConfig{Identity: e.identity},
	}
	if gate != nil {
		lock = gatedLock{Interface: lock, open: gate}
	}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   e.opts.LeaseDuration,
		RenewDeadline:   e.opts.RenewDeadline,
		RetryPeriod:     e.opts.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            LeaseName(role),
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(c context.Context) {
				log.Info("Took the role's lease", "lease", e.namespace+"/"+LeaseName(role), "identity", e.identity)
				lead <- c
			},
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		// The timings were validated with the flags.
		panic(err)
	}
	go func() {
		defer close(stopped)
		le.Run(ctx)
	}()
	return lead, stopped, func() {
		cancel()
		<-stopped
	}
}

// errGateClosed refuses to take a lease before its gate opens.
var errGateClosed = errors.New("waiting for this process to lead the config role")

// gatedLock is a lease that is read as usual but written (taken) only once
// open is closed. Reading all along keeps the elector's view of the lease
// current, so that a lease whose holder died is taken as soon as the gate
// opens rather than a lease duration later.
type gatedLock struct {
	resourcelock.Interface
	open <-chan struct{}
}

func (l gatedLock) ready() error {
	select {
	case <-l.open:
		return nil
	default:
		return errGateClosed
	}
}

func (l gatedLock) Create(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	if err := l.ready(); err != nil {
		return err
	}
	return l.Interface.Create(ctx, r)
}

func (l gatedLock) Update(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	if err := l.ready(); err != nil {
		return err
	}
	return l.Interface.Update(ctx, r)
}

// roleManager is the manager as one role's setup sees it: runnables that
// need leader election join the role's group instead of the manager's, so
// that they run under the role's own lease.
type roleManager struct {
	manager.Manager
	group *roleGroup
}

// Add adds r to the role's group, or to the manager when it runs on every
// replica.
func (m roleManager) Add(r manager.Runnable) error {
	if le, ok := r.(manager.LeaderElectionRunnable); ok && !le.NeedLeaderElection() {
		return m.Manager.Add(r)
	}
	m.group.add(r)
	return nil
}

// Elected is closed when the role first runs in this process.
func (m roleManager) Elected() <-chan struct{} { return m.group.elected }
