package garbagecollector

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery/cached/memory"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/herd-project/herd/pkg/controller/garbagecollector/metadatafake"
)

var (
	deployments  = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	replicasets  = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
	pods         = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	configmaps   = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	clusterroles = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
)

var allVerbs = metav1.Verbs{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

func newDiscovery() *fakediscovery.FakeDiscovery {
	d := &fakediscovery.FakeDiscovery{Fake: &fake.NewSimpleClientset().Fake}
	d.Resources = []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "pods", Kind: "Pod", Namespaced: true, Verbs: allVerbs},
			{Name: "pods/status", Kind: "Pod", Namespaced: true, Verbs: metav1.Verbs{"get", "patch"}},
			{Name: "configmaps", Kind: "ConfigMap", Namespaced: true, Verbs: allVerbs},
			{Name: "events", Kind: "Event", Namespaced: true, Verbs: allVerbs},
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			{Name: "deployments", Kind: "Deployment", Namespaced: true, Verbs: allVerbs},
			{Name: "replicasets", Kind: "ReplicaSet", Namespaced: true, Verbs: allVerbs},
		}},
		{GroupVersion: "rbac.authorization.k8s.io/v1", APIResources: []metav1.APIResource{
			{Name: "clusterroles", Kind: "ClusterRole", Namespaced: false, Verbs: allVerbs},
		}},
	}
	return d
}

type env struct {
	t        *testing.T
	md       *metadatafake.Client
	gc       *Controller
	recorder *record.FakeRecorder
}

func start(t *testing.T) *env {
	t.Helper()
	md := metadatafake.New()
	rec := record.NewFakeRecorder(100)
	gc := New(fake.NewSimpleClientset(), md, newDiscovery(), rec, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); gc.Run(ctx, 2) }()
	t.Cleanup(func() { cancel(); <-done })
	return &env{t: t, md: md, gc: gc, recorder: rec}
}

func ref(apiVersion, kind string, owner *metav1.PartialObjectMetadata, block bool) metav1.OwnerReference {
	t := true
	r := metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: owner.Name, UID: owner.UID, Controller: &t}
	if block {
		r.BlockOwnerDeletion = &t
	}
	return r
}

func (e *env) add(gvr schema.GroupVersionResource, ns, name string, owners ...metav1.OwnerReference) *metav1.PartialObjectMetadata {
	return e.md.Add(gvr, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Namespace: ns, Name: name, OwnerReferences: owners}})
}

func (e *env) delete(gvr schema.GroupVersionResource, o *metav1.PartialObjectMetadata, policy metav1.DeletionPropagation) {
	e.t.Helper()
	if err := e.md.Resource(gvr).Namespace(o.Namespace).Delete(context.Background(), o.Name,
		metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 30*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		e.t.Fatalf("timed out waiting for %s; actions: %+v", what, e.md.Actions())
	}
}

func (e *env) gone(gvr schema.GroupVersionResource, o *metav1.PartialObjectMetadata) func() bool {
	return func() bool { return e.md.Object(gvr, o.Namespace, o.Name) == nil }
}

// settle waits for the collector's queues to drain and stay idle.
func (e *env) settle() {
	e.t.Helper()
	idle := 0
	e.waitFor("queues to drain", func() bool {
		if e.gc.attemptToDelete.Len() == 0 && e.gc.attemptToOrphan.Len() == 0 {
			idle++
		} else {
			idle = 0
		}
		return idle > 100 // 0.5 s idle: informer events and in-flight work have landed
	})
}

func (e *env) deleteActions() []string {
	var out []string
	for _, a := range e.md.Actions() {
		if a.Verb == "delete" {
			out = append(out, fmt.Sprintf("%s/%s/%s:%s", a.Resource.Resource, a.Namespace, a.Name, a.Policy))
		}
	}
	return out
}

func TestBackgroundCascadeThreeLevels(t *testing.T) {
	e := start(t)
	d := e.add(deployments, "ns", "web")
	rs := e.add(replicasets, "ns", "web-1", ref("apps/v1", "Deployment", d, true))
	p1 := e.add(pods, "ns", "web-1-a", ref("apps/v1", "ReplicaSet", rs, true))
	p2 := e.add(pods, "ns", "web-1-b", ref("apps/v1", "ReplicaSet", rs, true))
	other := e.add(pods, "ns", "unowned")
	e.settle()
	if len(e.deleteActions()) != 0 {
		t.Fatalf("nothing should be deleted while owners exist: %v", e.deleteActions())
	}
	e.delete(deployments, d, metav1.DeletePropagationBackground)
	e.waitFor("pods deleted", func() bool { return e.gone(pods, p1)() && e.gone(pods, p2)() && e.gone(replicasets, rs)() })
	e.settle()
	if e.md.Object(pods, "ns", other.Name) == nil {
		t.Fatal("unowned pod deleted")
	}
	got := strings.Join(e.deleteActions(), ",")
	want := "deployments/ns/web:Background,replicasets/ns/web-1:Background,"
	if !strings.HasPrefix(got, want) || len(e.deleteActions()) != 4 {
		t.Fatalf("delete actions = %s", got)
	}
}

// TestNoLookupsForMatchingOwners: dependents whose owners are in the graph
// and match their references cost no API call (a Job of 10,000 pods must
// not mean 20,000 GETs); a reference that does not match is verified.
func TestNoLookupsForMatchingOwners(t *testing.T) {
	e := start(t)
	// A dependent seen before its owner makes a virtual owner, which is
	// looked up: let the graph see each owner first.
	observed := func(o *metav1.PartialObjectMetadata) func() bool {
		return func() bool {
			e.gc.graph.mu.Lock()
			defer e.gc.graph.mu.Unlock()
			n, ok := e.gc.graph.nodes[o.UID]
			return ok && !n.virtual
		}
	}
	d := e.add(deployments, "ns", "web")
	e.waitFor("deployment observed", observed(d))
	rs := e.add(replicasets, "ns", "web-1", ref("apps/v1", "Deployment", d, true))
	e.waitFor("replicaset observed", observed(rs))
	for i := 0; i < 20; i++ {
		e.add(pods, "ns", fmt.Sprintf("web-1-%d", i), ref("apps/v1", "ReplicaSet", rs, true))
	}
	e.settle()
	for _, a := range e.md.Actions() {
		if a.Verb == "get" {
			t.Fatalf("lookup of %s/%s for a dependent of known owners", a.Resource.Resource, a.Name)
		}
	}
	// Same uid, other name: the dependent is checked (and is dangling).
	bad := ref("apps/v1", "ReplicaSet", rs, true)
	bad.Name = "not-web-1"
	p := e.add(pods, "ns", "mismatch", bad)
	e.waitFor("mismatched dependent deleted", e.gone(pods, p))
}

func TestForegroundDeletionOrderAndFinalizer(t *testing.T) {
	e := start(t)
	d := e.add(deployments, "ns", "web")
	rs := e.add(replicasets, "ns", "web-1", ref("apps/v1", "Deployment", d, true))
	p1 := e.add(pods, "ns", "web-1-a", ref("apps/v1", "ReplicaSet", rs, true))
	p2 := e.add(pods, "ns", "web-1-b", ref("apps/v1", "ReplicaSet", rs, true))
	e.settle()
	e.delete(deployments, d, metav1.DeletePropagationForeground)
	if o := e.md.Object(deployments, "ns", "web"); o == nil || o.DeletionTimestamp == nil {
		t.Fatal("foreground delete should leave the deployment with a deletionTimestamp")
	}
	e.waitFor("deployment gone", e.gone(deployments, d))
	for _, o := range []*metav1.PartialObjectMetadata{p1, p2} {
		if !e.gone(pods, o)() {
			t.Fatalf("pod %s left", o.Name)
		}
	}
	if !e.gone(replicasets, rs)() {
		t.Fatal("replicaset left")
	}
	// Order: the RS is deleted in foreground (it has dependents), its pods
	// go, then the RS finalizer is removed, then the deployment's.
	// A repeated delete of an object already being deleted is harmless
	// (the graph may not have observed the first one yet): count it once.
	var seq []string
	seen := map[string]bool{}
	for _, a := range e.md.Actions() {
		switch {
		case a.Verb == "delete":
			step := "delete " + a.Name + ":" + string(a.Policy)
			if !seen[step] {
				seen[step] = true
				seq = append(seq, step)
			}
		case a.Verb == "patch" && strings.Contains(a.Patch, `"finalizers":[]`):
			seq = append(seq, "unfinalize "+a.Name)
		}
	}
	got := strings.Join(seq, ",")
	wantA := "delete web:Foreground,delete web-1:Foreground,delete web-1-a:Background,delete web-1-b:Background,unfinalize web-1,unfinalize web"
	wantB := "delete web:Foreground,delete web-1:Foreground,delete web-1-b:Background,delete web-1-a:Background,unfinalize web-1,unfinalize web"
	if got != wantA && got != wantB {
		t.Fatalf("sequence = %s", got)
	}
}

func TestForegroundOwnerNotBlockedByNonBlockingDependent(t *testing.T) {
	e := start(t)
	d := e.add(configmaps, "ns", "owner")
	nb := e.add(pods, "ns", "nonblocking", ref("v1", "ConfigMap", d, false))
	e.settle()
	// hold the dependent: it cannot be deleted
	e.md.BeforeDelete = func(gvr schema.GroupVersionResource, ns, name string) error {
		if name == "nonblocking" {
			return fmt.Errorf("refused")
		}
		return nil
	}
	e.delete(configmaps, d, metav1.DeletePropagationForeground)
	e.waitFor("owner gone although a non-blocking dependent remains", e.gone(configmaps, d))
	if e.gone(pods, nb)() {
		t.Fatal("dependent should still exist (its deletion is refused)")
	}
}

func TestOrphanRemovesOwnerRefsAndFinalizer(t *testing.T) {
	e := start(t)
	rs := e.add(replicasets, "ns", "web-1")
	keep := e.add(configmaps, "ns", "other-owner")
	p1 := e.add(pods, "ns", "a", ref("apps/v1", "ReplicaSet", rs, true))
	p2 := e.add(pods, "ns", "b", ref("apps/v1", "ReplicaSet", rs, true), ref("v1", "ConfigMap", keep, false))
	e.settle()
	e.delete(replicasets, rs, metav1.DeletePropagationOrphan)
	e.waitFor("replicaset gone", e.gone(replicasets, rs))
	e.settle()
	a := e.md.Object(pods, "ns", p1.Name)
	b := e.md.Object(pods, "ns", p2.Name)
	if a == nil || b == nil {
		t.Fatalf("orphaned pods deleted: %v", e.deleteActions())
	}
	if len(a.OwnerReferences) != 0 {
		t.Fatalf("pod a owner refs = %+v", a.OwnerReferences)
	}
	if len(b.OwnerReferences) != 1 || b.OwnerReferences[0].UID != keep.UID {
		t.Fatalf("pod b owner refs = %+v", b.OwnerReferences)
	}
	if got := e.deleteActions(); len(got) != 1 {
		t.Fatalf("deletes = %v", got)
	}
}

func TestUIDMismatchOwnerIsAbsent(t *testing.T) {
	e := start(t)
	// The owner named "cm" exists, but with another uid: the reference is to
	// a previous incarnation.
	e.add(configmaps, "ns", "cm")
	stale := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "cm", UID: types.UID("old-uid")}
	p := e.add(pods, "ns", "p", stale)
	e.waitFor("dependent of a stale owner deleted", e.gone(pods, p))
	e.settle()
	if e.md.Object(configmaps, "ns", "cm") == nil {
		t.Fatal("the live object with the same name must not be deleted")
	}
}

func TestPartlyDanglingRefsArePatchedOut(t *testing.T) {
	e := start(t)
	live := e.add(configmaps, "ns", "live")
	gone := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "gone", UID: "gone-uid"}
	p := e.add(pods, "ns", "p", ref("v1", "ConfigMap", live, false), gone)
	e.waitFor("dangling ref removed", func() bool {
		o := e.md.Object(pods, "ns", "p")
		return o != nil && len(o.OwnerReferences) == 1 && o.OwnerReferences[0].UID == live.UID
	})
	e.settle()
	if e.gone(pods, p)() {
		t.Fatal("pod with a live owner deleted")
	}
}

func TestOwnerInOtherNamespaceNotUsed(t *testing.T) {
	e := start(t)
	owner := e.add(configmaps, "a", "cm")
	e.settle()
	p := e.add(pods, "b", "p", ref("v1", "ConfigMap", owner, false))
	e.waitFor("dependent deleted", e.gone(pods, p))
	e.settle()
	if e.md.Object(configmaps, "a", "cm") == nil {
		t.Fatal("owner in the other namespace deleted")
	}
	want := fmt.Sprintf("Warning OwnerRefInvalidNamespace ownerRef [v1/ConfigMap, namespace: b, name: cm, uid: %s] does not exist in namespace \"b\"", owner.UID)
	if !hasEvent(e.recorder, want) {
		t.Fatalf("missing event %q", want)
	}
}

func TestClusterScopedDependentWithNamespacedOwner(t *testing.T) {
	e := start(t)
	owner := e.add(configmaps, "a", "cm")
	cr := e.add(clusterroles, "", "role", ref("v1", "ConfigMap", owner, false))
	want := fmt.Sprintf("Warning OwnerRefInvalidNamespace ownerRef [v1/ConfigMap, namespace: , name: cm, uid: %s] does not exist in namespace \"\"", owner.UID)
	e.waitFor("event", func() bool { return hasEvent(e.recorder, want) })
	e.settle()
	if e.gone(clusterroles, cr)() {
		t.Fatal("cluster-scoped dependent deleted")
	}
}

func TestClusterScopedOwnerOfNamespacedDependent(t *testing.T) {
	e := start(t)
	cr := e.add(clusterroles, "", "role")
	p := e.add(pods, "ns", "p", ref("rbac.authorization.k8s.io/v1", "ClusterRole", cr, true))
	e.settle()
	if e.gone(pods, p)() {
		t.Fatal("dependent of a live cluster-scoped owner deleted")
	}
	e.delete(clusterroles, cr, metav1.DeletePropagationBackground)
	e.waitFor("dependent deleted", e.gone(pods, p))
}

func TestCycleTerminates(t *testing.T) {
	e := start(t)
	a := e.add(configmaps, "ns", "a")
	b := e.add(configmaps, "ns", "b", ref("v1", "ConfigMap", a, true))
	a = e.md.Add(configmaps, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Namespace: "ns", Name: "a", UID: a.UID, OwnerReferences: []metav1.OwnerReference{ref("v1", "ConfigMap", b, true)}}})
	e.settle()
	if e.gone(configmaps, a)() || e.gone(configmaps, b)() {
		t.Fatal("live cycle collected")
	}
	e.delete(configmaps, a, metav1.DeletePropagationForeground)
	e.waitFor("both members of the cycle gone", func() bool { return e.gone(configmaps, a)() && e.gone(configmaps, b)() })
}

func TestRecreatedObjectNotDeleted(t *testing.T) {
	e := start(t)
	owner := e.add(configmaps, "ns", "owner")
	p := e.add(pods, "ns", "p", ref("v1", "ConfigMap", owner, false))
	e.settle()
	// The pod is replaced by a new one of the same name without owners
	// before its owner goes: the new pod must survive.
	if err := e.md.Resource(pods).Namespace("ns").Delete(context.Background(), "p", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	replaced := e.add(pods, "ns", "p")
	e.delete(configmaps, owner, metav1.DeletePropagationBackground)
	e.settle()
	cur := e.md.Object(pods, "ns", "p")
	if cur == nil || cur.UID != replaced.UID || cur.UID == p.UID {
		t.Fatalf("recreated pod deleted: %v", e.deleteActions())
	}
}

func TestDeletePreconditionUsesUID(t *testing.T) {
	e := start(t)
	e.gc.mu.Lock()
	e.gc.mapping[schema.GroupVersionKind{Version: "v1", Kind: "Pod"}] = resourceInfo{gvr: pods, namespaced: true}
	e.gc.mu.Unlock()
	old := e.add(pods, "ns", "p")
	e.md.Resource(pods).Namespace("ns").Delete(context.Background(), "p", metav1.DeleteOptions{})
	fresh := e.add(pods, "ns", "p")
	err := e.gc.deleteObject(context.Background(), objectReference{APIVersion: "v1", Kind: "Pod", Namespace: "ns", Name: "p", UID: old.UID}, old, metav1.DeletePropagationBackground)
	if err != errRequeue {
		t.Fatalf("err = %v, want a requeue (the uid changed)", err)
	}
	if cur := e.md.Object(pods, "ns", "p"); cur == nil || cur.UID != fresh.UID {
		t.Fatal("a recreated object was deleted")
	}
}

func TestVirtualOwnerNeverCreatedIsResolvedAbsent(t *testing.T) {
	e := start(t)
	p := e.add(pods, "ns", "p", metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "nope", UID: "nope"})
	e.waitFor("pod deleted", e.gone(pods, p))
	e.settle()
	if n := e.gc.graph.size(); n != 0 {
		t.Fatalf("graph should be empty, has %d nodes", n)
	}
}

func TestEventsAreIgnored(t *testing.T) {
	e := start(t)
	e.settle()
	e.gc.mu.RLock()
	defer e.gc.mu.RUnlock()
	if _, ok := e.gc.monitors[schema.GroupVersionResource{Version: "v1", Resource: "events"}]; ok {
		t.Fatal("events watched")
	}
	if len(e.gc.monitors) != 5 {
		t.Fatalf("monitors = %d, want 5", len(e.gc.monitors))
	}
}

func hasEvent(r *record.FakeRecorder, want string) bool {
	for {
		select {
		case ev := <-r.Events:
			if ev == want {
				return true
			}
		default:
			return false
		}
	}
}

func TestNewKindsFoundByRediscovery(t *testing.T) {
	md := metadatafake.New()
	disc := newDiscovery()
	clk := clocktesting.NewFakeClock(time.Now())
	// through a caching client, as the server wires it: re-discovery must
	// invalidate it.
	gc := New(fake.NewSimpleClientset(), md, memory.NewMemCacheClient(disc), record.NewFakeRecorder(10), Options{Clock: clk})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); gc.Run(ctx, 1) }()
	t.Cleanup(func() { cancel(); <-done })
	e := &env{t: t, md: md, gc: gc}
	e.settle()

	widgets := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	disc.Resources = append(disc.Resources, &metav1.APIResourceList{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
		{Name: "widgets", Kind: "Widget", Namespaced: true, Verbs: allVerbs}}})
	owner := e.add(configmaps, "ns", "owner")
	w := e.add(widgets, "ns", "w", ref("v1", "ConfigMap", owner, false))
	e.waitFor("ticker", clk.HasWaiters)
	clk.Step(DefaultDiscoveryPeriod)
	e.waitFor("widgets watched", func() bool {
		gc.mu.RLock()
		defer gc.mu.RUnlock()
		m, ok := gc.monitors[widgets]
		return ok && m.informer.HasSynced()
	})
	e.delete(configmaps, owner, metav1.DeletePropagationBackground)
	e.waitFor("widget collected", e.gone(widgets, w))
}

func TestForegroundDeletionResumesAfterRestart(t *testing.T) {
	// State left by a server killed in the middle of a foreground deletion:
	// the owner has its deletionTimestamp and finalizer, a dependent remains.
	md := metadatafake.New()
	owner := md.Add(replicasets, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "rs"}})
	tr := true
	md.Add(pods, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: owner.UID, BlockOwnerDeletion: &tr}}}})
	fg := metav1.DeletePropagationForeground
	if err := md.Resource(replicasets).Namespace("ns").Delete(context.Background(), "rs", metav1.DeleteOptions{PropagationPolicy: &fg}); err != nil {
		t.Fatal(err)
	}
	gc := New(fake.NewSimpleClientset(), md, newDiscovery(), record.NewFakeRecorder(10), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); gc.Run(ctx, 1) }()
	t.Cleanup(func() { cancel(); <-done })
	e := &env{t: t, md: md, gc: gc}
	e.waitFor("owner and dependent gone", func() bool {
		return md.Object(replicasets, "ns", "rs") == nil && md.Object(pods, "ns", "p") == nil
	})
}

func TestManyDependentsCollectedAndGraphEmptied(t *testing.T) {
	e := start(t)
	job := e.add(configmaps, "ns", "job")
	const n = 3000
	for i := 0; i < n; i++ {
		e.add(pods, "ns", fmt.Sprintf("p-%d", i), ref("v1", "ConfigMap", job, true))
	}
	e.settle()
	if got := e.gc.graph.size(); got != n+1 {
		t.Fatalf("graph has %d nodes, want %d", got, n+1)
	}
	begin := time.Now()
	e.delete(configmaps, job, metav1.DeletePropagationBackground)
	e.waitFor("all pods collected", func() bool { return len(e.md.Names(pods)) == 0 })
	t.Logf("collected %d dependents in %v", n, time.Since(begin))
	e.waitFor("graph emptied", func() bool { return e.gc.graph.size() == 0 })
	deletes := 0
	for _, a := range e.md.Actions() {
		if a.Verb == "delete" {
			deletes++
		}
	}
	if deletes != n+1 {
		t.Fatalf("%d deletes, want %d", deletes, n+1)
	}
}
