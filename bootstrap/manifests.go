// Package bootstrap installs bowline into a Kubernetes cluster: its CRDs, a
// namespace, least-privilege RBAC, the operator Deployment and the
// ConfigRepository that drives everything after that. Everything is applied
// with server-side apply under one field manager, so running it again
// changes nothing unless the inputs changed.
package bootstrap

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/reconcilers/prowjob/buildcluster"
	"github.com/bowline-ci/bowline/schema/crds"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// FieldManager owns every field bootstrap applies.
const FieldManager = "bowline-bootstrap"

// Name is the name of the operator's ServiceAccount, roles and Deployment.
const Name = "bowline-operator"

// Settings say what to install.
type Settings struct {
	// Namespace runs the operator and holds the ConfigRepository.
	Namespace string
	// PodNamespace runs job pods (Prow's pod_namespace).
	PodNamespace string
	// Image is the operator image, which also runs the pod utilities.
	Image string
	// ConfigRepoURL is the config repository's address.
	ConfigRepoURL string
	// ConfigRepoBranch is the branch to follow; empty means main.
	ConfigRepoBranch string
	// SecretName names an existing Secret with the config repository's
	// credentials; empty means none.
	SecretName string
	// Replicas of the operator; more than one turns on leader election.
	Replicas int32
	// BuildClusters are the build clusters besides the operator's own, by
	// alias: each kubeconfig (buildcluster.ClusterKubeconfig) becomes a
	// Secret the operator reads with --kubeconfig-dir.
	BuildClusters map[string][]byte
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
	}
	if s.ConfigRepoURL == "" {
		errs = append(errs, errors.New("--config-repo is required"))
	}
	if s.SecretName != "" {
		if msgs := validation.IsDNS1123Subdomain(s.SecretName); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--secret %q: %s", s.SecretName, strings.Join(msgs, "; ")))
		}
	}
	if s.Replicas < 1 {
		errs = append(errs, fmt.Errorf("--replicas must be at least 1, not %d", s.Replicas))
	}
	return errors.Join(errs...)
}

// Objects returns everything bootstrap applies, in apply order: CRDs and
// namespaces first, then RBAC, the Deployment and the ConfigRepository.
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
	objs = append(objs, namespace(s.Namespace))
	if s.PodNamespace != s.Namespace {
		objs = append(objs, namespace(s.PodNamespace))
	}
	objs = append(objs, rbac(s)...)
	for _, sec := range buildcluster.Secrets(s.Namespace, s.BuildClusters, labels()) {
		objs = append(objs, sec)
	}
	d := deployment(s)
	buildcluster.Mount(&d.Spec.Template.Spec, 0, slices.Collect(maps.Keys(s.BuildClusters)))
	objs = append(objs, d, configRepository(s))
	return objs, nil
}

func labels() map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":       "bowline",
		"app.kubernetes.io/component":  "operator",
		"app.kubernetes.io/managed-by": FieldManager,
	}
}

func meta(name, ns string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels()}
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: meta(name, ""),
	}
}

// rbac grants the operator what it uses and nothing more: bowline's own
// resources cluster-wide; pods only in the pod namespace; Secrets,
// ConfigMaps (configuration snapshots) and its leader-election lease only in
// its own namespace.
func rbac(s Settings) []client.Object {
	sa := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: meta(Name, s.Namespace),
	}
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: Name, Namespace: s.Namespace}}
	all := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	read := []string{"get", "list", "watch"}
	cluster := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: meta(Name, ""),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"configrepositories", "prowjobs", "mergepools"}, Verbs: all},
			{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"configrepositories/status", "prowjobs/status", "mergepools/status"}, Verbs: []string{"get", "update", "patch"}},
			{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"configrepositories/finalizers"}, Verbs: []string{"update"}},
			{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
			{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		},
	}
	clusterBinding := &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: meta(Name, ""),
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: Name},
		Subjects:   subject,
	}
	own := &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: meta(Name, s.Namespace),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: read},
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: all},
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: all},
		},
	}
	ownBinding := roleBinding(Name, s.Namespace, subject)
	objs := []client.Object{sa, cluster, clusterBinding, own, ownBinding}
	pods := &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: meta(Name+"-pods", s.PodNamespace),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: all},
			{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
		},
	}
	if s.PodNamespace != s.Namespace {
		// Job pods mount Secrets of their own namespace; the operator only
		// needs to read them to censor their values in logs.
		pods.Rules = append(pods.Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: read})
	}
	return append(objs, pods, roleBinding(Name+"-pods", s.PodNamespace, subject))
}

func roleBinding(name, ns string, subjects []rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: meta(name, ns),
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects:   subjects,
	}
}

func deployment(s Settings) *appsv1.Deployment {
	replicas := s.Replicas
	yes, no := true, false
	uid := int64(65532)
	args := []string{"operator", "--data-dir=/var/lib/bowline"}
	if replicas > 1 {
		args = append(args, "--leader-elect")
	}
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("probes")}},
			PeriodSeconds: 10,
		}
	}
	sel := map[string]string{"app.kubernetes.io/name": "bowline", "app.kubernetes.io/component": "operator"}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta(Name, s.Namespace),
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: sel},
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
					TerminationGracePeriodSeconds: ptr(int64(30)),
					Containers: []corev1.Container{{
						Name:  "operator",
						Image: s.Image,
						Args:  args,
						Ports: []corev1.ContainerPort{
							{Name: "metrics", ContainerPort: 8080, Protocol: corev1.ProtocolTCP},
							{Name: "probes", ContainerPort: 8081, Protocol: corev1.ProtocolTCP},
						},
						Env: []corev1.EnvVar{{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{
							FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
						}}},
						LivenessProbe:  probe("/healthz"),
						ReadinessProbe: probe("/readyz"),
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
						VolumeMounts: []corev1.VolumeMount{
							{Name: "data", MountPath: "/var/lib/bowline"},
							{Name: "tmp", MountPath: "/tmp"},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
						{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					},
				},
			},
		},
	}
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

func ptr[T any](v T) *T { return &v }
