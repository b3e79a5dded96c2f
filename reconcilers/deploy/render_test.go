package deploy_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/bowline-ci/bowline/bootstrap"
	"github.com/bowline-ci/bowline/reconcilers/deploy"
	deployfile "github.com/bowline-ci/bowline/schema/deploy"
	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// operatorTemplate is the operator Deployment bowline bootstrap installs,
// with the GitHub and webhook Secrets mounted.
func operatorTemplate(t testing.TB, ns string) *appsv1.Deployment {
	t.Helper()
	objs, err := bootstrap.Objects(bootstrap.Settings{
		Namespace: ns, PodNamespace: ns + "-pods", Image: "ghcr.io/bowline-ci/bowline:v1", ConfigRepoURL: "https://example.com/config.git",
		GitHubSecret: "github", HMACSecret: "hmac", Replicas: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if d, ok := o.(*appsv1.Deployment); ok && d.Name == bootstrap.Name {
			return d
		}
	}
	t.Fatal("bootstrap makes no operator Deployment")
	return nil
}

func loadFile(t testing.TB, doc string) *deployfile.Config {
	t.Helper()
	var errs yamlpos.Errors
	c := &deployfile.Config{}
	yamlpos.NewDecoder().Decode("deployment.yaml", []byte(doc), c, &errs)
	c.Validate(&errs)
	if err := errs.Err(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRender(t *testing.T) {
	tmpl := operatorTemplate(t, "bowline-system")
	file := loadFile(t, `image: ghcr.io/bowline-ci/bowline:v2
progressDeadlineSeconds: 120
roles:
  hook:
    replicas: 3
    resources: {requests: {cpu: 250m, memory: 300Mi}, limits: {memory: 2Gi}}
    flags: {hook-workers: 64, log-level: debug}
  jobs: {}
`)
	s, ok := deploy.SettingsFrom(file, "hook")
	if !ok {
		t.Fatal("no hook settings")
	}
	d, err := deploy.Render(tmpl, "bowline-system", "hook", s, bootstrap.HookService)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "bowline-hook" || d.Namespace != "bowline-system" || *d.Spec.Replicas != 3 || *d.Spec.ProgressDeadlineSeconds != 120 {
		t.Errorf("Deployment %s/%s, %d replicas, deadline %d", d.Namespace, d.Name, *d.Spec.Replicas, *d.Spec.ProgressDeadlineSeconds)
	}
	if want := map[string]string{deploy.LabelName: "bowline", deploy.LabelComponent: "hook"}; !cmp.Equal(d.Spec.Selector.MatchLabels, want) {
		t.Errorf("selector %v, want %v (never the operator's pods)", d.Spec.Selector.MatchLabels, want)
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable.IntValue() != 0 || ru.MaxSurge.IntValue() != 1 {
		t.Errorf("strategy %+v: the old pods must keep running until new ones are available", d.Spec.Strategy)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if c.Image != "ghcr.io/bowline-ci/bowline:v2" {
		t.Errorf("image %s", c.Image)
	}
	wantRes := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("300Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")},
	}
	if !cmp.Equal(c.Resources, wantRes) {
		t.Errorf("resources %v, want %v", c.Resources, wantRes)
	}
	// Everything the file cannot set is the operator's.
	op := tmpl.Spec.Template.Spec
	got := d.Spec.Template.Spec
	if got.ServiceAccountName != op.ServiceAccountName || !cmp.Equal(got.Volumes, op.Volumes) || !cmp.Equal(c.VolumeMounts, op.Containers[0].VolumeMounts) ||
		!cmp.Equal(got.SecurityContext, op.SecurityContext) || !cmp.Equal(c.SecurityContext, op.Containers[0].SecurityContext) ||
		!cmp.Equal(c.Env, op.Containers[0].Env) || !cmp.Equal(c.ReadinessProbe, op.Containers[0].ReadinessProbe) {
		t.Error("the role's pod differs from the operator's beyond image, resources and flags")
	}
	for _, a := range c.Args {
		if strings.HasPrefix(a, "--components") && a != "--components=hook" {
			t.Errorf("the role keeps %s", a)
		}
	}
	// The role's pods know the install applies the file (their plans say
	// so), and judge its image as the config role does.
	for _, want := range []string{"--components=hook", "--hook-workers=64", "--log-level=debug", "--leader-elect", "--github-token-path=/etc/bowline/github/token",
		"--deploy-template=" + bootstrap.Name, "--deploy-image-repositories=ghcr.io/bowline-ci/bowline"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("args lack %s: %v", want, c.Args)
		}
	}
	if c.Args[0] != "operator" {
		t.Errorf("args start with %q", c.Args[0])
	}

	// The hash follows every setting and the template.
	h := deploy.Hash(d)
	s2 := s
	s2.Replicas = 4
	d2, _ := deploy.Render(tmpl, "bowline-system", "hook", s2, bootstrap.HookService)
	tmpl3 := tmpl.DeepCopy()
	tmpl3.Spec.Template.Spec.Containers[0].Args = append(tmpl3.Spec.Template.Spec.Containers[0].Args, "--github-endpoint=https://ghe.example.com/api/v3/")
	d3, _ := deploy.Render(tmpl3, "bowline-system", "hook", s, bootstrap.HookService)
	d4, _ := deploy.Render(tmpl, "bowline-system", "hook", s, bootstrap.HookService)
	if deploy.Hash(d2) == h || deploy.Hash(d3) == h || deploy.Hash(d4) != h {
		t.Error("the hash does not follow the settings and the template alone")
	}
}

// TestRenderWeb: the web role, apart from the webhook server, asks it for
// the plugin help through the Service bowline-hook, unless the operator
// names another address.
func TestRenderWeb(t *testing.T) {
	tmpl := operatorTemplate(t, "bowline-system")
	file := loadFile(t, "image: ghcr.io/bowline-ci/bowline:v2\nroles:\n  web: {}\n  hook: {}\n")
	s, _ := deploy.SettingsFrom(file, "web")
	d, err := deploy.Render(tmpl, "bowline-system", "web", s, bootstrap.HookService)
	if err != nil {
		t.Fatal(err)
	}
	if args := d.Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--hook-url=http://bowline-hook.bowline-system.svc") {
		t.Errorf("the web role is not told where the hook is: %v", args)
	}
	hs, _ := deploy.SettingsFrom(file, "hook")
	h, _ := deploy.Render(tmpl, "bowline-system", "hook", hs, bootstrap.HookService)
	for _, a := range h.Spec.Template.Spec.Containers[0].Args {
		if strings.HasPrefix(a, "--hook-url") {
			t.Errorf("the hook role is given %s", a)
		}
	}
	own := tmpl.DeepCopy()
	own.Spec.Template.Spec.Containers[0].Args = append(own.Spec.Template.Spec.Containers[0].Args, "--hook-url=https://hook.example.com")
	d, _ = deploy.Render(own, "bowline-system", "web", s, bootstrap.HookService)
	var urls []string
	for _, a := range d.Spec.Template.Spec.Containers[0].Args {
		if strings.HasPrefix(a, "--hook-url") {
			urls = append(urls, a)
		}
	}
	if !slices.Equal(urls, []string{"--hook-url=https://hook.example.com"}) {
		t.Errorf("hook URLs %v, want the operator's own", urls)
	}
}
