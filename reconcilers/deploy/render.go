package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	deployfile "github.com/bowline-ci/bowline/schema/deploy"
)

// Labels on everything the reconciler makes.
const (
	// ManagedBy is the app.kubernetes.io/managed-by value (and the field
	// manager) of the roles' Deployments and Services.
	ManagedBy = "bowline-deploy"
	// LabelName, LabelComponent and LabelManagedBy are the recommended
	// labels; the component of a role's pods is the role's name.
	LabelName      = "app.kubernetes.io/name"
	LabelComponent = "app.kubernetes.io/component"
	LabelManagedBy = "app.kubernetes.io/managed-by"
)

// revisionHistory is how many old ReplicaSets a role's Deployment keeps.
const revisionHistory = 3

// DeploymentName is the name of a role's Deployment: bowline-<role>.
func DeploymentName(role string) string { return "bowline-" + role }

// PodsServiceName is the Service of a serving role's own pods
// (bowline-hook-pods, bowline-web-pods): the synthetic webhook reaches the
// new hook pods through it before any traffic does.
func PodsServiceName(role string) string { return DeploymentName(role) + "-pods" }

// Serves reports whether a role serves on every replica behind a Service.
func Serves(role string) bool { return !deployfile.Elected(role) }

// Settings are what the deployment file sets for one role, as the
// Deployment gets them. A role's healthy settings are recorded on its
// Deployment, to roll back to.
type Settings struct {
	Image    string `json:"image"`
	Replicas int32  `json:"replicas"`
	// Resources replace the operator's own when set.
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// Args are the role's flags from the file, --name=value.
	Args                    []string `json:"args,omitempty"`
	ProgressDeadlineSeconds int32    `json:"progressDeadlineSeconds"`
}

// SettingsFrom reads one role's settings from a loaded (valid) file.
func SettingsFrom(c *deployfile.Config, role string) (Settings, bool) {
	r, ok := c.Roles[role]
	if !ok {
		return Settings{}, false
	}
	s := Settings{Image: c.Image.Ref, Replicas: r.ReplicasOrDefault(), Args: r.Args(), ProgressDeadlineSeconds: c.ProgressDeadline()}
	if res := r.Resources; res != nil {
		s.Resources = &corev1.ResourceRequirements{Requests: amounts(res.Requests), Limits: amounts(res.Limits)}
	}
	return s, true
}

func amounts(a *deployfile.Amounts) corev1.ResourceList {
	if a == nil {
		return nil
	}
	out := corev1.ResourceList{}
	for name, v := range map[corev1.ResourceName]deployfile.Scalar{corev1.ResourceCPU: a.CPU, corev1.ResourceMemory: a.Memory} {
		if q, err := resource.ParseQuantity(string(v)); err == nil && v != "" {
			out[name] = q
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Selector picks a role's pods.
func Selector(role string) map[string]string {
	return map[string]string{LabelName: "bowline", LabelComponent: role}
}

func roleLabels(role string) map[string]string {
	l := Selector(role)
	l[LabelManagedBy] = ManagedBy
	return l
}

// Flags of the operator's own Deployment that a role's Deployment drops:
// what picks the roles. --deploy-template and --deploy-image-repositories
// stay: without the config role they apply nothing, but the hook's review
// of pull requests judges and describes the deployment file as the config
// role does.
var droppedFlags = []string{"components"}

// Render makes a role's Deployment from the operator's own (tmpl): the
// same pod, its ServiceAccount, volumes, Secrets, environment and security
// settings, with the role's image, replicas, resources and flags, and
// --components naming the role. What the file cannot set comes only from
// tmpl. The web role, apart from the webhook server, asks it for the plugin
// help through hookService (the Service bowline-hook, wherever the hook
// runs) unless tmpl names another --hook-url. Annotations are left to the
// caller.
func Render(tmpl *appsv1.Deployment, ns, role string, s Settings, hookService string) (*appsv1.Deployment, error) {
	spec := tmpl.Spec.Template.Spec.DeepCopy()
	if len(spec.Containers) == 0 {
		return nil, errors.New("the operator's Deployment has no container")
	}
	c := &spec.Containers[0]
	for i := range spec.Containers {
		if spec.Containers[i].Name == "operator" {
			c = &spec.Containers[i]
		}
	}
	c.Image = s.Image
	c.Args = roleArgs(c.Args, role, s.Args)
	if role == deployfile.RoleWeb && hookService != "" && !hasFlag(c.Args, "hook-url") {
		c.Args = append(c.Args, fmt.Sprintf("--hook-url=http://%s.%s.svc", hookService, ns))
	}
	if s.Resources != nil {
		c.Resources = *s.Resources.DeepCopy()
	}
	// Replicas spread over nodes where the scheduler can.
	spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
		MaxSkew: 1, TopologyKey: corev1.LabelHostname, WhenUnsatisfiable: corev1.ScheduleAnyway,
		LabelSelector: &metav1.LabelSelector{MatchLabels: Selector(role)},
	}}
	replicas, history, deadline := s.Replicas, int32(revisionHistory), s.ProgressDeadlineSeconds
	// A new pod starts before an old one stops: the last healthy
	// deployment keeps running until its successor is available.
	maxUnavailable, maxSurge := intstr.FromInt32(0), intstr.FromInt32(1)
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: DeploymentName(role), Namespace: ns, Labels: roleLabels(role)},
		Spec: appsv1.DeploymentSpec{
			Replicas:                &replicas,
			Selector:                &metav1.LabelSelector{MatchLabels: Selector(role)},
			RevisionHistoryLimit:    &history,
			ProgressDeadlineSeconds: &deadline,
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: roleLabels(role)},
				Spec:       *spec,
			},
		},
	}, nil
}

// roleArgs are the operator's arguments without those that pick the roles
// or apply this file, and without those the role sets itself, followed by
// --components=<role> and the role's flags. Flags in the template are
// --name=value or a lone --name (booleans).
func roleArgs(tmpl []string, role string, flags []string) []string {
	drop := map[string]bool{}
	for _, f := range droppedFlags {
		drop[f] = true
	}
	for _, a := range flags {
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		drop[name] = true
	}
	out := make([]string, 0, len(tmpl)+len(flags)+1)
	for _, a := range tmpl {
		if name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "="); strings.HasPrefix(a, "--") && drop[name] {
			continue
		}
		out = append(out, a)
	}
	out = append(out, "--components="+role)
	return append(out, flags...)
}

// hasFlag reports whether args set --name.
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == "--"+name || strings.HasPrefix(a, "--"+name+"=") {
			return true
		}
	}
	return false
}

// Hash names a rendered Deployment's spec: a change of settings or of the
// operator's own Deployment changes it, and starts a rollout.
func Hash(d *appsv1.Deployment) string {
	b, err := json.Marshal(d.Spec)
	if err != nil {
		// A Deployment spec always marshals.
		panic(fmt.Sprintf("marshal Deployment spec: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// DisruptionBudget lets a voluntary disruption (a node drain, a cluster
// upgrade) take at most one of a role's pods at a time, so that the
// others keep serving or stand by for the lease. It is named after the
// role's Deployment.
func DisruptionBudget(ns, role string) *policyv1.PodDisruptionBudget {
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: metav1.ObjectMeta{Name: DeploymentName(role), Namespace: ns, Labels: roleLabels(role)},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &one,
			Selector:       &metav1.LabelSelector{MatchLabels: Selector(role)},
		},
	}
}

// PodsService is a serving role's own Service (PodsServiceName): port 80
// to the container port named after the role.
func PodsService(ns, role string) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: PodsServiceName(role), Namespace: ns, Labels: roleLabels(role)},
		Spec: corev1.ServiceSpec{
			Selector: Selector(role),
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString(role), Protocol: corev1.ProtocolTCP}},
		},
	}
}
