package org

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Creator gives every org a ConfigRepository's configuration manages a
// GitHubOrganization, and syncs them all when a new revision is applied.
//
// It only creates them, with spec.org and the ConfigRepository set: the
// rest of the spec (confirm, the drift policy, the safety limits) is left
// to people, and no revision of the configuration can change it. It never
// deletes one either: an org that leaves the configuration is reported as
// NotInConfig, and its object goes when a person deletes it, or with its
// ConfigRepository.
type Creator struct {
	Client client.Client
	// Stores hold the applied configurations.
	Stores *snapshot.Stores
	// ConfigRepository is the ConfigRepository whose configuration is
	// followed.
	ConfigRepository types.NamespacedName
	// Confirm is spec.confirm of the GitHubOrganizations created: false
	// in a cluster, so that bowline only plans until a person confirms;
	// bowline up sets it for its sandbox forge.
	Confirm bool
	// Reconciler is woken for each org of a new revision.
	Reconciler *Reconciler
	// RetryAfter is the wait after a failure; default 30s.
	RetryAfter time.Duration
}

// NeedLeaderElection is true: one replica creates.
func (c *Creator) NeedLeaderElection() bool { return true }

// Start follows the configuration until ctx ends.
func (c *Creator) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("githuborganizations").WithValues("configRepository", c.ConfigRepository.String())
	retry := c.RetryAfter
	if retry <= 0 {
		retry = 30 * time.Second
	}
	snaps := c.Stores.For(c.ConfigRepository).Subscribe(ctx)
	var pending *snapshot.Snapshot
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case s, ok := <-snaps:
			if !ok {
				return nil
			}
			pending = s
		case <-timer:
		}
		timer = nil
		if pending == nil {
			continue
		}
		if err := c.Ensure(ctx, pending); err != nil {
			log.Error(err, "Creating the GitHubOrganizations of the configuration failed; retrying", "revision", pending.Revision)
			timer = time.After(retry)
			continue
		}
		pending = nil
	}
}

// Ensure creates the missing GitHubOrganizations of snap's orgs and wakes
// every GitHubOrganization that follows the ConfigRepository.
func (c *Creator) Ensure(ctx context.Context, snap *snapshot.Snapshot) error {
	repo := &v1alpha1.ConfigRepository{}
	if err := c.Client.Get(ctx, c.ConfigRepository, repo); err != nil {
		return fmt.Errorf("get ConfigRepository %s: %w", c.ConfigRepository, err)
	}
	var list v1alpha1.GitHubOrganizationList
	if err := c.Client.List(ctx, &list, client.InNamespace(repo.Namespace)); err != nil {
		return fmt.Errorf("list GitHubOrganizations: %w", err)
	}
	have := map[string]bool{}
	for i := range list.Items {
		o := &list.Items[i]
		if o.Spec.ConfigRepositoryRef.Name == repo.Name {
			have[strings.ToLower(o.Spec.Org)] = true
		}
	}
	var errs []error
	for _, org := range plan.ManagedOrgs(snap.Config) {
		if have[strings.ToLower(org)] {
			continue
		}
		o := &v1alpha1.GitHubOrganization{
			ObjectMeta: metav1.ObjectMeta{Name: Name(org), Namespace: repo.Namespace,
				Labels: map[string]string{v1alpha1.ManagedByLabel: repo.Name},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "ConfigRepository",
					Name: repo.Name, UID: repo.UID}}},
			Spec: v1alpha1.GitHubOrganizationSpec{Org: org, ConfigRepositoryRef: v1alpha1.LocalObjectReference{Name: repo.Name}, Confirm: c.Confirm},
		}
		switch err := c.Client.Create(ctx, o); {
		case apierrors.IsAlreadyExists(err):
			ctrl.LoggerFrom(ctx).Info("A GitHubOrganization of that name exists for another org or configuration; not creating one",
				"name", o.Name, "org", org)
		case err != nil:
			errs = append(errs, fmt.Errorf("create GitHubOrganization %s: %w", o.Name, err))
		default:
			ctrl.LoggerFrom(ctx).Info("Created a GitHubOrganization", "name", o.Name, "org", org, "revision", snap.Revision)
		}
	}
	if c.Reconciler != nil {
		for i := range list.Items {
			if o := &list.Items[i]; o.Spec.ConfigRepositoryRef.Name == repo.Name {
				c.Reconciler.Enqueue(ctx, o)
			}
		}
	}
	return errors.Join(errs...)
}
