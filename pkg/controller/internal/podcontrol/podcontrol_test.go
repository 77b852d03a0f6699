package podcontrol

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
)

func pod(ns, name string, owner types.UID) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if owner != "" {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "o", UID: owner, Controller: ptr.To(true)}}
	}
	return p
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Namespace+"/"+p.Name)
	}
	return out
}

func TestAddPodIndexIsIdempotentOnTheSharedInformer(t *testing.T) {
	factory := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	inf := factory.Core().V1().Pods().Informer()
	for i := 0; i < 3; i++ {
		if err := AddPodIndex(factory.Core().V1().Pods().Informer()); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := len(inf.GetIndexer().GetIndexers()); n != 2 { // namespace + ours
		t.Fatalf("%d indexes on the pod informer, want 2: %v", n, inf.GetIndexer().GetIndexers())
	}
}

func TestLookups(t *testing.T) {
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{PodControllerUIDIndex: indexByControllerUID})
	for _, p := range []*corev1.Pod{
		pod("a", "owned1", "u1"), pod("a", "owned2", "u1"), pod("b", "ownedElsewhere", "u1"),
		pod("a", "other", "u2"), pod("a", "orphan", ""), pod("b", "orphanB", ""),
	} {
		if err := idx.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	owned, err := ControlledPods(idx, "a", "u1")
	if err != nil || len(owned) != 2 {
		t.Fatalf("ControlledPods = %v, %v; want a/owned1, a/owned2", names(owned), err)
	}
	orphans, err := OrphanPods(idx, "a")
	if err != nil || len(orphans) != 1 || orphans[0].Name != "orphan" {
		t.Fatalf("OrphanPods = %v, %v; want a/orphan", names(orphans), err)
	}
	all, err := ControlledAndOrphanPods(idx, "a", "u1")
	if err != nil || len(all) != 3 {
		t.Fatalf("ControlledAndOrphanPods = %v, %v; want 3 pods", names(all), err)
	}
	if _, err := ControlledPods(idx, "a", ""); err == nil {
		t.Fatal("a lookup without owner UID succeeded")
	}
}

func TestLookupWithoutIndexIsAnError(t *testing.T) {
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	if pods, err := ControlledPods(idx, "a", "u1"); err == nil {
		t.Fatalf("lookup without the index returned %v and no error", names(pods))
	}
	if _, err := ControlledAndOrphanPods(idx, "a", "u1"); err == nil {
		t.Fatal("lookup without the index returned no error")
	}
}

func TestExpectations(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := NewExpectations(clk)
	if !e.Satisfied("k") {
		t.Fatal("unknown key not satisfied")
	}
	e.ExpectCreations("k", 2)
	e.ExpectDeletions("k", []string{"p1"}) // adds to pending creations
	if adds, dels, _ := e.Pending("k"); adds != 2 || dels != 1 {
		t.Fatalf("pending %d/%d, want 2/1", adds, dels)
	}
	e.CreationObserved("k")
	e.LowerCreations("k", 5) // never below zero
	e.DeletionObserved("k", "p2")
	if e.Satisfied("k") {
		t.Fatal("satisfied with p1's deletion pending")
	}
	e.DeletionObserved("k", "p1")
	e.DeletionObserved("k", "p1")
	if !e.Satisfied("k") {
		t.Fatal("not satisfied after everything was observed")
	}
	// A met record starts afresh: new expectations do not add to old ones.
	e.ExpectCreations("k", 1)
	if adds, _, _ := e.Pending("k"); adds != 1 {
		t.Fatalf("pending adds %d, want 1", adds)
	}
	clk.Step(ExpectationsTimeout + time.Second)
	if !e.Satisfied("k") {
		t.Fatal("expectations did not expire")
	}
	e.ExpectCreations("k", 1)
	if adds, _, _ := e.Pending("k"); adds != 1 {
		t.Fatalf("expired expectations carried over: pending adds %d, want 1", adds)
	}
}

func TestFinalizerRemovalExpectations(t *testing.T) {
	e := NewExpectations(testingclock.NewFakeClock(time.Now()))
	e.ExpectFinalizerRemoval("k", "u1")
	e.ExpectFinalizerRemoval("k", "u2")
	e.ExpectFinalizerRemoval("j", "u3")
	if !e.Satisfied("k") {
		t.Fatal("finalizer removals must not block a sync")
	}
	e.FinalizerRemovalObserved("k", "u1")
	e.FinalizerRemovalObservedAnywhere("u3")
	got := e.ExpectedFinalizerRemovals("k")
	if got.Len() != 1 || !got.Has("u2") {
		t.Fatalf("k awaits %v, want [u2]", got.UnsortedList())
	}
	got.Insert("x") // a copy
	if e.ExpectedFinalizerRemovals("k").Has("x") {
		t.Fatal("ExpectedFinalizerRemovals returned the internal set")
	}
	if e.ExpectedFinalizerRemovals("j").Len() != 0 {
		t.Fatal("u3 still awaited under j")
	}
	e.Delete("k")
	if e.ExpectedFinalizerRemovals("k").Len() != 0 {
		t.Fatal("Delete kept the finalizer removals")
	}
}
