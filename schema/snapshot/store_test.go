package snapshot

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func TestStore(t *testing.T) {
	var s Store
	if s.Current() != nil {
		t.Fatal("a new Store has a snapshot")
	}
	a, b, c := &Snapshot{Revision: "a"}, &Snapshot{Revision: "b"}, &Snapshot{Revision: "c"}
	s.Set(a)
	ctx, cancel := context.WithCancel(context.Background())
	ch := s.Subscribe(ctx)
	if got := <-ch; got != a {
		t.Fatalf("first value %v, want the current snapshot", got)
	}
	s.Set(b)
	if got := s.Current(); got != b {
		t.Fatalf("Current() = %v after Set(b)", got)
	}
	// A slow subscriber skips to the newest.
	s.Set(c)
	if got := <-ch; got != c {
		t.Fatalf("subscriber got %v, want the newest snapshot", got.Revision)
	}
	s.Set(nil)
	if got := <-ch; got != nil {
		t.Fatalf("subscriber got %v, want nil for a withdrawn config", got)
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("value after cancel")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("channel not closed after cancel")
	}
	s.Set(a) // must not block or panic without subscribers
}

func TestSubscribeEmpty(t *testing.T) {
	var s Store
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := s.Subscribe(ctx)
	select {
	case v := <-ch:
		t.Fatalf("got %v before any Set", v)
	default:
	}
	s.Set(&Snapshot{Revision: "a"})
	if got := <-ch; got.Revision != "a" {
		t.Fatalf("got %v", got)
	}
}

func TestStores(t *testing.T) {
	var s Stores
	k1 := types.NamespacedName{Namespace: "a", Name: "x"}
	k2 := types.NamespacedName{Namespace: "b", Name: "x"}
	first := s.For(k1)
	first.Set(&Snapshot{Revision: "a"})
	if again := s.For(k1); again != first || again.Current().Revision != "a" {
		t.Error("For returns different Stores for one key")
	}
	if s.For(k1) == s.For(k2) {
		t.Error("For shares a Store between keys")
	}
}
