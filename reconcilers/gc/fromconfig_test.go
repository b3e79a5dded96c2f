package gc

import (
	"context"
	"testing"
	"time"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/prowconfig"
)

func TestConfigFrom(t *testing.T) {
	if c := ConfigFrom(nil); !c.Skip {
		t.Errorf("no configuration: %+v, want Skip", c)
	}
	// Without a configuration, collection does nothing at all (a nil
	// client would fail otherwise).
	c := &Collector{Config: func() Config { return ConfigFrom(nil) }}
	if err := c.Sync(context.Background()); err != nil {
		t.Errorf("Sync without configuration: %v", err)
	}
	set := &configset.Set{
		Config: &prowconfig.Config{ProwJobNamespace: "ci", Sinker: prowconfig.Sinker{MaxProwJobAge: &jobs.Duration{Duration: 48 * time.Hour},
			TerminatedPodTTL: &jobs.Duration{Duration: 30 * time.Minute}, ExcludeClusters: []string{"gpu"}}},
		Jobs: &jobs.Config{Periodics: []jobs.Periodic{{JobBase: jobs.JobBase{Name: "nightly"}}}},
	}
	got := ConfigFrom(set).withDefaults()
	if got.Skip || got.MaxProwJobAge != 48*time.Hour || got.TerminatedPodTTL != 30*time.Minute || got.MaxPodAge != DefaultMaxPodAge ||
		len(got.Periodics) != 1 || got.Periodics[0] != "nightly" || got.ExcludeClusters[0] != "gpu" || got.Namespace != "ci" {
		t.Errorf("config = %+v", got)
	}
}
