package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/bowline-ci/bowline/bootstrap"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

// installSeed is the GitHub side of the cluster install: a bot whose token
// the operator holds, and the config repository it follows.
const installSeed = `
users:
- {login: bowline-bot, token: bot-token, bot: true}
- {login: alice, token: alice-token}
orgs:
- {login: acme, admins: [alice, bowline-bot]}
repos:
- name: acme/ci-config
  files:
    config/prow/config.yaml: |
      prowjob_namespace: bowline-system
      pod_namespace: test-pods
    config/prow/plugins.yaml: |
      plugins:
        acme:
          plugins: [trigger]
    config/jobs/acme/widgets.yaml: |
      periodics:
      - name: nightly
        interval: 24h
        spec:
          containers:
          - image: alpine
            command: ["true"]
`

// TestClusterInstall installs bowline the way the README says, with
// `bowline bootstrap`, into a real API server, then runs the operator
// binary as the Deployment would run it: a separate process with the
// Deployment's own arguments, the Secrets it mounts, and the bootstrap
// ServiceAccount's credentials (a token from the TokenRequest API, no
// administrator's). The operator must become ready, apply the
// ConfigRepository, create the pod of a ProwJob, never be refused by the
// API server, and stop cleanly on SIGTERM. --dry-run's output, applied as
// kubectl would, must be exactly what bootstrap applied.
func TestClusterInstall(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	env, err := envtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	forge := forgetest.Start(t, installSeed)
	bin := buildBowline(t)
	tmp := t.TempDir()
	admin, err := env.Kubeconfig(tmp)
	if err != nil {
		t.Fatal(err)
	}
	const ns, podNS = "bowline-system", "test-pods"
	bootstrapArgs := []string{"bootstrap", "--kubeconfig", admin,
		"--config-repo", forge.URL + "/acme/ci-config.git", "--secret", "config-repo",
		"--github-secret", "github", "--hmac-secret", "hmac", "--github-endpoint", forge.URL + "/",
		"--image", "bowline:test", "--api-server-cidr", "203.0.113.7/32"}
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, bin, args...).Output()
		if err != nil {
			msg := err.Error()
			if ee, ok := errors.AsType[*exec.ExitError](err); ok {
				msg += ": " + string(ee.Stderr)
			}
			t.Fatalf("bowline %s: %s\n%s", strings.Join(args, " "), msg, out)
		}
		return string(out)
	}

	// Install, then install again: nothing changes.
	first := run(bootstrapArgs...)
	for _, want := range []string{"Deployment bowline-system/bowline-operator created", "Service bowline-system/bowline-hook created",
		"Service bowline-system/bowline-web created", "NetworkPolicy test-pods/bowline-job-pods created", "ConfigRepository bowline-system/config created"} {
		if !strings.Contains(first, want) {
			t.Errorf("bootstrap did not say %q:\n%s", want, first)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(run(bootstrapArgs...)), "\n") {
		if !strings.HasSuffix(line, " unchanged") {
			t.Errorf("a second bootstrap changed something: %s", line)
		}
	}
	// --dry-run prints what a user can kubectl apply; applied under
	// bootstrap's field manager it changes nothing, being the same.
	applyStream(ctx, t, env.Client, run(append(bootstrapArgs, "--dry-run")...))

	// The credentials the Deployment references.
	secrets := map[string]map[string]string{
		"config-repo": {"token": "bot-token"},
		"github":      {bootstrap.GitHubTokenKey: "bot-token"},
		"hmac":        {bootstrap.HMACKey: "webhook-secret"},
	}
	for name, data := range secrets {
		if err := env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}); err != nil {
			t.Fatal(err)
		}
	}

	// A ConfigRepository outside the namespaces the install names is not
	// the operator's to reconcile.
	stray := &v1alpha1.ConfigRepository{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "stray"},
		Spec: v1alpha1.ConfigRepositorySpec{URL: forge.URL + "/acme/ci-config.git"}}
	if err := env.Client.Create(ctx, stray); err != nil {
		t.Fatal(err)
	}

	// The operator, as its Deployment runs it.
	op := startDeployment(ctx, t, env, bin, secrets)

	// The ConfigRepository bootstrap made is applied.
	gh := forge.Client(t, "alice-token")
	ref, _, err := gh.Git.GetRef(ctx, "acme", "ci-config", "heads/main")
	if err != nil {
		t.Fatal(err)
	}
	repo := &v1alpha1.ConfigRepository{}
	waitFor(ctx, t, op, "the ConfigRepository to be applied", func() bool {
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "config"}, repo); err != nil {
			return false
		}
		return meta.IsStatusConditionTrue(repo.Status.Conditions, v1alpha1.ConditionReady) &&
			repo.Status.LastAppliedRevision == "main@sha1:"+ref.GetObject().GetSHA()
	})

	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(stray), stray); err != nil || len(stray.Status.Conditions) > 0 || len(stray.Finalizers) > 0 {
		t.Errorf("a ConfigRepository outside --config-namespaces was reconciled: %+v %v", stray.Status, err)
	}

	// A run gets its pod in the pod namespace.
	pj := &v1alpha1.ProwJob{
		ObjectMeta: metav1.ObjectMeta{Name: "install-check", Namespace: ns},
		Spec: v1alpha1.ProwJobSpec{Type: v1alpha1.PeriodicJob, Agent: v1alpha1.KubernetesAgent, Cluster: "default", Namespace: podNS,
			Job: "install-check", PodSpec: &corev1.PodSpec{Containers: []corev1.Container{{Name: "test", Image: "alpine", Command: []string{"true"}}}}},
	}
	if err := env.Client.Create(ctx, pj); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{}
	waitFor(ctx, t, op, "the run's pod", func() bool {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(pj), pj); err != nil || pj.Status.PodName == "" {
			return false
		}
		return env.Client.Get(ctx, client.ObjectKey{Namespace: podNS, Name: pj.Status.PodName}, pod) == nil
	})
	if pod.Labels[v1alpha1.CreatedByLabel] != "true" || pod.Labels[bootstrap.NetworkAccessLabel] != "" {
		t.Errorf("the job pod's labels %v do not put it under the job pods' NetworkPolicy", pod.Labels)
	}
	if pj.Status.State != v1alpha1.PendingState {
		t.Errorf("run state %q, want pending", pj.Status.State)
	}

	// The hook and web roles serve on their own ports.
	for _, url := range []string{op.hook + "/plugin-help", op.web + "/api/prowjobs"} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", url, resp.Status)
		}
	}

	op.stop(t)
	for _, line := range op.logs() {
		if strings.Contains(line, "forbidden") || strings.Contains(line, "Forbidden") {
			t.Errorf("the API server refused the operator something: %s", line)
		}
	}
}

// applyStream decodes a YAML stream as kubectl does and server-side
// applies every object under bootstrap's field manager; an object whose
// resourceVersion moves was not what bootstrap had applied.
func applyStream(ctx context.Context, t *testing.T, c client.Client, stream string) {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(stream), 4096)
	n := 0
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("--dry-run output is not a YAML stream of objects: %v", err)
		}
		n++
		before := &unstructured.Unstructured{}
		before.SetGroupVersionKind(u.GroupVersionKind())
		if err := c.Get(ctx, client.ObjectKeyFromObject(u), before); err != nil {
			t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
		}
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(bootstrap.FieldManager)); err != nil {
			t.Fatalf("apply %s %s from --dry-run: %v", u.GetKind(), u.GetName(), err)
		}
		after := &unstructured.Unstructured{}
		after.SetGroupVersionKind(u.GroupVersionKind())
		if err := c.Get(ctx, client.ObjectKeyFromObject(u), after); err != nil {
			t.Fatal(err)
		}
		if after.GetResourceVersion() != before.GetResourceVersion() {
			t.Errorf("%s %s from --dry-run differs from what bootstrap applied", u.GetKind(), u.GetName())
		}
	}
	if n < 10 {
		t.Errorf("--dry-run printed %d objects", n)
	}
}

// deploymentProcess is the operator run as its Deployment would run it.
type deploymentProcess struct {
	cmd       *exec.Cmd
	exited    chan error
	hook, web string
	probes    string
	stderr    *syncBuffer
}

// startDeployment runs the operator with the container arguments of the
// Deployment bootstrap applied: the Secrets it mounts are written to files
// at the matching paths under a temporary directory, the listen addresses
// become free local ports, and it authenticates as the Deployment's
// ServiceAccount with a token from the TokenRequest API.
func startDeployment(ctx context.Context, t *testing.T, env *envtest.Env, bin string, secrets map[string]map[string]string) *deploymentProcess {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "bowline-system", Name: bootstrap.Name}, d); err != nil {
		t.Fatal(err)
	}
	spec := d.Spec.Template.Spec
	root := t.TempDir()
	// Each mount path maps to a directory under root, filled like the
	// kubelet fills it.
	paths := map[string]string{}
	for _, m := range spec.Containers[0].VolumeMounts {
		dir := filepath.Join(root, m.Name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		paths[m.MountPath] = dir
		for _, v := range spec.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			data, ok := secrets[v.Secret.SecretName]
			if !ok {
				t.Fatalf("the Deployment mounts Secret %s, which the install did not create", v.Secret.SecretName)
			}
			for _, item := range v.Secret.Items {
				if err := os.WriteFile(filepath.Join(dir, item.Path), []byte(data[item.Key]), 0o400); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	p := &deploymentProcess{exited: make(chan error, 1), stderr: &syncBuffer{}}
	addrs := map[string]*string{"--hook-addr": &p.hook, "--web-addr": &p.web, "--health-probe-bind-address": &p.probes, "--metrics-bind-address": new(string)}
	var args []string
	for _, a := range spec.Containers[0].Args {
		name, value, _ := strings.Cut(a, "=")
		if addr, ok := addrs[name]; ok {
			*addr = freeAddr(t)
			a = name + "=" + *addr
		}
		for mount, dir := range paths {
			if strings.HasPrefix(value, mount) {
				a = name + "=" + dir + strings.TrimPrefix(value, mount)
			}
		}
		args = append(args, a)
	}
	p.hook, p.web, p.probes = "http://"+p.hook, "http://"+p.web, "http://"+p.probes
	args = append(args, "--kubeconfig", serviceAccountKubeconfig(ctx, t, env, d.Namespace, spec.ServiceAccountName))
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), "POD_NAMESPACE="+d.Namespace)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("the operator's last log lines:\n%s", tail(p.stderr.String(), 40))
		}
	})
	waitFor(ctx, t, p, "the operator to be ready", func() bool {
		resp, err := http.Get(p.probes + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// serviceAccountKubeconfig writes a kubeconfig that authenticates as the
// ServiceAccount with a token from the TokenRequest API.
func serviceAccountKubeconfig(ctx context.Context, t *testing.T, env *envtest.Env, ns, sa string) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	expiry := int64(3600)
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for %s/%s: %v", ns, sa, err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["install"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
	cfg.AuthInfos[sa] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["install"] = &clientcmdapi.Context{Cluster: "install", AuthInfo: sa, Namespace: ns}
	cfg.CurrentContext = "install"
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// stop sends SIGTERM, as the kubelet does, and checks that the operator
// exits cleanly within the pod's grace period.
func (p *deploymentProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("the operator exited with %v after SIGTERM", err)
		}
	case <-time.After(bootstrap.TerminationGracePeriod):
		t.Errorf("the operator was still running %s after SIGTERM, when the kubelet kills it", bootstrap.TerminationGracePeriod)
	}
}

func (p *deploymentProcess) logs() []string {
	var out []string
	s := bufio.NewScanner(strings.NewReader(p.stderr.String()))
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		out = append(out, s.Text())
	}
	return out
}

func (p *deploymentProcess) exitedEarly() <-chan error { return p.exited }

// waitFor polls cond until it holds, failing when ctx ends or the process
// exits first.
func waitFor(ctx context.Context, t *testing.T, p interface{ exitedEarly() <-chan error }, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case err := <-p.exitedEarly():
			t.Fatalf("the operator exited (%v) while waiting for %s", err, what)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a process's writes and the
// test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
