package gc

import (
	"time"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
)

// ConfigFrom takes the sinker settings and the periodics' names from a
// loaded configuration. Without one (nil) collection is skipped: not
// knowing the periodics, it would delete the newest run of each.
func ConfigFrom(set *configset.Set) Config {
	if set == nil || set.Config == nil || set.Jobs == nil {
		return Config{Skip: true}
	}
	s := set.Config.Sinker
	c := Config{
		ResyncPeriod:     duration(s.ResyncPeriod),
		MaxProwJobAge:    duration(s.MaxProwJobAge),
		MaxPodAge:        duration(s.MaxPodAge),
		TerminatedPodTTL: duration(s.TerminatedPodTTL),
		ExcludeClusters:  s.ExcludeClusters,
		Namespace:        set.Config.ProwJobNamespace,
	}
	for _, p := range set.Jobs.Periodics {
		c.Periodics = append(c.Periodics, p.Name)
	}
	return c
}

func duration(d *jobs.Duration) (out time.Duration) {
	if d != nil {
		out = d.Duration
	}
	return out
}
