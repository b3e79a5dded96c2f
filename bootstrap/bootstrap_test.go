package bootstrap_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	authv1 "k8s.io/api/authorization/v1"
	"sigs.k8s.io/yaml"

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
		ns, group, resource, verb string
		allowed                   bool
	}{
		{"any", "bowline.dev", "prowjobs", "create", true},
		{"any", "bowline.dev", "configrepositories", "watch", true},
		{"test-pods", "", "pods", "create", true},
		{"bowline-system", "", "secrets", "get", true},
		{"bowline-system", "", "configmaps", "create", true},
		{"bowline-system", "coordination.k8s.io", "leases", "update", true},
		{"kube-system", "", "secrets", "get", false},
		{"default", "", "pods", "create", false},
		{"bowline-system", "", "secrets", "delete", false},
		{"", "rbac.authorization.k8s.io", "clusterroles", "create", false},
		{"default", "apps", "deployments", "create", false},
	}
	for _, tt := range tests {
		sar := &authv1.SubjectAccessReview{Spec: authv1.SubjectAccessReviewSpec{
			User:               user,
			Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:bowline-system"},
			ResourceAttributes: &authv1.ResourceAttributes{Namespace: tt.ns, Group: tt.group, Resource: tt.resource, Verb: tt.verb},
		}}
		if err := env.Client.Create(ctx, sar); err != nil {
			t.Fatal(err)
		}
		if sar.Status.Allowed != tt.allowed {
			t.Errorf("%s %s.%s in %q: allowed=%v, want %v", tt.verb, tt.resource, tt.group, tt.ns, sar.Status.Allowed, tt.allowed)
		}
	}
}

func TestDryRunYAML(t *testing.T) {
	objs, err := bootstrap.Objects(settings())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := bootstrap.WriteYAML(&buf, objs); err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(buf.String(), "\n---\n")
	if len(docs) != len(objs) {
		t.Fatalf("%d documents for %d objects", len(docs), len(objs))
	}
	var kinds []string
	for _, d := range docs {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, m["kind"].(string))
	}
	got := strings.Join(kinds, ",")
	want := "CustomResourceDefinition,CustomResourceDefinition,CustomResourceDefinition,Namespace,Namespace,ServiceAccount,ClusterRole,ClusterRoleBinding,Role,RoleBinding,Role,RoleBinding,Deployment,ConfigRepository"
	if got != want {
		t.Errorf("kinds:\n got %s\nwant %s", got, want)
	}
	for _, s := range []string{"readOnlyRootFilesystem: true", "runAsNonRoot: true", "/healthz", "/readyz", "secretRef:"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("manifests lack %q", s)
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
