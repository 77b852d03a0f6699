package namespace

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/herd-project/herd/pkg/controller/garbagecollector/metadatafake"
)

var (
	podsGVR    = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	cmGVR      = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	widgetsGVR = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	t0         = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

var allVerbs = metav1.Verbs{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

type parseFailDiscovery struct {
	*fakediscovery.FakeDiscovery
}

func (d parseFailDiscovery) ServerGroupsAndResources() ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	g, l, err := d.FakeDiscovery.ServerGroupsAndResources()
	return g, append(l, &metav1.APIResourceList{GroupVersion: "bad/group/version"}), err
}

type env struct {
	t      *testing.T
	client *fake.Clientset
	md     *metadatafake.Client
	disc   *fakediscovery.FakeDiscovery
	clock  *clocktesting.FakeClock
	c      *Controller
}

func newEnv(t *testing.T, ns *corev1.Namespace, objs ...runtime.Object) *env {
	client := fake.NewSimpleClientset(append([]runtime.Object{ns}, objs...)...)
	disc := &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{}}
	disc.Resources = []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "pods", Kind: "Pod", Namespaced: true, Verbs: allVerbs},
			{Name: "pods/status", Kind: "Pod", Namespaced: true, Verbs: metav1.Verbs{"get", "patch"}},
			{Name: "configmaps", Kind: "ConfigMap", Namespaced: true, Verbs: allVerbs},
			{Name: "nodes", Kind: "Node", Namespaced: false, Verbs: allVerbs},
		}},
		{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
			{Name: "widgets", Kind: "Widget", Namespaced: true, Verbs: metav1.Verbs{"delete", "get", "list"}},
		}},
	}
	e := &env{t: t, client: client, md: metadatafake.New(), disc: disc, clock: clocktesting.NewFakeClock(t0)}
	e.md.Now = e.clock.Now
	factory := informers.NewSharedInformerFactory(client, 0)
	inf := factory.Core().V1().Namespaces()
	e.c = New(client, e.md, disc, inf, e.clock)
	if err := inf.Informer().GetIndexer().Add(ns); err != nil {
		t.Fatal(err)
	}
	return e
}

func terminating(name string) *corev1.Namespace {
	now := metav1.NewTime(t0)
	return &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name, DeletionTimestamp: &now},
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating},
	}
}

func (e *env) add(gvr schema.GroupVersionResource, ns, name string, finalizers ...string) {
	e.md.Add(gvr, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Finalizers: finalizers}})
}

func (e *env) ns(name string) *corev1.Namespace {
	ns, err := e.client.CoreV1().Namespaces().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return ns
}

func (e *env) finalized() bool {
	for _, a := range e.client.Actions() {
		if a.GetVerb() == "create" && a.GetSubresource() == "finalize" {
			return true
		}
	}
	return false
}

func condition(ns *corev1.Namespace, t corev1.NamespaceConditionType) corev1.NamespaceCondition {
	for _, c := range ns.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return corev1.NamespaceCondition{}
}

func checkCondition(t *testing.T, ns *corev1.Namespace, typ corev1.NamespaceConditionType, status corev1.ConditionStatus, reason, message string) {
	t.Helper()
	c := condition(ns, typ)
	if c.Status != status || c.Reason != reason || c.Message != message {
		t.Fatalf("%s = %s/%s/%q, want %s/%s/%q", typ, c.Status, c.Reason, c.Message, status, reason, message)
	}
}

func checkAllOK(t *testing.T, ns *corev1.Namespace) {
	t.Helper()
	if len(ns.Status.Conditions) != 5 {
		t.Fatalf("conditions = %+v", ns.Status.Conditions)
	}
	for typ, ok := range okConditions {
		checkCondition(t, ns, typ, corev1.ConditionFalse, ok[0], ok[1])
	}
}

func TestDeletesAllContentThenFinalizes(t *testing.T) {
	e := newEnv(t, terminating("team-a"))
	e.add(podsGVR, "team-a", "p1")
	e.add(cmGVR, "team-a", "c1")
	e.add(widgetsGVR, "team-a", "w1")
	e.add(widgetsGVR, "team-a", "w2")
	e.add(cmGVR, "team-b", "keep")
	if err := e.c.sync(context.Background(), "team-a"); err != nil {
		t.Fatal(err)
	}
	for _, gvr := range []schema.GroupVersionResource{podsGVR, cmGVR, widgetsGVR} {
		for _, n := range e.md.Names(gvr) {
			if strings.HasPrefix(n, "team-a/") {
				t.Fatalf("%s left in team-a", n)
			}
		}
	}
	if e.md.Object(cmGVR, "team-b", "keep") == nil {
		t.Fatal("object in another namespace deleted")
	}
	var verbs []string
	for _, a := range e.md.Actions() {
		verbs = append(verbs, a.Verb+" "+a.Resource.Resource+" "+a.Name)
	}
	want := "deletecollection configmaps ,delete configmaps c1,deletecollection pods ,delete pods p1,delete widgets w1,delete widgets w2"
	if got := strings.Join(verbs, ","); got != want {
		t.Fatalf("actions = %s, want %s", got, want)
	}
	ns := e.ns("team-a")
	if !e.finalized() || len(ns.Spec.Finalizers) != 0 {
		t.Fatalf("not finalized: %+v", ns.Spec.Finalizers)
	}
	checkAllOK(t, ns)
}

func TestFinalizersKeepNamespaceUntilRemoved(t *testing.T) {
	e := newEnv(t, terminating("team-a"))
	e.add(cmGVR, "team-a", "held", "example.com/hold")
	e.add(widgetsGVR, "team-a", "w", "example.com/hold", "example.com/other")
	err := e.c.sync(context.Background(), "team-a")
	var rr *ResourcesRemainingError
	if !errors.As(err, &rr) || rr.Estimate != 1 {
		t.Fatalf("err = %v, want ResourcesRemainingError{1}", err)
	}
	if e.finalized() {
		t.Fatal("finalized with content left")
	}
	ns := e.ns("team-a")
	checkCondition(t, ns, corev1.NamespaceContentRemaining, corev1.ConditionTrue, "SomeResourcesRemain",
		"Some resources are remaining: configmaps. has 1 resource instances, widgets.example.com has 1 resource instances")
	checkCondition(t, ns, corev1.NamespaceFinalizersRemaining, corev1.ConditionTrue, "SomeFinalizersRemain",
		"Some content in the namespace has finalizers remaining: example.com/hold in 2 resource instances, example.com/other in 1 resource instances")
	checkCondition(t, ns, corev1.NamespaceDeletionContentFailure, corev1.ConditionFalse, "ContentDeleted",
		"All content successfully deleted, may be waiting on finalization")
	firstTransition := condition(ns, corev1.NamespaceDeletionContentFailure).LastTransitionTime

	// the finalizers' owners finish
	for _, x := range []struct {
		gvr  schema.GroupVersionResource
		name string
	}{{cmGVR, "held"}, {widgetsGVR, "w"}} {
		if _, err := e.md.Resource(x.gvr).Namespace("team-a").Patch(context.Background(), x.name, "application/merge-patch+json",
			[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Step(time.Minute)
	if err := e.c.sync(context.Background(), "team-a"); err != nil {
		t.Fatal(err)
	}
	ns = e.ns("team-a")
	if !e.finalized() || len(ns.Spec.Finalizers) != 0 {
		t.Fatal("not finalized once empty")
	}
	checkAllOK(t, ns)
	if got := condition(ns, corev1.NamespaceDeletionContentFailure).LastTransitionTime; !got.Equal(&firstTransition) {
		t.Fatalf("unchanged condition moved its transition time: %v -> %v", firstTransition, got)
	}
	if got := condition(ns, corev1.NamespaceContentRemaining).LastTransitionTime; !got.Time.Equal(t0.Add(time.Minute)) {
		t.Fatalf("changed condition transition time = %v", got)
	}
}

func TestTerminatingPodsRequeueAfterGracePeriod(t *testing.T) {
	grace := int64(30)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "p"},
		Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace}}
	done := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "done"},
		Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &[]int64{300}[0]}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}
	e := newEnv(t, terminating("team-a"), pod, done)
	// the API server keeps a gracefully deleted pod until the kubelet is done
	e.add(podsGVR, "team-a", "p", "hold-for-test")
	e.c.queue.Add("team-a")
	if !e.c.processNext(context.Background()) {
		t.Fatal("queue shut down")
	}
	if e.finalized() {
		t.Fatal("finalized with a pod terminating")
	}
	if e.c.queue.Len() != 0 {
		t.Fatal("requeued without delay")
	}
	e.clock.Step(15 * time.Second)
	time.Sleep(20 * time.Millisecond)
	if e.c.queue.Len() != 0 {
		t.Fatal("requeued before estimate/2+1 = 16 s")
	}
	e.clock.Step(time.Second)
	deadline := time.Now().Add(2 * time.Second)
	for e.c.queue.Len() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("not requeued after 16 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDiscoveryFailure(t *testing.T) {
	e := newEnv(t, terminating("team-a"))
	e.disc.PrependReactor("get", "group", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, fmt.Errorf("connection refused")
	})
	if err := e.c.sync(context.Background(), "team-a"); err == nil {
		t.Fatal("want an error")
	}
	if e.finalized() {
		t.Fatal("finalized without discovery")
	}
	checkCondition(t, e.ns("team-a"), corev1.NamespaceDeletionDiscoveryFailure, corev1.ConditionTrue, "DiscoveryFailed", "connection refused")
}

func TestGroupVersionParsingFailure(t *testing.T) {
	e := newEnv(t, terminating("team-a"))
	e.c.discovery = parseFailDiscovery{e.disc}
	e.add(cmGVR, "team-a", "c")
	if err := e.c.sync(context.Background(), "team-a"); err == nil {
		t.Fatal("want an error")
	}
	if e.finalized() {
		t.Fatal("finalized although a group version could not be parsed")
	}
	if e.md.Object(cmGVR, "team-a", "c") != nil {
		t.Fatal("parsable resources should still be emptied")
	}
	checkCondition(t, e.ns("team-a"), corev1.NamespaceDeletionGVParsingFailure, corev1.ConditionTrue, "GroupVersionParsingFailed",
		"unexpected GroupVersion string: bad/group/version")
}

func TestContentDeletionFailure(t *testing.T) {
	e := newEnv(t, terminating("team-a"))
	e.add(cmGVR, "team-a", "c")
	e.md.BeforeDelete = func(gvr schema.GroupVersionResource, ns, name string) error {
		return fmt.Errorf("etcd is sad")
	}
	if err := e.c.sync(context.Background(), "team-a"); err == nil {
		t.Fatal("want an error")
	}
	if e.finalized() {
		t.Fatal("finalized although content could not be deleted")
	}
	checkCondition(t, e.ns("team-a"), corev1.NamespaceDeletionContentFailure, corev1.ConditionTrue, "ContentDeletionFailed", "etcd is sad")
}

func TestIgnoresActiveAndFinalizedNamespaces(t *testing.T) {
	active := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "active"},
		Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}}}
	e := newEnv(t, active)
	e.add(cmGVR, "active", "c")
	if err := e.c.sync(context.Background(), "active"); err != nil {
		t.Fatal(err)
	}
	if len(e.md.Actions()) != 0 || e.finalized() {
		t.Fatal("active namespace touched")
	}
	done := terminating("done")
	done.Spec.Finalizers = nil
	e2 := newEnv(t, done)
	e2.add(cmGVR, "done", "c")
	if err := e2.c.sync(context.Background(), "done"); err != nil {
		t.Fatal(err)
	}
	if len(e2.md.Actions()) != 0 || e2.finalized() {
		t.Fatal("finalized namespace touched")
	}
}

func TestRunFinalizesTerminatingNamespaceFromInformer(t *testing.T) {
	client := fake.NewSimpleClientset(terminating("team-a"))
	disc := &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{}}
	disc.Resources = []*metav1.APIResourceList{{GroupVersion: "v1", APIResources: []metav1.APIResource{
		{Name: "configmaps", Kind: "ConfigMap", Namespaced: true, Verbs: allVerbs}}}}
	md := metadatafake.New()
	md.Add(cmGVR, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "c"}})
	factory := informers.NewSharedInformerFactory(client, 0)
	c := New(client, md, disc, factory.Core().V1().Namespaces(), clocktesting.NewFakeClock(t0))
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx, 1) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ns, err := client.CoreV1().Namespaces().Get(ctx, "team-a", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ns.Spec.Finalizers) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("namespace not finalized")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if md.Object(cmGVR, "team-a", "c") != nil {
		t.Fatal("content left")
	}
}

func TestCachedDiscoveryIsRefreshed(t *testing.T) {
	held := terminating("team-a")
	e := newEnv(t, held)
	e.c.discovery = memory.NewMemCacheClient(e.disc)
	e.add(cmGVR, "team-a", "held", "example.com/hold")
	if err := e.c.sync(context.Background(), "team-a"); err == nil {
		t.Fatal("want content remaining")
	}
	gadgets := schema.GroupVersionResource{Group: "gadgets.io", Version: "v1", Resource: "gadgets"}
	e.disc.Resources = append(e.disc.Resources, &metav1.APIResourceList{GroupVersion: "gadgets.io/v1", APIResources: []metav1.APIResource{
		{Name: "gadgets", Kind: "Gadget", Namespaced: true, Verbs: allVerbs}}})
	e.add(gadgets, "team-a", "g")
	_ = e.c.sync(context.Background(), "team-a")
	if e.md.Object(gadgets, "team-a", "g") != nil {
		t.Fatal("a resource added after the first discovery was not emptied")
	}
}
