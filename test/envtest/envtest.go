// Package envtest starts the real control plane for integration tests: etcd
// and kube-apiserver built from source by hack/tools into bin/, driven by
// controller-runtime's envtest, with bowline's CRDs installed. There is no
// fake API server anywhere in bowline's tests.
package envtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/bowline-ci/bowline/schema/crds"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Env is a running control plane.
type Env struct {
	// Config connects to the API server as an administrator.
	Config *rest.Config
	// Client is a direct (uncached) client with bowline's scheme.
	Client client.Client
	// Scheme has Kubernetes' built-in types and bowline's.
	Scheme *runtime.Scheme

	env *ctrlenvtest.Environment
	// users serializes adding users: the control plane's certificate
	// authority is not safe for concurrent use, and parallel tests add
	// users.
	users sync.Mutex
	// certDir is the API server's own directory, when it is restartable.
	certDir string
}

// BinDir finds the directory holding etcd and kube-apiserver: $KUBEBUILDER_ASSETS
// when set, otherwise bin/ at the root of the bowline module.
func BinDir() (string, error) {
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/bowline-ci/bowline\n") {
			return filepath.Join(dir, "bin"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("bowline's go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Start runs etcd and kube-apiserver and installs bowline's CRDs.
func Start() (*Env, error) { return start("") }

// StartRestartable starts a control plane whose API server RestartAPIServer
// can stop and start again: its certificates are kept in a directory of its
// own, so that clients made before a restart still trust it and are still
// trusted after it.
func StartRestartable() (*Env, error) {
	dir, err := os.MkdirTemp("", "bowline-apiserver-")
	if err != nil {
		return nil, err
	}
	e, err := start(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
	}
	return e, err
}

func start(certDir string) (*Env, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return nil, fmt.Errorf("%s not found in %s: run `make tools` first", name, bin)
		}
	}
	defs, err := crds.All()
	if err != nil {
		return nil, fmt.Errorf("load CRDs: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	env := &ctrlenvtest.Environment{
		BinaryAssetsDirectory: bin,
		CRDInstallOptions: ctrlenvtest.CRDInstallOptions{
			CRDs:               defs,
			ErrorIfPathMissing: true,
		},
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: 60 * time.Second,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	if certDir != "" {
		env.ControlPlane.APIServer = &ctrlenvtest.APIServer{CertDir: certDir}
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &Env{Config: cfg, Client: c, Scheme: scheme, env: env, certDir: certDir}, nil
}

// Stop shuts the control plane down and removes its data.
func (e *Env) Stop() error {
	err := e.env.Stop()
	if e.certDir != "" {
		err = errors.Join(err, os.RemoveAll(e.certDir))
	}
	return err
}

// StartAPIServer starts the API server KillAPIServer killed, at the same
// address with the same certificates, and returns once it is healthy.
func (e *Env) StartAPIServer() error {
	if e.certDir == "" {
		return errors.New("the API server of this control plane cannot be restarted: use StartRestartable")
	}
	return e.env.ControlPlane.APIServer.Start()
}

// Main runs a package's tests with one control plane for all of them: call
// it from TestMain. It stores the environment in *env before the tests run.
//
// A fuzzing run that runs no tests (`go test -run '^$' -fuzz ...`, as `make
// fuzz` does) and every fuzzing worker get no control plane: fuzz targets
// must not use it. A worker with etcd and kube-apiserver as children never
// finishes gathering its baseline coverage.
func Main(m *testing.M, env **Env) {
	if fuzzingOnly() {
		os.Exit(m.Run())
	}
	e, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "envtest:", err)
		os.Exit(1)
	}
	*env = e
	code := m.Run()
	if err := e.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "envtest: stop:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// fuzzingOnly reports whether this test binary runs as a fuzzing worker, or
// as a fuzzing coordinator told to run no tests.
func fuzzingOnly() bool {
	if !flag.Parsed() {
		flag.Parse()
	}
	value := func(name string) string {
		if f := flag.Lookup(name); f != nil {
			return f.Value.String()
		}
		return ""
	}
	if value("test.fuzzworker") == "true" {
		return true
	}
	return value("test.fuzz") != "" && value("test.run") == "^$"
}

// Namespace creates a fresh namespace for one test and deletes it when the
// test ends, so that tests sharing a control plane do not see each other.
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Client.Create(ctx, ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.Client.Delete(ctx, ns)
	})
	return ns.Name
}

// Kubeconfig writes a kubeconfig file for this environment into dir and
// returns its path, for tests that run bowline as a separate process.
func (e *Env) Kubeconfig(dir string) (string, error) {
	e.users.Lock()
	defer e.users.Unlock()
	user, err := e.env.ControlPlane.AddUser(ctrlenvtest.User{Name: "bowline-test", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", err
	}
	b, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "kubeconfig")
	return p, os.WriteFile(p, b, 0o600)
}

// UserKubeconfig returns a kubeconfig for a user of this control plane with
// the given groups (none: authenticated, but allowed nothing RBAC does not
// grant), for tests of what bowline does with lesser credentials.
func (e *Env) UserKubeconfig(name string, groups ...string) ([]byte, error) {
	e.users.Lock()
	defer e.users.Unlock()
	user, err := e.env.ControlPlane.AddUser(ctrlenvtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, err
	}
	return user.KubeConfig()
}

// Manager builds a controller-runtime manager on this control plane for
// one test: its cache holds namespace ns only (every namespace when ns is
// empty), it logs nowhere, it serves metrics and health probes on ports of
// its own choosing, and it lets a test register a controller name that
// another test registered already. mut adjusts the options before the
// manager is built.
func (e *Env) Manager(t testing.TB, ns string, mut ...func(*ctrl.Options)) ctrl.Manager {
	t.Helper()
	opts := ctrl.Options{
		Scheme:                 e.Scheme,
		Logger:                 logr.Discard(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	}
	if ns != "" {
		opts.Cache.DefaultNamespaces = map[string]cache.Config{ns: {}}
	}
	for _, m := range mut {
		m(&opts)
	}
	mgr, err := ctrl.NewManager(e.Config, opts)
	if err != nil {
		t.Fatalf("new manager: %v", err)
	}
	return mgr
}

// Run starts mgr and runs it until the test ends. The returned func stops
// it earlier and waits for it; calling it again does nothing. A manager
// that ends with an error fails the test.
func Run(t testing.TB, mgr ctrl.Manager) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("manager: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
