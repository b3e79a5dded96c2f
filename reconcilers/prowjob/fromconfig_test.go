package prowjob

import (
	"testing"
	"time"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestConfigFrom(t *testing.T) {
	if c, err := ConfigFrom(nil); err != nil || c.withDefaults().PodPendingTimeout != DefaultPodPendingTimeout {
		t.Errorf("no configuration: %+v, %v", c, err)
	}
	three := 5
	set := &configset.Set{Config: &prowconfig.Config{Plank: prowconfig.Plank{
		PodPendingTimeout:  &jobs.Duration{Duration: 15 * time.Minute},
		MaxRevivals:        &three,
		JobQueueCapacities: map[string]int{"gpu": 2},
		JobURLTemplate:     "https://prow.example/view/{{.Spec.Job}}/{{.Status.BuildID}}",
		DefaultDecorationConfigEntries: []prowconfig.DecorationConfigEntry{
			{OrgRepo: "*", Config: &jobs.DecorationConfig{Timeout: &jobs.Duration{Duration: time.Hour}}},
			{OrgRepo: "acme/rocket", Config: &jobs.DecorationConfig{Timeout: &jobs.Duration{Duration: 3 * time.Hour}}},
		},
	}}}
	c, err := ConfigFrom(set)
	if err != nil {
		t.Fatal(err)
	}
	if c.PodPendingTimeout != 15*time.Minute || *c.MaxRevivals != 5 || c.JobQueueCapacities["gpu"] != 2 {
		t.Errorf("config = %+v", c)
	}
	pj := &v1alpha1.ProwJob{Spec: v1alpha1.ProwJobSpec{Job: "unit"}, Status: v1alpha1.ProwJobStatus{BuildID: "7"}}
	if url, err := c.jobURL(pj); err != nil || url != "https://prow.example/view/unit/7" {
		t.Errorf("job URL = %q, %v", url, err)
	}
	set.Config.Plank.JobURLTemplate = "{{.Spec.Job"
	if _, err := ConfigFrom(set); err == nil {
		t.Error("a broken job_url_template was accepted")
	}

	opts := PodOptionsFrom(func() *configset.Set { return set }, "registry.example/bowline:1")
	pj.Spec.Refs = &v1alpha1.Refs{Org: "acme", Repo: "rocket"}
	if o := opts(pj); o.Image != "registry.example/bowline:1" || o.Defaults == nil || o.Defaults.Timeout.Duration != 3*time.Hour {
		t.Errorf("options for acme/rocket = %+v", o)
	}
	pj.Spec.Refs.Repo = "other"
	if o := opts(pj); o.Defaults == nil || o.Defaults.Timeout.Duration != time.Hour {
		t.Errorf("options for acme/other = %+v", o)
	}
	if o := PodOptionsFrom(func() *configset.Set { return nil }, "img")(pj); o.Defaults != nil || o.Image != "img" {
		t.Errorf("options without configuration = %+v", o)
	}
}
