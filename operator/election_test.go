package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// Fast lease timings for the tests: a dead leader is replaced within
// testLease plus a few retry periods.
const (
	testLease = 4 * time.Second
	testRenew = 3 * time.Second
	testRetry = time.Second
)

// operatorProc is one `bowline operator` process and what it logged.
type operatorProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	ids  map[string]bool // lease identities it took
	runs map[string]int  // "Running the role" lines by role
	log  []string
	// exited is closed once the process has exited, with waitErr what
	// Wait returned.
	exited  chan struct{}
	waitErr error
}

// startOperator runs bin as `bowline operator` with args, following its
// JSON log (the leases it takes, the roles it runs) until the test ends.
func startOperator(t *testing.T, bin, kubeconfig string, args ...string) *operatorProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"operator", "--kubeconfig", kubeconfig}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &operatorProc{cmd: cmd, ids: map[string]bool{}, runs: map[string]int{}, exited: make(chan struct{})}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			p.mu.Lock()
			defer p.mu.Unlock()
			for _, l := range p.log {
				t.Log(l)
			}
		}
	})
	go func() {
		s := bufio.NewScanner(stderr)
		s.Buffer(make([]byte, 0, 64*1024), 1024*1024)
		for s.Scan() {
			var entry struct {
				Msg      string `json:"msg"`
				Identity string `json:"identity"`
				Role     string `json:"role"`
			}
			_ = json.Unmarshal(s.Bytes(), &entry)
			p.mu.Lock()
			p.log = append(p.log, s.Text())
			switch entry.Msg {
			case "Took the role's lease":
				p.ids[entry.Identity] = true
			case "Running the role":
				p.runs[entry.Role]++
			}
			p.mu.Unlock()
		}
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p
}

func (p *operatorProc) identities() map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]bool{}
	for id := range p.ids {
		out[id] = true
	}
	return out
}

func (p *operatorProc) ran(role string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runs[role]
}

// TestLeaderFailover runs two operators with the config and periodic roles
// and leader election, as two replicas of a Deployment: the roles' leases
// are held by one of them. Killed without a chance to release (SIGKILL),
// the leader is replaced within the lease's duration and a few retry
// periods; stopped with SIGTERM, it releases the leases and is replaced
// within a few retry periods.
func TestLeaderFailover(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	env, kubeconfig := controlPlane(t)
	ns := env.Namespace(t)
	bin := buildBowline(t)
	start := func() *operatorProc {
		return startOperator(t, bin, kubeconfig, "--components=config,periodic",
			"--leader-elect", "--leader-election-namespace", ns,
			"--leader-elect-lease-duration", testLease.String(), "--leader-elect-renew-deadline", testRenew.String(),
			"--leader-elect-retry-period", testRetry.String(),
			"--config-repository", ns+"/config", "--config-namespaces", ns, "--prowjob-namespace", ns,
			"--data-dir", t.TempDir(), "--metrics-bind-address", "0", "--health-probe-bind-address", freePort(t))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	leases := []string{LeaseName("config"), LeaseName("periodic")}
	// holder waits until every lease is held by one identity of p, and
	// returns the latest acquire time.
	holder := func(p *operatorProc) time.Time {
		t.Helper()
		for {
			ids := p.identities()
			var latest time.Time
			held := 0
			for _, name := range leases {
				var l coordinationv1.Lease
				if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &l); err == nil &&
					l.Spec.HolderIdentity != nil && ids[*l.Spec.HolderIdentity] && l.Spec.AcquireTime != nil {
					held++
					if l.Spec.AcquireTime.After(latest) {
						latest = l.Spec.AcquireTime.Time
					}
				}
			}
			if held == len(leases) {
				return latest
			}
			select {
			case <-ctx.Done():
				t.Fatalf("the leases %v are not held by the expected process", leases)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}

	a, b := start(), start()
	// Whichever wins, the other is on standby.
	var leader, standby *operatorProc
	for leader == nil {
		select {
		case <-ctx.Done():
			t.Fatal("no operator took the leases")
		case <-time.After(50 * time.Millisecond):
		}
		switch {
		case a.ran("periodic") > 0:
			leader, standby = a, b
		case b.ran("periodic") > 0:
			leader, standby = b, a
		}
	}
	holder(leader)
	if n := standby.ran("periodic"); n != 0 {
		t.Fatalf("the standby runs the periodic role too (%d times)", n)
	}

	killed := time.Now()
	if err := leader.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	took := holder(standby).Sub(killed)
	// The lease must expire first: the standby sees the last renewal up
	// to 2.2 retry periods late, and tries every 1 to 2.2 retry periods.
	bound := testLease + time.Duration(4.4*float64(testRetry)) + 2*time.Second
	t.Logf("After SIGKILL the standby took the leases in %s (bound %s)", took.Round(time.Millisecond), bound)
	if took > bound {
		t.Errorf("the standby took the leases %s after the leader was killed, more than %s", took, bound)
	}
	for standby.ran("periodic") == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the new leader does not run the periodic role")
		case <-time.After(50 * time.Millisecond):
		}
	}

	// A stopping leader releases its leases: the next one need not wait
	// for them to expire.
	c := start()
	holder(standby) // c is on standby
	stopped := time.Now()
	if err := standby.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	took = holder(c).Sub(stopped)
	bound = time.Duration(2.2*float64(testRetry)) + 2*time.Second
	t.Logf("After SIGTERM the standby took the leases in %s (bound %s)", took.Round(time.Millisecond), bound)
	if took > bound {
		t.Errorf("the standby took the released leases %s after SIGTERM, more than %s", took, bound)
	}
	select {
	case <-standby.exited:
		if err := standby.waitErr; err != nil {
			t.Errorf("the stopped leader exited with %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the stopped leader did not exit")
	}
}

// staticPlacement is a placement a test moves roles with.
type staticPlacement struct {
	mu       sync.Mutex
	separate map[string]bool
	changed  chan struct{}
}

func newStaticPlacement() *staticPlacement {
	return &staticPlacement{separate: map[string]bool{}, changed: make(chan struct{})}
}

func (p *staticPlacement) Separate(role string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.separate[role]
}

func (p *staticPlacement) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

func (p *staticPlacement) set(role string, separate bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.separate[role] = separate
	close(p.changed)
	p.changed = make(chan struct{})
}

// TestRoleGroupPlacement moves a role to its own Deployment and back: the
// group stops its runnables when the role moves away, and stops the process
// (to start afresh) when a role it ran comes back, since a controller
// cannot start twice.
func TestRoleGroupPlacement(t *testing.T) {
	place := newStaticPlacement()
	g := newRoleGroup("jobs", nil, logr.Discard())
	g.place = place
	running := make(chan bool, 10)
	g.add(manager.RunnableFunc(func(ctx context.Context) error {
		running <- true
		<-ctx.Done()
		running <- false
		return nil
	}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- g.Start(ctx) }()
	if !<-running || !g.Active() {
		t.Fatal("the role does not run")
	}
	place.set("jobs", true)
	if <-running {
		t.Fatal("want the role stopped")
	}
	place.set("jobs", false)
	if err := <-done; !errors.Is(err, errRoleReturned) {
		t.Fatalf("Start = %v, want errRoleReturned", err)
	}

	// A role placed elsewhere from the start never runs here, and runs
	// when it comes back.
	g = newRoleGroup("jobs", nil, logr.Discard())
	place = newStaticPlacement()
	place.set("jobs", true)
	g.place = place
	g.add(manager.RunnableFunc(func(ctx context.Context) error {
		running <- true
		<-ctx.Done()
		return nil
	}))
	go func() { done <- g.Start(ctx) }()
	select {
	case <-running:
		t.Fatal("a role placed elsewhere runs here")
	case <-time.After(100 * time.Millisecond):
	}
	place.set("jobs", false)
	<-running
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Start = %v after ctx ended, want nil", err)
	}
}
