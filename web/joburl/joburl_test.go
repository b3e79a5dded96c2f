package joburl

import (
	"testing"
	"text/template"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestURL(t *testing.T) {
	tmpl := template.Must(template.New("t").Parse("https://ci.example/run/{{.Namespace}}/{{.Name}}"))
	// Prow's example (pjutil.JobURL): a presubmit of
	// kubernetes-sigs/cluster-api-provider-openstack #541.
	presubmit := func(mut func(*v1alpha1.ProwJob)) *v1alpha1.ProwJob {
		pj := &v1alpha1.ProwJob{Spec: v1alpha1.ProwJobSpec{
			Type: v1alpha1.PresubmitJob, Job: "pull-cluster-api-provider-openstack-test",
			Refs: &v1alpha1.Refs{Org: "kubernetes-sigs", Repo: "cluster-api-provider-openstack",
				Pulls: []v1alpha1.Pull{{Number: 541}}},
			DecorationConfig: &v1alpha1.DecorationConfig{GCSConfiguration: &v1alpha1.GCSConfiguration{
				Bucket: "kubernetes-jenkins", PathStrategy: "explicit"}},
		}}
		pj.Namespace, pj.Name = "prow", "abc"
		pj.Status.BuildID = "1247344427123347459"
		if mut != nil {
			mut(pj)
		}
		return pj
	}
	const prowExample = "https://prow.k8s.io/view/gs/kubernetes-jenkins/pr-logs/pull/kubernetes-sigs_cluster-api-provider-openstack/541/pull-cluster-api-provider-openstack-test/1247344427123347459"
	tests := []struct {
		name string
		b    Builder
		pj   *v1alpha1.ProwJob
		want string
	}{
		{"job_url_prefix_config '*': Prow's example", Builder{Template: tmpl, PrefixConfig: map[string]string{"*": "https://prow.k8s.io/view/"}},
			presubmit(nil), prowExample},
		{"the repository's prefix wins over the org's and '*'", Builder{PrefixConfig: map[string]string{
			"*": "https://all/", "kubernetes-sigs": "https://org/", "kubernetes-sigs/cluster-api-provider-openstack": "https://prow.k8s.io/view/"}},
			presubmit(nil), prowExample},
		{"the org's prefix wins over '*'", Builder{PrefixConfig: map[string]string{"*": "https://all/", "kubernetes-sigs": "https://org/view"}},
			presubmit(nil), "https://org/view/gs/kubernetes-jenkins/pr-logs/pull/kubernetes-sigs_cluster-api-provider-openstack/541/pull-cluster-api-provider-openstack-test/1247344427123347459"},
		{"gcs_configuration.job_url_prefix wins over plank's", Builder{PrefixConfig: map[string]string{"*": "https://all/"}},
			presubmit(func(pj *v1alpha1.ProwJob) {
				pj.Spec.DecorationConfig.GCSConfiguration.JobURLPrefix = "https://prow.k8s.io/view/"
			}), prowExample},
		{"an s3:// bucket keeps its provider", Builder{PrefixConfig: map[string]string{"*": "https://deck/view/"}},
			presubmit(func(pj *v1alpha1.ProwJob) { pj.Spec.DecorationConfig.GCSConfiguration.Bucket = "s3://ci-logs" }),
			"https://deck/view/s3/ci-logs/pr-logs/pull/kubernetes-sigs_cluster-api-provider-openstack/541/pull-cluster-api-provider-openstack-test/1247344427123347459"},
		{"jobURLPrefixDisableAppendStorageProvider", Builder{PrefixConfig: map[string]string{"*": "https://prow.k8s.io/view/"}, DisableAppendStorageProvider: true},
			presubmit(nil), "https://prow.k8s.io/view/kubernetes-jenkins/pr-logs/pull/kubernetes-sigs_cluster-api-provider-openstack/541/pull-cluster-api-provider-openstack-test/1247344427123347459"},
		{"a periodic's extra ref chooses its prefix; logs/ path", Builder{PrefixConfig: map[string]string{"acme": "https://deck/view/"}},
			&v1alpha1.ProwJob{Spec: v1alpha1.ProwJobSpec{Type: v1alpha1.PeriodicJob, Job: "nightly",
				ExtraRefs:        []v1alpha1.Refs{{Org: "acme", Repo: "tools"}},
				DecorationConfig: &v1alpha1.DecorationConfig{GCSConfiguration: &v1alpha1.GCSConfiguration{Bucket: "gs://acme-ci"}}},
				Status: v1alpha1.ProwJobStatus{BuildID: "9"}},
			"https://deck/view/gs/acme-ci/logs/nightly/9"},
		{"no prefix for the repository: job_url_template", Builder{Template: tmpl, PrefixConfig: map[string]string{"other": "https://x/"}},
			presubmit(nil), "https://ci.example/run/prow/abc"},
		{"not decorated: job_url_template", Builder{Template: tmpl, PrefixConfig: map[string]string{"*": "https://prow.k8s.io/view/"}},
			presubmit(func(pj *v1alpha1.ProwJob) { pj.Spec.DecorationConfig = nil }), "https://ci.example/run/prow/abc"},
		{"neither: no link", Builder{}, presubmit(nil), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.b.URL(tt.pj)
			if err != nil || got != tt.want {
				t.Errorf("URL() = %q, %v\nwant %q", got, err, tt.want)
			}
		})
	}
}
