package prowjob

import (
	"fmt"
	"text/template"
	"time"

	"github.com/bowline-ci/bowline/reconcilers/prowjob/decorate"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/jobspec"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// ConfigFrom takes the plank settings from a loaded configuration; nil (no
// configuration yet) gives plank's defaults.
func ConfigFrom(set *configset.Set) (Config, error) {
	if set == nil || set.Config == nil {
		return Config{}, nil
	}
	p := set.Config.Plank
	c := Config{
		PodPendingTimeout:     duration(p.PodPendingTimeout),
		PodUnscheduledTimeout: duration(p.PodUnscheduledTimeout),
		PodRunningTimeout:     duration(p.PodRunningTimeout),
		MaxRevivals:           p.MaxRevivals,
		JobQueueCapacities:    p.JobQueueCapacities,

		JobURLPrefixConfig:                       p.JobURLPrefixConfig,
		JobURLPrefixDisableAppendStorageProvider: p.JobURLPrefixDisableAppendStorageProvider,
	}
	if p.JobURLTemplate != "" {
		t, err := template.New("job_url_template").Parse(p.JobURLTemplate)
		if err != nil {
			return c, fmt.Errorf("plank.job_url_template: %w", err)
		}
		c.JobURLTemplate = t
	}
	return c, nil
}

// PodOptionsFrom gives DecoratedPods the decoration defaults that the
// configuration current returns sets for a run's repository and cluster
// (plank's default_decoration_config entries), with image running the pod
// utilities.
func PodOptionsFrom(current func() *configset.Set, image string) func(*v1alpha1.ProwJob) decorate.Options {
	return func(pj *v1alpha1.ProwJob) decorate.Options {
		o := decorate.Options{Image: image}
		set := current()
		if set == nil || set.Config == nil {
			return o
		}
		repo := ""
		switch {
		case pj.Spec.Refs != nil:
			repo = pj.Spec.Refs.Org + "/" + pj.Spec.Refs.Repo
		case len(pj.Spec.ExtraRefs) > 0:
			repo = pj.Spec.ExtraRefs[0].Org + "/" + pj.Spec.ExtraRefs[0].Repo
		}
		if d := set.Config.DecorationFor(repo, pj.Spec.Cluster); d != nil {
			o.Defaults = jobspec.Decoration(d)
		}
		return o
	}
}

func duration(d *jobs.Duration) (out time.Duration) {
	if d != nil {
		out = d.Duration
	}
	return out
}
