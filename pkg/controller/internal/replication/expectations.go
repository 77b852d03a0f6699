package replication

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/clock"
)

// ExpectationsTimeout is how long unmet expectations block a resync, as in
// Kubernetes (the watch may have missed an event).
const ExpectationsTimeout = 5 * time.Minute

type expectation struct {
	add, del  int64
	timestamp time.Time
	// deleteKeys are the pod keys whose deletion is still awaited.
	deleteKeys sets.Set[string]
}

// Expectations records the pod creations and deletions a controller has
// asked for and not yet observed through its informer, per controller key.
// Deletions are tracked by pod key so a deletion is counted once even when
// it is observed twice (update with deletionTimestamp, then delete).
type Expectations struct {
	mu    sync.Mutex
	clock clock.PassiveClock
	m     map[string]*expectation
}

// NewExpectations returns empty expectations using clk for the timeout.
func NewExpectations(clk clock.PassiveClock) *Expectations {
	return &Expectations{clock: clk, m: map[string]*expectation{}}
}

// Satisfied reports whether the controller key may be synced: no
// expectations recorded, all met, or recorded longer than ExpectationsTimeout ago.
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp, ok := e.m[key]
	if !ok {
		return true
	}
	if exp.add <= 0 && exp.del <= 0 {
		return true
	}
	return e.clock.Since(exp.timestamp) > ExpectationsTimeout
}

// ExpectCreations records that adds pods are about to be created.
func (e *Expectations) ExpectCreations(key string, adds int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{add: int64(adds), timestamp: e.clock.Now(), deleteKeys: sets.New[string]()}
}

// ExpectDeletions records that the pods with podKeys are about to be deleted.
func (e *Expectations) ExpectDeletions(key string, podKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{del: int64(len(podKeys)), timestamp: e.clock.Now(), deleteKeys: sets.New(podKeys...)}
}

// Expect records at once that adds pods are about to be created and the
// pods with podKeys deleted (the DaemonSet controller does both in one sync).
func (e *Expectations) Expect(key string, adds int, podKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{add: int64(adds), del: int64(len(podKeys)), timestamp: e.clock.Now(), deleteKeys: sets.New(podKeys...)}
}

// CreationObserved lowers the expected creations by one.
func (e *Expectations) CreationObserved(key string) {
	e.LowerExpectations(key, 1, 0)
}

// DeletionObserved marks podKey deleted, if its deletion was expected.
func (e *Expectations) DeletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp, ok := e.m[key]
	if !ok || !exp.deleteKeys.Has(podKey) {
		return
	}
	exp.deleteKeys.Delete(podKey)
	exp.del--
}

// LowerExpectations lowers expected creations by add and deletions by del
// (used when requests were never sent).
func (e *Expectations) LowerExpectations(key string, add, del int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if exp, ok := e.m[key]; ok {
		exp.add -= int64(add)
		exp.del -= int64(del)
	}
}

// Delete forgets the controller key.
func (e *Expectations) Delete(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

// Pending returns the outstanding creations and deletions for key (for tests and logs).
func (e *Expectations) Pending(key string) (adds, dels int64, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp, ok := e.m[key]
	if !ok {
		return 0, 0, false
	}
	return exp.add, exp.del, true
}
