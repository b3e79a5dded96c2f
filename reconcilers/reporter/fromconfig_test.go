package reporter

import (
	"testing"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestConfigFrom(t *testing.T) {
	if c := ConfigFrom(nil); !c.reports(v1alpha1.PresubmitJob) {
		t.Errorf("no configuration: %+v", c)
	}
	c := ConfigFrom(&configset.Set{Config: &prowconfig.Config{ProwJobNamespace: "ci", GitHubReporter: prowconfig.GitHubReporter{
		JobTypesToReport: []string{"presubmit", "periodic"}, NoCommentRepos: []string{"acme"}}}})
	if !c.reports(v1alpha1.PeriodicJob) || c.reports(v1alpha1.PostsubmitJob) || c.comments("acme", "x") || c.Namespace != "ci" {
		t.Errorf("config = %+v", c)
	}
}
