package forge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/bowline-ci/bowline/sandbox/gitstore"
)

// Options configures a Forge.
type Options struct {
	// DataDir keeps the state snapshot (state.json) and the git repositories
	// (git/). Empty keeps state in memory and git repositories in a temporary
	// directory removed by Close.
	DataDir string
	// BaseURL is where clients reach the forge, e.g. http://127.0.0.1:3000.
	// Empty means learned from the first request's Host; webhook payloads
	// carry URLs made from it.
	BaseURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives delivery failures and persistence errors.
	Log logr.Logger
	// HookClient delivers webhooks; nil means a client with GitHub's 10s
	// timeout.
	HookClient *http.Client
	// HookQueue bounds the deliveries waiting per hook; 0 means 1000.
	HookQueue int
	// RateLimit is the hourly request budget per token reported in the
	// X-RateLimit-* headers; 0 means GitHub's 5000.
	RateLimit int
	// SearchRateLimit is the per-minute budget for search; 0 means
	// GitHub's 30.
	SearchRateLimit int
	// EnforceRateLimit answers 403 once a token's budget is spent, as GitHub
	// does. Off by default so that long tests and benchmarks are not cut off.
	EnforceRateLimit bool
	// PersistDelay debounces snapshot writes; 0 means 100ms.
	PersistDelay time.Duration
	// FaultInjection serves the admin endpoint FaultsPath, through which
	// anyone who reaches the forge can make it fail requests (see
	// FaultRule). AddFaults works without it.
	FaultInjection bool
}

// Forge is a GitHub-compatible server. Create one with New; it is safe for
// concurrent use.
type Forge struct {
	opts    Options
	git     *cachedGit
	gitDir  string
	tempDir string
	now     func() time.Time
	log     logr.Logger

	mu sync.RWMutex
	st *state

	urlMu   sync.RWMutex
	baseURL string

	limits  *rateLimiter
	faults  *faults
	hooks   *dispatcher
	persist *persister
	handler http.Handler
	api     http.Handler
	closeMu sync.Mutex
	closed  bool
}

// New creates a forge, loading a previous snapshot from opts.DataDir if one
// exists.
func New(opts Options) (*Forge, error) {
	f := &Forge{opts: opts, now: opts.Now, log: opts.Log, st: newState()}
	if f.now == nil {
		f.now = time.Now
	}
	if opts.Log.GetSink() == nil {
		f.log = logr.Discard()
	}
	f.baseURL = strings.TrimSuffix(opts.BaseURL, "/")
	if opts.DataDir != "" {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		f.gitDir = filepath.Join(opts.DataDir, "git")
		st, err := loadSnapshot(opts.DataDir)
		if err != nil {
			return nil, err
		}
		if st != nil {
			f.st = st
		}
	} else {
		dir, err := os.MkdirTemp("", "forge-git-")
		if err != nil {
			return nil, err
		}
		f.tempDir, f.gitDir = dir, dir
	}
	git, err := gitstore.Open(f.gitDir)
	if err != nil {
		f.cleanup()
		return nil, fmt.Errorf("open git store: %w", err)
	}
	f.git = newCachedGit(git)
	limit := opts.RateLimit
	if limit <= 0 {
		limit = 5000
	}
	search := opts.SearchRateLimit
	if search <= 0 {
		search = 30
	}
	f.limits = newRateLimiter(limit, search, f.now)
	f.faults = &faults{now: f.now}
	f.hooks = newDispatcher(f, opts.HookClient, opts.HookQueue)
	if opts.DataDir != "" {
		delay := opts.PersistDelay
		if delay <= 0 {
			delay = 100 * time.Millisecond
		}
		f.persist = newPersister(f, opts.DataDir, delay)
	}
	f.handler = f.routes()
	return f, nil
}

// Handler serves the REST API (also under /api/v3) and git's smart HTTP
// protocol at /{owner}/{repo}.git.
func (f *Forge) Handler() http.Handler { return f.handler }

// SetBaseURL tells the forge where clients reach it, for the URLs in
// responses and webhook payloads. forgetest.Start calls it with the test
// server's URL.
func (f *Forge) SetBaseURL(u string) {
	f.urlMu.Lock()
	f.baseURL = strings.TrimSuffix(u, "/")
	f.urlMu.Unlock()
}

// URL is the forge's base URL (also the API root and the prefix of clone
// URLs).
func (f *Forge) URL() string {
	f.urlMu.RLock()
	defer f.urlMu.RUnlock()
	if f.baseURL == "" {
		return "http://localhost"
	}
	return f.baseURL
}

func (f *Forge) learnURL(r *http.Request) {
	f.urlMu.RLock()
	known := f.baseURL != ""
	f.urlMu.RUnlock()
	if known || r.Host == "" {
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	f.urlMu.Lock()
	if f.baseURL == "" {
		f.baseURL = scheme + "://" + r.Host
	}
	f.urlMu.Unlock()
}

// Flush waits until every queued webhook delivery has been attempted and
// the latest state is on disk.
func (f *Forge) Flush(ctx context.Context) error {
	if err := f.hooks.flush(ctx); err != nil {
		return err
	}
	if f.persist != nil {
		return f.persist.flush()
	}
	return nil
}

// Close stops webhook delivery, writes the final snapshot and removes the
// temporary git directory of a memory-only forge.
func (f *Forge) Close() error {
	f.closeMu.Lock()
	defer f.closeMu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	f.hooks.close()
	var err error
	if f.persist != nil {
		err = f.persist.close()
	}
	return errors.Join(err, f.cleanup())
}

func (f *Forge) cleanup() error {
	if f.tempDir == "" {
		return nil
	}
	return os.RemoveAll(f.tempDir)
}

// read runs fn with the state locked for reading.
func (f *Forge) read(fn func(s *state) error) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return fn(f.st)
}

// tx is one change to the state: it collects the webhook events the change
// causes, which are queued once the lock is released.
type tx struct {
	*state
	f      *Forge
	now    time.Time
	events []event
}

// write runs fn with the state locked for writing, then schedules a
// snapshot and queues the events fn emitted.
func (f *Forge) write(fn func(t *tx) error) error {
	f.mu.Lock()
	t := &tx{state: f.st, f: f, now: f.now().UTC().Truncate(time.Second)}
	err := fn(t)
	// Queue under the lock so that hooks see events in the order the
	// changes were made, even for concurrent requests.
	f.hooks.enqueue(t.events)
	f.mu.Unlock()
	if f.persist != nil {
		f.persist.changed()
	}
	return err
}
