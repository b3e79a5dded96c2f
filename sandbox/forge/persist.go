package forge

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The snapshot is the whole state as JSON, rewritten atomically (write a
// temporary file, rename) a short delay after the last change, so that a
// burst of API calls costs one write. Git objects live in the gitstore
// directory next to it and need no snapshot. Webhook delivery logs are not
// kept across restarts.

const snapshotFile = "state.json"

// snapshotVersion changes when the model changes incompatibly.
const snapshotVersion = 1

type snapshot struct {
	Version int    `json:"version"`
	State   *state `json:"state"`
}

func loadSnapshot(dir string) (*state, error) {
	b, err := os.ReadFile(filepath.Join(dir, snapshotFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read forge snapshot: %w", err)
	}
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, fmt.Errorf("parse forge snapshot %s: %w", snapshotFile, err)
	}
	if snap.Version != snapshotVersion || snap.State == nil {
		return nil, fmt.Errorf("forge snapshot %s has version %d, want %d", snapshotFile, snap.Version, snapshotVersion)
	}
	st := snap.State
	fill := newState()
	if st.Users == nil {
		st.Users = fill.Users
	}
	if st.Orgs == nil {
		st.Orgs = fill.Orgs
	}
	if st.Repos == nil {
		st.Repos = fill.Repos
	}
	if st.Tokens == nil {
		st.Tokens = fill.Tokens
	}
	if st.Apps == nil {
		st.Apps = fill.Apps
	}
	if st.Installations == nil {
		st.Installations = fill.Installations
	}
	return st, nil
}

type persister struct {
	f     *Forge
	dir   string
	delay time.Duration

	mu     sync.Mutex
	timer  *time.Timer
	dirty  bool
	closed bool

	writing sync.Mutex // one writer at a time
}

func newPersister(f *Forge, dir string, delay time.Duration) *persister {
	return &persister{f: f, dir: dir, delay: delay}
}

// changed schedules a write unless one is already scheduled.
func (p *persister) changed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.dirty = true
	if p.timer == nil {
		p.timer = time.AfterFunc(p.delay, func() {
			if err := p.save(); err != nil {
				p.f.log.Error(err, "Cannot write forge snapshot")
			}
		})
	}
}

func (p *persister) save() error {
	p.writing.Lock()
	defer p.writing.Unlock()
	p.mu.Lock()
	p.timer = nil
	dirty := p.dirty
	p.dirty = false
	p.mu.Unlock()
	if !dirty {
		return nil
	}
	p.f.mu.RLock()
	b, err := json.Marshal(snapshot{Version: snapshotVersion, State: p.f.st})
	p.f.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("render forge snapshot: %w", err)
	}
	tmp, err := os.CreateTemp(p.dir, snapshotFile+".*")
	if err != nil {
		return fmt.Errorf("write forge snapshot: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write forge snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write forge snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(p.dir, snapshotFile)); err != nil {
		return fmt.Errorf("write forge snapshot: %w", err)
	}
	return nil
}

// flush writes pending changes now.
func (p *persister) flush() error {
	p.mu.Lock()
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.mu.Unlock()
	return p.save()
}

func (p *persister) close() error {
	err := p.flush()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	return err
}
