package plugin

import "sync"

// Coalescer runs work for a key one at a time and folds bursts: work that
// recomputes everything about its key from the current state (the approve
// plugin's, for a pull request) need not run once per event. An event
// whose work waits while another run for the same key starts after the
// event arrived is covered by that run and returns at once.
type Coalescer struct {
	mu    sync.Mutex
	gates map[string]*gate
}

type gate struct {
	run sync.Mutex // held while work runs
	// arrived counts the calls for the key; covered is the arrival count
	// when the last successful run started: every call up to it is done.
	arrived, covered uint64
	users            int
}

// Do runs fn for key, unless a successful run that started after this
// call began makes it unnecessary; it returns fn's error, or nil when
// covered. fn must read the state it acts on afresh.
func (c *Coalescer) Do(key string, fn func() error) error {
	c.mu.Lock()
	if c.gates == nil {
		c.gates = map[string]*gate{}
	}
	g := c.gates[key]
	if g == nil {
		g = &gate{}
		c.gates[key] = g
	}
	g.users++
	g.arrived++
	mine := g.arrived
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if g.users--; g.users == 0 {
			delete(c.gates, key)
		}
		c.mu.Unlock()
	}()

	g.run.Lock()
	defer g.run.Unlock()
	c.mu.Lock()
	if g.covered >= mine {
		c.mu.Unlock()
		return nil
	}
	start := g.arrived
	c.mu.Unlock()
	if err := fn(); err != nil {
		return err
	}
	c.mu.Lock()
	g.covered = start
	c.mu.Unlock()
	return nil
}
