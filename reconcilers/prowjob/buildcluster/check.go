package buildcluster

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// CheckJobs reports, at the job, every job of the kubernetes agent whose
// cluster is not among aliases, as Prow's checkconfig (validate-cluster-field)
// and admission webhook refuse unknown clusters: such a job could never
// start. nil when every job's cluster is known. set's jobs are defaulted
// (an unset cluster is "default").
func CheckJobs(set *configset.Set, aliases []string) error {
	if set == nil || set.Jobs == nil {
		return nil
	}
	var errs yamlpos.Errors
	known := strings.Join(aliases, ", ")
	check := func(kind string, j *jobs.JobBase) {
		if j.Agent != jobs.AgentKubernetes || j.Cluster == "" || slices.Contains(aliases, j.Cluster) {
			return
		}
		errs.AddPos(j.Pos, "%s %q: cluster %q is not a known build cluster (known: %s); give the operator a kubeconfig context of that name (--kubeconfig, --kubeconfig-dir or a build-cluster Secret)",
			kind, j.Name, j.Cluster, known)
	}
	for _, repo := range sortedKeys(set.Jobs.Presubmits) {
		for i := range set.Jobs.Presubmits[repo] {
			check("presubmit", &set.Jobs.Presubmits[repo][i].JobBase)
		}
	}
	for _, repo := range sortedKeys(set.Jobs.Postsubmits) {
		for i := range set.Jobs.Postsubmits[repo] {
			check("postsubmit", &set.Jobs.Postsubmits[repo][i].JobBase)
		}
	}
	for i := range set.Jobs.Periodics {
		check("periodic", &set.Jobs.Periodics[i].JobBase)
	}
	if errs.Len() == 0 {
		return nil
	}
	errs.Sort()
	return &errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Describe lists the aliases and what each one is, for logs.
func (s *Set) Describe() string {
	var parts []string
	for _, a := range s.Aliases() {
		c := s.clusters[a]
		if c.local {
			parts = append(parts, a+" (the operator's own cluster)")
		} else {
			parts = append(parts, fmt.Sprintf("%s (%s)", a, c.config.Host))
		}
	}
	return strings.Join(parts, ", ")
}
