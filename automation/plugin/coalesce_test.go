package plugin_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugin"
)

func TestCoalescer(t *testing.T) {
	var c plugin.Coalescer
	// One call runs.
	runs := 0
	if err := c.Do("k", func() error { runs++; return nil }); err != nil || runs != 1 {
		t.Fatalf("runs %d, err %v", runs, err)
	}
	// Calls that arrive while a run is under way are covered by later runs
	// that started after they arrived, rather than each running: over a
	// few bursts, some calls are folded.
	const waiting, bursts = 10, 20
	folded := 0
	for range bursts {
		started, release := make(chan struct{}), make(chan struct{})
		var count atomic.Int64
		var wg sync.WaitGroup
		wg.Go(func() {
			_ = c.Do("k", func() error { close(started); <-release; count.Add(1); return nil })
		})
		<-started
		arrived := make(chan struct{}, waiting)
		for range waiting {
			wg.Go(func() {
				arrived <- struct{}{}
				_ = c.Do("k", func() error { count.Add(1); return nil })
			})
		}
		for range waiting {
			<-arrived
		}
		close(release)
		wg.Wait()
		n := count.Load()
		if n < 2 || n > 1+waiting {
			t.Fatalf("%d runs for %d calls", n, 1+waiting)
		}
		folded += int(1 + waiting - n)
	}
	if folded == 0 {
		t.Errorf("no call was folded in %d bursts of %d", bursts, waiting)
	}
	// A failed run covers nothing: the next call runs and sees the error's
	// cause gone.
	fail := errors.New("boom")
	if err := c.Do("k", func() error { return fail }); !errors.Is(err, fail) {
		t.Fatalf("err %v", err)
	}
	ran := false
	if err := c.Do("k", func() error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("after a failure: ran %v, err %v", ran, err)
	}
	// Keys do not wait for each other.
	done := make(chan struct{})
	go func() {
		_ = c.Do("a", func() error { <-done; return nil })
	}()
	if err := c.Do("b", func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	close(done)
}
