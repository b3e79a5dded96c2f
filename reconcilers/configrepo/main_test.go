package configrepo

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/sandbox/gitstore"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

var env *envtest.Env

func TestMain(m *testing.M) {
	flag.Parse()
	ctrl.SetLogger(testLogger())
	envtest.Main(m, &env)
}

// owner is the forge account holding the test repositories.
const owner = "bowline"

// forge serves real git repositories over smart HTTP.
type forge struct {
	store *gitstore.Store
	root  string
	srv   *httptest.Server
	// token, when set, must be the password of every request.
	token string
	// uploadBytes counts the bytes of git-upload-pack responses: what
	// fetches transferred.
	uploadBytes atomic.Int64
}

func newForge(t testing.TB, token string) *forge {
	t.Helper()
	f := &forge{root: t.TempDir(), token: token}
	s, err := gitstore.Open(f.root)
	if err != nil {
		t.Fatal(err)
	}
	f.store = s
	auth := func(r *http.Request, _, _ string, _ bool) bool {
		if f.token == "" {
			return true
		}
		_, pw, ok := r.BasicAuth()
		return ok && pw == f.token
	}
	h := s.Handler(auth, nil)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
			w = &countingWriter{ResponseWriter: w, n: &f.uploadBytes}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n.Add(int64(n))
	return n, err
}

func (f *forge) url(name string) string { return f.srv.URL + "/" + owner + "/" + name + ".git" }

// path is the bare repository on disk, for file:// and local-path URLs.
func (f *forge) path(name string) string { return filepath.Join(f.root, owner, name+".git") }

func (f *forge) create(t testing.TB, name string, files map[string][]byte) string {
	t.Helper()
	sha, err := f.store.Create(context.Background(), owner, name, "main", files, "Initial config", gitstore.Signature{Name: "Test", Email: "test@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// push commits files to main, as a merged pull request does.
func (f *forge) push(t testing.TB, name string, files map[string][]byte) string {
	t.Helper()
	sha, err := f.store.CommitFiles(context.Background(), owner, name, "main", "", files, "Change config", gitstore.Signature{Name: "Test", Email: "test@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// operator is one running manager: the ConfigRepository reconciler, or a
// snapshot Follower standing in for another process.
type operator struct {
	stores  *snapshot.Stores
	metrics *prometheus.Registry
	// stop ends the manager and waits until it has stopped.
	stop func()
}

func testLogger() logr.Logger {
	if !testing.Verbose() {
		return logr.Discard()
	}
	return funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) }, funcr.Options{})
}

func newManager(t testing.TB, ns string) ctrl.Manager {
	t.Helper()
	return env.Manager(t, ns, func(o *ctrl.Options) { o.Logger = testLogger() })
}

func (o *operator) start(t testing.TB, mgr ctrl.Manager) { o.stop = envtest.Run(t, mgr) }

// startOperator runs the reconciler for namespace ns with its git caches
// in dataDir; mut adjusts the reconciler before it starts.
func startOperator(t testing.TB, ns, dataDir string, mut ...func(*Reconciler)) *operator {
	t.Helper()
	mgr := newManager(t, ns)
	o := &operator{stores: &snapshot.Stores{}, metrics: prometheus.NewRegistry()}
	m, err := NewMetrics(o.metrics)
	if err != nil {
		t.Fatal(err)
	}
	r := &Reconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder("bowline-configrepo"),
		Publisher: &snapshot.Publisher{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()},
		Stores:    o.stores,
		Metrics:   m,
		DataDir:   dataDir,
		// As a bowline that has trigger and no other plugin, and no role
		// for org administration or deployment.
		Capabilities: Capabilities{Plugins: []string{"trigger"}},
	}
	for _, m := range mut {
		m(r)
	}
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	o.start(t, mgr)
	return o
}

// startFollower runs a snapshot Follower for namespace ns, as the webhook
// server or web UI would in their own processes.
func startFollower(t testing.TB, ns string) *operator {
	t.Helper()
	mgr := newManager(t, ns)
	o := &operator{stores: &snapshot.Stores{}}
	f := &snapshot.Follower{
		Client:    mgr.GetClient(),
		Publisher: &snapshot.Publisher{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()},
		Stores:    o.stores,
	}
	if err := f.SetupWithManager(mgr, "follower"); err != nil {
		t.Fatal(err)
	}
	o.start(t, mgr)
	return o
}

// served is the revision the Store of key holds, "" when none.
func (o *operator) served(key types.NamespacedName) string {
	if s := o.stores.For(key).Current(); s != nil {
		return s.Revision
	}
	return ""
}

// repoOption adjusts a test ConfigRepository.
type repoOption func(*v1alpha1.ConfigRepository)

func withInterval(d time.Duration) repoOption {
	return func(r *v1alpha1.ConfigRepository) { r.Spec.Interval = &metav1.Duration{Duration: d} }
}

func withSecret(name string) repoOption {
	return func(r *v1alpha1.ConfigRepository) { r.Spec.SecretRef = &v1alpha1.LocalObjectReference{Name: name} }
}

func withRef(ref v1alpha1.GitRef) repoOption {
	return func(r *v1alpha1.ConfigRepository) { r.Spec.Ref = &ref }
}

// newRepo creates a ConfigRepository polling every hour, so that only the
// tests' explicit requests (and spec changes) make it reconcile.
func newRepo(t testing.TB, ns, name, url string, opts ...repoOption) types.NamespacedName {
	t.Helper()
	r := &v1alpha1.ConfigRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1alpha1.ConfigRepositorySpec{URL: url, Interval: &metav1.Duration{Duration: time.Hour}},
	}
	for _, o := range opts {
		o(r)
	}
	if err := env.Client.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return types.NamespacedName{Namespace: ns, Name: name}
}

func newSecret(t testing.TB, ns, name string, data map[string]string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: data}
	if err := env.Client.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// requestReconcile sets the reconcile-request annotation, as the webhook
// server does on a push, and returns its value.
func requestReconcile(t testing.TB, key types.NamespacedName) string {
	t.Helper()
	v := time.Now().Format(time.RFC3339Nano)
	r := &v1alpha1.ConfigRepository{}
	r.Namespace, r.Name = key.Namespace, key.Name
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, v1alpha1.ReconcileRequestedAnnotation, v)
	if err := env.Client.Patch(context.Background(), r, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		t.Fatal(err)
	}
	return v
}

func get(g Gomega, key types.NamespacedName) *v1alpha1.ConfigRepository {
	r := &v1alpha1.ConfigRepository{}
	g.Expect(env.Client.Get(context.Background(), key, r)).To(Succeed())
	return r
}

func condition(r *v1alpha1.ConfigRepository, typ string) *metav1.Condition {
	for i := range r.Status.Conditions {
		if r.Status.Conditions[i].Type == typ {
			return &r.Status.Conditions[i]
		}
	}
	return nil
}

// eventually polls the API until check passes.
func eventually(t testing.TB, timeout time.Duration, check func(g Gomega)) {
	t.Helper()
	NewWithT(t).Eventually(check).WithTimeout(timeout).WithPolling(50 * time.Millisecond).Should(Succeed())
}

// readyAt asserts what `kubectl wait --for=condition=Ready` waits for:
// Ready=True for the current generation, at revision rev.
func readyAt(g Gomega, r *v1alpha1.ConfigRepository, rev string) {
	c := condition(r, v1alpha1.ConditionReady)
	g.Expect(c).NotTo(BeNil())
	g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
	g.Expect(c.ObservedGeneration).To(Equal(r.Generation))
	g.Expect(r.Status.ObservedGeneration).To(Equal(r.Generation))
	g.Expect(r.Status.LastAppliedRevision).To(Equal(rev))
}

func rev(sha string) string { return "main@sha1:" + sha }
