package prowjob

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"text/template"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/reconcilers/prowjob/decorate"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

var env *envtest.Env

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	envtest.Main(m, &env)
}

// harness is one running controller watching one test namespace.
type harness struct {
	t       testing.TB
	metrics *prometheus.Registry
	ns      string
	c       client.Client
	clock   *clocktesting.FakeClock
	cfg     Config
}

// start runs a manager with the reconciler in a fresh namespace and stops
// it when the test ends.
func start(t testing.TB, cfg Config, mut ...func(*Reconciler)) *harness {
	return startWith(t, cfg, logr.Discard(), nil, mut...)
}

// startWith is start with the manager logging to log and, when wrap is
// set, the reconciler's client replaced by wrap(manager's client).
func startWith(t testing.TB, cfg Config, log logr.Logger, wrap func(client.Client) client.Client, mut ...func(*Reconciler)) *harness {
	t.Helper()
	h := &harness{t: t, ns: env.Namespace(t), c: env.Client, clock: clocktesting.NewFakeClock(time.Now()), cfg: cfg}
	mgr := env.Manager(t, h.ns, func(o *ctrl.Options) { o.Cache.ByObject = CacheByObject(); o.Logger = log })
	r := &Reconciler{Clock: h.clock, Config: func() Config { return h.cfg },
		BuildPod: DecoratedPods(func(*v1alpha1.ProwJob) decorate.Options {
			return decorate.Options{Image: "registry.example/bowline:test"}
		})}
	r.Recorder = mgr.GetEventRecorder("bowline-prowjob")
	if wrap != nil {
		r.Client = wrap(mgr.GetClient())
	}
	h.metrics = prometheus.NewRegistry()
	var err error
	if r.Metrics, err = NewMetrics(h.metrics); err != nil {
		t.Fatal(err)
	}
	for _, m := range mut {
		m(r)
	}
	if err := r.SetupWithManager(t.Context(), mgr); err != nil {
		t.Fatal(err)
	}
	envtest.Run(t, mgr)
	return h
}

// job builds a ProwJob in the harness's namespace.
func (h *harness) job(name string, opts ...func(*v1alpha1.ProwJob)) *v1alpha1.ProwJob {
	pj := &v1alpha1.ProwJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.ns},
		Spec: v1alpha1.ProwJobSpec{
			Type:  v1alpha1.PeriodicJob,
			Agent: v1alpha1.KubernetesAgent,
			Job:   name,
			PodSpec: &corev1.PodSpec{Containers: []corev1.Container{{
				Name: "test", Image: "registry.example/test:1", Command: []string{"make", "test"},
			}}},
		},
	}
	for _, o := range opts {
		o(pj)
	}
	return pj
}

func withJob(job string) func(*v1alpha1.ProwJob) {
	return func(pj *v1alpha1.ProwJob) { pj.Spec.Job = job }
}

func withMaxConcurrency(n int32) func(*v1alpha1.ProwJob) {
	return func(pj *v1alpha1.ProwJob) { pj.Spec.MaxConcurrency = n }
}

func withQueue(q string) func(*v1alpha1.ProwJob) {
	return func(pj *v1alpha1.ProwJob) { pj.Spec.JobQueueName = q }
}

func (h *harness) create(pj *v1alpha1.ProwJob) *v1alpha1.ProwJob {
	h.t.Helper()
	if err := h.c.Create(context.Background(), pj); err != nil {
		h.t.Fatalf("create ProwJob %s: %v", pj.Name, err)
	}
	return pj
}

// eventually polls fn until it returns nil or the deadline passes.
func eventually(t testing.TB, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitState waits for a run to reach a state and returns it.
func (h *harness) waitState(name string, state v1alpha1.ProwJobState) *v1alpha1.ProwJob {
	h.t.Helper()
	pj := &v1alpha1.ProwJob{}
	eventually(h.t, fmt.Sprintf("ProwJob %s in state %s", name, state), func() error {
		if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: name}, pj); err != nil {
			return err
		}
		if pj.Status.State != state {
			return fmt.Errorf("state %q (%s)", pj.Status.State, pj.Status.Description)
		}
		return nil
	})
	return pj
}

// waitDescription waits until the controller has recorded a description,
// so that what it saw before a clock step is settled.
func (h *harness) waitDescription(name, desc string) {
	h.t.Helper()
	eventually(h.t, fmt.Sprintf("ProwJob %s described %q", name, desc), func() error {
		pj := &v1alpha1.ProwJob{}
		if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: name}, pj); err != nil {
			return err
		}
		if pj.Status.Description != desc {
			return fmt.Errorf("description %q", pj.Status.Description)
		}
		return nil
	})
}

// pod waits for a pod to exist and returns it.
func (h *harness) pod(name string) *corev1.Pod {
	h.t.Helper()
	p := &corev1.Pod{}
	eventually(h.t, "pod "+name, func() error {
		return h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: name}, p)
	})
	return p
}

// podGone waits for a pod to be deleted.
func (h *harness) podGone(name string) {
	h.t.Helper()
	eventually(h.t, "pod "+name+" deleted", func() error {
		err := h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: name}, &corev1.Pod{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("still there")
	})
}

// kubelet writes a pod's status as a kubelet would.
func (h *harness) kubelet(name string, mut func(*corev1.PodStatus)) {
	h.t.Helper()
	eventually(h.t, "update status of pod "+name, func() error {
		p := &corev1.Pod{}
		if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: name}, p); err != nil {
			return err
		}
		mut(&p.Status)
		return h.c.Status().Update(context.Background(), p)
	})
}

// poke writes a pod's status message so that the controller looks at its
// run again, as after a clock step. A pod that is gone already needs no
// poke: the controller acted on its own.
func (h *harness) poke(name, message string) {
	h.t.Helper()
	eventually(h.t, "poke pod "+name, func() error {
		p := &corev1.Pod{}
		err := h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: name}, p)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		p.Status.Message = message
		err = h.c.Status().Update(context.Background(), p)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	})
}

func running(now time.Time) func(*corev1.PodStatus) {
	return func(s *corev1.PodStatus) {
		t := metav1.NewTime(now)
		s.Phase, s.StartTime = corev1.PodRunning, &t
		s.ContainerStatuses = []corev1.ContainerStatus{{Name: "test", Image: "registry.example/test:1", ImageID: "x",
			Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: t}}}}
	}
}

func terminated(phase corev1.PodPhase, exitCode int32) func(*corev1.PodStatus) {
	return func(s *corev1.PodStatus) {
		s.Phase = phase
		s.ContainerStatuses = []corev1.ContainerStatus{{Name: "test", Image: "registry.example/test:1", ImageID: "x",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exitCode, Reason: "Completed"}}}}
	}
}

func urlTemplate(t testing.TB) *template.Template {
	t.Helper()
	return template.Must(template.New("url").Parse("https://ci.example/view/{{.Spec.Job}}/{{.Status.BuildID}}"))
}

var errNotYet = errors.New("not yet")

func clientMergeFrom(orig *v1alpha1.ProwJob) client.Patch { return client.MergeFrom(orig) }
