// Package decorate turns a ProwJob into the Pod the kubernetes agent
// creates. A decorated job (one with a decoration config) gets Prow's pod
// utilities, all run from the bowline image:
//
//	init containers  place-entrypoint (copies bowline into /tools),
//	                 clonerefs (clones the refs into /home/prow/go),
//	                 initupload (started.json, clone log)
//	test containers  their command wrapped by /tools/bowline entrypoint
//	sidecar          uploads build-log.txt, artifacts and finished.json
//
// Every container, decorated or not, gets Prow's environment contract
// (JOB_SPEC, JOB_NAME, BUILD_ID, PULL_REFS, ARTIFACTS, CI=true, …). The
// functions here are pure: the same ProwJob and defaults give the same Pod.
package decorate

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/utils/ptr"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/podutils/clonerefs"
	"github.com/bowline-ci/bowline/podutils/entrypoint"
	"github.com/bowline-ci/bowline/podutils/initupload"
	"github.com/bowline-ci/bowline/podutils/sidecar"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Where things are inside a decorated pod.
const (
	LogsMount    = "/logs"
	ArtifactsDir = LogsMount + "/artifacts"
	ToolsMount   = "/tools"
	CodeMount    = "/home/prow/go"
	SecretsRoot  = "/secrets"

	// DefaultBinary is the path of the bowline binary in the bowline image:
	// the Dockerfile installs it there and makes it the ENTRYPOINT (a test
	// holds the two together).
	DefaultBinary = "/usr/local/bin/bowline"
	// TestContainerName is the name a job's only container gets, as in
	// Prow: most jobs leave it out, and Kubernetes requires one.
	TestContainerName = "test"
	// GOPATH is $GOPATH in decorated test containers, as in Prow: the root
	// the refs are cloned under.
	GOPATH = CodeMount

	logsVolume  = "logs"
	toolsVolume = "tools"
	codeVolume  = "code"

	placeEntrypointName = "place-entrypoint"
	cloneRefsName       = "clonerefs"
	initUploadName      = "initupload"
	sidecarName         = "sidecar"
)

// Defaults of the decoration config, as Prow's.
const (
	DefaultTimeout     = 2 * time.Hour
	DefaultGracePeriod = 15 * time.Second
)

// Options are what the operator's configuration adds to every job.
type Options struct {
	// Image runs the pod utilities when the decoration config names no
	// utility image: the bowline image.
	Image string
	// Binary is the bowline binary's path in the utility images; default
	// DefaultBinary.
	Binary string
	// Defaults is the decoration config that applies to the job (plank's
	// default_decoration_config entries for its repository and cluster);
	// the job's own settings win field by field.
	Defaults *v1alpha1.DecorationConfig
}

// Pod builds the pod of a ProwJob. pj.Status.BuildID must be set: it is
// part of the environment and of the artifact path.
func Pod(pj *v1alpha1.ProwJob, o Options) (*corev1.Pod, error) {
	if pj.Spec.PodSpec == nil {
		return nil, fmt.Errorf("prowjob %s has no pod spec", pj.Name)
	}
	if pj.Status.BuildID == "" {
		return nil, fmt.Errorf("prowjob %s has no build ID yet", pj.Name)
	}
	spec := podutils.JobSpecFor(pj, pj.Status.BuildID)
	labels, annotations := v1alpha1.PodLabels(pj)
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        pj.Name,
			Namespace:   pj.Spec.Namespace,
			Labels:      labels,
			Annotations: annotations,
		},
		Spec: *pj.Spec.PodSpec.DeepCopy(),
	}
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	if len(pod.Spec.Containers) == 1 {
		pod.Spec.Containers[0].Name = TestContainerName
	}
	// As in Prow, a job gets no service account token unless its own spec
	// names a service account or asks for the token (a default service
	// account from the decoration config does not count).
	if pod.Spec.AutomountServiceAccountToken == nil && pod.Spec.ServiceAccountName == "" {
		pod.Spec.AutomountServiceAccountToken = ptr.To(false)
	}
	jobContainers := containerNames(pod.Spec.InitContainers, pod.Spec.Containers)

	if pj.Spec.DecorationConfig == nil {
		env, err := podutils.Environment(spec, ArtifactsDir)
		if err != nil {
			return nil, err
		}
		for i := range pod.Spec.Containers {
			setEnv(&pod.Spec.Containers[i], env)
		}
	} else {
		dc := MergeDecorationConfig(pj.Spec.DecorationConfig, o.Defaults)
		if err := decorate(pod, spec, dc, o); err != nil {
			return nil, fmt.Errorf("decorate prowjob %s: %w", pj.Name, err)
		}
	}
	secureDefaults(&pod.Spec, jobContainers)
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if list[i].TerminationMessagePolicy == "" {
				list[i].TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
			}
		}
	}
	return pod, nil
}

// decorate adds the pod utilities to pod.
func decorate(pod *corev1.Pod, spec podutils.JobSpec, dc *v1alpha1.DecorationConfig, o Options) error {
	if len(pod.Spec.Containers) == 0 {
		return errors.New("the pod spec has no containers")
	}
	storage, err := storageConfig(dc)
	if err != nil {
		return err
	}
	env, err := podutils.Environment(spec, ArtifactsDir)
	if err != nil {
		return err
	}
	b := &builder{pod: pod, dc: dc, o: o, env: env}
	storage.S3CredentialsFile = b.s3CredentialsFile()
	if b.o.Binary == "" {
		b.o.Binary = DefaultBinary
	}
	b.addVolume(corev1.Volume{Name: logsVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	b.addVolume(corev1.Volume{Name: toolsVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	logs := corev1.VolumeMount{Name: logsVolume, MountPath: LogsMount}
	tools := corev1.VolumeMount{Name: toolsVolume, MountPath: ToolsMount}
	// Secrets of the test containers, before the utilities add theirs, are
	// what censoring hides.
	secretVolumes := secretVolumeNames(pod.Spec.Volumes)
	if boolValue(dc.CensorSecrets) {
		secretVolumes = append(secretVolumes, b.envSecretVolumes()...)
	}
	storageMounts, storageEnv := b.storageCredentials()

	var inits []corev1.Container
	inits = append(inits, b.utility(placeEntrypointName, imageOr(dc, func(u *v1alpha1.UtilityImages) string { return u.Entrypoint }, o.Image),
		[]string{"entrypoint", "--copy-to", path.Join(ToolsMount, "bowline")}, "", "", []corev1.VolumeMount{tools},
		resources(dc, func(r *v1alpha1.UtilityResources) *corev1.ResourceRequirements { return r.PlaceEntrypoint })))

	cloning := len(spec.AllRefs()) > 0 && !boolValue(dc.SkipCloning)
	cloneLog := ""
	var code corev1.VolumeMount
	if cloning {
		cloneLog = path.Join(LogsMount, "clone.json")
		b.addVolume(corev1.Volume{Name: codeVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		code = corev1.VolumeMount{Name: codeVolume, MountPath: CodeMount}
		cr, err := b.cloneRefsContainer(spec, cloneLog, []corev1.VolumeMount{logs, code})
		if err != nil {
			return err
		}
		inits = append(inits, cr)
	}

	iopts, err := json.Marshal(initupload.Options{Storage: storage, Log: cloneLog})
	if err != nil {
		return err
	}
	iu := b.utility(initUploadName, imageOr(dc, func(u *v1alpha1.UtilityImages) string { return u.InitUpload }, o.Image),
		[]string{"initupload"}, initupload.OptionsEnv, string(iopts), append([]corev1.VolumeMount{logs}, storageMounts...),
		resources(dc, func(r *v1alpha1.UtilityResources) *corev1.ResourceRequirements { return r.InitUpload }))
	setEnv(&iu, storageEnv)
	inits = append(inits, iu)
	pod.Spec.InitContainers = append(inits, pod.Spec.InitContainers...)

	workDir := ""
	if cloning {
		if r, ok := spec.WorkDirRefs(); ok {
			workDir = path.Join(CodeMount, r.Path())
		}
	}
	var entries []sidecar.Entry
	several := len(pod.Spec.Containers) > 1
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		entry, err := b.wrap(c, several, workDir)
		if err != nil {
			return err
		}
		c.VolumeMounts = append(c.VolumeMounts, logs, tools)
		if cloning {
			c.VolumeMounts = append(c.VolumeMounts, code)
		}
		b.applyMemory(c)
		entries = append(entries, entry)
	}

	sc, err := b.sidecarContainer(storage, entries, secretVolumes, append([]corev1.VolumeMount{logs}, storageMounts...))
	if err != nil {
		return err
	}
	setEnv(&sc, storageEnv)
	pod.Spec.Containers = append(pod.Spec.Containers, sc)

	b.podSettings()
	return nil
}

// sidecarContainer is the sidecar that waits for entries and uploads. With
// censoring on, it also mounts the job's Secret volumes to know what to
// hide.
func (b *builder) sidecarContainer(storage artifacts.Config, entries []sidecar.Entry, secretVolumes []string, mounts []corev1.VolumeMount) (corev1.Container, error) {
	dc := b.dc
	sopts := sidecar.Options{
		Storage:          storage,
		Entries:          entries,
		ArtifactDir:      ArtifactsDir,
		IgnoreInterrupts: boolValue(dc.UploadIgnoresInterrupts),
		// On pod deletion, wait for the interrupted entrypoints' markers a
		// little longer than their grace period.
		GracePeriod: podutils.Duration{Duration: durationOr(dc.GracePeriod, DefaultGracePeriod) + 5*time.Second},
	}
	if boolValue(dc.CensorSecrets) {
		for _, v := range secretVolumes {
			dir := path.Join(SecretsRoot, "censor", v)
			mounts = append(mounts, corev1.VolumeMount{Name: v, MountPath: dir, ReadOnly: true})
			sopts.SecretDirs = append(sopts.SecretDirs, dir)
		}
	}
	raw, err := json.Marshal(sopts)
	if err != nil {
		return corev1.Container{}, err
	}
	return b.utility(sidecarName, imageOr(dc, func(u *v1alpha1.UtilityImages) string { return u.Sidecar }, b.o.Image),
		[]string{"sidecar"}, sidecar.OptionsEnv, string(raw), mounts,
		resources(dc, func(r *v1alpha1.UtilityResources) *corev1.ResourceRequirements { return r.Sidecar })), nil
}

// cloneRefsContainer is the init container that clones the refs.
func (b *builder) cloneRefsContainer(spec podutils.JobSpec, cloneLog string, mounts []corev1.VolumeMount) (corev1.Container, error) {
	copts, secretMounts := b.cloneOptions(spec, cloneLog)
	raw, err := json.Marshal(copts)
	if err != nil {
		return corev1.Container{}, err
	}
	return b.utility(cloneRefsName, imageOr(b.dc, func(u *v1alpha1.UtilityImages) string { return u.CloneRefs }, b.o.Image),
		[]string{"clonerefs"}, clonerefs.OptionsEnv, string(raw), append(mounts, secretMounts...),
		resources(b.dc, func(r *v1alpha1.UtilityResources) *corev1.ResourceRequirements { return r.CloneRefs })), nil
}

// wrap replaces a test container's command by the entrypoint running it.
func (b *builder) wrap(c *corev1.Container, several bool, workDir string) (sidecar.Entry, error) {
	args := append(append([]string{}, c.Command...), c.Args...)
	// As in Prow, the command and arguments together are what the
	// entrypoint runs: a container with only args runs its first argument,
	// never the image's own entrypoint, which cannot be wrapped.
	if len(args) == 0 {
		return sidecar.Entry{}, fmt.Errorf("container %q: a decorated container needs a command or args (the image's entrypoint cannot be wrapped)", c.Name)
	}
	dir := LogsMount
	if several {
		dir = path.Join(LogsMount, c.Name)
	}
	eopts := entrypoint.Options{
		Args:         args,
		ProcessLog:   path.Join(dir, "process-log.txt"),
		MarkerFile:   path.Join(dir, "marker-file.txt"),
		MetadataFile: path.Join(ArtifactsDir, "metadata.json"),
		Timeout:      podutils.Duration{Duration: durationOr(b.dc.Timeout, DefaultTimeout)},
		GracePeriod:  podutils.Duration{Duration: durationOr(b.dc.GracePeriod, DefaultGracePeriod)},
		ArtifactDir:  ArtifactsDir,
	}
	if several {
		eopts.ContainerName = c.Name
	}
	raw, err := json.Marshal(eopts)
	if err != nil {
		return sidecar.Entry{}, err
	}
	c.Command = []string{path.Join(ToolsMount, "bowline"), "entrypoint"}
	c.Args = nil
	if c.WorkingDir == "" {
		c.WorkingDir = workDir
	}
	// The options come after every other variable, so that the kubelet
	// expands $(VAR) references in the wrapped command and arguments, as it
	// would have in the container's own command.
	env := append(append([]podutils.EnvVar{}, b.env...), podutils.EnvVar{Name: "GOPATH", Value: GOPATH})
	setEnv(c, append(env, podutils.EnvVar{Name: entrypoint.OptionsEnv, Value: string(raw)}))
	return sidecar.Entry{
		ContainerName: eopts.ContainerName,
		ProcessLog:    eopts.ProcessLog,
		MarkerFile:    eopts.MarkerFile,
		MetadataFile:  eopts.MetadataFile,
	}, nil
}

// storageConfig is where the utilities upload, from the decoration config.
func storageConfig(dc *v1alpha1.DecorationConfig) (artifacts.Config, error) {
	g := dc.GCSConfiguration
	if g == nil || g.Bucket == "" {
		return artifacts.Config{}, errors.New("decoration needs gcsConfiguration.bucket: a gs:// or s3:// bucket for logs and artifacts")
	}
	c := artifacts.Config{
		Bucket:       g.Bucket,
		PathPrefix:   g.PathPrefix,
		PathStrategy: g.PathStrategy,
		DefaultOrg:   g.DefaultOrg,
		DefaultRepo:  g.DefaultRepo,
	}
	if c.PathStrategy == "" {
		c.PathStrategy = artifacts.StrategyExplicit
	}
	return c, c.Validate()
}

// builder holds what decorate works with while it adds the utilities.
type builder struct {
	pod *corev1.Pod
	dc  *v1alpha1.DecorationConfig
	o   Options
	env []podutils.EnvVar
}

func (b *builder) addVolume(v corev1.Volume) {
	for _, have := range b.pod.Spec.Volumes {
		if have.Name == v.Name {
			return
		}
	}
	b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, v)
}

// utility builds a pod utility container running `bowline <args>`.
func (b *builder) utility(name, image string, args []string, optsEnv, opts string, mounts []corev1.VolumeMount, res *corev1.ResourceRequirements) corev1.Container {
	c := corev1.Container{
		Name:                     name,
		Image:                    image,
		Command:                  append([]string{b.o.Binary}, args...),
		VolumeMounts:             mounts,
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
	if res != nil {
		c.Resources = *res.DeepCopy()
	}
	var env []podutils.EnvVar
	if optsEnv != "" {
		env = append(env, podutils.EnvVar{Name: optsEnv, Value: opts})
	}
	setEnv(&c, append(env, b.env...))
	return c
}

// setEnv sets variables on a container, replacing any of the same name:
// the job contract wins over what a job sets itself, as in Prow.
func setEnv(c *corev1.Container, vars []podutils.EnvVar) {
	names := map[string]bool{}
	for _, v := range vars {
		names[v.Name] = true
	}
	kept := c.Env[:0:0]
	for _, e := range c.Env {
		if !names[e.Name] {
			kept = append(kept, e)
		}
	}
	for _, v := range vars {
		kept = append(kept, corev1.EnvVar{Name: v.Name, Value: v.Value})
	}
	c.Env = kept
}

func imageOr(dc *v1alpha1.DecorationConfig, pick func(*v1alpha1.UtilityImages) string, fallback string) string {
	if dc.UtilityImages != nil {
		if img := pick(dc.UtilityImages); img != "" {
			return img
		}
	}
	return fallback
}

func resources(dc *v1alpha1.DecorationConfig, pick func(*v1alpha1.UtilityResources) *corev1.ResourceRequirements) *corev1.ResourceRequirements {
	if dc.Resources == nil {
		return nil
	}
	return pick(dc.Resources)
}

func durationOr(d *metav1.Duration, fallback time.Duration) time.Duration {
	if d != nil && d.Duration > 0 {
		return d.Duration
	}
	return fallback
}

func boolValue(b *bool) bool { return b != nil && *b }

func secretVolumeNames(vols []corev1.Volume) []string {
	var out []string
	for _, v := range vols {
		if v.Secret != nil {
			out = append(out, v.Name)
		}
	}
	return out
}

// envSecretVolumes adds a volume for each Secret the job's containers take
// environment variables from (env valueFrom.secretKeyRef, envFrom
// secretRef) and is not mounted already, so that the sidecar can censor
// those values too; it returns the volumes' names.
func (b *builder) envSecretVolumes() []string {
	mounted := map[string]bool{}
	for _, v := range b.pod.Spec.Volumes {
		if v.Secret != nil {
			mounted[v.Secret.SecretName] = true
		}
	}
	// optional[name] is true while every reference to the Secret is
	// optional: a missing optional Secret must not keep the pod from
	// starting.
	optional := map[string]bool{}
	var names []string
	ref := func(name string, opt *bool) {
		if name == "" || mounted[name] {
			return
		}
		if _, seen := optional[name]; !seen {
			names = append(names, name)
			optional[name] = true
		}
		optional[name] = optional[name] && boolValue(opt)
	}
	for _, c := range append(append([]corev1.Container{}, b.pod.Spec.InitContainers...), b.pod.Spec.Containers...) {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				ref(e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Optional)
			}
		}
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				ref(e.SecretRef.Name, e.SecretRef.Optional)
			}
		}
	}
	taken := map[string]bool{}
	for _, v := range b.pod.Spec.Volumes {
		taken[v.Name] = true
	}
	var vols []string
	for i := 0; len(vols) < len(names); i++ {
		vol := fmt.Sprintf("censor-env-%d", i)
		if taken[vol] {
			continue
		}
		name := names[len(vols)]
		opt := optional[name]
		b.addVolume(corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name, Optional: &opt}}})
		vols = append(vols, vol)
	}
	return vols
}

// terminationGrace gives the entrypoint its grace period plus time for the
// sidecar's last upload before the kubelet kills the pod.
func terminationGrace(dc *v1alpha1.DecorationConfig) *int64 {
	s := int64(durationOr(dc.GracePeriod, DefaultGracePeriod)/time.Second) + 15
	return &s
}
