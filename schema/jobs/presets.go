package jobs

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// Matches reports whether a preset applies to a job with these labels: every
// label of the preset must be on the job with the same value.
func (p *Preset) Matches(labels map[string]string) bool {
	for k, v := range p.Labels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// ApplyPresets merges every matching preset into the pod spec of every
// kubernetes job. A preset setting an env var, volume or volume mount that
// the job already has is an error, as in Prow. Repositories and chunks of
// periodics are handled concurrently.
func (c *Config) ApplyPresets(errs *yamlpos.Errors) {
	if len(c.Presets) == 0 {
		return
	}
	// Selectors as lists: iterating a map for every preset and job costs
	// more than the merging itself.
	type pair struct{ k, v string }
	selectors := make([][]pair, len(c.Presets))
	for i, p := range c.Presets {
		for k, v := range p.Labels {
			selectors[i] = append(selectors[i], pair{k, v})
		}
	}
	matches := func(sel []pair, labels map[string]string) bool {
		for _, kv := range sel {
			if got, ok := labels[kv.k]; !ok || got != kv.v {
				return false
			}
		}
		return true
	}
	apply := func(kind string, j *JobBase, errs *yamlpos.Errors) {
		if j.Spec == nil {
			return
		}
		for i := range c.Presets {
			p := &c.Presets[i]
			if !matches(selectors[i], j.Labels) {
				continue
			}
			if err := mergePreset(p, j.Spec); err != nil {
				errs.AddAt(j.Pos, yamlpos.At("labels"), "%s: preset at %s (labels %v): %v", describeJob(kind, j.Name), p.Pos, p.Labels, err)
			}
		}
	}
	var units []func(*yamlpos.Errors)
	for _, list := range c.Presubmits {
		units = append(units, func(e *yamlpos.Errors) {
			for i := range list {
				apply(TypePresubmit, &list[i].JobBase, e)
			}
		})
	}
	for _, list := range c.Postsubmits {
		units = append(units, func(e *yamlpos.Errors) {
			for i := range list {
				apply(TypePostsubmit, &list[i].JobBase, e)
			}
		})
	}
	for lo := 0; lo < len(c.Periodics); lo += chunk {
		part := c.Periodics[lo:min(lo+chunk, len(c.Periodics))]
		units = append(units, func(e *yamlpos.Errors) {
			for i := range part {
				apply(TypePeriodic, &part[i].JobBase, e)
			}
		})
	}
	runParallel(len(units), errs, func() func(int, *yamlpos.Errors) {
		return func(i int, e *yamlpos.Errors) { units[i](e) }
	})
}

func mergePreset(p *Preset, spec *corev1.PodSpec) error {
	for _, vol := range p.Volumes {
		if slices.ContainsFunc(spec.Volumes, func(x corev1.Volume) bool { return x.Name == vol.Name }) {
			return fmt.Errorf("volume %s is already in the pod spec", vol.Name)
		}
		spec.Volumes = append(spec.Volumes, vol)
	}
	spec.Tolerations = append(spec.Tolerations, p.Tolerations...)
	for i := range spec.Containers {
		c := &spec.Containers[i]
		for _, e := range p.Env {
			if slices.ContainsFunc(c.Env, func(x corev1.EnvVar) bool { return x.Name == e.Name }) {
				return fmt.Errorf("env %s is already set in container %q", e.Name, c.Name)
			}
			c.Env = append(c.Env, e)
		}
		for _, m := range p.VolumeMounts {
			if slices.ContainsFunc(c.VolumeMounts, func(x corev1.VolumeMount) bool { return x.Name == m.Name }) {
				return fmt.Errorf("volume mount %s is already in container %q", m.Name, c.Name)
			}
			c.VolumeMounts = append(c.VolumeMounts, m)
		}
	}
	return nil
}
