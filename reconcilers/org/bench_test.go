package org

import (
	"testing"

	"github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/sandbox/forge"
)

// BenchmarkKubernetesOrgFirstApply applies Kubernetes' org configuration
// (1,276 members and admins, 284 teams, 1,690 team memberships) to an empty
// sandbox org: ns/op is the wall time of the apply, writes/op and
// requests/op what it cost in API requests (GitHub allows 5,000 an hour).
func BenchmarkKubernetesOrgFirstApply(b *testing.B) {
	set, err := kubernetesOrgs()
	if err != nil {
		b.Fatal(err)
	}
	cfg := set.Orgs.Orgs["kubernetes"]
	d := plan.DesiredFor(set, "kubernetes", plan.Options{}, now)
	var last *SyncResult
	for b.Loop() {
		b.StopTimer()
		fx := newOrgFixture(b, "kubernetes", &cfg, forge.Options{})
		b.StartTimer()
		last = fx.sync(b, d, SyncOptions{Confirm: true})
		if last.Outcome != OutcomeApplied || last.Failed > 0 {
			b.Fatalf("apply: %s %v", last.Outcome, last.Errors)
		}
	}
	b.ReportMetric(float64(last.Applied), "changes/op")
	b.ReportMetric(float64(last.Usage.Writes), "writes/op")
	b.ReportMetric(float64(last.Usage.Charged()), "requests/op")
}

// BenchmarkKubernetesOrgResync syncs the applied Kubernetes org when
// nothing changed: ns/op is the wall time, requests/op the requests sent
// and charged/op those GitHub counts (0: every one is a 304).
func BenchmarkKubernetesOrgResync(b *testing.B) {
	set, err := kubernetesOrgs()
	if err != nil {
		b.Fatal(err)
	}
	cfg := set.Orgs.Orgs["kubernetes"]
	d := plan.DesiredFor(set, "kubernetes", plan.Options{}, now)
	fx := newOrgFixture(b, "kubernetes", &cfg, forge.Options{})
	first := fx.sync(b, d, SyncOptions{Confirm: true})
	// The first resync refreshes the cache with what the apply changed.
	fx.sync(b, d, SyncOptions{Confirm: true, Baseline: first.Plan.Index})
	var last *SyncResult
	for b.Loop() {
		last = fx.sync(b, d, SyncOptions{Confirm: true, Baseline: first.Plan.Index})
		if last.Outcome != OutcomeInSync || last.Usage.Writes != 0 {
			b.Fatalf("resync: %s with %d writes", last.Outcome, last.Usage.Writes)
		}
	}
	b.ReportMetric(float64(last.Usage.Requests), "requests/op")
	b.ReportMetric(float64(last.Usage.Charged()), "charged/op")
}
