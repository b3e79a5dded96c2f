package approve

import (
	"github.com/bowline-ci/bowline/automation/repoowners"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// Config is what the plugin reads from the applied configuration for one
// repository.
type Config struct {
	// Approve is the repository's entry of plugins.yaml's approve, or the
	// zero value (Prow's defaults).
	Approve plugins.Approve
	// Owners says how OWNERS files are read.
	Owners repoowners.Settings
	// LinkURL is config.yaml's github.link_url: the web root for links,
	// when set; otherwise links follow the repository's own address.
	LinkURL string
}

// selfApproval: the author approves their own pull request unless
// require_self_approval.
func (c *Config) selfApproval() bool {
	return c.Approve.RequireSelfApproval == nil || !*c.Approve.RequireSelfApproval
}

// considerReviewState: reviews approve and cancel unless
// ignore_review_state.
func (c *Config) considerReviewState() bool {
	return c.Approve.IgnoreReviewState == nil || !*c.Approve.IgnoreReviewState
}

func (c *Config) commandHelpLink() string {
	if c.Approve.CommandHelpLink != "" {
		return c.Approve.CommandHelpLink
	}
	return DefaultCommandHelpLink
}

func (c *Config) prProcessLink() string {
	if c.Approve.PrProcessLink != "" {
		return c.Approve.PrProcessLink
	}
	return DefaultPRProcessLink
}

// ConfigFrom reads the configuration of org/repo from a loaded
// configuration.
func ConfigFrom(set *configset.Set, org, repo string) *Config {
	c := &Config{Owners: repoowners.SettingsFor(set, org, repo)}
	if set.Plugins != nil {
		if a := set.Plugins.ApproveFor(org, repo); a != nil {
			c.Approve = *a
		}
	}
	if set.Config != nil {
		c.LinkURL = set.Config.GitHubOptions.LinkURLFromConfig
	}
	return c
}
