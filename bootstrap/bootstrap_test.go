package bootstrap_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/bootstrap"
	"github.com/bowline-ci/bowline/test/envtest"
)

var env *envtest.Env

func TestMain(m *testing.M) { envtest.Main(m, &env) }

func settings() bootstrap.Settings {
	return bootstrap.Settings{
		Namespace:     "bowline-system",
		PodNamespace:  "test-pods",
		Image:         "bowline-ci/bowline:test",
		ConfigRepoURL: "https://github.com/example/config.git",
		SecretName:    "config-token",
		Replicas:      1,
	}
}

func TestApplyTwiceChangesNothing(t *testing.T) {
	ctx := context.Background()
	objs, err := bootstrap.Objects(settings())
	if err != nil {
		t.Fatal(err)
	}
	first, err := bootstrap.Apply(ctx, env.Client, objs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range first {
		// The test environment installed the CRDs already.
		if strings.HasPrefix(c.Object, "CustomResourceDefinition ") {
			continue
		}
		if c.Action != "created" {
			t.Errorf("first apply: %s %s, want created", c.Object, c.Action)
		}
	}
	objs, err = bootstrap.Objects(settings())
	if err != nil {
		t.Fatal(err)
	}
	second, err := bootstrap.Apply(ctx, env.Client, objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(second) != len(first) {
		t.Fatalf("second apply touched %d objects, first %d", len(second), len(first))
	}
	for _, c := range second {
		if c.Action != "unchanged" {
			t.Errorf("second apply: %s %s, want unchanged", c.Object, c.Action)
		}
	}

	// A changed input changes only what depends on it.
	s := settings()
	s.Image = "bowline-ci/bowline:next"
	objs, err = bootstrap.Objects(s)
	if err != nil {
		t.Fatal(err)
	}
	third, err := bootstrap.Apply(ctx, env.Client, objs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range third {
		want := "unchanged"
		if c.Object == "Deployment bowline-system/bowline-operator" {
			want = "configured"
		}
		if c.Action != want {
			t.Errorf("after an image change: %s %s, want %s", c.Object, c.Action, want)
		}
	}
}

func TestOperatorPermissionsAreLeast(t *testing.T) {
	ctx := context.Background()
	objs, err := bootstrap.Objects(settings())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bootstrap.Apply(ctx, env.Client, objs); err != nil {
		t.Fatal(err)
	}
	user := "system:serviceaccount:bowline-system:" + bootstrap.Name
	tests := []struct {
		ns, group, resource, name, verb string
		allowed                         bool
	}{
		{"bowline-system", "bowline.dev", "prowjobs", "", "create", true},
		{"bowline-system", "bowline.dev", "prowjobs", "", "watch", true},
		{"bowline-system", "bowline.dev", "configrepositories", "", "watch", true},
		{"bowline-system", "bowline.dev", "configrepositories", "", "create", false},
		{"bowline-system", "bowline.dev", "mergepools", "", "create", true},
		{"bowline-system", "bowline.dev", "prowjobs/status", "", "patch", true},
		// The safety limits of a GitHubOrganization are people's to set.
		{"bowline-system", "bowline.dev", "githuborganizations", "", "create", true},
		{"bowline-system", "bowline.dev", "githuborganizations", "", "update", false},
		{"bowline-system", "bowline.dev", "githuborganizations", "", "patch", false},
		{"bowline-system", "bowline.dev", "githuborganizations/status", "", "patch", true},
		{"bowline-system", "", "configmaps", "", "create", true},
		{"bowline-system", "coordination.k8s.io", "leases", "", "update", true},
		{"bowline-system", "events.k8s.io", "events", "", "create", true},
		{"test-pods", "", "pods", "", "create", true},
		{"test-pods", "", "pods", "", "watch", true},
		{"test-pods", "", "pods", "", "update", false},
		// Only the config repository's own Secret, and only by name.
		{"bowline-system", "", "secrets", "config-token", "get", true},
		{"bowline-system", "", "secrets", "other", "get", false},
		{"bowline-system", "", "secrets", "", "list", false},
		{"test-pods", "", "secrets", "", "get", false},
		{"test-pods", "", "pods/log", "", "get", false},
		// Nothing at the cluster scope, nothing elsewhere.
		{"", "", "pods", "", "list", false},
		{"", "bowline.dev", "prowjobs", "", "watch", false},
		{"", "bowline.dev", "configrepositories", "", "list", false},
		{"default", "bowline.dev", "prowjobs", "", "create", false},
		{"default", "", "pods", "", "create", false},
		{"kube-system", "", "secrets", "", "get", false},
		{"", "rbac.authorization.k8s.io", "clusterroles", "", "create", false},
		{"", "", "namespaces", "", "list", false},
		// The deployment file's roles: their Deployments and Services by
		// name, and the public Services pointed at them; nothing else.
		{"bowline-system", "apps", "deployments", "", "create", false},
		{"bowline-system", "apps", "deployments", "", "watch", true},
		{"bowline-system", "apps", "deployments", "bowline-operator", "get", true},
		{"bowline-system", "apps", "deployments", "bowline-operator", "patch", false},
		{"bowline-system", "apps", "deployments", "bowline-operator", "delete", false},
		{"bowline-system", "apps", "deployments", "bowline-hook", "create", true},
		{"bowline-system", "apps", "deployments", "bowline-jobs", "patch", true},
		{"bowline-system", "apps", "deployments", "bowline-web", "delete", true},
		{"bowline-system", "apps", "deployments", "bowline-config", "create", false},
		{"bowline-system", "apps", "deployments", "anything-else", "patch", false},
		{"test-pods", "apps", "deployments", "bowline-hook", "create", false},
		{"bowline-system", "apps", "replicasets", "", "create", false},
		{"bowline-system", "apps", "daemonsets", "", "create", false},
		{"bowline-system", "apps", "statefulsets", "", "create", false},
		{"bowline-system", "batch", "jobs", "", "create", false},
		{"bowline-system", "", "services", "", "watch", true},
		{"bowline-system", "", "services", "bowline-hook-pods", "create", true},
		{"bowline-system", "", "services", "bowline-hook", "patch", true},
		{"bowline-system", "", "services", "bowline-hook", "delete", false},
		{"bowline-system", "", "services", "other", "patch", false},
		{"bowline-system", "policy", "poddisruptionbudgets", "bowline-hook", "create", true},
		{"bowline-system", "policy", "poddisruptionbudgets", "bowline-jobs", "delete", true},
		{"bowline-system", "policy", "poddisruptionbudgets", "bowline-operator", "patch", false},
		{"test-pods", "policy", "poddisruptionbudgets", "bowline-hook", "create", false},
		{"bowline-system", "", "pods", "", "list", true},
		{"bowline-system", "", "pods", "", "create", false},
		{"bowline-system", "", "pods", "", "patch", false},
		{"bowline-system", "", "pods/exec", "", "create", false},
		{"bowline-system", "", "serviceaccounts", "", "create", false},
		{"bowline-system", "", "secrets", "", "create", false},
		{"bowline-system", "rbac.authorization.k8s.io", "roles", "", "patch", false},
		{"bowline-system", "rbac.authorization.k8s.io", "rolebindings", "", "create", false},
		{"bowline-system", "coordination.k8s.io", "leases", "bowline-jobs.bowline.dev", "get", true},
	}
	for _, tt := range tests {
		sar := &authv1.SubjectAccessReview{Spec: authv1.SubjectAccessReviewSpec{
			User:               user,
			Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:bowline-system"},
			ResourceAttributes: &authv1.ResourceAttributes{Namespace: tt.ns, Group: tt.group, Resource: tt.resource, Name: tt.name, Verb: tt.verb},
		}}
		if err := env.Client.Create(ctx, sar); err != nil {
			t.Fatal(err)
		}
		if sar.Status.Allowed != tt.allowed {
			t.Errorf("%s %s.%s %q in %q: allowed=%v, want %v", tt.verb, tt.resource, tt.group, tt.name, tt.ns, sar.Status.Allowed, tt.allowed)
		}
	}
}

// TestDryRunYAML reads --dry-run's output as kubectl does, a stream of
// YAML documents, and server-side applies every object to the API server.
func TestDryRunYAML(t *testing.T) {
	s := settings()
	s.Namespace, s.PodNamespace = "dry-run-system", "dry-run-pods"
	s.GitHubSecret, s.HMACSecret = "github", "hmac"
	objs, err := bootstrap.Objects(s)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := bootstrap.WriteYAML(&buf, objs); err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(buf.Bytes()), 4096)
	var kinds []string
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
			t.Fatalf("a document is not an object: %v", u.Object)
		}
		kinds = append(kinds, u.GetKind())
		if err := env.Client.Apply(context.Background(), client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("kubectl"), client.ForceOwnership); err != nil {
			t.Errorf("apply %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	got := strings.Join(kinds, ",")
	want := "CustomResourceDefinition,CustomResourceDefinition,CustomResourceDefinition,CustomResourceDefinition,Namespace,Namespace,ServiceAccount,Role,RoleBinding,Role,RoleBinding,NetworkPolicy,NetworkPolicy,Deployment,PodDisruptionBudget,Service,Service,ConfigRepository"
	if got != want {
		t.Errorf("kinds:\n got %s\nwant %s", got, want)
	}
	for _, s := range []string{"readOnlyRootFilesystem: true", "runAsNonRoot: true", "/healthz", "/readyz", "secretRef:", "pod-security.kubernetes.io/enforce: baseline", bootstrap.NetworkAccessLabel} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("manifests lack %q", s)
		}
	}
}

// TestShutdownTimeoutsAgree: the webhook drain ends before the manager's
// graceful shutdown, which ends before the kubelet kills the pod; and
// docs/webhooks.md gives the same figures.
func TestShutdownTimeoutsAgree(t *testing.T) {
	s := settings()
	s.GitHubSecret, s.HMACSecret = "github", "hmac"
	objs, err := bootstrap.Objects(s)
	if err != nil {
		t.Fatal(err)
	}
	var d *appsv1.Deployment
	for _, o := range objs {
		if o, ok := o.(*appsv1.Deployment); ok {
			d = o
		}
	}
	flag := func(name string) time.Duration {
		for _, a := range d.Spec.Template.Spec.Containers[0].Args {
			if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
				dur, err := time.ParseDuration(v)
				if err != nil {
					t.Fatal(err)
				}
				return dur
			}
		}
		t.Fatalf("the operator is not given --%s", name)
		return 0
	}
	drain, shutdown := flag("hook-grace-period"), flag("shutdown-timeout")
	kill := time.Duration(*d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	if !(drain < shutdown && shutdown < kill) {
		t.Errorf("want drain %s < shutdown %s < terminationGracePeriodSeconds %s", drain, shutdown, kill)
	}
	doc, err := os.ReadFile("../docs/webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	for what, v := range map[string]time.Duration{"--hook-grace-period": drain, "--shutdown-timeout": shutdown, "terminationGracePeriodSeconds": kill} {
		row := ""
		for _, line := range strings.Split(string(doc), "\n") {
			if strings.HasPrefix(line, "|") && strings.Contains(line, what) && strings.Contains(line, " s ") {
				row = line
			}
		}
		if want := fmt.Sprintf("| %d s ", int(v.Seconds())); !strings.Contains(row, want) {
			t.Errorf("docs/webhooks.md's shutdown table says %q for %s; bootstrap uses %s", row, what, v)
		}
	}
}

// TestPodSecurity: the job pods' namespace refuses a privileged pod and
// takes a plain one; the operator's Deployment passes "restricted".
func TestPodSecurity(t *testing.T) {
	ctx := context.Background()
	s := settings()
	s.Namespace, s.PodNamespace = "psa-system", "psa-pods"
	objs, err := bootstrap.Objects(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bootstrap.Apply(ctx, env.Client, objs); err != nil {
		t.Fatal(err)
	}
	pod := func(name string, privileged bool) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.PodNamespace}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "test", Image: "alpine", SecurityContext: &corev1.SecurityContext{Privileged: &privileged}}},
		}}
	}
	if err := env.Client.Create(ctx, pod("privileged", true), client.DryRunAll); err == nil || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Errorf("a privileged job pod was admitted: %v", err)
	}
	if err := env.Client.Create(ctx, pod("plain", false), client.DryRunAll); err != nil {
		t.Errorf("a plain job pod was refused: %v", err)
	}
	for _, o := range objs {
		d, ok := o.(*appsv1.Deployment)
		if !ok {
			continue
		}
		op := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "operator", Namespace: s.Namespace, Labels: d.Spec.Template.Labels}, Spec: d.Spec.Template.Spec}
		if err := env.Client.Create(ctx, op, client.DryRunAll); err != nil {
			t.Errorf("the operator's pod is refused in its restricted namespace: %v", err)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*bootstrap.Settings)
		wantErr string
	}{
		{"valid", func(*bootstrap.Settings) {}, ""},
		{"bad namespace", func(s *bootstrap.Settings) { s.Namespace = "Bowline_System" }, "--namespace"},
		{"no config repo", func(s *bootstrap.Settings) { s.ConfigRepoURL = "" }, "--config-repo"},
		{"no image", func(s *bootstrap.Settings) { s.Image = "" }, "--image"},
		{"bad secret", func(s *bootstrap.Settings) { s.SecretName = "Not A Name" }, "--secret"},
		{"zero replicas", func(s *bootstrap.Settings) { s.Replicas = 0 }, "--replicas"},
		{"app without its key", func(s *bootstrap.Settings) { s.GitHubAppID = 7 }, "--github-app-id needs --github-secret"},
		{"webhooks without GitHub", func(s *bootstrap.Settings) { s.HMACSecret = "hmac" }, "--hmac-secret needs --github-secret"},
		{"bad API server range", func(s *bootstrap.Settings) { s.APIServerCIDRs = []string{"10.0.0.1"} }, "--api-server-cidr"},
		{"bad github secret", func(s *bootstrap.Settings) { s.GitHubSecret = "Bad Name" }, "--github-secret"},
		{"image not a reference", func(s *bootstrap.Settings) { s.Image = "Bowline:dev" }, `--image "Bowline:dev" is not an image reference`},
		{"deploy image repository", func(s *bootstrap.Settings) { s.DeployImageRepositories = []string{"registry.example.com/ci/bowline"} }, ""},
		{"bad deploy image repository", func(s *bootstrap.Settings) { s.DeployImageRepositories = []string{"https://registry.example.com"} }, "--deploy-image-repository"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := settings()
			tt.mutate(&s)
			err := s.Validate()
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want error naming %q", err, tt.wantErr)
			}
		})
	}
}

// TestOperatorAppliesTheDeployFile: the operator bootstrap installs applies
// the config repository's deployment file, making the roles' Deployments
// from its own, and allows the images of its own repository and those
// named with --deploy-image-repository.
func TestOperatorAppliesTheDeployFile(t *testing.T) {
	s := settings()
	s.Image = "ghcr.io/bowline-ci/bowline:v1.4.0"
	s.DeployImageRepositories = []string{"registry.example.com/ci/bowline", "ghcr.io/bowline-ci/bowline"}
	objs, err := bootstrap.Objects(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		d, ok := o.(*appsv1.Deployment)
		if !ok {
			continue
		}
		args := d.Spec.Template.Spec.Containers[0].Args
		for _, want := range []string{"--deploy-template=" + d.Name, "--deploy-image-repositories=ghcr.io/bowline-ci/bowline,registry.example.com/ci/bowline"} {
			if !slices.Contains(args, want) {
				t.Errorf("the operator's arguments lack %s: %v", want, args)
			}
		}
	}
}
