package reporter

import (
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// ConfigFrom takes the github_reporter settings from a loaded
// configuration; nil (no configuration yet) gives Prow's defaults.
func ConfigFrom(set *configset.Set) Config {
	if set == nil || set.Config == nil {
		return Config{}
	}
	g := set.Config.GitHubReporter
	c := Config{NoCommentRepos: g.NoCommentRepos, Namespace: set.Config.ProwJobNamespace}
	for _, t := range g.JobTypesToReport {
		c.JobTypesToReport = append(c.JobTypesToReport, v1alpha1.ProwJobType(t))
	}
	return c
}
