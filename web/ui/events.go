package ui

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	toolscache "k8s.io/client-go/tools/cache"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Broker tells open pages that runs changed. It is an event handler of the
// ProwJob informer (AddEventHandler); pages listen at /events, a stream of
// server-sent events, and fetch what they show again when told. Events
// carry no data, so that nothing of a run leaks to a page that may not see
// it; runs the UI does not show (Hidden) cause none.
type Broker struct {
	// Hidden reports runs that are never shown.
	Hidden func(*v1alpha1.ProwJob) bool
	// MaxStreams bounds the open streams; default 1,000.
	MaxStreams int
	// MinInterval is the least time between two events of a run's
	// stream: changes in between are told at once after it. Default 1s.
	MinInterval time.Duration
	// ListInterval is the same for streams of every run (lists, whose
	// pages cost more to render again). Default 5s.
	ListInterval time.Duration
	// KeepAlive is how often an idle stream sends a comment, so that
	// proxies keep it open; default 25s.
	KeepAlive time.Duration

	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed chan struct{}
}

type subscriber struct {
	// run is "namespace/name" for a run's page, "" for every run.
	run string
	ch  chan struct{}
}

var _ toolscache.ResourceEventHandler = (*Broker)(nil)

// OnAdd implements toolscache.ResourceEventHandler.
func (b *Broker) OnAdd(obj any, _ bool) { b.changed(obj) }

// OnUpdate implements toolscache.ResourceEventHandler.
func (b *Broker) OnUpdate(_, obj any) { b.changed(obj) }

// OnDelete implements toolscache.ResourceEventHandler.
func (b *Broker) OnDelete(obj any) {
	if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	b.changed(obj)
}

func (b *Broker) changed(obj any) {
	pj, ok := obj.(*v1alpha1.ProwJob)
	if !ok || (b.Hidden != nil && b.Hidden(pj)) {
		return
	}
	key := pj.Namespace + "/" + pj.Name
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if s.run == "" || s.run == key {
			select {
			case s.ch <- struct{}{}:
			default:
			}
		}
	}
}

// Close ends every stream, and those opened later at once: a server that
// shuts down waits for open requests, and streams would not end by
// themselves.
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.done():
	default:
		close(b.closed)
	}
}

// done is closed by Close. Callers hold b.mu.
func (b *Broker) done() chan struct{} {
	if b.closed == nil {
		b.closed = make(chan struct{})
	}
	return b.closed
}

func (b *Broker) subscribe(run string) (*subscriber, <-chan struct{}, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	limit := b.MaxStreams
	if limit <= 0 {
		limit = 1000
	}
	if len(b.subs) >= limit {
		return nil, nil, false
	}
	if b.subs == nil {
		b.subs = map[*subscriber]struct{}{}
	}
	s := &subscriber{run: run, ch: make(chan struct{}, 1)}
	b.subs[s] = struct{}{}
	return s, b.done(), true
}

func (b *Broker) unsubscribe(s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs, s)
}

// Streams is the number of open streams.
func (b *Broker) Streams() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// events serves /events (?run=namespace/name for one run): "event: change"
// whenever runs change, at most one a MinInterval (ListInterval for every
// run).
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	b := h.Events
	if b == nil {
		http.Error(w, "live updates are off", http.StatusNotFound)
		return
	}
	run := r.URL.Query().Get("run")
	if run != "" && strings.Count(run, "/") != 1 {
		http.Error(w, "run must be namespace/name", http.StatusBadRequest)
		return
	}
	s, closed, ok := b.subscribe(run)
	if !ok {
		w.Header().Set("Retry-After", "30")
		http.Error(w, "too many live pages: reload later", http.StatusServiceUnavailable)
		return
	}
	defer b.unsubscribe(s)
	minGap, keepAlive := b.MinInterval, b.KeepAlive
	if minGap <= 0 {
		minGap = time.Second
	}
	if run == "" {
		minGap = b.ListInterval
		if minGap <= 0 {
			minGap = 5 * time.Second
		}
	}
	if keepAlive <= 0 {
		keepAlive = 25 * time.Second
	}
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(msg string) bool {
		// The stream outlives the server's write timeout: each write
		// gets its own deadline.
		_ = rc.SetWriteDeadline(time.Now().Add(keepAlive + 10*time.Second))
		if _, err := fmt.Fprint(w, msg); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	// The client reconnects after 5s if the stream breaks.
	if !send("retry: 5000\n: connected\n\n") {
		return
	}
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-closed:
			return
		case <-ping.C:
			if !send(": ping\n\n") {
				return
			}
		case <-s.ch:
			if !send("event: change\ndata: {}\n\n") {
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-closed:
				return
			case <-time.After(minGap):
			}
		}
	}
}
