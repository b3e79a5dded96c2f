package decorate

import (
	"path"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/podutils/clonerefs"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Prow's well-known labels and annotations, kept so that tools written for
// Prow find bowline's pods.
const (
	LabelCreatedByProw = "created-by-prow"
	LabelType          = "prow.k8s.io/type"
	LabelID            = "prow.k8s.io/id"
	LabelBuildID       = "prow.k8s.io/build-id"
	LabelJob           = "prow.k8s.io/job"
	LabelOrg           = "prow.k8s.io/refs.org"
	LabelRepo          = "prow.k8s.io/refs.repo"
	LabelBaseRef       = "prow.k8s.io/refs.base_ref"
	LabelPull          = "prow.k8s.io/refs.pull"
	AnnotationJob      = "prow.k8s.io/job"
	AnnotationContext  = "prow.k8s.io/context"
)

// Credentials files inside the utility containers.
const (
	gcsCredentialsKey = "service-account.json"
	s3CredentialsKey  = "credentials"
)

// Labels are the pod's labels: the ProwJob's own, then Prow's.
func Labels(pj *v1alpha1.ProwJob) map[string]string {
	l := map[string]string{}
	for k, v := range pj.Labels {
		l[k] = v
	}
	l[LabelCreatedByProw] = "true"
	l[LabelType] = string(pj.Spec.Type)
	l[LabelID] = labelValue(pj.Name)
	l[LabelJob] = labelValue(pj.Spec.Job)
	if pj.Status.BuildID != "" {
		l[LabelBuildID] = labelValue(pj.Status.BuildID)
	}
	if r := pj.Spec.Refs; r != nil {
		l[LabelOrg] = labelValue(r.Org)
		l[LabelRepo] = labelValue(r.Repo)
		l[LabelBaseRef] = labelValue(r.BaseRef)
		if len(r.Pulls) > 0 {
			l[LabelPull] = strconv.Itoa(int(r.Pulls[0].Number))
		}
	}
	for k, v := range l {
		if v == "" {
			delete(l, k)
		}
	}
	return l
}

// Annotations are the pod's annotations: the ProwJob's own, then the job
// name and status context in full (labels are cut to 63 characters).
func Annotations(pj *v1alpha1.ProwJob) map[string]string {
	a := map[string]string{}
	for k, v := range pj.Annotations {
		a[k] = v
	}
	a[AnnotationJob] = pj.Spec.Job
	if pj.Spec.Context != "" {
		a[AnnotationContext] = pj.Spec.Context
	}
	return a
}

var invalidLabelChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// labelValue makes s a valid label value: allowed characters, at most 63,
// starting and ending with a letter or digit.
func labelValue(s string) string {
	s = invalidLabelChars.ReplaceAllString(s, "_")
	if len(s) > 63 {
		s = s[:63]
	}
	return strings.Trim(s, "_.-")
}

// cloneOptions are clonerefs' options and the secret mounts they need.
func (b *builder) cloneOptions(spec podutils.JobSpec, log string) (clonerefs.Options, []corev1.VolumeMount) {
	o := clonerefs.Options{
		SrcRoot:          CodeMount,
		Log:              log,
		GitRefs:          spec.AllRefs(),
		HostFingerprints: b.dc.SSHHostFingerprints,
	}
	blobless := boolValue(b.dc.BloblessFetch)
	for i := range o.GitRefs {
		o.GitRefs[i].BloblessFetch = o.GitRefs[i].BloblessFetch || blobless
	}
	var mounts []corev1.VolumeMount
	for _, name := range b.dc.SSHKeySecrets {
		vol := "ssh-keys-" + name
		dir := path.Join(SecretsRoot, "ssh", name)
		mode := int32(0o400)
		b.addVolume(corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name, DefaultMode: &mode}}})
		mounts = append(mounts, corev1.VolumeMount{Name: vol, MountPath: dir, ReadOnly: true})
		o.KeyFiles = append(o.KeyFiles, dir)
	}
	if s := b.dc.OAuthTokenSecret; s != nil {
		dir := path.Join(SecretsRoot, "oauth")
		b.addVolume(corev1.Volume{Name: "oauth-token", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: s.Name, Items: []corev1.KeyToPath{{Key: s.Key, Path: "oauth-token"}},
		}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "oauth-token", MountPath: dir, ReadOnly: true})
		o.OAuthTokenFile = path.Join(dir, "oauth-token")
	}
	if name := b.dc.CookiefileSecret; name != "" {
		dir := path.Join(SecretsRoot, "cookiefile")
		b.addVolume(corev1.Volume{Name: "cookiefile", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "cookiefile", MountPath: dir, ReadOnly: true})
		o.CookiePath = path.Join(dir, "cookies")
	}
	return o, mounts
}

// storageCredentials mounts the bucket credentials for the uploading
// containers and points the storage drivers at them.
func (b *builder) storageCredentials() ([]corev1.VolumeMount, []podutils.EnvVar) {
	var mounts []corev1.VolumeMount
	var env []podutils.EnvVar
	if name := b.dc.GCSCredentialsSecret; name != "" {
		dir := path.Join(SecretsRoot, "gcs")
		b.addVolume(corev1.Volume{Name: "gcs-credentials", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "gcs-credentials", MountPath: dir, ReadOnly: true})
		env = append(env, podutils.EnvVar{Name: "GOOGLE_APPLICATION_CREDENTIALS", Value: path.Join(dir, gcsCredentialsKey)})
	}
	if name := b.dc.S3CredentialsSecret; name != "" {
		dir := path.Join(SecretsRoot, "s3")
		b.addVolume(corev1.Volume{Name: "s3-credentials", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "s3-credentials", MountPath: dir, ReadOnly: true})
		env = append(env, podutils.EnvVar{Name: "AWS_SHARED_CREDENTIALS_FILE", Value: path.Join(dir, s3CredentialsKey)})
	}
	return mounts, env
}

// applyMemory gives a test container the default memory request, and a
// limit equal to its request when asked to.
func (b *builder) applyMemory(c *corev1.Container) {
	if q := b.dc.DefaultMemoryRequest; q != nil {
		if _, ok := c.Resources.Requests[corev1.ResourceMemory]; !ok {
			if c.Resources.Requests == nil {
				c.Resources.Requests = corev1.ResourceList{}
			}
			c.Resources.Requests[corev1.ResourceMemory] = q.DeepCopy()
		}
	}
	if boolValue(b.dc.SetLimitEqualsMemoryRequest) {
		if req, ok := c.Resources.Requests[corev1.ResourceMemory]; ok {
			if c.Resources.Limits == nil {
				c.Resources.Limits = corev1.ResourceList{}
			}
			c.Resources.Limits[corev1.ResourceMemory] = req.DeepCopy()
		}
	}
}

// podSettings applies the pod-wide settings of the decoration config.
func (b *builder) podSettings() {
	spec := &b.pod.Spec
	if spec.ServiceAccountName == "" && b.dc.DefaultServiceAccountName != "" {
		spec.ServiceAccountName = b.dc.DefaultServiceAccountName
	}
	if spec.TerminationGracePeriodSeconds == nil {
		spec.TerminationGracePeriodSeconds = terminationGrace(b.dc)
	}
	if so := b.dc.SchedulingOptions; so != nil {
		if spec.Affinity == nil && so.Affinity != nil {
			spec.Affinity = so.Affinity.DeepCopy()
		}
		for _, t := range so.Tolerations {
			spec.Tolerations = append(spec.Tolerations, *t.DeepCopy())
		}
	}
	if b.dc.RunAsUser != nil || b.dc.RunAsGroup != nil || b.dc.FSGroup != nil {
		if spec.SecurityContext == nil {
			spec.SecurityContext = &corev1.PodSecurityContext{}
		}
		sc := spec.SecurityContext
		if sc.RunAsUser == nil && b.dc.RunAsUser != nil {
			v := *b.dc.RunAsUser
			sc.RunAsUser = &v
		}
		if sc.RunAsGroup == nil && b.dc.RunAsGroup != nil {
			v := *b.dc.RunAsGroup
			sc.RunAsGroup = &v
		}
		if sc.FSGroup == nil && b.dc.FSGroup != nil {
			v := *b.dc.FSGroup
			sc.FSGroup = &v
		}
	}
}
