package periodic

import (
	"errors"
	"fmt"
	"time"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobspec"
)

// ConfigFrom takes the periodics and horologium's tick from a loaded
// configuration; nil (no configuration yet) has no periodics. A periodic
// whose interval does not parse is left out and reported in the error; the
// others still run.
func ConfigFrom(set *configset.Set) (Config, error) {
	var c Config
	if set == nil || set.Config == nil || set.Jobs == nil {
		return c, nil
	}
	if t := set.Config.Horologium.TickInterval; t != nil {
		c.TickInterval = t.Duration
	}
	c.Namespace = set.Config.ProwJobNamespace
	var errs []error
	for i := range set.Jobs.Periodics {
		p := &set.Jobs.Periodics[i]
		j := Job{Name: p.Name, Cron: p.Cron, Spec: jobspec.Periodic(p), Labels: p.Labels, Annotations: p.Annotations}
		var err error
		if p.Interval != "" {
			j.Interval, err = time.ParseDuration(p.Interval)
		}
		if err == nil && p.MinimumInterval != "" {
			j.MinimumInterval, err = time.ParseDuration(p.MinimumInterval)
		}
		if r := p.Retry; err == nil && r != nil {
			j.Retry = &Retry{Attempts: r.Attempts, RunAll: r.RunAll}
			if r.Interval != "" {
				j.Retry.Interval, err = time.ParseDuration(r.Interval)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("periodic %s: %w", p.Name, err))
			continue
		}
		c.Periodics = append(c.Periodics, j)
	}
	return c, errors.Join(errs...)
}
