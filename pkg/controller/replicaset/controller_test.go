package replicaset

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/controller/internal/consistency"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	t        *testing.T
	client   *fake.Clientset
	factory  informers.SharedInformerFactory
	c        *Controller
	clock    *clocktesting.FakeClock
	recorder *record.FakeRecorder
	created  atomic.Int32
}

// newFixture builds a controller over a fake clientset that names pods
// from generateName; objs are stored in the client and in the informer indexers.
func newFixture(t testing.TB, opts Options, objs ...runtime.Object) *fixture {
	f := &fixture{client: fake.NewClientset(objs...), clock: clocktesting.NewFakeClock(t0), recorder: record.NewFakeRecorder(10000)}
	if tt, ok := t.(*testing.T); ok {
		f.t = tt
	}
	var n atomic.Int64
	f.client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		if p.Name == "" && p.GenerateName != "" {
			p.Name = fmt.Sprintf("%s%05d", p.GenerateName, n.Add(1))
		}
		p.UID = types.UID("uid-" + p.Name)
		f.created.Add(1)
		return false, nil, nil
	})
	f.factory = informers.NewSharedInformerFactory(f.client, 0)
	var err error
	if f.c, err = NewWithOptions(f.client, f.factory, f.recorder, f.clock, opts); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.ReplicaSet:
			_ = f.factory.Apps().V1().ReplicaSets().Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			_ = f.factory.Core().V1().Pods().Informer().GetIndexer().Add(o)
		}
	}
	return f
}

func newRS(name string, replicas int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("rs-uid-" + name), Generation: 1},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name, "tier": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
			},
		},
	}
}

type podOpt func(*corev1.Pod)

func newPod(name string, rs *appsv1.ReplicaSet, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "default", UID: types.UID("uid-" + name),
			Labels:            map[string]string{"app": rs.Name, "tier": "web"},
			CreationTimestamp: metav1.NewTime(t0.Add(-time.Hour)),
			ResourceVersion:   "1",
		},
		Spec:   corev1.PodSpec{NodeName: "node-1"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(rs, controllerKind)}
	for _, o := range opts {
		o(p)
	}
	return p
}

func ready(since time.Time) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(since)})
	}
}
func onNode(n string) podOpt          { return func(p *corev1.Pod) { p.Spec.NodeName = n } }
func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }
func orphan() podOpt                  { return func(p *corev1.Pod) { p.OwnerReferences = nil } }
func created(at time.Time) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(at) }
}
func cost(c string) podOpt {
	return func(p *corev1.Pod) {
		p.Annotations = map[string]string{"controller.kubernetes.io/pod-deletion-cost": c}
	}
}
func restarts(n int32) podOpt {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", RestartCount: n}}
	}
}
func terminating() podOpt {
	return func(p *corev1.Pod) { now := metav1.NewTime(t0); p.DeletionTimestamp = &now }
}

func (f *fixture) sync(t testing.TB, rs *appsv1.ReplicaSet) error {
	t.Helper()
	return f.c.syncReplicaSet(context.Background(), rs.Namespace+"/"+rs.Name)
}

func (f *fixture) actions(verb, resource string) []k8stesting.Action {
	var out []k8stesting.Action
	for _, a := range f.client.Actions() {
		if a.GetVerb() == verb && a.GetResource().Resource == resource {
			out = append(out, a)
		}
	}
	return out
}

func (f *fixture) deletedPods() []string {
	var names []string
	for _, a := range f.actions("delete", "pods") {
		names = append(names, a.(k8stesting.DeleteAction).GetName())
	}
	sort.Strings(names)
	return names
}

func (f *fixture) lastStatus(t *testing.T) appsv1.ReplicaSetStatus {
	t.Helper()
	ups := f.actionsSub("update", "replicasets", "status")
	if len(ups) == 0 {
		t.Fatalf("no status update")
	}
	return ups[len(ups)-1].(k8stesting.UpdateAction).GetObject().(*appsv1.ReplicaSet).Status
}

func (f *fixture) actionsSub(verb, resource, sub string) []k8stesting.Action {
	var out []k8stesting.Action
	for _, a := range f.actions(verb, resource) {
		if a.GetSubresource() == sub {
			out = append(out, a)
		}
	}
	return out
}

func drainEvents(r *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-r.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func TestCreatesMissingPodsWithOwnerAndTemplate(t *testing.T) {
	rs := newRS("web", 3)
	f := newFixture(t, Options{}, rs)
	if err := f.sync(t, rs); err != nil {
		t.Fatal(err)
	}
	creates := f.actions("create", "pods")
	if len(creates) != 3 {
		t.Fatalf("creates = %d, want 3", len(creates))
	}
	p := creates[0].(k8stesting.CreateAction).GetObject().(*corev1.Pod)
	if p.GenerateName != "web-" || p.Labels["tier"] != "web" || p.Spec.Containers[0].Image != "nginx" {
		t.Fatalf("pod from template wrong: %+v", p.ObjectMeta)
	}
	ref := metav1.GetControllerOf(p)
	if ref == nil || ref.UID != rs.UID || ref.Kind != "ReplicaSet" || !*ref.BlockOwnerDeletion {
		t.Fatalf("controller ref = %+v", ref)
	}
	adds, _, _ := f.c.expectations.Pending("default/web")
	if adds != 3 {
		t.Fatalf("expected creations = %d, want 3", adds)
	}
	ev := drainEvents(f.recorder)
	if len(ev) != 3 || !strings.HasPrefix(ev[0], "Normal SuccessfulCreate Created pod: web-") {
		t.Fatalf("events = %q", ev)
	}
	st := f.lastStatus(t)
	if st.Replicas != 0 || st.ObservedGeneration != 1 || *st.TerminatingReplicas != 0 {
		t.Fatalf("status = %+v", st)
	}
	// Unmet expectations block another round of creations.
	f.client.ClearActions()
	if err := f.sync(t, rs); err != nil {
		t.Fatal(err)
	}
	if n := len(f.actions("create", "pods")); n != 0 {
		t.Fatalf("created %d pods while expectations pending", n)
	}
	// Observing the pods through the informer satisfies them.
	for i := 0; i < 3; i++ {
		f.c.addPod(newPod(fmt.Sprintf("p%d", i), rs))
	}
	if !f.c.expectations.Satisfied("default/web") {
		t.Fatal("expectations not satisfied after 3 observed creations")
	}
	// Expired expectations also allow a resync.
	f.c.expectations.ExpectCreations("default/web", 1)
	f.clock.Step(ExpectationsTimeoutForTest + time.Second)
	if !f.c.expectations.Satisfied("default/web") {
		t.Fatal("expectations not expired after timeout")
	}
}

func TestBurstReplicasCapsCreations(t *testing.T) {
	rs := newRS("web", 20)
	f := newFixture(t, Options{BurstReplicas: 7}, rs)
	if err := f.sync(t, rs); err != nil {
		t.Fatal(err)
	}
	if n := len(f.actions("create", "pods")); n != 7 {
		t.Fatalf("creates = %d, want 7", n)
	}
}

func TestSlowStartStopsAfterFailingBatchAndSetsReplicaFailure(t *testing.T) {
	rs := newRS("web", 10)
	f := newFixture(t, Options{}, rs)
	var calls atomic.Int32
	f.client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		// 1st batch (1) ok, 2nd batch (2) ok, 3rd batch (4): fail all.
		if calls.Add(1) > 3 {
			return true, nil, errors.New("quota exceeded")
		}
		return false, nil, nil
	})
	err := f.sync(t, rs)
	if err == nil || err.Error() != "quota exceeded" {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 7 {
		t.Fatalf("create calls = %d, want 7 (batches 1,2,4)", calls.Load())
	}
	adds, _, _ := f.c.expectations.Pending("default/web")
	if adds != 3 {
		t.Fatalf("pending creations = %d, want 3", adds)
	}
	st := f.lastStatus(t)
	c := getCondition(st, appsv1.ReplicaSetReplicaFailure)
	if c == nil || c.Status != corev1.ConditionTrue || c.Reason != "FailedCreate" || c.Message != "quota exceeded" || !c.LastTransitionTime.Time.Equal(t0) {
		t.Fatalf("condition = %+v", c)
	}
	ev := drainEvents(f.recorder)
	failed := 0
	for _, e := range ev {
		if e == "Warning FailedCreate Error creating: quota exceeded" {
			failed++
		}
	}
	if failed != 4 {
		t.Fatalf("FailedCreate events = %d in %q", failed, ev)
	}
	// A later successful sync removes the condition.
	rs2 := rs.DeepCopy()
	rs2.Status = st
	rs2.Spec.Replicas = ptr.To(int32(0))
	f2 := newFixture(t, Options{}, rs2)
	if err := f2.sync(t, rs2); err != nil {
		t.Fatal(err)
	}
	if c := getCondition(f2.lastStatus(t), appsv1.ReplicaSetReplicaFailure); c != nil {
		t.Fatalf("condition not removed: %+v", c)
	}
}

func TestStatusCounts(t *testing.T) {
	rs := newRS("web", 4)
	rs.Spec.MinReadySeconds = 10
	rs.Generation = 3
	pods := []runtime.Object{
		rs,
		newPod("a", rs, ready(t0.Add(-time.Minute))),                      // ready + available
		newPod("b", rs, ready(t0.Add(-5*time.Second))),                    // ready, not yet available
		newPod("c", rs, func(p *corev1.Pod) { delete(p.Labels, "tier") }), // not fully labeled
		newPod("d", rs, phase(corev1.PodPending)),
		newPod("e", rs, terminating()),           // terminating: not counted, replaced
		newPod("f", rs, phase(corev1.PodFailed)), // finished: ignored
	}
	f := newFixture(t, Options{}, pods...)
	if err := f.sync(t, rs); err != nil {
		t.Fatal(err)
	}
	st := f.lastStatus(t)
	want := appsv1.ReplicaSetStatus{Replicas: 4, FullyLabeledReplicas: 3, ReadyReplicas: 2, AvailableReplicas: 1, TerminatingReplicas: ptr.To(int32(1)), ObservedGeneration: 3}
	if st.Replicas != want.Replicas || st.FullyLabeledReplicas != want.FullyLabeledReplicas || st.ReadyReplicas != want.ReadyReplicas ||
		st.AvailableReplicas != want.AvailableReplicas || *st.TerminatingReplicas != 1 || st.ObservedGeneration != 3 {
		t.Fatalf("status = %+v, want %+v", st, want)
	}
	if n := len(f.actions("create", "pods")); n != 0 {
		t.Fatalf("created %d pods; 4 active pods exist", n)
	}
	// Time passes: b becomes available.
	f.clock.Step(10 * time.Second)
	f.client.ClearActions()
	rs.Status = st
	_ = f.factory.Apps().V1().ReplicaSets().Informer().GetIndexer().Update(rs)
	if err := f.sync(t, rs); err != nil {
		t.Fatal(err)
	}
	if got := f.lastStatus(t).AvailableReplicas; got != 2 {
		t.Fatalf("available after minReadySeconds = %d, want 2", got)
	}
}

func TestReplacesTerminatingAndFailedPods(t *testing.T) {
	rs := newRS("web", 2)
	f := newFixture(t, Options{}, rs, newPod("a", rs), newPod("b", rs, terminating()), newPod("c", rs, phase(corev1.PodFailed)))
	if err := f.sync(t, rs); err != nil {
		t.Fatal(err)
	}
	if n := len(f.actions("create", "pods")); n != 1 {
		t.Fatalf("creates = %d, want 1", n)
	}
}

func TestNoStatusWriteWhenUnchanged(t *testing.T) {
	rs := newRS("web", 1)
	rs.Status = appsv1.ReplicaSetStatus{Replicas: 1, FullyLabeledReplicas: 1, ObservedGeneration: 1, TerminatingReplicas: ptr.To(int32(0))}
	f := newFixture(t, Options{}, rs, newPod("a", rs))
	if err := f.sync(t, rs); err != nil {
		t.Fatal(err)
	}
	if n := len(f.client.Actions()); n != 0 {
		t.Fatalf("actions = %v, want none", f.client.Actions())
	}
}

func TestScaleDownVictimRanking(t *testing.T) {
	rs := newRS("web", 0)
	old := t0.Add(-10 * time.Hour)
	cases := []struct {
		name string
		pods []*corev1.Pod
		want string // the single victim
	}{
		{"unassigned first", []*corev1.Pod{newPod("a", rs, ready(old)), newPod("b", rs, onNode(""), phase(corev1.PodPending))}, "b"},
		{"pending before unknown before running", []*corev1.Pod{newPod("a", rs), newPod("b", rs, phase(corev1.PodUnknown)), newPod("c", rs)}, "b"},
		{"not ready before ready", []*corev1.Pod{newPod("a", rs, ready(old)), newPod("b", rs)}, "b"},
		{"lower deletion cost first", []*corev1.Pod{newPod("a", rs, ready(old), cost("100")), newPod("b", rs, ready(old), cost("-5")), newPod("c", rs, ready(old))}, "b"},
		{"doubled up first", []*corev1.Pod{newPod("a", rs, ready(old), onNode("n1")), newPod("b", rs, ready(old), onNode("n2")), newPod("c", rs, ready(old), onNode("n2"))}, "b|c"},
		{"ready more recently first", []*corev1.Pod{newPod("a", rs, ready(old), onNode("n1")), newPod("b", rs, ready(t0.Add(-time.Minute)), onNode("n2"))}, "b"},
		{"more restarts first", []*corev1.Pod{newPod("a", rs, ready(old), onNode("n1")), newPod("b", rs, ready(old), onNode("n2"), restarts(3))}, "b"},
		{"newer first", []*corev1.Pod{newPod("a", rs, ready(old), onNode("n1")), newPod("b", rs, ready(old), onNode("n2"), created(t0.Add(-time.Second)))}, "b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRS("web", int32(len(tc.pods)-1))
			objs := []runtime.Object{r}
			for _, p := range tc.pods {
				objs = append(objs, p)
			}
			f := newFixture(t, Options{}, objs...)
			if err := f.sync(t, r); err != nil {
				t.Fatal(err)
			}
			// "b|c": the two are equal in every rank, either may go.
			got := f.deletedPods()
			if len(got) != 1 || !slices.Contains(strings.Split(tc.want, "|"), got[0]) {
				t.Fatalf("deleted %v, want one of [%s]", got, tc.want)
			}
			want := got[0]
			_, dels, _ := f.c.expectations.Pending("default/web")
			if dels != 1 {
				t.Fatalf("pending deletions = %d, want 1", dels)
			}
			if ev := drainEvents(f.recorder); len(ev) != 1 || ev[0] != "Normal SuccessfulDelete Deleted pod: "+want {
				t.Fatalf("events = %q", ev)
			}
		})
	}
}

func TestScaleDownCountsSiblingPodsOnNode(t *testing.T) {
	owner := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "d", UID: "dep-uid", Controller: ptr.To(true)}
	rsA, rsB := newRS("a", 1), newRS("b", 1)
	rsA.OwnerReferences = []metav1.OwnerReference{owner}
	rsB.OwnerReferences = []metav1.OwnerReference{owner}
	old := t0.Add(-time.Hour)
	objs := []runtime.Object{rsA, rsB,
		newPod("a1", rsA, ready(old), onNode("n1")),
		newPod("a2", rsA, ready(old), onNode("n2")),
		newPod("b1", rsB, ready(old), onNode("n2")),
		newPod("b2", rsB, ready(old), onNode("n2")),
	}
	f := newFixture(t, Options{}, objs...)
	if err := f.sync(t, rsA); err != nil {
		t.Fatal(err)
	}
	if got := f.deletedPods(); len(got) != 1 || got[0] != "a2" {
		t.Fatalf("deleted %v, want [a2] (n2 holds 3 pods of the deployment)", got)
	}
}

func TestDeletionExpectationsAndFailure(t *testing.T) {
	rs := newRS("web", 1)
	f := newFixture(t, Options{}, rs, newPod("a", rs, ready(t0)), newPod("b", rs))
	f.client.PrependReactor("delete", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("boom")
	})
	if err := f.sync(t, rs); err == nil || err.Error() != "boom" {
		t.Fatalf("err = %v", err)
	}
	if !f.c.expectations.Satisfied("default/web") {
		t.Fatal("failed deletion still expected")
	}
	c := getCondition(f.lastStatus(t), appsv1.ReplicaSetReplicaFailure)
	if c == nil || c.Reason != "FailedDelete" || c.Message != "boom" {
		t.Fatalf("condition = %+v", c)
	}
	// A deletion observed twice counts once.
	f.c.expectations.ExpectDeletions("default/web", []string{"default/x", "default/y"})
	f.c.expectations.DeletionObserved("default/web", "default/x")
	f.c.expectations.DeletionObserved("default/web", "default/x")
	if _, dels, _ := f.c.expectations.Pending("default/web"); dels != 1 {
		t.Fatalf("pending deletions = %d, want 1", dels)
	}
}

func TestAdoptAndRelease(t *testing.T) {
	rs := newRS("web", 2)
	other := newRS("other", 1)
	foreign := newPod("foreign", rs)
	foreign.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(other, controllerKind)}
	strayed := newPod("strayed", rs, func(p *corev1.Pod) { p.Labels = map[string]string{"app": "elsewhere"} })
	objs := []runtime.Object{rs, other, newPod("orphan", rs, orphan()), foreign, strayed, newPod("mine", rs)}
	f := newFixture(t, Options{}, objs...)
	if err := f.sync(t, rs); err != nil {
		t.Fatal(err)
	}
	patched := map[string]string{}
	for _, a := range f.actions("patch", "pods") {
		pa := a.(k8stesting.PatchAction)
		patched[pa.GetName()] = string(pa.GetPatch())
	}
	if len(patched) != 2 {
		t.Fatalf("patched %v, want orphan and strayed", patched)
	}
	got, _ := f.client.CoreV1().Pods("default").Get(context.Background(), "orphan", metav1.GetOptions{})
	if ref := metav1.GetControllerOf(got); ref == nil || ref.UID != rs.UID {
		t.Fatalf("orphan not adopted: %+v", got.OwnerReferences)
	}
	got, _ = f.client.CoreV1().Pods("default").Get(context.Background(), "strayed", metav1.GetOptions{})
	if len(got.OwnerReferences) != 0 {
		t.Fatalf("strayed not released: %+v (patch %s)", got.OwnerReferences, patched["strayed"])
	}
	// mine + adopted orphan = 2 replicas; foreign not counted: nothing created.
	if n := len(f.actions("create", "pods")); n != 0 {
		t.Fatalf("created %d pods", n)
	}
	if st := f.lastStatus(t); st.Replicas != 2 {
		t.Fatalf("replicas = %d, want 2", st.Replicas)
	}
}

func TestNoAdoptionWhenReplicaSetDeleting(t *testing.T) {
	rs := newRS("web", 1)
	now := metav1.NewTime(t0)
	rs.DeletionTimestamp = &now
	f := newFixture(t, Options{}, rs, newPod("orphan", rs, orphan()))
	if err := f.sync(t, rs); err != nil {
		t.Fatal(err)
	}
	if n := len(f.actions("patch", "pods")) + len(f.actions("create", "pods")); n != 0 {
		t.Fatalf("deleting ReplicaSet acted: %v", f.client.Actions())
	}
}

func TestEventHandlersEnqueue(t *testing.T) {
	rs := newRS("web", 1)
	f := newFixture(t, Options{}, rs)
	f.c.addPod(newPod("x", rs, orphan()))
	if f.c.queue.Len() != 1 {
		t.Fatalf("orphan add did not enqueue matching rs")
	}
	key, _ := f.c.queue.Get()
	f.c.queue.Done(key)
	if key != "default/web" {
		t.Fatalf("key = %q", key)
	}
	f.c.expectations.ExpectDeletions("default/web", []string{"default/p"})
	p := newPod("p", rs)
	p2 := p.DeepCopy()
	p2.ResourceVersion = "2"
	now := metav1.NewTime(t0)
	p2.DeletionTimestamp = &now
	f.c.updatePod(p, p2)
	if !f.c.expectations.Satisfied("default/web") {
		t.Fatal("graceful deletion not observed")
	}
}

func TestSlowStartBatchSizes(t *testing.T) {
	var mu sync.Mutex
	n := 0
	got, err := slowStart(13, func() error { mu.Lock(); n++; mu.Unlock(); return nil })
	if err != nil || got != 13 || n != 13 {
		t.Fatalf("got %d err %v calls %d", got, err, n)
	}
}

// BenchmarkSyncReplicaSet5000 measures one sync creating 5,000 pods; the
// fake clientset's object tracker is bypassed (creates are answered
// directly) so the controller's own cost is measured.
func BenchmarkSyncReplicaSet5000(b *testing.B) {
	rs := newRS("web", 5000)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := newFixture(b, Options{BurstReplicas: 5000}, rs)
		f.client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
			return true, a.(k8stesting.CreateAction).GetObject(), nil
		})
		b.StartTimer()
		if err := f.c.syncReplicaSet(context.Background(), "default/web"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSyncReplicaSet5000Steady(b *testing.B) {
	rs := newRS("web", 5000)
	objs := []runtime.Object{rs}
	for i := 0; i < 5000; i++ {
		objs = append(objs, newPod(fmt.Sprintf("p%05d", i), rs, ready(t0.Add(-time.Hour)), onNode(fmt.Sprintf("n%d", i%100))))
	}
	f := newFixture(b, Options{}, objs...)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := f.c.syncReplicaSet(context.Background(), "default/web"); err != nil {
			b.Fatal(err)
		}
	}
}

// A sync on a ReplicaSet cache older than our own status write is skipped
// (and requeued by the worker); once the informer observes it, the sync runs.
func TestWaitsForCacheToObserveOwnWrites(t *testing.T) {
	rs := newRS("web", 2)
	rs.ResourceVersion = "5"
	f := newFixture(t, Options{}, rs)
	rsStore := f.factory.Apps().V1().ReplicaSets().Informer().GetIndexer()
	f.c.consistency.WroteAt(types.NamespacedName{Namespace: "default", Name: "web"}, rs.UID, appsv1.Resource("replicasets"), "7")
	if err := f.c.syncReplicaSet(context.Background(), "default/web"); !consistency.IsStale(err) {
		t.Fatalf("sync on a stale cache = %v, want a stale-cache error", err)
	}
	if n := len(f.actions("create", "pods")); n != 0 {
		t.Fatalf("%d pods created from a stale cache", n)
	}
	f.c.queue.Add("default/web")
	f.c.processNextWorkItem(context.Background())
	if n := f.c.queue.NumRequeues("default/web"); n != 1 {
		t.Fatalf("stale sync requeued %d times, want 1", n)
	}
	rsStore.Bookmark("7")
	if err := f.sync(t, rs); err != nil {
		t.Fatal(err)
	}
	if n := len(f.actions("create", "pods")); n != 2 {
		t.Fatalf("%d pods created after the cache caught up, want 2", n)
	}
}
