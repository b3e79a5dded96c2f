// Package bootstrap installs bowline into a Kubernetes cluster: its CRDs,
// namespaces with Pod Security labels, namespaced least-privilege RBAC, the
// operator Deployment with its Services and the credentials it references,
// NetworkPolicies around job pods, and the ConfigRepository that drives
// everything after that. Everything is applied with server-side apply under
// one field manager, so running it again changes nothing unless the inputs
// changed.
package bootstrap

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/reconcilers/prowjob/buildcluster"
	"github.com/bowline-ci/bowline/schema/crds"
	deployfile "github.com/bowline-ci/bowline/schema/deploy"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// FieldManager owns every field bootstrap applies.
const FieldManager = "bowline-bootstrap"

// Name is the name of the operator's ServiceAccount, roles and Deployment.
const Name = "bowline-operator"

// Services in front of the operator.
const (
	// HookService serves GitHub's webhooks (/hook) on port 80.
	HookService = "bowline-hook"
	// WebService serves the JSON API (/api/) on port 80.
	WebService = "bowline-web"
)

// Ports of the operator container.
const (
	HookPort    = 8888
	WebPort     = 8090
	MetricsPort = 8080
	ProbePort   = 8081
)

// Shutdown timeouts of the operator, from the inside out: the webhook queue
// drains within HookGracePeriod, the manager stops every role within
// ShutdownTimeout, and the kubelet waits TerminationGracePeriod before it
// kills the process. Each must be longer than the one before, or the inner
// one is cut short; docs/webhooks.md lists the same figures.
const (
	HookGracePeriod        = 20 * time.Second
	ShutdownTimeout        = 25 * time.Second
	TerminationGracePeriod = 30 * time.Second
)

// Where the operator finds the credentials the Deployment mounts.
const (
	secretsRoot = "/etc/bowline"
	dataDir     = "/var/lib/bowline"
	// GitHubTokenKey and GitHubAppKeyKey are the keys of --github-secret:
	// a personal access token, or a GitHub App's private key (PEM).
	GitHubTokenKey  = "token"
	GitHubAppKeyKey = "private-key"
	// HMACKey is the key of --hmac-secret: one webhook secret, or Prow's
	// YAML map of org and repo secrets.
	HMACKey = "hmac"
)

// NetworkAccessLabel on a job (its `labels:`, which its pods carry) lifts
// the NetworkPolicy that keeps job pods away from cluster-internal
// addresses: the API server, the operator and every other pod and Service.
const NetworkAccessLabel = "bowline.dev/cluster-network"

// Settings say what to install.
type Settings struct {
	// Namespace runs the operator and holds the ConfigRepository and the
	// ProwJobs (Prow's prowjob_namespace).
	Namespace string
	// PodNamespace runs job pods (Prow's pod_namespace).
	PodNamespace string
	// Image is the operator image, which also runs the pod utilities.
	Image string
	// UtilityImage runs the pod utilities of decorated jobs; empty means
	// Image.
	UtilityImage string
	// ConfigRepoURL is the config repository's address.
	ConfigRepoURL string
	// ConfigRepoBranch is the branch to follow; empty means main.
	ConfigRepoBranch string
	// SecretName names an existing Secret with the config repository's
	// credentials; empty means none.
	SecretName string
	// GitHubSecret names an existing Secret with GitHub credentials: key
	// GitHubTokenKey, or GitHubAppKeyKey with GitHubAppID. Empty runs
	// without GitHub: no reporting, no webhooks, no merging.
	GitHubSecret string
	// GitHubAppID makes GitHubSecret a GitHub App's private key.
	GitHubAppID int64
	// GitHubEndpoint is the REST API root of GitHub Enterprise Server.
	GitHubEndpoint string
	// HMACSecret names an existing Secret with the webhook secret (key
	// HMACKey); the hook role needs it and GitHubSecret.
	HMACSecret string
	// ArtifactsBucket keeps the logs and artifacts of runs that name no
	// bucket (s3:// or gs://).
	ArtifactsBucket string
	// ArtifactsSecret names an existing Secret whose keys become the
	// operator's environment, for the bucket's client (AWS_ACCESS_KEY_ID
	// and AWS_SECRET_ACCESS_KEY, say).
	ArtifactsSecret string
	// Replicas of the operator; they elect one leader for the controllers
	// and all serve webhooks and the API.
	Replicas int32
	// APIServerCIDRs are the API server's addresses, kept out of job pods'
	// reach besides every private range (bootstrap finds them in the
	// cluster when applying).
	APIServerCIDRs []string
	// BuildClusters are the build clusters besides the operator's own, by
	// alias: each kubeconfig (buildcluster.ClusterKubeconfig) becomes a
	// Secret the operator reads with --kubeconfig-dir.
	BuildClusters map[string][]byte
	// DeployImageRepositories are image repositories the config
	// repository's deployment file may name besides Image's own.
	DeployImageRepositories []string
}

// imageRepositories are the repositories a deployment file may name:
// Image's and DeployImageRepositories.
func (s Settings) imageRepositories() []string {
	out := []string{deployfile.Repository(s.Image)}
	for _, r := range s.DeployImageRepositories {
		if !slices.Contains(out, deployfile.Repository(r)) {
			out = append(out, deployfile.Repository(r))
		}
	}
	return out
}

// Validate reports settings that cannot work.
func (s Settings) Validate() error {
	var errs []error
	for flag, ns := range map[string]string{"--namespace": s.Namespace, "--pod-namespace": s.PodNamespace} {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("%s %q: %s", flag, ns, strings.Join(msgs, "; ")))
		}
	}
	if s.Image == "" {
		errs = append(errs, errors.New("--image must not be empty"))
	} else if deployfile.Repository(s.Image) == "" {
		errs = append(errs, fmt.Errorf("--image %q is not an image reference", s.Image))
	}
	for _, r := range s.DeployImageRepositories {
		if deployfile.Repository(r) == "" {
			errs = append(errs, fmt.Errorf("--deploy-image-repository %q is not an image repository", r))
		}
	}
	if s.ConfigRepoURL == "" {
		errs = append(errs, errors.New("--config-repo is required"))
	}
	for flag, name := range map[string]string{"--secret": s.SecretName, "--github-secret": s.GitHubSecret, "--hmac-secret": s.HMACSecret, "--artifacts-secret": s.ArtifactsSecret} {
		if name == "" {
			continue
		}
		if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("%s %q: %s", flag, name, strings.Join(msgs, "; ")))
		}
	}
	if s.GitHubAppID < 0 {
		errs = append(errs, fmt.Errorf("--github-app-id must be positive, not %d", s.GitHubAppID))
	}
	if s.GitHubAppID != 0 && s.GitHubSecret == "" {
		errs = append(errs, errors.New("--github-app-id needs --github-secret with the App's private key"))
	}
	if s.HMACSecret != "" && s.GitHubSecret == "" {
		errs = append(errs, errors.New("--hmac-secret needs --github-secret: the webhook server acts on GitHub"))
	}
	if s.Replicas < 1 {
		errs = append(errs, fmt.Errorf("--replicas must be at least 1, not %d", s.Replicas))
	}
	for _, c := range s.APIServerCIDRs {
		if _, _, err := net.ParseCIDR(c); err != nil {
			errs = append(errs, fmt.Errorf("--api-server-cidr %q is not a CIDR", c))
		}
	}
	return errors.Join(errs...)
}

// Objects returns everything bootstrap applies, in apply order: CRDs and
// namespaces first, then RBAC, network policies, build cluster Secrets, the
// Deployment, its Services and the ConfigRepository.
func Objects(s Settings) ([]client.Object, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	defs, err := crds.All()
	if err != nil {
		return nil, err
	}
	var objs []client.Object
	for _, d := range defs {
		d.TypeMeta = metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"}
		objs = append(objs, d)
	}
	objs = append(objs, namespaces(s)...)
	objs = append(objs, rbac(s)...)
	objs = append(objs, networkPolicies(s)...)
	for _, sec := range buildcluster.Secrets(s.Namespace, s.BuildClusters, labels()) {
		objs = append(objs, sec)
	}
	d := deployment(s)
	buildcluster.Mount(&d.Spec.Template.Spec, 0, slices.Collect(maps.Keys(s.BuildClusters)))
	objs = append(objs, d, disruptionBudget(s))
	objs = append(objs, services(s)...)
	objs = append(objs, configRepository(s))
	return objs, nil
}

func labels() map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":       "bowline",
		"app.kubernetes.io/component":  "operator",
		"app.kubernetes.io/managed-by": FieldManager,
	}
}

// selector picks the operator's pods.
func selector() map[string]string {
	return map[string]string{"app.kubernetes.io/name": "bowline", "app.kubernetes.io/component": "operator"}
}

func meta(name, ns string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels()}
}

// Pod Security Standards levels (pod-security.kubernetes.io labels).
const (
	podSecurityRestricted = "restricted"
	podSecurityBaseline   = "baseline"
)

// namespaces are the operator's and the job pods' namespaces, with Pod
// Security labels: the operator's runs under "restricted"; job pods get
// "baseline" enforced (job images often run as root, which "restricted"
// refuses) with "restricted" warned about and audited, so that a job that
// could be tightened shows up. A shared namespace gets the job pods'
// levels.
func namespaces(s Settings) []client.Object {
	ns := func(name, enforce string) *corev1.Namespace {
		n := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: meta(name, "")}
		n.Labels["pod-security.kubernetes.io/enforce"] = enforce
		n.Labels["pod-security.kubernetes.io/enforce-version"] = "latest"
		n.Labels["pod-security.kubernetes.io/warn"] = podSecurityRestricted
		n.Labels["pod-security.kubernetes.io/warn-version"] = "latest"
		n.Labels["pod-security.kubernetes.io/audit"] = podSecurityRestricted
		n.Labels["pod-security.kubernetes.io/audit-version"] = "latest"
		return n
	}
	if s.PodNamespace == s.Namespace {
		return []client.Object{ns(s.Namespace, podSecurityBaseline)}
	}
	return []client.Object{ns(s.Namespace, podSecurityRestricted), ns(s.PodNamespace, podSecurityBaseline)}
}

// args are the operator's flags. Every path is under secretsRoot or
// dataDir, where the Deployment mounts what they name.
func args(s Settings) []string {
	a := []string{"operator",
		"--data-dir=" + dataDir,
		"--leader-elect",
		"--leader-election-namespace=" + s.Namespace,
		"--config-repository=" + s.Namespace + "/config",
		"--config-namespaces=" + s.Namespace,
		"--prowjob-namespace=" + s.Namespace,
		"--pod-namespace=" + s.PodNamespace,
		"--utility-image=" + s.utilityImage(),
		fmt.Sprintf("--hook-addr=:%d", HookPort),
		fmt.Sprintf("--web-addr=:%d", WebPort),
		fmt.Sprintf("--metrics-bind-address=:%d", MetricsPort),
		fmt.Sprintf("--health-probe-bind-address=:%d", ProbePort),
		"--hook-grace-period=" + HookGracePeriod.String(),
		"--shutdown-timeout=" + ShutdownTimeout.String(),
		// The config repository's deployment file runs roles in
		// Deployments made from this one (docs/deploy.md).
		"--deploy-template=" + Name,
		"--deploy-image-repositories=" + strings.Join(s.imageRepositories(), ","),
	}
	if s.GitHubSecret != "" {
		if s.GitHubAppID != 0 {
			a = append(a, "--github-app-id="+strconv.FormatInt(s.GitHubAppID, 10),
				"--github-app-private-key-path="+secretsRoot+"/github/"+GitHubAppKeyKey)
		} else {
			a = append(a, "--github-token-path="+secretsRoot+"/github/"+GitHubTokenKey)
		}
	}
	if s.GitHubEndpoint != "" {
		a = append(a, "--github-endpoint="+s.GitHubEndpoint)
	}
	if s.HMACSecret != "" {
		a = append(a, "--hmac-secret-file="+secretsRoot+"/hmac/"+HMACKey)
	}
	if s.ArtifactsBucket != "" {
		a = append(a, "--artifacts-bucket="+s.ArtifactsBucket)
	}
	return a
}

func (s Settings) utilityImage() string {
	if s.UtilityImage != "" {
		return s.UtilityImage
	}
	return s.Image
}

func deployment(s Settings) *appsv1.Deployment {
	replicas := s.Replicas
	yes, no := true, false
	uid := int64(65532)
	probe := func(path string, period, failures int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("probes")}},
			PeriodSeconds:    period,
			FailureThreshold: failures,
		}
	}
	// Secret files are readable by the operator's group only.
	mode := int32(0o440)
	mounts := []corev1.VolumeMount{
		{Name: "data", MountPath: dataDir},
		{Name: "tmp", MountPath: "/tmp"},
	}
	volumes := []corev1.Volume{
		{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	secret := func(volume, name, key string) {
		mounts = append(mounts, corev1.VolumeMount{Name: volume, MountPath: secretsRoot + "/" + volume, ReadOnly: true})
		volumes = append(volumes, corev1.Volume{Name: volume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: name, DefaultMode: &mode, Items: []corev1.KeyToPath{{Key: key, Path: key}},
		}}})
	}
	if s.GitHubSecret != "" {
		key := GitHubTokenKey
		if s.GitHubAppID != 0 {
			key = GitHubAppKeyKey
		}
		secret("github", s.GitHubSecret, key)
	}
	if s.HMACSecret != "" {
		secret("hmac", s.HMACSecret, HMACKey)
	}
	var envFrom []corev1.EnvFromSource
	if s.ArtifactsSecret != "" {
		envFrom = append(envFrom, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: s.ArtifactsSecret}}})
	}
	maxUnavailable, maxSurge := intstr.FromInt32(0), intstr.FromInt32(1)
	grace := int64(TerminationGracePeriod.Seconds())
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta(Name, s.Namespace),
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: selector()},
			// A rollout starts the new pod before it stops the old one;
			// leader election keeps one of them running the controllers,
			// and the old one hands the lease over as it stops.
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels()},
				Spec: corev1.PodSpec{
					ServiceAccountName: Name,
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   &yes,
						RunAsUser:      &uid,
						RunAsGroup:     &uid,
						FSGroup:        &uid,
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					TerminationGracePeriodSeconds: &grace,
					Containers: []corev1.Container{{
						Name:  "operator",
						Image: s.Image,
						Args:  args(s),
						Ports: []corev1.ContainerPort{
							{Name: "hook", ContainerPort: HookPort, Protocol: corev1.ProtocolTCP},
							{Name: "web", ContainerPort: WebPort, Protocol: corev1.ProtocolTCP},
							{Name: "metrics", ContainerPort: MetricsPort, Protocol: corev1.ProtocolTCP},
							{Name: "probes", ContainerPort: ProbePort, Protocol: corev1.ProtocolTCP},
						},
						Env: []corev1.EnvVar{{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{
							FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
						}}},
						EnvFrom: envFrom,
						// Up to a minute to start (caches, the first fetch);
						// then unready after 15 s of failures, restarted after
						// 30 s.
						StartupProbe:   probe("/healthz", 2, 30),
						ReadinessProbe: probe("/readyz", 5, 3),
						LivenessProbe:  probe("/healthz", 10, 3),
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{
								corev1.ResourceCPU:    resource.MustParse("100m"),
								corev1.ResourceMemory: resource.MustParse("128Mi"),
							},
							Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
						},
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: &no,
							ReadOnlyRootFilesystem:   &yes,
							RunAsNonRoot:             &yes,
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						},
						VolumeMounts: mounts,
					}},
					Volumes: volumes,
				},
			},
		},
	}
}

// services put the hook and web roles behind stable names; an Ingress (or
// a LoadBalancer of your own) exposes bowline-hook to GitHub.
// disruptionBudget lets a node drain or a cluster upgrade take one operator
// pod at a time: with two replicas or more, the other keeps serving webhooks
// and takes the leases of the one that goes.
func disruptionBudget(s Settings) *policyv1.PodDisruptionBudget {
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: meta(Name, s.Namespace),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &one,
			Selector:       &metav1.LabelSelector{MatchLabels: selector()},
		},
	}
}

func services(s Settings) []client.Object {
	svc := func(name, port string) *corev1.Service {
		return &corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: meta(name, s.Namespace),
			Spec: corev1.ServiceSpec{
				Selector: selector(),
				Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString(port), Protocol: corev1.ProtocolTCP}},
			},
		}
	}
	return []client.Object{svc(HookService, "hook"), svc(WebService, "web")}
}

func configRepository(s Settings) *v1alpha1.ConfigRepository {
	branch := s.ConfigRepoBranch
	if branch == "" {
		branch = "main"
	}
	r := &v1alpha1.ConfigRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "ConfigRepository"},
		ObjectMeta: meta("config", s.Namespace),
		Spec: v1alpha1.ConfigRepositorySpec{
			URL: s.ConfigRepoURL,
			Ref: &v1alpha1.GitRef{Branch: branch},
		},
	}
	if s.SecretName != "" {
		r.Spec.SecretRef = &v1alpha1.LocalObjectReference{Name: s.SecretName}
	}
	return r
}
