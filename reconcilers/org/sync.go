package org

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/reconcilers/org/plan"
)

// Outcome is what a sync did.
type Outcome string

// Outcomes of a sync.
const (
	// OutcomeInSync: there was nothing to change (drift reported aside).
	OutcomeInSync Outcome = "InSync"
	// OutcomeDryRun: changes are planned, but applying them is not
	// confirmed.
	OutcomeDryRun Outcome = "DryRun"
	// OutcomeRefused: the plan breaks a safety limit; nothing was applied.
	OutcomeRefused Outcome = "Refused"
	// OutcomeApplied: every change to apply was applied.
	OutcomeApplied Outcome = "Applied"
	// OutcomeApplyFailed: GitHub refused some changes.
	OutcomeApplyFailed Outcome = "ApplyFailed"
)

// SyncOptions say how to sync one org.
type SyncOptions struct {
	// Desired is what the configuration says about the org.
	Desired *plan.Desired
	// Limits are the safety limits.
	Limits plan.Limits
	// Confirm allows changes; without it the sync only plans.
	Confirm bool
	// RevertDrift undoes drift; otherwise drift is only reported.
	RevertDrift bool
	// ApprovedPlan is the ID of a plan to apply despite the limits.
	ApprovedPlan string
	// Baseline is the index of the plan last applied; nil when none was.
	Baseline map[string]string
	// Done is called after each change applied, with its outcome.
	Done func(plan.Change, error)
}

// SyncResult is what a sync saw and did.
type SyncResult struct {
	Outcome Outcome
	// State is the org as read before any change.
	State *plan.State
	// Plan is the plan, drift classified.
	Plan *plan.Plan
	// Violations are the limits the plan breaks.
	Violations []plan.Violation
	// Applied and Failed count the changes made and refused; Errors are
	// the refusals.
	Applied, Failed int
	Errors          []error
	// Reverted counts the drifted objects undone.
	Reverted int
	// Usage is the API requests the sync made.
	Usage Usage
	// Duration is how long it took.
	Duration time.Duration
}

// Pending are the changes the sync would apply: not blocked, and not
// undoing drift that is only to be reported.
func (o *SyncOptions) pending(p *plan.Plan) []plan.Change {
	var out []plan.Change
	for _, c := range p.Changes {
		if c.Blocked != "" || (c.Drift && !o.RevertDrift) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Sync reads the org through gh, plans, and applies the plan when it is
// confirmed and keeps to the limits (or is approved). Reading is
// transient-error territory: it returns the error. Refusals by GitHub of
// single changes are in the result, not the error.
func Sync(ctx context.Context, gh *github.Client, o SyncOptions) (*SyncResult, error) {
	start := time.Now()
	gh, m, err := metered(gh)
	if err != nil {
		return nil, err
	}
	res := &SyncResult{}
	defer func() {
		res.Usage, res.Duration = m.usage(), time.Since(start)
	}()
	s, err := Observe(ctx, gh, o.Desired)
	if err != nil {
		return res, fmt.Errorf("read org %s: %w", o.Desired.Org, err)
	}
	res.State = s
	p := plan.Compute(o.Desired, s)
	p.ClassifyDrift(o.Baseline)
	res.Plan = p
	pending := o.pending(p)
	res.Violations = p.Check(o.Limits, s.Bot, pending)
	switch {
	case len(res.Violations) > 0 && o.ApprovedPlan != p.ID():
		res.Outcome = OutcomeRefused
		return res, nil
	case len(pending) == 0:
		res.Outcome = OutcomeInSync
		return res, nil
	case !o.Confirm:
		res.Outcome = OutcomeDryRun
		return res, nil
	}
	err = NewApplier(gh, p).Apply(ctx, pending, func(c plan.Change, err error) {
		if err != nil {
			res.Failed++
			res.Errors = append(res.Errors, err)
		} else {
			res.Applied++
			if c.Drift {
				res.Reverted++
			}
		}
		if o.Done != nil {
			o.Done(c, err)
		}
	})
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	res.Outcome = OutcomeApplied
	if err != nil {
		res.Outcome = OutcomeApplyFailed
	}
	return res, nil
}
