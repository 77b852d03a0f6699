package garbagecollector

import (
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// objectReference identifies an object in the graph: the coordinates of an
// owner reference plus the namespace.
type objectReference struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	UID        types.UID
}

func (r objectReference) String() string {
	return fmt.Sprintf("[%s/%s, namespace: %s, name: %s, uid: %s]", r.APIVersion, r.Kind, r.Namespace, r.Name, r.UID)
}

// node is one object (or, while virtual, an owner only known from a
// dependent's ownerReferences). It holds no copy of the object.
type node struct {
	identity objectReference
	// virtual: known only as somebody's owner, not observed through an informer.
	virtual bool
	// owners as last observed on the object.
	owners []metav1.OwnerReference
	// dependents whose ownerReferences point at this node's uid.
	dependents map[types.UID]*node
	// beingDeleted: deletionTimestamp set.
	beingDeleted bool
	// deletingDependents: beingDeleted and the foregroundDeletion finalizer is present.
	deletingDependents bool
	// orphaning: beingDeleted and the orphan finalizer is present.
	orphaning bool
}

// blockingDependents are the dependents whose reference to n has blockOwnerDeletion=true.
func (n *node) blockingDependents() []*node {
	var out []*node
	for _, d := range n.dependents {
		for _, r := range d.owners {
			if r.UID == n.identity.UID && r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

// graph maps uids to nodes. All access goes through its mutex; informer
// handlers write to it, workers read snapshots from it.
type graph struct {
	mu    sync.RWMutex
	nodes map[types.UID]*node
	// enqueueDelete and enqueueOrphan are called with mu held.
	enqueueDelete func(types.UID)
	enqueueOrphan func(types.UID)
	// invalidNamespace reports a dependent whose owner reference points at an
	// object observed in another namespace. Called with mu held.
	invalidNamespace func(dependent objectReference, owner objectReference)
}

func newGraph() *graph {
	return &graph{nodes: map[types.UID]*node{}}
}

// observedObject is what the graph keeps from an informer object.
type observedObject struct {
	identity          objectReference
	owners            []metav1.OwnerReference
	deletionTimestamp bool
	finalizers        []string
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// observe applies an add or update.
func (g *graph) observe(o observedObject) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n, ok := g.nodes[o.identity.UID]
	if !ok {
		n = &node{identity: o.identity, dependents: map[types.UID]*node{}}
		g.nodes[o.identity.UID] = n
		n.owners = o.owners
		if g.addToOwners(n, o.owners) {
			g.enqueueDelete(n.identity.UID)
		}
	} else {
		wasVirtual := n.virtual
		n.virtual = false
		n.identity = o.identity
		if wasVirtual {
			// The owner is now known: check its dependents' references resolve
			// in their namespace.
			for _, d := range n.dependents {
				g.checkNamespace(d, n)
				g.enqueueDelete(d.identity.UID)
			}
		}
		added, removed, changed := diffOwners(n.owners, o.owners)
		n.owners = o.owners
		for _, r := range removed {
			if owner, ok := g.nodes[r.UID]; ok {
				delete(owner.dependents, n.identity.UID)
				g.ownerLostDependent(owner)
			}
		}
		for _, r := range changed {
			if owner, ok := g.nodes[r.UID]; ok && owner.deletingDependents {
				g.enqueueDelete(owner.identity.UID)
			}
		}
		if len(added) > 0 && g.addToOwners(n, added) {
			g.enqueueDelete(n.identity.UID)
		}
	}
	n.beingDeleted = o.deletionTimestamp
	n.deletingDependents = o.deletionTimestamp && hasString(o.finalizers, metav1.FinalizerDeleteDependents)
	n.orphaning = o.deletionTimestamp && hasString(o.finalizers, metav1.FinalizerOrphanDependents)
	if n.orphaning {
		g.enqueueOrphan(n.identity.UID)
	}
	if n.deletingDependents {
		g.enqueueDelete(n.identity.UID)
		for uid := range n.dependents {
			g.enqueueDelete(uid)
		}
	}
}

// addToOwners links n to the owners in refs, creating virtual owner nodes
// (queued for verification) for uids not in the graph. It says whether n
// itself needs verifying, as Kubernetes' graph builder decides: a reference
// to an observed owner that does not match it (another namespace, or other
// kind, name or apiVersion) may be dangling, and an owner deleting its
// dependents in the foreground must see this one go. A dependent of owners that are
// known and match is not looked at: its owners' deletion will queue it.
func (g *graph) addToOwners(n *node, refs []metav1.OwnerReference) (verify bool) {
	for _, r := range refs {
		owner, ok := g.nodes[r.UID]
		if !ok {
			owner = &node{
				identity: objectReference{APIVersion: r.APIVersion, Kind: r.Kind, Namespace: n.identity.Namespace,
					Name: r.Name, UID: r.UID},
				virtual:    true,
				dependents: map[types.UID]*node{},
			}
			g.nodes[r.UID] = owner
			g.enqueueDelete(r.UID)
		}
		owner.dependents[n.identity.UID] = n
		if owner.virtual {
			continue
		}
		g.checkNamespace(n, owner)
		id := owner.identity
		if owner.deletingDependents || (id.Namespace != "" && id.Namespace != n.identity.Namespace) ||
			id.Name != r.Name || id.Kind != r.Kind || id.APIVersion != r.APIVersion {
			verify = true
		}
	}
	return verify
}

// checkNamespace reports a namespaced dependent whose owner was observed in a
// different namespace: the reference resolves in the dependent's namespace,
// where that owner does not exist.
func (g *graph) checkNamespace(dependent, owner *node) {
	if owner.identity.Namespace != "" && owner.identity.Namespace != dependent.identity.Namespace && g.invalidNamespace != nil {
		g.invalidNamespace(dependent.identity, owner.identity)
	}
}

// ownerLostDependent requeues an owner waiting for its dependents, and drops
// a virtual owner nobody refers to any more.
func (g *graph) ownerLostDependent(owner *node) {
	if owner.deletingDependents {
		g.enqueueDelete(owner.identity.UID)
	}
	if owner.virtual && len(owner.dependents) == 0 {
		delete(g.nodes, owner.identity.UID)
	}
}

// remove applies a delete event (or, with virtualOnly, the verdict of a live
// lookup that the object is absent, which is applied only to virtual nodes).
func (g *graph) remove(uid types.UID, virtualOnly bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n, ok := g.nodes[uid]
	if !ok || (virtualOnly && !n.virtual) {
		if ok {
			// an observed object was found absent: its informer will report
			// the deletion; its dependents can be checked now.
			for d := range n.dependents {
				g.enqueueDelete(d)
			}
		}
		return
	}
	delete(g.nodes, uid)
	for _, r := range n.owners {
		if owner, ok := g.nodes[r.UID]; ok {
			delete(owner.dependents, uid)
			g.ownerLostDependent(owner)
		}
	}
	for d := range n.dependents {
		g.enqueueDelete(d)
	}
}

func diffOwners(old, cur []metav1.OwnerReference) (added, removed, changed []metav1.OwnerReference) {
	oldByUID := map[types.UID]metav1.OwnerReference{}
	for _, r := range old {
		oldByUID[r.UID] = r
	}
	curByUID := map[types.UID]bool{}
	for _, r := range cur {
		curByUID[r.UID] = true
		o, ok := oldByUID[r.UID]
		if !ok {
			added = append(added, r)
			continue
		}
		if blocks(o) && !blocks(r) {
			changed = append(changed, r)
		}
	}
	for _, r := range old {
		if !curByUID[r.UID] {
			removed = append(removed, r)
		}
	}
	return added, removed, changed
}

func blocks(r metav1.OwnerReference) bool {
	return r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion
}

// snapshot is a worker's copy of a node and of its neighbours.
type snapshot struct {
	identity           objectReference
	virtual            bool
	beingDeleted       bool
	deletingDependents bool
	orphaning          bool
	dependents         []objectReference
	// blocking are the dependents referring to it with blockOwnerDeletion.
	blocking []objectReference
	// blockingDeletingDependents are those blocking dependents that are
	// themselves waiting for their own dependents.
	blockingDeletingDependents map[types.UID]bool
	// dependentsDeletingDependents: any dependent is deleting its dependents.
	dependentsDeletingDependents bool
}

func (g *graph) snapshot(uid types.UID) (snapshot, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.nodes[uid]
	if !ok {
		return snapshot{}, false
	}
	s := snapshot{identity: n.identity, virtual: n.virtual, beingDeleted: n.beingDeleted,
		deletingDependents: n.deletingDependents, orphaning: n.orphaning, blockingDeletingDependents: map[types.UID]bool{}}
	for _, d := range n.dependents {
		s.dependents = append(s.dependents, d.identity)
		if d.deletingDependents {
			s.dependentsDeletingDependents = true
		}
	}
	for _, d := range n.blockingDependents() {
		s.blocking = append(s.blocking, d.identity)
		if d.deletingDependents {
			s.blockingDeletingDependents[d.identity.UID] = true
		}
	}
	return s, true
}

// observedNamespace returns the namespace of an observed node with that uid.
func (g *graph) observedNamespace(uid types.UID) (string, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.nodes[uid]
	if !ok || n.virtual {
		return "", false
	}
	return n.identity.Namespace, true
}

// size returns the number of nodes.
func (g *graph) size() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.nodes)
}
