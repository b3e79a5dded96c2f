package bootstrap

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	deployreconciler "github.com/bowline-ci/bowline/reconcilers/deploy"
	deployfile "github.com/bowline-ci/bowline/schema/deploy"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// rbac grants the operator what it uses and nothing more, in namespaced
// Roles only: it needs no permission at the cluster scope, because it
// watches its namespaces only (operator --pod-namespace,
// --prowjob-namespace, --config-namespaces) and the CRDs are installed
// by bootstrap.
//
// In its own namespace: bowline's resources (ConfigRepositories, ProwJobs,
// MergePools, GitHubOrganizations, whose spec it may not change), the
// ConfigMaps that hold published configuration snapshots,
// the roles' leader-election Leases, Events, reading the one Secret the
// ConfigRepository names, and the roles' Deployments and Services the
// deployment file makes (deployRules). In the pod namespace: pods, and nothing else; in
// particular no Secret, which job pods mount without the operator reading
// them.
func rbac(s Settings) []client.Object {
	sa := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: meta(Name, s.Namespace),
	}
	subjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: Name, Namespace: s.Namespace}}
	all := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	group := v1alpha1.GroupVersion.Group
	own := []rbacv1.PolicyRule{
		{APIGroups: []string{group}, Resources: []string{"configrepositories"}, Verbs: []string{"get", "list", "watch", "update", "patch"}},
		{APIGroups: []string{group}, Resources: []string{"configrepositories/finalizers"}, Verbs: []string{"update"}},
		{APIGroups: []string{group}, Resources: []string{"prowjobs", "mergepools"}, Verbs: all},
		// GitHubOrganizations are created for the orgs a configuration
		// names, never changed: their spec (confirm, safety limits) is for
		// people to set.
		{APIGroups: []string{group}, Resources: []string{"githuborganizations"}, Verbs: []string{"get", "list", "watch", "create"}},
		{APIGroups: []string{group}, Resources: []string{"configrepositories/status", "prowjobs/status", "mergepools/status", "githuborganizations/status"}, Verbs: []string{"get", "update", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: all},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
	}
	if s.SecretName != "" {
		own = append(own, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: []string{s.SecretName}})
	}
	own = append(own, deployRules()...)
	pods := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch", "create", "delete"}},
	}
	if s.PodNamespace != s.Namespace {
		// The deploy reconciler reads the roles' pods (a pod that cannot
		// pull its image, the holder of a role's lease).
		own = append(own, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}})
	}
	if s.PodNamespace == s.Namespace {
		own = append(own, pods...)
		return []client.Object{sa, role(Name, s.Namespace, own), roleBinding(Name, s.Namespace, subjects)}
	}
	return []client.Object{sa,
		role(Name, s.Namespace, own), roleBinding(Name, s.Namespace, subjects),
		role(Name+"-pods", s.PodNamespace, pods), roleBinding(Name+"-pods", s.PodNamespace, subjects),
	}
}

// deployRules let the config role apply the deployment file in the
// operator's namespace: read every Deployment and Service there (the
// operator's own is the roles' template), but write only the roles'
// Deployments and PodDisruptionBudgets (bowline-<role>) and Services
// (bowline-hook-pods, bowline-web-pods) by name, and point the Services bowline-hook and
// bowline-web at the roles' pods. A server-side apply that creates an
// object is authorized as a create of that name, so names bound creation
// too.
func deployRules() []rbacv1.PolicyRule {
	var deployments, services []string
	for _, r := range deployfile.Roles {
		deployments = append(deployments, deployreconciler.DeploymentName(r))
		if deployreconciler.Serves(r) {
			services = append(services, deployreconciler.PodsServiceName(r))
		}
	}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"create", "patch", "delete"}, ResourceNames: deployments},
		{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"create", "patch", "delete"}, ResourceNames: services},
		{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"patch"}, ResourceNames: []string{HookService, WebService}},
		{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: []string{"create", "patch", "delete"}, ResourceNames: deployments},
	}
}

func role(name, ns string, rules []rbacv1.PolicyRule) *rbacv1.Role {
	return &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: meta(name, ns),
		Rules:      rules,
	}
}

func roleBinding(name, ns string, subjects []rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: meta(name, ns),
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects:   subjects,
	}
}
