package periodic

import (
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

// TestRunnerFollowsTheConfiguredTick starts the runner before any
// configuration is applied, as at every process start, then applies one
// with a periodic: it must start when the configuration is applied, not
// after the default minute that the runner began waiting with.
func TestRunnerFollowsTheConfiguredTick(t *testing.T) {
	ns := env.Namespace(t)
	mgr := env.Manager(t, ns)
	var applied atomic.Bool
	store := &snapshot.Store{}
	r := &Runner{Namespace: ns, Reconfigured: store.Subscribe, Config: func() Config {
		if !applied.Load() {
			return Config{}
		}
		return Config{TickInterval: 100 * time.Millisecond, Namespace: ns,
			Periodics: []Job{{Name: "ci-soon", Interval: time.Hour, Spec: spec()}}}
	}}
	if err := r.SetupWithManager(t.Context(), mgr); err != nil {
		t.Fatal(err)
	}
	envtest.Run(t, mgr)
	// Let the first tick pass without a configuration.
	eventually(t, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.since.IsZero() {
			return errNoTickYet
		}
		return nil
	})
	applied.Store(true)
	store.Set(&snapshot.Snapshot{Revision: "main@sha1:1"})
	eventually(t, func() error {
		var list v1alpha1.ProwJobList
		if err := env.Client.List(t.Context(), &list, client.InNamespace(ns)); err != nil {
			return err
		}
		if len(list.Items) != 1 {
			return errNoTickYet
		}
		return nil
	})
}

var errNoTickYet = errorString("the runner has not ticked yet")

type errorString string

func (e errorString) Error() string { return string(e) }
