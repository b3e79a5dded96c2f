package periodic

import (
	"strings"
	"testing"
	"time"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestConfigFrom(t *testing.T) {
	if c, err := ConfigFrom(nil); err != nil || len(c.Periodics) != 0 {
		t.Errorf("no configuration: %+v, %v", c, err)
	}
	set := &configset.Set{
		Config: &prowconfig.Config{ProwJobNamespace: "ci", Horologium: prowconfig.Horologium{TickInterval: &jobs.Duration{Duration: 30 * time.Second}}},
		Jobs: &jobs.Config{Periodics: []jobs.Periodic{
			{JobBase: jobs.JobBase{Name: "hourly", Labels: map[string]string{"team": "a"}}, Interval: "1h"},
			{JobBase: jobs.JobBase{Name: "nightly"}, Cron: "0 2 * * *"},
			{JobBase: jobs.JobBase{Name: "settle"}, MinimumInterval: "10m", Retry: &jobs.Retry{Attempts: 2, Interval: "5m", RunAll: true}},
			{JobBase: jobs.JobBase{Name: "broken"}, Interval: "often"},
		}},
	}
	c, err := ConfigFrom(set)
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("error = %v, want one naming the broken periodic", err)
	}
	if c.TickInterval != 30*time.Second || len(c.Periodics) != 3 || c.Namespace != "ci" {
		t.Fatalf("config = %+v", c)
	}
	h, n, s := c.Periodics[0], c.Periodics[1], c.Periodics[2]
	if h.Interval != time.Hour || h.Labels["team"] != "a" || h.Spec.Type != v1alpha1.PeriodicJob || h.Spec.Job != "hourly" {
		t.Errorf("hourly = %+v", h)
	}
	if n.Cron != "0 2 * * *" || s.MinimumInterval != 10*time.Minute || n.Retry != nil ||
		s.Retry == nil || *s.Retry != (Retry{Attempts: 2, Interval: 5 * time.Minute, RunAll: true}) {
		t.Errorf("nightly = %+v, settle = %+v", n, s)
	}
}
