// Package jobspec turns job configuration (Prow's job config types from
// schema/jobs) into ProwJob specs, the same way for every component that
// starts runs: the trigger plugin for presubmits and postsubmits, the
// periodic controller for periodics.
package jobspec

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Periodic is the spec of one run of a periodic job. As in Prow, the
// repositories it clones are extra refs; the first one (or the one marked
// workdir) is its working directory.
func Periodic(p *jobs.Periodic) v1alpha1.ProwJobSpec {
	return Base(v1alpha1.PeriodicJob, &p.JobBase, p.Name, true)
}

// Base is the part of a ProwJob spec that every job type derives from its
// JobBase in the same way: typ is the run's type, ctx its status context and
// report whether reporters report it.
func Base(typ v1alpha1.ProwJobType, j *jobs.JobBase, ctx string, report bool) v1alpha1.ProwJobSpec {
	spec := v1alpha1.ProwJobSpec{
		Type:            typ,
		Agent:           v1alpha1.ProwJobAgent(j.Agent),
		Cluster:         j.Cluster,
		Job:             j.Name,
		Report:          report,
		Context:         ctx,
		MaxConcurrency:  int32(j.MaxConcurrency),
		JobQueueName:    j.JobQueueName,
		ErrorOnEviction: j.ErrorOnEviction,
		Hidden:          j.Hidden,
	}
	if spec.Agent == "" {
		spec.Agent = v1alpha1.KubernetesAgent
	}
	if spec.Cluster == "" {
		spec.Cluster = jobs.DefaultCluster
	}
	if j.Namespace != nil {
		spec.Namespace = *j.Namespace
	}
	if j.Spec != nil {
		spec.PodSpec = j.Spec.DeepCopy()
	}
	for _, r := range j.ExtraRefs {
		spec.ExtraRefs = append(spec.ExtraRefs, Refs(r))
	}
	if j.Decorate != nil && *j.Decorate || j.DecorationConfig != nil {
		spec.DecorationConfig = Decoration(j.DecorationConfig)
	}
	if rc := j.ReporterConfig; rc != nil && rc.Slack != nil {
		s := rc.Slack
		out := &v1alpha1.SlackReporterConfig{Host: s.Host, Channel: s.Channel, ReportTemplate: s.ReportTemplate, Report: s.Report}
		for _, st := range s.JobStatesToReport {
			out.JobStatesToReport = append(out.JobStatesToReport, v1alpha1.ProwJobState(st))
		}
		if s.JobStatesToReport != nil && len(s.JobStatesToReport) == 0 && out.Report == nil {
			// job_states_to_report: [] silences the job, as in Prow.
			no := false
			out.Report = &no
		}
		spec.ReporterConfig = &v1alpha1.ReporterConfig{Slack: out}
	}
	if ra := j.RerunAuthConfig; ra != nil {
		out := &v1alpha1.RerunAuthConfig{GitHubUsers: ra.GitHubUsers, GitHubOrgs: ra.GitHubOrgs}
		if ra.AllowAnyone {
			out.AllowAnyone = &ra.AllowAnyone
		}
		for _, id := range ra.GitHubTeamIDs {
			out.GitHubTeamIDs = append(out.GitHubTeamIDs, int64(id))
		}
		for _, t := range ra.GitHubTeamSlugs {
			out.GitHubTeamSlugs = append(out.GitHubTeamSlugs, v1alpha1.TeamSlug{Org: t.Org, Slug: t.Slug})
		}
		spec.RerunAuthConfig = out
	}
	if d := j.ProwJobDefault; d != nil {
		out := &v1alpha1.ProwJobDefaults{TenantID: d.TenantID}
		if d.ResultStoreConfig != nil {
			out.ResultStoreProjectID = d.ResultStoreConfig.ProjectID
		}
		spec.ProwJobDefaults = out
	}
	return spec
}

// WithUtility copies the job's clone settings onto the refs it tests.
func WithUtility(r *v1alpha1.Refs, u jobs.UtilityConfig) {
	r.PathAlias = u.PathAlias
	r.CloneURI = u.CloneURI
	r.SkipSubmodules = u.SkipSubmodules
	r.CloneDepth = int32(u.CloneDepth)
	r.SkipFetchHead = u.SkipFetchHead
}

// Refs converts refs of the job config (Prow's names) to a ProwJob's.
func Refs(r jobs.Refs) v1alpha1.Refs {
	out := v1alpha1.Refs{
		Org: r.Org, Repo: r.Repo, RepoLink: r.RepoLink, BaseRef: r.BaseRef, BaseSHA: r.BaseSHA,
		BaseLink: r.BaseLink, PathAlias: r.PathAlias, WorkDir: r.WorkDir, CloneURI: r.CloneURI,
		SkipSubmodules: r.SkipSubmodules, CloneDepth: int32(r.CloneDepth), SkipFetchHead: r.SkipFetchHead,
		SparseCheckoutFiles: r.SparseCheckoutFiles,
	}
	if r.BloblessFetch != nil {
		out.BloblessFetch = *r.BloblessFetch
	}
	for _, p := range r.Pulls {
		out.Pulls = append(out.Pulls, v1alpha1.Pull{
			Number: int32(p.Number), Author: p.Author, SHA: p.SHA, Title: p.Title, Ref: p.Ref,
			HeadRef: p.HeadRef, Link: p.Link, CommitLink: p.CommitLink, AuthorLink: p.AuthorLink,
		})
	}
	return out
}

func duration(d *jobs.Duration) *metav1.Duration {
	if d == nil {
		return nil
	}
	return &metav1.Duration{Duration: d.Duration}
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func secretKey(s *jobs.SecretKey) *v1alpha1.SecretKeySelector {
	if s == nil {
		return nil
	}
	return &v1alpha1.SecretKeySelector{Name: s.Name, Key: s.Key}
}

func int64p(p *int) *int64 {
	if p == nil {
		return nil
	}
	v := int64(*p)
	return &v
}

// Decoration turns plank's decoration settings (Prow's names) into
// the ProwJob's (camelCase), all but utility_images. Defaults were merged
// in when the config was loaded.
func Decoration(d *jobs.DecorationConfig) *v1alpha1.DecorationConfig {
	if d == nil {
		return &v1alpha1.DecorationConfig{}
	}
	out := &v1alpha1.DecorationConfig{
		Timeout:                     duration(d.Timeout),
		GracePeriod:                 duration(d.GracePeriod),
		GCSCredentialsSecret:        str(d.GCSCredentialsSecret),
		S3CredentialsSecret:         str(d.S3CredentialsSecret),
		DefaultServiceAccountName:   str(d.DefaultServiceAccountName),
		SSHKeySecrets:               d.SSHKeySecrets,
		SSHHostFingerprints:         d.SSHHostFingerprints,
		BloblessFetch:               d.BloblessFetch,
		SkipCloning:                 d.SkipCloning,
		CookiefileSecret:            str(d.CookiefileSecret),
		OAuthTokenSecret:            secretKey(d.OauthTokenSecret),
		GitHubAPIEndpoints:          d.GitHubAPIEndpoints,
		GitHubAppID:                 d.GitHubAppID,
		GitHubAppPrivateKeySecret:   secretKey(d.GitHubAppPrivateKeySecret),
		CensorSecrets:               d.CensorSecrets,
		UploadIgnoresInterrupts:     d.UploadIgnoresInterrupts,
		SetLimitEqualsMemoryRequest: d.SetLimitEqualsMemoryRequest,
		DefaultMemoryRequest:        d.DefaultMemoryRequest,
		PodPendingTimeout:           duration(d.PodPendingTimeout),
		PodRunningTimeout:           duration(d.PodRunningTimeout),
		PodUnscheduledTimeout:       duration(d.PodUnscheduledTimeout),
		RunAsUser:                   d.RunAsUser,
		RunAsGroup:                  d.RunAsGroup,
		FSGroup:                     d.FsGroup,
	}
	// Prow's utility_images are left out: their images run Prow's utilities,
	// which read options bowline does not write; the bowline image runs
	// all four (the loader warns where utility_images are set).
	if r := d.Resources; r != nil {
		out.Resources = &v1alpha1.UtilityResources{CloneRefs: r.CloneRefs, InitUpload: r.InitUpload, PlaceEntrypoint: r.PlaceEntrypoint, Sidecar: r.Sidecar}
	}
	if g := d.GCSConfiguration; g != nil {
		out.GCSConfiguration = &v1alpha1.GCSConfiguration{
			Bucket: g.Bucket, PathPrefix: g.PathPrefix, PathStrategy: g.PathStrategy, DefaultOrg: g.DefaultOrg,
			DefaultRepo: g.DefaultRepo, MediaTypes: g.MediaTypes, JobURLPrefix: g.JobURLPrefix,
			LocalOutputDir: g.LocalOutputDir, CompressFileTypes: g.CompressFileTypes,
		}
	}
	if c := d.CensoringOptions; c != nil {
		out.CensoringOptions = &v1alpha1.CensoringOptions{
			CensoringConcurrency: c.CensoringConcurrency, CensoringBufferSize: int64p(c.CensoringBufferSize),
			IncludeDirectories: c.IncludeDirectories, ExcludeDirectories: c.ExcludeDirectories,
			MinimumSecretLength: int64p(c.MinimumSecretLength),
		}
	}
	if s := d.SchedulingOptions; s != nil {
		out.SchedulingOptions = &v1alpha1.SchedulingOptions{Affinity: s.Affinity, Tolerations: s.Tolerations}
	}
	return out
}

// NewRun is a run of spec named name in namespace, with the labels and
// annotations every run gets (v1alpha1.RunLabels: Prow's, the job's own
// labels and annotations given here winning) and the creation time in
// v1alpha1.CreatedAtAnnotation. Every component that starts runs (the
// trigger plugin, the periodic controller, the merge controller) builds
// them here, so that all runs carry the same label set.
func NewRun(namespace, name string, spec v1alpha1.ProwJobSpec, labels, annotations map[string]string, created time.Time) *v1alpha1.ProwJob {
	l, a := v1alpha1.RunLabels(&spec, labels, annotations)
	a[v1alpha1.CreatedAtAnnotation] = created.UTC().Format(time.RFC3339Nano)
	return &v1alpha1.ProwJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: l, Annotations: a},
		Spec:       spec,
	}
}

// Presubmit is the spec of a run of a presubmit on refs (one pull request
// onto its base): Prow's defaults for the status context (the job's name)
// and the rerun command (/test <name>), and the job's clone settings on the
// refs.
func Presubmit(ps *jobs.Presubmit, refs v1alpha1.Refs) v1alpha1.ProwJobSpec {
	ctx := ps.Context
	if ctx == "" {
		ctx = ps.Name
	}
	spec := Base(v1alpha1.PresubmitJob, &ps.JobBase, ctx, !ps.SkipReport)
	spec.RerunCommand = ps.RerunCommand
	if spec.RerunCommand == "" {
		spec.RerunCommand = jobs.DefaultRerunCommandFor(ps.Name)
	}
	r := refs.DeepCopy()
	WithUtility(r, ps.UtilityConfig)
	spec.Refs = r
	return spec
}

// Postsubmit is the spec of a run of a postsubmit on refs (a pushed
// commit of a branch), its status context defaulting to the job's name.
func Postsubmit(ps *jobs.Postsubmit, refs v1alpha1.Refs) v1alpha1.ProwJobSpec {
	ctx := ps.Context
	if ctx == "" {
		ctx = ps.Name
	}
	spec := Base(v1alpha1.PostsubmitJob, &ps.JobBase, ctx, !ps.SkipReport)
	r := refs.DeepCopy()
	WithUtility(r, ps.UtilityConfig)
	spec.Refs = r
	return spec
}

// ProwDecoration turns a ProwJob's decoration config back into Prow's
// (snake_case) format, for files that tools written for Prow read
// (prowjob.json): the inverse of Decoration. bowline-only fields
// (utilityImages, which name bowline images) are left out.
func ProwDecoration(d *v1alpha1.DecorationConfig) *jobs.DecorationConfig {
	if d == nil {
		return nil
	}
	dur := func(x *metav1.Duration) *jobs.Duration {
		if x == nil {
			return nil
		}
		return &jobs.Duration{Duration: x.Duration}
	}
	strp := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	key := func(s *v1alpha1.SecretKeySelector) *jobs.SecretKey {
		if s == nil {
			return nil
		}
		return &jobs.SecretKey{Name: s.Name, Key: s.Key}
	}
	intp := func(p *int64) *int {
		if p == nil {
			return nil
		}
		v := int(*p)
		return &v
	}
	out := &jobs.DecorationConfig{
		Timeout: dur(d.Timeout), GracePeriod: dur(d.GracePeriod),
		GCSCredentialsSecret: strp(d.GCSCredentialsSecret), S3CredentialsSecret: strp(d.S3CredentialsSecret),
		DefaultServiceAccountName: strp(d.DefaultServiceAccountName),
		SSHKeySecrets:             d.SSHKeySecrets, SSHHostFingerprints: d.SSHHostFingerprints,
		BloblessFetch: d.BloblessFetch, SkipCloning: d.SkipCloning, CookiefileSecret: strp(d.CookiefileSecret),
		OauthTokenSecret: key(d.OAuthTokenSecret), GitHubAPIEndpoints: d.GitHubAPIEndpoints, GitHubAppID: d.GitHubAppID,
		GitHubAppPrivateKeySecret: key(d.GitHubAppPrivateKeySecret), CensorSecrets: d.CensorSecrets,
		UploadIgnoresInterrupts: d.UploadIgnoresInterrupts, SetLimitEqualsMemoryRequest: d.SetLimitEqualsMemoryRequest,
		DefaultMemoryRequest: d.DefaultMemoryRequest,
		PodPendingTimeout:    dur(d.PodPendingTimeout), PodRunningTimeout: dur(d.PodRunningTimeout),
		PodUnscheduledTimeout: dur(d.PodUnscheduledTimeout),
		RunAsUser:             d.RunAsUser, RunAsGroup: d.RunAsGroup, FsGroup: d.FSGroup,
	}
	if r := d.Resources; r != nil {
		out.Resources = &jobs.Resources{CloneRefs: r.CloneRefs, InitUpload: r.InitUpload, PlaceEntrypoint: r.PlaceEntrypoint, Sidecar: r.Sidecar}
	}
	if g := d.GCSConfiguration; g != nil {
		out.GCSConfiguration = &jobs.GCSConfiguration{
			Bucket: g.Bucket, PathPrefix: g.PathPrefix, PathStrategy: g.PathStrategy, DefaultOrg: g.DefaultOrg,
			DefaultRepo: g.DefaultRepo, MediaTypes: g.MediaTypes, JobURLPrefix: g.JobURLPrefix,
			LocalOutputDir: g.LocalOutputDir, CompressFileTypes: g.CompressFileTypes,
		}
	}
	if c := d.CensoringOptions; c != nil {
		out.CensoringOptions = &jobs.CensoringOptions{
			CensoringConcurrency: c.CensoringConcurrency, CensoringBufferSize: intp(c.CensoringBufferSize),
			IncludeDirectories: c.IncludeDirectories, ExcludeDirectories: c.ExcludeDirectories,
			MinimumSecretLength: intp(c.MinimumSecretLength),
		}
	}
	if s := d.SchedulingOptions; s != nil {
		out.SchedulingOptions = &jobs.SchedulingOptions{Affinity: s.Affinity, Tolerations: s.Tolerations}
	}
	return out
}
