package main

import (
	"context"
	"errors"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	deployreconciler "github.com/bowline-ci/bowline/reconcilers/deploy"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// statusPlacement tells the operator bootstrap installed which roles run
// in Deployments of their own, from the ConfigRepository's
// status.deployment (written by the deploy reconciler, which runs with the
// config role), through the manager's cache. Until the cache has synced,
// every role counts as placed elsewhere, so that none starts here before
// it is known to belong here.
type statusPlacement struct {
	cache cache.Cache
	key   types.NamespacedName

	mu       sync.Mutex
	synced   bool
	separate map[string]bool
	changed  chan struct{}
}

// NeedLeaderElection is false: every replica needs to know.
func (p *statusPlacement) NeedLeaderElection() bool { return false }

// Start follows the ConfigRepository until ctx ends.
func (p *statusPlacement) Start(ctx context.Context) error {
	inf, err := p.cache.GetInformer(ctx, &v1alpha1.ConfigRepository{})
	if err != nil {
		return err
	}
	observe := func(obj any) {
		if cr, ok := obj.(*v1alpha1.ConfigRepository); ok && cr.Namespace == p.key.Namespace && cr.Name == p.key.Name {
			p.set(deployreconciler.Placement(cr), true)
		}
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    observe,
		UpdateFunc: func(_, obj any) { observe(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if cr, ok := obj.(*v1alpha1.ConfigRepository); ok && cr.Namespace == p.key.Namespace && cr.Name == p.key.Name {
				p.set(map[string]bool{}, true)
			}
		},
	})
	if err != nil {
		return err
	}
	defer func() { _ = inf.RemoveEventHandler(reg) }()
	if !toolscache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("the ConfigRepository cache did not sync")
	}
	p.mu.Lock()
	first := !p.synced
	p.mu.Unlock()
	if first {
		// No such ConfigRepository: every role runs here.
		p.set(map[string]bool{}, true)
	}
	<-ctx.Done()
	return nil
}

func (p *statusPlacement) set(separate map[string]bool, synced bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	same := p.synced == synced && len(p.separate) == len(separate)
	for k, v := range separate {
		same = same && p.separate[k] == v
	}
	if same {
		return
	}
	p.separate, p.synced = separate, synced
	if p.changed != nil {
		close(p.changed)
	}
	p.changed = make(chan struct{})
}

// Separate implements placement.
func (p *statusPlacement) Separate(role string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.synced || p.separate[role]
}

// Changed implements placement.
func (p *statusPlacement) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.changed == nil {
		p.changed = make(chan struct{})
	}
	return p.changed
}
