package automation

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"time"

	"github.com/go-logr/logr"

	"github.com/bowline-ci/bowline/automation/plugin"
)

// StartWorkers starts the worker pool; Start does it for you. Calling it
// again does nothing.
func (s *Server) StartWorkers() {
	s.startOnce.Do(func() {
		for range s.opts.Workers {
			s.workers.Add(1)
			go s.work()
		}
	})
}

// Shutdown stops accepting deliveries (they get 503 from then on) and waits
// for the queued events to be handled until ctx is done. Then it cancels the
// handlers still running and logs, by delivery ID, every event not fully
// handled, so that an operator can redeliver it from GitHub. It returns once
// every worker has stopped.
func (s *Server) Shutdown(ctx context.Context) {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.queue)
		s.mu.Unlock()
		s.StartWorkers()
		done := make(chan struct{})
		go func() { s.workers.Wait(); close(done) }()
		select {
		case <-done:
			s.log.Info("Drained the webhook queue")
			return
		case <-ctx.Done():
		}
		s.log.Info("Grace period over: logging unhandled webhooks for redelivery", "queued", len(s.queue))
		s.cancelWork()
		<-done
	})
}

func (s *Server) work() {
	defer s.workers.Done()
	for it := range s.queue {
		s.metrics.queueDepth.Dec()
		s.queuedBytes.Add(-it.size)
		if s.workCtx.Err() != nil {
			s.dropped(it, nil)
			s.seen.release(it.decoded.Event.DeliveryID)
			continue
		}
		s.metrics.queueWait.Observe(time.Since(it.received).Seconds())
		s.handle(it)
	}
}

// dropped logs an event that was accepted but not fully handled.
func (s *Server) dropped(it *item, plugins []string) {
	ev := it.decoded.Event
	s.metrics.dropped.WithLabelValues(s.eventLabel(ev.Type)).Inc()
	kv := []any{"delivery", ev.DeliveryID, "event", ev.Type, "org", ev.Org, "repo", ev.Repo}
	if plugins != nil {
		kv = append(kv, "unfinishedPlugins", plugins)
	}
	s.log.Info("Webhook not handled before shutdown; redeliver it from GitHub", kv...)
}

// handle runs every handler of one event: the always-on handlers and the
// plugins enabled for the repository, for the event and its generic
// comment, then forwards it to the external plugins listed for it, each
// with its own retries. The enablement is read once, so one
// event sees one config revision. A delivery whose handling did not finish
// (shutdown) or failed for good is forgotten by deduplication, so that
// redelivering it from GitHub is handled.
func (s *Server) handle(it *item) {
	en := s.enable.Enablement()
	var unfinished []string
	failed := false
	for _, ev := range []*plugin.Event{it.decoded.Event, it.decoded.Comment} {
		if ev == nil {
			continue
		}
		log := s.log.WithValues("event", ev.Type, "delivery", ev.DeliveryID, "org", ev.Org, "repo", ev.Repo)
		handlers := slices.DeleteFunc(slices.Clone(s.always), func(p plugin.Plugin) bool {
			return !slices.Contains(p.Events(), ev.Type)
		})
		handlers = append(handlers, s.plugins.For(en, ev.Org, ev.Repo, ev.Type)...)
		for _, p := range handlers {
			switch s.run(p, ev, log.WithValues("plugin", p.Name())) {
			case runCut:
				unfinished = append(unfinished, p.Name())
			case runFailed:
				failed = true
			}
		}
	}
	if ev := it.decoded.Event; it.fwd != nil {
		log := s.log.WithValues("event", ev.Type, "delivery", ev.DeliveryID, "org", ev.Org, "repo", ev.Repo)
		for _, ep := range it.externals {
			f := forward{ExternalPlugin: ep, client: s.external, body: it.fwd.body, header: it.fwd.header}
			switch s.run(f, ev, log.WithValues("plugin", f.Name())) {
			case runCut:
				unfinished = append(unfinished, f.Name())
			case runFailed:
				failed = true
			}
		}
	}
	if len(unfinished) > 0 {
		s.dropped(it, unfinished)
	}
	if len(unfinished) > 0 || failed {
		s.seen.release(it.decoded.Event.DeliveryID)
	}
}

// Outcomes of run.
const (
	runDone = iota
	runFailed
	runCut
)

// run calls one plugin on one event, retrying transient failures with
// exponential backoff. It returns runCut when shutdown cut the handling
// short, runFailed when the plugin failed for good (logged and counted; its
// event is not retried further), runDone otherwise.
func (s *Server) run(p plugin.Plugin, ev *plugin.Event, log logr.Logger) int {
	name := p.Name()
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(s.workCtx, s.opts.HandleTimeout)
		start := time.Now()
		err := call(logr.NewContext(ctx, log), p, log, ev)
		cancel()
		s.metrics.handleTime.WithLabelValues(name, ev.Type).Observe(time.Since(start).Seconds())
		if err == nil {
			s.metrics.handled.WithLabelValues(name, ev.Type, handleSucceeded).Inc()
			return runDone
		}
		if s.workCtx.Err() != nil {
			return runCut
		}
		if _, panicked := err.(panicError); panicked {
			s.metrics.handled.WithLabelValues(name, ev.Type, handlePanicked).Inc()
			log.Error(err, "Plugin panicked while handling an event")
			return runFailed
		}
		if !plugin.Retryable(err) || attempt >= s.opts.MaxAttempts {
			s.metrics.handled.WithLabelValues(name, ev.Type, handleFailed).Inc()
			log.Error(err, "Plugin failed to handle an event; redeliver it from GitHub once the cause is fixed", "attempts", attempt)
			return runFailed
		}
		s.metrics.handled.WithLabelValues(name, ev.Type, handleRetried).Inc()
		wait := s.backoff(attempt)
		log.Info("Plugin failed to handle an event; retrying", "error", err.Error(), "attempt", attempt, "backoff", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.workCtx.Done():
			t.Stop()
			return runCut
		}
	}
}

// backoff is RetryBackoff doubled per attempt, capped, with ±20% jitter so
// that retries of many events do not arrive together.
func (s *Server) backoff(attempt int) time.Duration {
	d := s.opts.RetryBackoff << min(attempt-1, 30)
	if d <= 0 || d > s.opts.MaxRetryBackoff {
		d = s.opts.MaxRetryBackoff
	}
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

type panicError struct {
	value any
	stack []byte
}

func (e panicError) Error() string { return fmt.Sprintf("panic: %v\n%s", e.value, e.stack) }

// call runs the plugin, turning a panic into an error: one bad event must
// not take the server down.
func call(ctx context.Context, p plugin.Plugin, log logr.Logger, ev *plugin.Event) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicError{value: v, stack: debug.Stack()}
		}
	}()
	return p.Handle(ctx, log, ev)
}
