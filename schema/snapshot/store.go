// Package snapshot publishes a validated configuration revision to every
// bowline component. Inside one process a Store holds the current Snapshot
// and switches it atomically, so every reader sees one revision; across
// processes the ConfigRepository reconciler publishes the revision's config
// files as a content-addressed, chunked archive in ConfigMaps, and a
// Follower in every other process fetches, verifies and loads it without
// validating it again.
package snapshot

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/bowline-ci/bowline/schema/configset"
)

// Snapshot is one loaded revision of a config repository. It is immutable
// once stored: readers share it without copying.
type Snapshot struct {
	// Revision is the git revision it was built from, as <ref>@sha1:<sha>.
	Revision string
	// Digest identifies the published archive, as sha256:<hex>.
	Digest string
	// Config is the parsed configuration.
	Config *configset.Set
	// LoadedAt is when this process loaded it.
	LoadedAt time.Time
}

// Store holds the current snapshot of one config repository. Reads are a
// single atomic load; Set switches every reader to the new snapshot at once
// and tells the subscribers.
type Store struct {
	cur atomic.Pointer[Snapshot]

	mu   sync.Mutex
	subs map[chan *Snapshot]struct{}
}

// Current returns the snapshot in effect, or nil when there is none yet.
func (s *Store) Current() *Snapshot { return s.cur.Load() }

// Set makes snap the current snapshot (nil withdraws it) and notifies the
// subscribers.
func (s *Store) Set(snap *Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur.Store(snap)
	for ch := range s.subs {
		offer(ch, snap)
	}
}

// offer replaces whatever a subscriber has not read yet with snap, so a
// slow subscriber skips intermediate revisions instead of blocking Set.
func offer(ch chan *Snapshot, snap *Snapshot) {
	select {
	case <-ch:
	default:
	}
	ch <- snap
}

// Subscribe returns a channel that receives the current snapshot (when there
// is one) and then every later one, newest wins; a nil value means the
// configuration was withdrawn. The channel is closed when ctx ends.
func (s *Store) Subscribe(ctx context.Context) <-chan *Snapshot {
	ch := make(chan *Snapshot, 1)
	s.mu.Lock()
	if s.subs == nil {
		s.subs = map[chan *Snapshot]struct{}{}
	}
	s.subs[ch] = struct{}{}
	if cur := s.cur.Load(); cur != nil {
		ch <- cur
	}
	s.mu.Unlock()
	go func() {
		<-ctx.Done()
		s.mu.Lock()
		delete(s.subs, ch)
		close(ch)
		s.mu.Unlock()
	}()
	return ch
}

// Stores holds one Store per ConfigRepository, keyed by namespace and name,
// shared by every component of a process.
type Stores struct {
	mu sync.Mutex
	m  map[types.NamespacedName]*Store
}

// For returns the Store of the ConfigRepository key, creating it empty.
func (s *Stores) For(key types.NamespacedName) *Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[types.NamespacedName]*Store{}
	}
	st, ok := s.m[key]
	if !ok {
		st = &Store{}
		s.m[key] = st
	}
	return st
}
