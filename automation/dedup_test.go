package automation

import (
	"fmt"
	"testing"
	"time"
)

func TestDeliveries(t *testing.T) {
	now := time.Unix(1000, 0)
	d := newDeliveries(time.Hour, 3, func() time.Time { return now })
	if !d.claim("a") || d.claim("a") {
		t.Fatal("a second claim of a within the window succeeded")
	}
	if !d.claim("") {
		t.Error("a delivery without an ID is a duplicate")
	}
	if !d.claim("") {
		t.Error("deliveries without an ID are never duplicates")
	}
	d.release("a")
	if !d.claim("a") {
		t.Error("a released delivery may be claimed again")
	}
	now = now.Add(time.Hour)
	if !d.claim("a") {
		t.Error("a delivery is forgotten after the window")
	}
	// Past the bound, the oldest claims are forgotten first.
	for i := range 3 {
		d.claim(fmt.Sprint("b", i))
	}
	if d.len() != 3 || !d.claim("a") {
		t.Errorf("remembered %d, and a (the oldest) not forgotten", d.len())
	}
	if d.claim("b2") {
		t.Error("the newest claim was forgotten")
	}
	// Released IDs do not grow the order without bound.
	for i := range 100 {
		id := fmt.Sprint("c", i)
		d.claim(id)
		d.release(id)
	}
	if len(d.order) > 2*d.max+1 || d.len() > d.max {
		t.Errorf("order holds %d claims, map %d", len(d.order), d.len())
	}
}
