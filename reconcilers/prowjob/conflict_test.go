package prowjob

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// logRecord is one line a logRecorder saw.
type logRecord struct {
	err   bool
	level int
	msg   string
	kv    []any
}

// logRecorder is a logr sink that keeps every line, errors and every
// verbosity alike.
type logRecorder struct {
	mu    *sync.Mutex
	lines *[]logRecord
	kv    []any
}

func newLogRecorder() (logr.Logger, func() []logRecord) {
	r := logRecorder{mu: &sync.Mutex{}, lines: &[]logRecord{}}
	return logr.New(r), func() []logRecord {
		r.mu.Lock()
		defer r.mu.Unlock()
		return append([]logRecord(nil), *r.lines...)
	}
}

func (r logRecorder) Init(logr.RuntimeInfo)  {}
func (r logRecorder) Enabled(level int) bool { return true }
func (r logRecorder) Info(level int, msg string, kv ...any) {
	r.add(logRecord{level: level, msg: msg, kv: append(append([]any{}, r.kv...), kv...)})
}
func (r logRecorder) Error(err error, msg string, kv ...any) {
	r.add(logRecord{err: true, msg: msg, kv: append(append([]any{}, r.kv...), "error", err.Error())})
}
func (r logRecorder) WithValues(kv ...any) logr.LogSink {
	return logRecorder{mu: r.mu, lines: r.lines, kv: append(append([]any{}, r.kv...), kv...)}
}
func (r logRecorder) WithName(string) logr.LogSink { return r }
func (r logRecorder) add(l logRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.lines = append(*r.lines, l)
}

// TestStatusConflictsAreNotErrors injects optimistic-lock conflicts into
// the controller's status writes, as another writer of the status (the
// reporter, an abort) causes them: the run still goes its way, and no line
// is logged at error level for them, only at debug.
func TestStatusConflictsAreNotErrors(t *testing.T) {
	log, lines := newLogRecorder()
	var conflicts atomic.Int32
	wrap := func(c client.Client) client.Client {
		return interceptor.NewClient(noWatch{c}, interceptor.Funcs{
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
				// The first two writes of the run's status lose the race.
				if _, ok := obj.(*v1alpha1.ProwJob); ok && sub == "status" && conflicts.Add(1) <= 2 {
					return apierrors.NewConflict(schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "prowjobs"}, obj.GetName(),
						errorString("the object has been modified; please apply your changes to the latest version and try again"))
				}
				return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
			},
		})
	}
	h := startWith(t, Config{}, log, wrap)
	h.create(h.job("contended"))
	h.waitState("contended", v1alpha1.PendingState)
	h.kubelet("contended", terminated(corev1.PodSucceeded, 0))
	h.waitState("contended", v1alpha1.SuccessState)

	if n := conflicts.Load(); n < 3 {
		t.Fatalf("only %d status writes were attempted; the conflicts were not injected", n)
	}
	debug := 0
	for _, l := range lines() {
		text := l.msg + " " + strings.TrimSpace(strings.Join(strings.Fields(fmtKV(l.kv)), " "))
		if l.err {
			t.Errorf("logged at error level: %s", text)
		}
		if !l.err && l.level >= 1 && strings.Contains(text, "Operation cannot be fulfilled") {
			debug++
		}
	}
	if debug != 2 {
		t.Errorf("%d conflicts logged at debug level, want 2", debug)
	}
}

// noWatch makes a client a client.WithWatch, as interceptor.NewClient
// wants; the reconciler never watches through its client.
type noWatch struct{ client.Client }

func (noWatch) Watch(context.Context, client.ObjectList, ...client.ListOption) (watch.Interface, error) {
	return nil, errorString("no watch")
}

type errorString string

func (e errorString) Error() string { return string(e) }

func fmtKV(kv []any) string {
	var b strings.Builder
	for _, v := range kv {
		if s, ok := v.(string); ok {
			b.WriteString(s + " ")
		}
	}
	return b.String()
}
