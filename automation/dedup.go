package automation

import (
	"sync"
	"time"
)

// maxRememberedDeliveries bounds the delivery IDs kept for deduplication:
// about 100 bytes each, 10 MB at most. At 200 deliveries a second that is
// over two hours, longer than the default window; past it, the oldest are
// forgotten first.
const maxRememberedDeliveries = 100_000

// deliveries remembers the X-GitHub-Delivery IDs a server accepted within a
// window, so that a replayed delivery is not handled twice. An ID is
// forgotten again when its handling did not finish (shutdown, a failed
// plugin), so that redelivering it from GitHub works.
type deliveries struct {
	window time.Duration
	max    int
	now    func() time.Time

	mu    sync.Mutex
	until map[string]time.Time
	// order is the IDs in the order they were claimed, for expiry; a
	// released ID stays in it until it expires or is claimed again.
	order []claimed
}

type claimed struct {
	id    string
	until time.Time
}

func newDeliveries(window time.Duration, max int, now func() time.Time) *deliveries {
	return &deliveries{window: window, max: max, now: now, until: map[string]time.Time{}}
}

// claim records id and reports whether it was new within the window. An
// empty ID (not GitHub) is never a duplicate.
func (d *deliveries) claim(id string) bool {
	if d == nil || id == "" {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	d.expire(now)
	if until, ok := d.until[id]; ok && now.Before(until) {
		return false
	}
	until := now.Add(d.window)
	d.until[id] = until
	d.order = append(d.order, claimed{id: id, until: until})
	for len(d.until) > d.max {
		d.drop()
	}
	return true
}

// release forgets id: its handling did not finish.
func (d *deliveries) release(id string) {
	if d == nil || id == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.until, id)
}

// expire drops the IDs whose window has passed.
func (d *deliveries) expire(now time.Time) {
	for len(d.order) > 0 && !now.Before(d.order[0].until) {
		d.drop()
	}
	// Released IDs stay in order until they expire: compact it when they
	// outnumber the live ones.
	if len(d.order) > 2*d.max {
		var kept []claimed
		for _, c := range d.order {
			if until, ok := d.until[c.id]; ok && until.Equal(c.until) {
				kept = append(kept, c)
			}
		}
		d.order = kept
	}
}

// drop forgets the oldest claim.
func (d *deliveries) drop() {
	c := d.order[0]
	d.order[0] = claimed{}
	d.order = d.order[1:]
	if until, ok := d.until[c.id]; ok && until.Equal(c.until) {
		delete(d.until, c.id)
	}
}

// len is the number of IDs remembered.
func (d *deliveries) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.until)
}
