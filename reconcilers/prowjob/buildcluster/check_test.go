package buildcluster

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/yamlpos"
)

func TestCheckJobs(t *testing.T) {
	job := func(name, agent, cluster string, line int) jobs.JobBase {
		return jobs.JobBase{Name: name, Agent: agent, Cluster: cluster, Pos: yamlpos.Pos{File: "jobs/acme.yaml", Line: line, Column: 3}}
	}
	set := &configset.Set{Jobs: &jobs.Config{
		Presubmits: map[string][]jobs.Presubmit{"acme/widgets": {
			{JobBase: job("pull-unit", jobs.AgentKubernetes, "default", 3)},
			{JobBase: job("pull-e2e", jobs.AgentKubernetes, "eks-prow-build-cluster", 9)},
		}},
		Postsubmits: map[string][]jobs.Postsubmit{"acme/widgets": {
			{JobBase: job("post-push", jobs.AgentKubernetes, "trusted", 20)},
		}},
		Periodics: []jobs.Periodic{
			{JobBase: job("ci-legacy", jobs.AgentJenkins, "whatever", 30)},
			{JobBase: job("ci-nightly", jobs.AgentKubernetes, "gke", 40)},
		},
	}}
	tests := []struct {
		name    string
		aliases []string
		want    []string
	}{{
		name:    "every cluster known",
		aliases: []string{"default", "eks-prow-build-cluster", "gke", "trusted"},
	}, {
		name:    "unknown clusters are reported at their jobs, as Prow's checkconfig does; other agents are not checked",
		aliases: []string{"default", "gke"},
		want: []string{
			`jobs/acme.yaml:9:3: presubmit "pull-e2e": cluster "eks-prow-build-cluster" is not a known build cluster (known: default, gke); give the operator a kubeconfig context of that name (--kubeconfig, --kubeconfig-dir or a build-cluster Secret)`,
			`jobs/acme.yaml:20:3: postsubmit "post-push": cluster "trusted" is not a known build cluster (known: default, gke); give the operator a kubeconfig context of that name (--kubeconfig, --kubeconfig-dir or a build-cluster Secret)`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckJobs(set, tt.aliases)
			var got []string
			var errs *yamlpos.Errors
			if errors.As(err, &errs) {
				for _, e := range errs.List {
					got = append(got, e.String())
				}
			} else if err != nil {
				t.Fatalf("CheckJobs() = %v, not a list of positioned errors", err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("CheckJobs() (-want +got):\n%s", d)
			}
		})
	}
}
