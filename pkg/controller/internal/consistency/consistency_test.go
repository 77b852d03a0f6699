package consistency

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

type fakeStore struct{ rv string }

func (f *fakeStore) LastStoreSyncResourceVersion() string { return f.rv }

var (
	jobs  = schema.GroupResource{Group: "batch", Resource: "jobs"}
	pods  = schema.GroupResource{Resource: "pods"}
	owner = types.NamespacedName{Namespace: "ns", Name: "j"}
)

func TestEnsureReadyWaitsForEveryStore(t *testing.T) {
	js, ps := &fakeStore{rv: "10"}, &fakeStore{rv: "10"}
	s := New(map[schema.GroupResource]LastSyncRVGetter{jobs: js, pods: ps})
	if err := s.EnsureReady(owner); err != nil {
		t.Fatalf("no writes: %v", err)
	}
	s.WroteAt(owner, "u1", jobs, "12")
	s.WroteAt(owner, "u1", jobs, "11") // older: ignored
	s.WroteAt(owner, "u1", pods, "9")
	err := s.EnsureReady(owner)
	var stale *StaleError
	if !errors.As(err, &stale) || stale.Resource != jobs || stale.WrittenRV != "12" || stale.ReadRV != "10" {
		t.Fatalf("EnsureReady = %v, want jobs stale at 10 < 12", err)
	}
	if !IsStale(fmt.Errorf("wrapped: %w", err)) {
		t.Fatal("IsStale does not see through wrapping")
	}
	js.rv = "11"
	if !IsStale(s.EnsureReady(owner)) {
		t.Fatal("ready at 11 after a write at 12")
	}
	js.rv = "100" // lengths differ: compared as numbers, not strings
	if err := s.EnsureReady(owner); err != nil {
		t.Fatalf("EnsureReady after the store caught up: %v", err)
	}
	// Ready forgets the writes.
	js.rv = "1"
	if err := s.EnsureReady(owner); err != nil {
		t.Fatalf("writes kept after they were observed: %v", err)
	}
}

func TestUnknownOrSilentStoresAndBadVersionsDoNotBlock(t *testing.T) {
	s := New(map[schema.GroupResource]LastSyncRVGetter{jobs: &fakeStore{rv: ""}, pods: &fakeStore{rv: "abc"}})
	s.WroteAt(owner, "u1", jobs, "5")                                      // store reports nothing
	s.WroteAt(owner, "u1", pods, "5")                                      // store reports garbage
	s.WroteAt(owner, "u1", schema.GroupResource{Resource: "secrets"}, "5") // no store
	s.WroteAt(types.NamespacedName{Name: "other"}, "u2", jobs, "")         // no version: ignored
	if err := s.EnsureReady(owner); err != nil {
		t.Fatal(err)
	}
}

func TestNewOwnerUIDStartsAfreshAndClear(t *testing.T) {
	js := &fakeStore{rv: "5"}
	s := New(map[schema.GroupResource]LastSyncRVGetter{jobs: js})
	s.WroteAt(owner, "old", jobs, "9")
	s.WroteAt(owner, "new", jobs, "6") // the owner was re-created
	js.rv = "6"
	if err := s.EnsureReady(owner); err != nil {
		t.Fatalf("the old owner's write still counts: %v", err)
	}
	s.WroteAt(owner, "new", jobs, "9")
	s.Clear(owner, "other-uid")
	if !IsStale(s.EnsureReady(owner)) {
		t.Fatal("Clear with another UID removed the record")
	}
	s.Clear(owner, "")
	if err := s.EnsureReady(owner); err != nil {
		t.Fatalf("Clear kept the record: %v", err)
	}
}

func TestHandleStale(t *testing.T) {
	if HandleStale(context.Background(), errors.New("boom"), "k") || HandleStale(context.Background(), nil, "k") {
		t.Fatal("HandleStale accepted an ordinary error")
	}
	if !HandleStale(context.Background(), &StaleError{Resource: jobs, WrittenRV: "2", ReadRV: "1"}, "k") {
		t.Fatal("HandleStale refused a StaleError")
	}
}
