package decorate

import (
	"testing"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestProwEnvironmentContract: a decorated test container has every
// variable Prow's decorated pods give it (Prow's downward API for the job
// type, then ARTIFACTS and GOPATH from decoration), with Prow's values for
// the paths.
func TestProwEnvironmentContract(t *testing.T) {
	common := []string{"CI", "JOB_NAME", "JOB_SPEC", "JOB_TYPE", "PROW_JOB_ID", "BUILD_ID", "BUILD_NUMBER", "ARTIFACTS", "GOPATH"}
	refs := []string{"REPO_OWNER", "REPO_NAME", "PULL_BASE_REF", "PULL_BASE_SHA", "PULL_REFS"}
	pull := []string{"PULL_NUMBER", "PULL_PULL_SHA", "PULL_HEAD_REF", "PULL_TITLE"}
	tests := []struct {
		name string
		typ  v1alpha1.ProwJobType
		want []string
	}{
		{"periodic, as Prow", v1alpha1.PeriodicJob, common},
		{"postsubmit, as Prow", v1alpha1.PostsubmitJob, append(append([]string{}, common...), refs...)},
		{"batch, as Prow", v1alpha1.BatchJob, append(append([]string{}, common...), refs...)},
		{"presubmit, as Prow", v1alpha1.PresubmitJob, append(append(append([]string{}, common...), refs...), pull...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pj := prowJob(func(pj *v1alpha1.ProwJob) {
				pj.Spec.Type = tt.typ
				switch tt.typ {
				case v1alpha1.PeriodicJob:
					pj.Spec.Refs = nil
				case v1alpha1.PostsubmitJob:
					pj.Spec.Refs.Pulls = nil
				case v1alpha1.BatchJob:
					pj.Spec.Refs.Pulls = append(pj.Spec.Refs.Pulls, v1alpha1.Pull{Number: 43, SHA: "3333"})
				}
			})
			pod, err := Pod(pj, defaults())
			if err != nil {
				t.Fatal(err)
			}
			env := envOf(pod.Spec.Containers[0])
			for _, name := range tt.want {
				if _, ok := env[name]; !ok {
					t.Errorf("%s is missing", name)
				}
				if env[name] == "DUPLICATE" {
					t.Errorf("%s is set twice", name)
				}
			}
			if env["ARTIFACTS"] != "/logs/artifacts" || env["GOPATH"] != "/home/prow/go" || env["CI"] != "true" {
				t.Errorf("ARTIFACTS=%q GOPATH=%q CI=%q, want Prow's /logs/artifacts, /home/prow/go, true", env["ARTIFACTS"], env["GOPATH"], env["CI"])
			}
		})
	}
}
