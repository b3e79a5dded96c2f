package jobs

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// TestExecutionWarnings: what Prow runs but bowline does not is accepted
// with a warning at the line that sets it: Jenkins and Tekton agents, and
// Prow's utility images (bowline runs its own), once per place they are
// set however many jobs share them.
func TestExecutionWarnings(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{{
		name: "jenkins agent, as Prow's jenkins-operator runs",
		text: `
periodics:
- name: legacy
  interval: 1h
  agent: jenkins
`,
		want: []string{`jobs.yaml:5:10: periodic "legacy": agent jenkins is not supported by bowline yet: its runs end at once in state error`},
	}, {
		name: "tekton-pipeline agent, as Prow's pipeline controller runs",
		text: `
postsubmits:
  acme/widgets:
  - name: pipeline
    agent: tekton-pipeline
`,
		want: []string{`jobs.yaml:5:12: postsubmit "pipeline": agent tekton-pipeline is not supported by bowline yet: its runs end at once in state error`},
	}, {
		name: "utility_images of two jobs: one warning each, where they are written",
		text: `
periodics:
- name: one
  interval: 1h
  decorate: true
  decoration_config:
    utility_images:
      clonerefs: c
      initupload: i
      entrypoint: e
      sidecar: s
` + pspec + `
- name: two
  interval: 1h
  decorate: true
  decoration_config:
    utility_images: {clonerefs: c, initupload: i, entrypoint: e, sidecar: s}
` + pspec + `
`,
		want: []string{
			"jobs.yaml:8:7: utility_images: Prow's pod utility images are not run; bowline runs clonerefs, initupload, entrypoint and sidecar from its own image (the operator's --utility-image)",
			"jobs.yaml:20:21: utility_images: Prow's pod utility images are not run; bowline runs clonerefs, initupload, entrypoint and sidecar from its own image (the operator's --utility-image)",
		},
	}, {
		name: "no warning without them",
		text: `
periodics:
- name: plain
  interval: 1h
` + pspec,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			var errs yamlpos.Errors
			yamlpos.NewDecoder().Decode("jobs.yaml", []byte(tt.text), &c, &errs)
			c.SetDefaults(Defaults{Decoration: func(string, string) *DecorationConfig {
				return &DecorationConfig{GCSConfiguration: &GCSConfiguration{Bucket: "b", PathStrategy: PathStrategyExplicit}}
			}})
			c.Validate(ValidateOptions{}, &errs)
			errs.Resolve(func(string) ([]byte, bool) { return []byte(tt.text), true })
			errs.Sort()
			var got []string
			for _, w := range errs.Warnings {
				got = append(got, w.String())
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
		})
	}
}

// TestSharedUtilityImagesWarnOnce: jobs decorated with plank's default
// utility_images (as all of Kubernetes' are) give one warning, at the
// default.
func TestSharedUtilityImagesWarnOnce(t *testing.T) {
	text := `
periodics:
- name: one
  interval: 1h
  decorate: true
` + pspec + `
- name: two
  interval: 1h
  decorate: true
` + pspec + `
`
	var c Config
	var errs yamlpos.Errors
	yamlpos.NewDecoder().Decode("jobs.yaml", []byte(text), &c, &errs)
	def := &DecorationConfig{
		UtilityImages:    &UtilityImages{CloneRefs: "c", InitUpload: "i", Entrypoint: "e", Sidecar: "s", Pos: yamlpos.Pos{File: "config.yaml", Line: 26, Column: 9}},
		GCSConfiguration: &GCSConfiguration{Bucket: "b", PathStrategy: PathStrategyExplicit},
	}
	c.SetDefaults(Defaults{Decoration: func(string, string) *DecorationConfig { return def }})
	c.Validate(ValidateOptions{}, &errs)
	errs.Sort()
	if len(errs.Warnings) != 1 || errs.Warnings[0].File != "config.yaml" || errs.Warnings[0].Line != 26 {
		t.Errorf("warnings = %v, want one at config.yaml:26", errs.Warnings)
	}
}
