package configplan

import (
	"context"
	"fmt"
	"strings"

	"github.com/bowline-ci/bowline/reconcilers/org"
	"github.com/bowline-ci/bowline/reconcilers/org/plan"
)

// orgs plans every org either revision manages with the orgs role's own
// planner (reconcilers/org/plan). An org whose Desired the change leaves
// equivalent is skipped. Otherwise the old configuration is converged onto
// what GitHub holds (or onto an empty org when it cannot be read), and the
// new one planned against the result: that plan is what the change does,
// apart from drift. The safety limits' verdict is the one the orgs role
// will reach: the new configuration planned against GitHub as it is.
func (c *computation) orgs(ctx context.Context) error {
	seen := map[string]bool{}
	var names []string
	for _, orgs := range [][]string{plan.ManagedOrgs(c.base), plan.ManagedOrgs(c.head)} {
		for _, o := range orgs {
			if !seen[strings.ToLower(o)] {
				seen[strings.ToLower(o)] = true
				names = append(names, o)
			}
		}
	}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		settings := OrgSettings{Limits: org.DefaultLimits()}
		if c.in.Orgs != nil {
			s, err := c.in.Orgs.Settings(ctx, name)
			if err != nil {
				c.note("org %s: could not read its GitHubOrganization, so the default options and limits apply: %v", name, err)
			} else {
				settings = s
			}
		}
		dBase := plan.DesiredFor(c.base, name, settings.Options, c.in.Now)
		dHead := plan.DesiredFor(c.head, name, settings.Options, c.in.Now)
		if dBase.Equivalent(dHead) {
			continue
		}
		op := c.orgPlan(ctx, name, settings, dBase, dHead)
		if len(op.Changes) == 0 && len(op.Problems) == 0 && len(op.Violations) == 0 {
			// Different configurations that change nothing in the org
			// (a new job where no branch is protected).
			if op.Pending < 0 {
				c.note("org %s: the change of its configuration changes nothing when planned against the configuration alone; the org was not read, so its repositories' branches and labels are not known", name)
			}
			continue
		}
		c.plan.Orgs = append(c.plan.Orgs, op)
	}
	return nil
}

func (c *computation) orgPlan(ctx context.Context, name string, settings OrgSettings, dBase, dHead *plan.Desired) OrgPlan {
	out := OrgPlan{Org: name, Changes: []OrgChange{}, Applies: settings.Applies, Managed: settings.Managed, Pending: -1}
	var observed *plan.State
	if c.in.Orgs != nil {
		s, err := c.in.Orgs.Observe(ctx, dHead)
		switch {
		case err != nil:
			out.Notes = append(out.Notes, fmt.Sprintf("could not read the org from GitHub: %v", err))
		case s != nil:
			observed = s
		}
	}
	start, bot := observed, ""
	out.Against = "the org as GitHub holds it"
	if observed == nil {
		start = &plan.State{Org: name}
		out.Against = "the current configuration alone (the org was not read)"
	} else {
		bot = observed.Bot
		if pending := plan.Compute(dBase, observed); pending != nil {
			out.Pending = pending.Counts().Total()
		}
	}
	change := plan.Compute(dHead, plan.Converged(dBase, start))
	counts := change.Counts()
	out.Create, out.Update, out.Delete = counts.Create, counts.Update, counts.Delete
	if len(change.Changes) > 0 {
		out.ID = change.ID()
	}
	for _, ch := range change.Changes {
		out.Changes = append(out.Changes, OrgChange{Kind: string(ch.Kind), Action: string(ch.Action), Object: ch.Object,
			Detail: ch.Detail, Blocked: ch.Blocked, Line: ch.String()})
	}
	out.Problems = change.Problems
	out.Notes = append(out.Notes, change.Notes...)
	// The verdict the orgs role will reach once the change is applied: the
	// new configuration against GitHub as it is (against the old one
	// converged when GitHub was not read).
	full := change
	if observed != nil {
		full = plan.Compute(dHead, observed)
	}
	for _, v := range full.Check(settings.Limits, bot, full.Changes) {
		out.Violations = append(out.Violations, v.Message)
	}
	if dHead.Manage() == (plan.Parts{}) {
		out.Notes = append(out.Notes, "the new configuration no longer manages this org: bowline leaves it as it is")
	}
	return out
}
