package podcontrol

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/clock"
)

// ExpectationsTimeout is how long unmet expectations block a sync, as in
// Kubernetes (the watch may have missed an event).
const ExpectationsTimeout = 5 * time.Minute

type expectation struct {
	adds int64
	// dels are the identities (pod key or UID, as the controller chooses)
	// of the pods whose deletion is awaited: a deletion observed twice
	// (update with deletionTimestamp, then delete) counts once.
	dels sets.Set[string]
	// finalizerRemovals are the pods whose finalizer removal is awaited
	// (the Job controller's tracking finalizer).
	finalizerRemovals sets.Set[string]
	timestamp         time.Time
}

func (x *expectation) met() bool { return x.adds <= 0 && x.dels.Len() == 0 }

// Expectations records, per controller key, the pod creations, deletions
// and finalizer removals a controller has asked for and not yet observed
// through its informer, so that a sync does not act on a cache that has not
// caught up with its own writes. Creations are counted; deletions and
// finalizer removals are tracked by pod identity (UID-tracking, as
// Kubernetes' UIDTrackingControllerExpectations). It is safe for concurrent use.
type Expectations struct {
	mu    sync.Mutex
	clock clock.PassiveClock
	m     map[string]*expectation
}

// NewExpectations returns empty expectations using clk for the timeout.
func NewExpectations(clk clock.PassiveClock) *Expectations {
	return &Expectations{clock: clk, m: map[string]*expectation{}}
}

// get returns key's record; a met or expired record starts afresh, so that
// new expectations never add to stale ones. Finalizer removals carry over.
func (e *Expectations) get(key string) *expectation {
	x := e.m[key]
	if x == nil {
		x = &expectation{dels: sets.New[string](), finalizerRemovals: sets.New[string]()}
		e.m[key] = x
	} else if x.met() || e.expired(x) {
		x.adds = 0
		x.dels = sets.New[string]()
	}
	return x
}

func (e *Expectations) expired(x *expectation) bool {
	return e.clock.Since(x.timestamp) > ExpectationsTimeout
}

// Satisfied reports whether the controller key may be synced: nothing
// recorded, everything observed, or recorded longer than ExpectationsTimeout
// ago. Finalizer removals do not block a sync (see ExpectedFinalizerRemovals).
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	return !ok || x.met() || e.expired(x)
}

// ExpectCreations records that n more pods are about to be created.
func (e *Expectations) ExpectCreations(key string, n int) {
	e.Expect(key, n, nil)
}

// ExpectDeletions records that the pods with the given identities are about
// to be deleted.
func (e *Expectations) ExpectDeletions(key string, ids []string) {
	e.Expect(key, 0, ids)
}

// Expect records at once that adds pods are about to be created and the
// pods with ids deleted (the DaemonSet controller does both in one sync).
func (e *Expectations) Expect(key string, adds int, ids []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.get(key)
	x.adds += int64(adds)
	x.dels.Insert(ids...)
	x.timestamp = e.clock.Now()
}

// CreationObserved lowers the expected creations by one.
func (e *Expectations) CreationObserved(key string) {
	e.LowerCreations(key, 1)
}

// LowerCreations lowers the expected creations by n (creations observed,
// or requests that were never sent or failed).
func (e *Expectations) LowerCreations(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		x.adds = max(0, x.adds-int64(n))
	}
}

// DeletionObserved marks the pod id deleted, if its deletion was expected.
func (e *Expectations) DeletionObserved(key, id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		x.dels.Delete(id)
	}
}

// ExpectFinalizerRemoval records that the finalizer of pod id is about to
// be removed.
func (e *Expectations) ExpectFinalizerRemoval(key, id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok {
		x = e.get(key)
		x.timestamp = e.clock.Now()
	}
	x.finalizerRemovals.Insert(id)
}

// FinalizerRemovalObserved marks the finalizer removal of pod id observed.
func (e *Expectations) FinalizerRemovalObserved(key, id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		x.finalizerRemovals.Delete(id)
	}
}

// FinalizerRemovalObservedAnywhere forgets the removal of pod id under every
// key (a pod released by its controller no longer names it).
func (e *Expectations) FinalizerRemovalObservedAnywhere(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, x := range e.m {
		x.finalizerRemovals.Delete(id)
	}
}

// ExpectedFinalizerRemovals returns a copy of the pods whose finalizer
// removal is still awaited under key.
func (e *Expectations) ExpectedFinalizerRemovals(key string) sets.Set[string] {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		return x.finalizerRemovals.Clone()
	}
	return sets.New[string]()
}

// Delete forgets the controller key.
func (e *Expectations) Delete(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

// Pending returns the outstanding creations and deletions for key (for
// tests and logs).
func (e *Expectations) Pending(key string) (adds, dels int64, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok {
		return 0, 0, false
	}
	return x.adds, int64(x.dels.Len()), true
}
