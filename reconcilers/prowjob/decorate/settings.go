package decorate

import (
	"path"

	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/podutils/clonerefs"
)

// Credentials files inside the utility containers.
const (
	gcsCredentialsKey = "service-account.json"
	s3CredentialsKey  = "credentials"
)

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
		// Where Prow mounts it. The Secret may be in Prow's format (its
		// service-account.json: endpoint, region and keys, which the
		// utilities read through the storage options) or bowline's (an AWS
		// shared credentials file under "credentials").
		dir := path.Join(SecretsRoot, "s3-storage")
		b.addVolume(corev1.Volume{Name: "s3-credentials", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "s3-credentials", MountPath: dir, ReadOnly: true})
		env = append(env, podutils.EnvVar{Name: "AWS_SHARED_CREDENTIALS_FILE", Value: path.Join(dir, s3CredentialsKey)})
	}
	return mounts, env
}

// s3CredentialsFile is where Prow's format of the S3 credentials would be,
// for the storage options; empty without an S3 credentials Secret.
func (b *builder) s3CredentialsFile() string {
	if b.dc.S3CredentialsSecret == "" {
		return ""
	}
	return path.Join(SecretsRoot, "s3-storage", artifacts.S3CredentialsKey)
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
