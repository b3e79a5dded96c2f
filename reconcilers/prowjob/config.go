package prowjob

import (
	"text/template"
	"time"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/web/joburl"
)

// Plank's defaults, as Prow's.
const (
	DefaultPodPendingTimeout     = 10 * time.Minute
	DefaultPodUnscheduledTimeout = 5 * time.Minute
	DefaultPodRunningTimeout     = 48 * time.Hour
	DefaultMaxRevivals           = 3
	// DefaultWaitInterval is how often a run held back by a concurrency
	// limit is looked at again when no other event wakes it up.
	DefaultWaitInterval = 30 * time.Second
)

// Config is the part of the configuration's plank section the reconciler
// uses. Zero durations and a nil MaxRevivals take plank's defaults.
type Config struct {
	// PodPendingTimeout ends a run in error when its scheduled pod has not
	// started running for this long.
	PodPendingTimeout time.Duration
	// PodUnscheduledTimeout ends a run in error when its pod has not been
	// scheduled for this long.
	PodUnscheduledTimeout time.Duration
	// PodRunningTimeout aborts a run whose pod runs longer.
	PodRunningTimeout time.Duration
	// MaxRevivals is how often an evicted pod is re-created.
	MaxRevivals *int
	// JobQueueCapacities bounds the runs in flight per job queue: 0 blocks
	// the queue, a negative capacity means no limit, and a queue that is not
	// listed has no limit.
	JobQueueCapacities map[string]int
	// JobURLTemplate renders status.url from the ProwJob (Prow's
	// plank.job_url_template: {{.Spec.Job}}, {{.Status.BuildID}} …) for
	// runs without a job URL prefix. Nil leaves their status.url empty.
	JobURLTemplate *template.Template
	// JobURLPrefixConfig is plank.job_url_prefix_config: decorated runs
	// link to prefix + storage provider + bucket + their path in it
	// (web/joburl), as Prow's do.
	JobURLPrefixConfig map[string]string
	// JobURLPrefixDisableAppendStorageProvider leaves the storage provider
	// out of those links.
	JobURLPrefixDisableAppendStorageProvider bool
	// WaitInterval is how often a held-back run is looked at again.
	WaitInterval time.Duration
}

// withDefaults fills in plank's defaults.
func (c Config) withDefaults() Config {
	if c.PodPendingTimeout <= 0 {
		c.PodPendingTimeout = DefaultPodPendingTimeout
	}
	if c.PodUnscheduledTimeout <= 0 {
		c.PodUnscheduledTimeout = DefaultPodUnscheduledTimeout
	}
	if c.PodRunningTimeout <= 0 {
		c.PodRunningTimeout = DefaultPodRunningTimeout
	}
	if c.MaxRevivals == nil {
		n := DefaultMaxRevivals
		c.MaxRevivals = &n
	}
	if c.WaitInterval <= 0 {
		c.WaitInterval = DefaultWaitInterval
	}
	return c
}

// timeouts are the pod timeouts that apply to one run: the job's
// decoration config overrides plank's.
type timeouts struct {
	pending, unscheduled, running time.Duration
}

func (c Config) timeoutsFor(pj *v1alpha1.ProwJob) timeouts {
	t := timeouts{pending: c.PodPendingTimeout, unscheduled: c.PodUnscheduledTimeout, running: c.PodRunningTimeout}
	if d := pj.Spec.DecorationConfig; d != nil {
		if d.PodPendingTimeout != nil && d.PodPendingTimeout.Duration > 0 {
			t.pending = d.PodPendingTimeout.Duration
		}
		if d.PodUnscheduledTimeout != nil && d.PodUnscheduledTimeout.Duration > 0 {
			t.unscheduled = d.PodUnscheduledTimeout.Duration
		}
		if d.PodRunningTimeout != nil && d.PodRunningTimeout.Duration > 0 {
			t.running = d.PodRunningTimeout.Duration
		}
	}
	return t
}

// jobURL renders the run's page address, as Prow's plank does
// (web/joburl).
func (c Config) jobURL(pj *v1alpha1.ProwJob) (string, error) {
	return joburl.Builder{
		Template: c.JobURLTemplate, PrefixConfig: c.JobURLPrefixConfig,
		DisableAppendStorageProvider: c.JobURLPrefixDisableAppendStorageProvider,
	}.URL(pj)
}
