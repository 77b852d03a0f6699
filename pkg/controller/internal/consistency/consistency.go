// Package consistency gives controllers read-your-own-writes over their
// informer caches, the way Kubernetes 1.36's kube-controller-manager does
// (KEP-5647, staleness mitigation): a controller records the resourceVersion
// each of its writes returned, per owner object and resource, and before it
// syncs that owner it checks that every informer store involved has observed
// at least that resourceVersion (client-go's Store.LastStoreSyncResourceVersion).
// A sync on a store that is behind is skipped and requeued instead of acting
// on state older than the controller's own writes. It writes nothing and runs
// no loop.
package consistency

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"k8s.io/klog/v2"
)

// LastSyncRVGetter is what the Store needs of an informer store: the
// newest resourceVersion it has observed (cache.Store satisfies it).
type LastSyncRVGetter interface {
	LastStoreSyncResourceVersion() string
}

// StaleError says that a store has not yet observed a write of ours.
type StaleError struct {
	Resource          schema.GroupResource
	WrittenRV, ReadRV string
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("the %s cache is at resourceVersion %s, older than our own write at %s; waiting for it to catch up",
		e.Resource, e.ReadRV, e.WrittenRV)
}

// IsStale reports whether err is (or wraps) a *StaleError.
func IsStale(err error) bool {
	var s *StaleError
	return errors.As(err, &s)
}

// Store records a controller's writes per owner and checks its informer
// stores against them. It is safe for concurrent use; the zero value is not
// usable, build one with New.
type Store struct {
	stores map[schema.GroupResource]LastSyncRVGetter

	mu     sync.Mutex
	writes map[types.NamespacedName]*record
}

type record struct {
	uid types.UID
	rvs map[schema.GroupResource]string
}

// New returns a Store that checks writes to each resource against the given
// informer store; writes to other resources are not checked.
func New(stores map[schema.GroupResource]LastSyncRVGetter) *Store {
	return &Store{stores: stores, writes: map[types.NamespacedName]*record{}}
}

// WroteAt records that, on behalf of owner (with UID ownerUID), we wrote an
// object of resource and the API server answered with rv. Only the newest
// rv per resource is kept; a different ownerUID (the owner was deleted and
// re-created) starts a new record. An empty or malformed rv is ignored.
func (s *Store) WroteAt(owner types.NamespacedName, ownerUID types.UID, resource schema.GroupResource, rv string) {
	if _, err := resourceversion.CompareResourceVersion(rv, rv); err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.writes[owner]
	if r == nil || r.uid != ownerUID {
		r = &record{uid: ownerUID, rvs: map[schema.GroupResource]string{}}
		s.writes[owner] = r
	}
	if old, ok := r.rvs[resource]; ok {
		if cmp, err := resourceversion.CompareResourceVersion(old, rv); err == nil && cmp >= 0 {
			return
		}
	}
	r.rvs[resource] = rv
}

// EnsureReady returns nil when every store has observed all our recorded
// writes for owner (and then forgets them), or a *StaleError naming the
// first store that is behind. A store that reports no resourceVersion (the
// client-go AtomicFIFO feature is off, or a test store) does not block.
func (s *Store) EnsureReady(owner types.NamespacedName) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.writes[owner]
	if r == nil {
		return nil
	}
	for gr, written := range r.rvs {
		st := s.stores[gr]
		if st == nil {
			continue
		}
		read := st.LastStoreSyncResourceVersion()
		if read == "" {
			continue
		}
		if cmp, err := resourceversion.CompareResourceVersion(written, read); err == nil && cmp > 0 {
			return &StaleError{Resource: gr, WrittenRV: written, ReadRV: read}
		}
	}
	delete(s.writes, owner)
	return nil
}

// Clear forgets owner's writes; with a non-empty ownerUID only if they were
// recorded for that UID.
func (s *Store) Clear(owner types.NamespacedName, ownerUID types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.writes[owner]; r != nil && (ownerUID == "" || r.uid == ownerUID) {
		delete(s.writes, owner)
	}
}

// HandleStale reports whether a failed sync of key failed only because a
// cache is behind our own writes, and logs that at V(4). The caller then
// requeues key with its rate limiter without reporting an error: the
// informer is catching up, nothing is wrong.
func HandleStale(ctx context.Context, err error, key string) bool {
	if !IsStale(err) {
		return false
	}
	klog.FromContext(ctx).V(4).Info("Informer cache behind our own writes, requeuing", "key", key, "reason", err.Error())
	return true
}
