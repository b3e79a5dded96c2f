package faults

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

// Tokens and the webhook secret of the forge the tests seed.
const (
	botToken   = "bot-token"
	bobToken   = "bob-token"
	aliceToken = "alice-token"
	hookSecret = "faults-secret"
)

// seedYAML is the forge's content: acme/widgets, alice an org owner, bob a
// member (so his pull requests are trusted), ci-bot the bot bowline acts
// as.
const seedYAML = `
users:
- {login: alice, token: alice-token}
- {login: bob, token: bob-token}
- {login: ci-bot, token: bot-token, bot: true}
orgs:
- login: acme
  admins: [alice, ci-bot]
  members: [bob]
repos:
- name: acme/widgets
  files:
    README.md: "# widgets\n"
  labels:
  - {name: do-not-merge/hold, color: e11d21}
`

// world is what one test runs bowline in: a namespace of a control plane,
// a forge whose org webhook reaches bowline's hook replicas through a
// balancer, and a config repository.
type world struct {
	t   *testing.T
	ctx context.Context
	env *envtest.Env
	ns  string
	// forge is the sandbox forge, with fault injection.
	forge *forgetest.Env
	// lb stands for the Service in front of the hook replicas.
	lb *balancer
	// dir holds the files the operators read: token, secret, kubeconfig.
	dir        string
	kubeconfig string
	// repo is the config repository, a local git repository.
	repo string
}

// worldOptions shape a world.
type worldOptions struct {
	// jobs is the job configuration for acme/widgets (a jobs file).
	jobs string
	// plugins are the plugins enabled for acme.
	plugins []string
}

// newWorld sets up a world on env, in a namespace of its own.
func newWorld(t *testing.T, env *envtest.Env, o worldOptions) *world {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &world{t: t, ctx: ctx, env: env, ns: env.Namespace(t), dir: t.TempDir(), lb: newBalancer(t)}
	seed, err := forge.ParseSeed([]byte(seedYAML))
	if err != nil {
		t.Fatal(err)
	}
	seed.Orgs[0].Hooks = []forge.SeedHook{{URL: w.lb.URL + "/hook", Secret: hookSecret}}
	w.forge = forgetest.StartSeed(t, seed, forge.Options{})
	if w.kubeconfig, err = env.Kubeconfig(w.dir); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"token": botToken, "hmac": hookSecret} {
		if err := os.WriteFile(filepath.Join(w.dir, name), []byte(content+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	plugins := "plugins:\n  acme:\n    plugins: [" + strings.Join(o.plugins, ", ") + "]\n"
	w.repo = gitRepo(t, map[string]string{
		"config/prow/config.yaml":       fmt.Sprintf("prowjob_namespace: %s\npod_namespace: %s\n", w.ns, w.ns),
		"config/prow/plugins.yaml":      plugins,
		"config/jobs/acme/widgets.yaml": o.jobs,
	})
	cr := &v1alpha1.ConfigRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "config"},
		Spec:       v1alpha1.ConfigRepositorySpec{URL: w.repo, Interval: &metav1.Duration{Duration: time.Minute}},
	}
	if err := env.Client.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}
	return w
}

// operatorArgs are the flags of a `bowline operator` replica of this world,
// as bowline bootstrap sets them.
func (w *world) operatorArgs() []string {
	return []string{"operator",
		"--kubeconfig", w.kubeconfig,
		"--data-dir", w.t.TempDir(),
		"--leader-elect", "--leader-election-namespace", w.ns,
		"--config-repository", w.ns + "/config",
		"--config-namespaces", w.ns,
		"--prowjob-namespace", w.ns,
		"--pod-namespace", w.ns,
		"--github-token-path", filepath.Join(w.dir, "token"),
		"--github-endpoint", w.forge.URL + "/",
		"--hmac-secret-file", filepath.Join(w.dir, "hmac"),
		"--hook-addr", freeAddr(w.t),
		"--web-addr", freeAddr(w.t),
		"--metrics-bind-address", freeAddr(w.t),
		"--health-probe-bind-address", freeAddr(w.t),
		"--log-level", "debug",
	}
}

// replica is one `bowline operator` process.
type replica struct {
	name    string
	cmd     *exec.Cmd
	hook    string
	metrics string
	probes  string
	log     *syncBuffer
	exited  chan struct{}
	err     error
	// ending is set when the test ends the replica.
	ending atomic.Bool
}

// startReplica starts a replica with the world's flags (extra ones
// override) and adds its hook to the balancer once it is ready.
func (w *world) startReplica(name string, extra ...string) *replica {
	w.t.Helper()
	r := w.launch(name, extra...)
	w.eventually("replica "+name+" ready", time.Minute, func() (bool, string) { return r.ready(w.t) })
	w.lb.add(r)
	return r
}

// launch starts a replica without waiting for it.
func (w *world) launch(name string, extra ...string) *replica {
	w.t.Helper()
	r, err := w.start(name, extra...)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// start starts a replica, and ends it when the test ends.
func (w *world) start(name string, extra ...string) (*replica, error) {
	args := append(w.operatorArgs(), extra...)
	r := &replica{name: name, log: &syncBuffer{}, exited: make(chan struct{})}
	r.hook, r.metrics, r.probes = flagValue(args, "--hook-addr"), flagValue(args, "--metrics-bind-address"), flagValue(args, "--health-probe-bind-address")
	r.cmd = exec.Command(bowline, args...)
	r.cmd.Stderr = r.log
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { r.err = r.cmd.Wait(); close(r.exited) }()
	w.t.Cleanup(func() {
		r.ending.Store(true)
		_ = r.cmd.Process.Kill()
		<-r.exited
		if w.t.Failed() || os.Getenv("FAULTS_DEBUG_LOGS") != "" {
			w.t.Logf("replica %s's last log lines:\n%s", name, tail(r.log.String(), 200))
		}
	})
	return r, nil
}

// ready reports whether the replica's /readyz passes, and what it said;
// it fails the test if the replica exited.
func (r *replica) ready(t *testing.T) (bool, string) {
	select {
	case <-r.exited:
		t.Fatalf("replica %s exited: %v\n%s", r.name, r.err, tail(r.log.String(), 40))
	default:
	}
	return r.probe()
}

// probe asks the replica's /readyz, and reports what it said.
func (r *replica) probe() (bool, string) {
	resp, err := http.Get("http://" + r.probes + "/readyz?verbose=1")
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK, resp.Status + ": " + string(body)
}

// leads reports whether the replica holds a role's lease, by its
// leader_election_master_status metric.
func (r *replica) leads(role string) bool {
	return r.metric("leader_election_master_status", `name="`+leaseName(role)+`"`) == 1
}

// leaseName is the Lease of a role (operator/election.go's LeaseName).
func leaseName(role string) string {
	if role == "config" {
		return "bowline-operator.bowline.dev"
	}
	return "bowline-" + role + ".bowline.dev"
}

// metric sums the samples of a metric whose labels include those given
// (name="value" pairs, as Prometheus writes them).
func (r *replica) metric(name string, labels ...string) float64 {
	v, _ := r.scrape(name, labels...)
	return v
}

// scrape is metric, and whether the replica answered.
func (r *replica) scrape(name string, labels ...string) (float64, bool) {
	resp, err := http.Get("http://" + r.metrics + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		series, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(series, l)
		}
		var v float64
		if _, err := fmt.Sscan(value, &v); match && err == nil {
			sum += v
		}
	}
	return sum, true
}

// kill ends the replica with SIGKILL: no shutdown, no lease released.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r.exited
}

// waitConfig waits until the ConfigRepository applied a revision.
func (w *world) waitConfig() {
	w.t.Helper()
	w.eventually("the configuration applied", 2*time.Minute, func() (bool, string) {
		cr := &v1alpha1.ConfigRepository{}
		if err := w.env.Client.Get(w.ctx, client.ObjectKey{Namespace: w.ns, Name: "config"}, cr); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(cr.Status.Conditions, v1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionTrue, fmt.Sprintf("%+v", cr.Status.Conditions)
	})
}

// gh is a go-github client of the forge for a token.
func (w *world) gh(token string) *github.Client { return w.forge.Client(w.t, token) }

// openPR opens a pull request as bob and returns its number and head.
func (w *world) openPR(branch string) (int, string) {
	w.t.Helper()
	pr, err := w.forge.Forge.As("bob").OpenPR(w.ctx, "acme/widgets", forge.PullRequest{Title: "Change " + branch, Head: branch,
		Files: map[string][]byte{branch + ".txt": []byte(branch + "\n")}})
	if err != nil {
		w.t.Fatal(err)
	}
	return pr.GetNumber(), pr.GetHead().GetSHA()
}

// statuses lists every status ever posted on a commit, oldest first, as
// "context=state" (GitHub's list statuses API returns them all). It reads
// the forge directly, so that the faults injected into its API never fail
// the test's own reads.
func (w *world) statuses(sha string) []string {
	w.t.Helper()
	var all []string
	for page := 1; ; page++ {
		var list []*github.RepoStatus
		path := fmt.Sprintf("/repos/acme/widgets/commits/%s/statuses?per_page=100&page=%d", sha, page)
		if err := w.forge.Forge.As("alice").Do(w.ctx, http.MethodGet, path, nil, &list); err != nil {
			w.t.Fatal(err)
		}
		for _, s := range list {
			all = append(all, s.GetContext()+"="+s.GetState())
		}
		if len(list) < 100 {
			break
		}
	}
	// GitHub lists the newest first.
	slices.Reverse(all)
	return all
}

// prowJobs lists the world's runs of a job.
func (w *world) prowJobs(job string) []v1alpha1.ProwJob {
	w.t.Helper()
	var list v1alpha1.ProwJobList
	if err := w.env.Client.List(w.ctx, &list, client.InNamespace(w.ns)); err != nil {
		w.t.Fatal(err)
	}
	var out []v1alpha1.ProwJob
	for _, pj := range list.Items {
		if pj.Spec.Job == job {
			out = append(out, pj)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreationTimestamp.Before(&out[j].CreationTimestamp) })
	return out
}

// eventually polls cond until it holds, failing the test after timeout
// with cond's last description of what it saw.
func (w *world) eventually(what string, timeout time.Duration, cond func() (bool, string)) {
	w.t.Helper()
	eventually(w.t, what, timeout, cond)
}

func eventually(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last saw: %s", timeout, what, saw)
		}
		<-tick.C
	}
}

// kubelet acts for the kubelet the control plane lacks: it moves the pods
// of the world's namespace to Running, and to Succeeded once done says
// so.
type kubelet struct {
	w    *world
	done func(pod *corev1.Pod) bool
}

// runKubelet starts a kubelet until the test ends.
func (w *world) runKubelet(done func(pod *corev1.Pod) bool) {
	k := &kubelet{w: w, done: done}
	ctx, cancel := context.WithCancel(w.ctx)
	stopped := make(chan struct{})
	w.t.Cleanup(func() { cancel(); <-stopped })
	go func() {
		defer close(stopped)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			k.sync(ctx)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}

func (k *kubelet) sync(ctx context.Context) {
	var pods corev1.PodList
	if err := k.w.env.Client.List(ctx, &pods, client.InNamespace(k.w.ns)); err != nil {
		return // the API server may be away; try again
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		switch p.Status.Phase {
		case corev1.PodPending, "":
			now := metav1.Now()
			p.Status.Phase, p.Status.StartTime = corev1.PodRunning, &now
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "test", Image: "alpine", ImageID: "x", Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}}
			_ = k.w.env.Client.Status().Update(ctx, p)
		case corev1.PodRunning:
			if !k.done(p) {
				continue
			}
			p.Status.Phase = corev1.PodSucceeded
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "test", Image: "alpine", ImageID: "x",
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}}}
			_ = k.w.env.Client.Status().Update(ctx, p)
		}
	}
}

// balancer stands for the Service in front of the hook replicas: it sends
// each delivery to the first replica that answers, as a Service stops
// sending to a dead pod.
type balancer struct {
	URL string
	mu  sync.Mutex
	to  []*replica
	n   int
	// pinned, when set, receives every delivery.
	pinned *replica
}

func newBalancer(t *testing.T) *balancer {
	b := &balancer{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	b.URL = "http://" + ln.Addr().String()
	return b
}

func (b *balancer) add(r *replica) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.to = append(b.to, r)
}

// pin sends every delivery to r, as a Service's session affinity might.
func (b *balancer) pin(r *replica) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pinned = r
}

// ServeHTTP tries the replicas round-robin, skipping those that exited or
// refuse the connection.
func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	to := append([]*replica(nil), b.to...)
	if b.pinned != nil {
		to = []*replica{b.pinned}
	}
	start := b.n
	b.n++
	b.mu.Unlock()
	for i := range to {
		rep := to[(start+i)%len(to)]
		select {
		case <-rep.exited:
			continue
		default:
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, "http://"+rep.hook+r.URL.Path, bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "no hook replica is up", http.StatusServiceUnavailable)
}

// gitRepo makes a git repository of files with one commit.
func gitRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "--quiet", "--initial-branch=main")
	commitFiles(t, dir, files)
	return dir
}

// commitFiles writes files into the repository at dir and commits them.
func commitFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "add", ".")
	git(t, dir, "commit", "--quiet", "-m", "Config")
}

// git runs git in dir and returns what it printed.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// changeConfig commits files to the config repository, asks for a
// reconcile at once (as the hook does on a push) and waits until the
// revision is applied.
func (w *world) changeConfig(files map[string]string) {
	w.t.Helper()
	commitFiles(w.t, w.repo, files)
	rev := git(w.t, w.repo, "rev-parse", "HEAD")
	cr := &v1alpha1.ConfigRepository{}
	if err := w.env.Client.Get(w.ctx, client.ObjectKey{Namespace: w.ns, Name: "config"}, cr); err != nil {
		w.t.Fatal(err)
	}
	patch := client.MergeFrom(cr.DeepCopy())
	if cr.Annotations == nil {
		cr.Annotations = map[string]string{}
	}
	cr.Annotations["bowline.dev/reconcile-requested-at"] = rev
	if err := w.env.Client.Patch(w.ctx, cr, patch); err != nil {
		w.t.Fatal(err)
	}
	w.eventually("revision "+rev[:7]+" applied", 2*time.Minute, func() (bool, string) {
		if err := w.env.Client.Get(w.ctx, client.ObjectKey{Namespace: w.ns, Name: "config"}, cr); err != nil {
			return false, err.Error()
		}
		return strings.HasSuffix(cr.Status.LastAppliedRevision, rev), "last applied " + cr.Status.LastAppliedRevision
	})
}

// handedOut are the addresses freeAddr returned, so that it never returns
// one twice: the tests start their processes in parallel, and a port
// closed here may be offered again before its process binds it.
var handedOut sync.Map

// freeAddr returns a loopback address free now, for a process to listen
// on.
func freeAddr(t *testing.T) string {
	t.Helper()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		if _, taken := handedOut.LoadOrStore(addr, true); !taken {
			return addr
		}
	}
}

// flagValue is the value following flag in args, the last one given.
func flagValue(args []string, flag string) string {
	v := ""
	for i := range args[:len(args)-1] {
		if args[i] == flag {
			v = args[i+1]
		}
	}
	return v
}

// count is how many times s occurs in list.
func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

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

// supervise starts a replica again whenever it exits, as the kubelet
// restarts a pod's container (a replica that cannot renew a role's lease
// exits on purpose, and one that cannot reach the API server at start
// too), waiting longer after each exit as the kubelet's crash-loop backoff
// does, until the test ends. It returns a function telling how many times
// it restarted one.
func (w *world) supervise(r *replica, extra ...string) (restarts func() int) {
	var n atomic.Int32
	stop := make(chan struct{})
	done := make(chan struct{})
	name := r.name
	go func() {
		defer close(done)
		backoff := 500 * time.Millisecond
		for {
			select {
			case <-stop:
				return
			case <-r.exited:
			}
			if r.ending.Load() {
				return
			}
			i := n.Add(1)
			w.t.Logf("replica %s exited (%v); starting it again in %s", r.name, r.err, backoff)
			select {
			case <-stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 8*time.Second)
			next, err := w.start(fmt.Sprintf("%s-%d", name, i), extra...)
			if err != nil {
				w.t.Errorf("restart replica %s: %v", name, err)
				return
			}
			r = next
			// Sent deliveries once it answers its probes, as a Service
			// sends them only to a ready pod.
			tick := time.NewTicker(100 * time.Millisecond)
		wait:
			for {
				select {
				case <-stop:
					tick.Stop()
					return
				case <-r.exited:
					break wait
				case <-tick.C:
					if ok, _ := r.probe(); ok {
						w.lb.add(r)
						backoff = 500 * time.Millisecond
						break wait
					}
				}
			}
			tick.Stop()
		}
	}()
	w.t.Cleanup(func() { close(stop); <-done })
	return func() int { return int(n.Load()) }
}
