// Package plugins lists bowline's hook plugins. All is the one place where
// they are constructed: the operator runs what it returns, and the plugin
// reference (docs/plugins.md) is generated from the same list, so the two
// cannot disagree.
package plugins

import (
	"context"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/inrepo"
	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/approve"
	"github.com/bowline-ci/bowline/automation/plugins/assign"
	"github.com/bowline-ci/bowline/automation/plugins/blockade"
	"github.com/bowline-ci/bowline/automation/plugins/blunderbuss"
	"github.com/bowline-ci/bowline/automation/plugins/dco"
	"github.com/bowline-ci/bowline/automation/plugins/help"
	"github.com/bowline-ci/bowline/automation/plugins/hold"
	"github.com/bowline-ci/bowline/automation/plugins/invalidcommitmsg"
	"github.com/bowline-ci/bowline/automation/plugins/label"
	"github.com/bowline-ci/bowline/automation/plugins/lgtm"
	"github.com/bowline-ci/bowline/automation/plugins/lifecycle"
	"github.com/bowline-ci/bowline/automation/plugins/milestone"
	"github.com/bowline-ci/bowline/automation/plugins/milestonestatus"
	"github.com/bowline-ci/bowline/automation/plugins/override"
	"github.com/bowline-ci/bowline/automation/plugins/ownerslabel"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/automation/plugins/requirematchinglabel"
	"github.com/bowline-ci/bowline/automation/plugins/retitle"
	"github.com/bowline-ci/bowline/automation/plugins/size"
	"github.com/bowline-ci/bowline/automation/plugins/skip"
	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/automation/plugins/verifyowners"
	"github.com/bowline-ci/bowline/automation/plugins/welcome"
	"github.com/bowline-ci/bowline/automation/plugins/wip"
	"github.com/bowline-ci/bowline/automation/repoowners"
)

// Deps are what the plugins need. The zero value constructs every plugin
// (for their help) but handles no event.
type Deps struct {
	// Config is the applied configuration revision.
	Config pluginbase.SnapshotSource
	// GitHub returns the client for an org (an installation's, when bowline
	// runs as a GitHub App).
	GitHub func(ctx context.Context, org string) (*github.Client, error)
	// Kube creates and lists ProwJobs for the trigger plugin.
	Kube trigger.Kube
	// BotLogin is bowline's own GitHub login; empty looks it up.
	BotLogin string
}

// All constructs every plugin bowline has, in the order they run for an
// event.
func All(d Deps) []plugin.Plugin {
	tr := trigger.New(trigger.WithInRepo(trigger.FromSnapshot(d.Config, ""), inrepo.New(d.Config, forOrg(d.GitHub, inrepo.FromClient))),
		forOrg(d.GitHub, trigger.FromClient), d.Kube, d.BotLogin)
	// The plugins built on pluginbase share the bot's identity and the
	// trigger's trust answers (which organization and member webhooks
	// clear), and those that read OWNERS share what was read.
	b := pluginbase.NewBase(pluginbase.Deps{Config: pluginbase.FromSnapshot(d.Config), GitHub: d.GitHub,
		Bot: plugin.NewBot(d.BotLogin), Trust: tr.Trust()})
	owners := repoowners.NewClient()
	all := []plugin.Plugin{tr}
	all = append(all, review(b, owners)...)
	return append(all, everyday(b, owners)...)
}

// review are the plugins of code review by OWNERS.
func review(b pluginbase.Base, owners *repoowners.Client) []plugin.Plugin {
	return []plugin.Plugin{
		approve.New(b, owners),
		lgtm.New(b, owners),
		blunderbuss.New(b, owners),
		verifyowners.New(b),
		ownerslabel.New(b, owners),
	}
}

// everyday are the plugins of labels, assignment, lifecycle and the other
// everyday commands and checks.
func everyday(b pluginbase.Base, owners *repoowners.Client) []plugin.Plugin {
	return []plugin.Plugin{
		hold.New(b),
		wip.New(b),
		label.New(b),
		assign.New(b),
		lifecycle.New(b),
		size.New(b),
		requirematchinglabel.New(b, nil),
		milestone.New(b),
		milestonestatus.New(b),
		retitle.New(b),
		override.New(b, owners),
		welcome.New(b),
		help.New(b),
		blockade.New(b),
		dco.New(b),
		invalidcommitmsg.New(b),
		skip.New(b),
	}
}

// forOrg adapts the process's GitHub client to a plugin's view of it.
func forOrg[T any](gh func(context.Context, string) (*github.Client, error), view func(*github.Client) T) func(context.Context, string) (T, error) {
	return func(ctx context.Context, org string) (T, error) {
		c, err := gh(ctx, org)
		if err != nil {
			var zero T
			return zero, err
		}
		return view(c), nil
	}
}
