// Package joburl is the address of a run's page, the link on its GitHub
// status (status.url), built as Prow's plank builds it (pjutil.JobURL):
//
//   - a decorated run whose repository has a job URL prefix (its
//     decoration config's gcs_configuration.job_url_prefix, else
//     plank.job_url_prefix_config for its org/repo, org, or "*") links to
//     prefix + storage provider + bucket + the run's path in the bucket,
//     e.g. https://prow.k8s.io/view/gs/kubernetes-jenkins/pr-logs/pull/…;
//     with plank.jobURLPrefixDisableAppendStorageProvider the provider is
//     left out;
//   - any other run renders plank.job_url_template (or bowline's
//     --job-url-template) over the ProwJob.
package joburl

import (
	"bytes"
	"fmt"
	"net/url"
	"path"
	"strings"
	"text/template"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Builder builds runs' addresses.
type Builder struct {
	// Template renders the address of runs without a prefix; nil leaves
	// it empty.
	Template *template.Template
	// PrefixConfig is plank.job_url_prefix_config: "*", "org" or
	// "org/repo" to a URL prefix; the most specific key wins.
	PrefixConfig map[string]string
	// DisableAppendStorageProvider is
	// plank.jobURLPrefixDisableAppendStorageProvider.
	DisableAppendStorageProvider bool
}

// Prefix is the job URL prefix of a run, "" when it has none.
func (b Builder) Prefix(pj *v1alpha1.ProwJob) string {
	if dc := pj.Spec.DecorationConfig; dc != nil && dc.GCSConfiguration != nil && dc.GCSConfiguration.JobURLPrefix != "" {
		return dc.GCSConfiguration.JobURLPrefix
	}
	var org, repo string
	switch {
	case pj.Spec.Refs != nil:
		org, repo = pj.Spec.Refs.Org, pj.Spec.Refs.Repo
	case len(pj.Spec.ExtraRefs) > 0:
		org, repo = pj.Spec.ExtraRefs[0].Org, pj.Spec.ExtraRefs[0].Repo
	}
	for _, k := range []string{org + "/" + repo, org, "*"} {
		if p, ok := b.PrefixConfig[k]; ok && k != "/" && k != "" {
			return p
		}
	}
	return ""
}

// URL is the address of a run's page.
func (b Builder) URL(pj *v1alpha1.ProwJob) (string, error) {
	if pj.Spec.DecorationConfig != nil {
		if prefix := b.Prefix(pj); prefix != "" {
			return b.prefixed(prefix, pj)
		}
	}
	if b.Template == nil {
		return "", nil
	}
	var out bytes.Buffer
	if err := b.Template.Execute(&out, pj); err != nil {
		return "", fmt.Errorf("render job URL template: %w", err)
	}
	return out.String(), nil
}

// prefixed is prefix + storage provider + bucket + the run's path.
func (b Builder) prefixed(prefix string, pj *v1alpha1.ProwJob) (string, error) {
	u, err := url.Parse(prefix)
	if err != nil {
		return "", fmt.Errorf("job URL prefix %q: %w", prefix, err)
	}
	cfg := artifacts.ConfigFor(pj, "")
	if g := pj.Spec.DecorationConfig.GCSConfiguration; g != nil {
		// The address names the bucket the job declares, not where a local
		// run put its files.
		cfg.Bucket = g.Bucket
	}
	runPath, err := cfg.RunPathFor(pj)
	if err != nil {
		return "", fmt.Errorf("job URL: %w", err)
	}
	provider, bucket := storage(cfg.Bucket)
	if b.DisableAppendStorageProvider {
		u.Path = path.Join(u.Path, bucket, runPath)
	} else {
		u.Path = path.Join(u.Path, provider, bucket, runPath)
	}
	return u.String(), nil
}

// storage splits a bucket into its storage provider and its name with any
// path, as Prow's ParsePath does: gs://b → gs, b; s3://b/p → s3, b/p; a
// bare name is a GCS bucket.
func storage(bucket string) (provider, full string) {
	if scheme, rest, ok := strings.Cut(bucket, "://"); ok {
		return scheme, strings.Trim(rest, "/")
	}
	return "gs", strings.Trim(bucket, "/")
}
