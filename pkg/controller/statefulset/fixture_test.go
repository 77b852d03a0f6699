package statefulset

import (
	"context"
	"fmt"
	"sort"
	"strings"
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
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fixture runs the controller's sync by hand over a fake clientset; the
// informer caches are refreshed from the clientset before each sync, and a
// tiny "kubelet" gives created pods a phase.
type fixture struct {
	t        *testing.T
	client   *fake.Clientset
	factory  informers.SharedInformerFactory
	clock    *clocktesting.FakeClock
	recorder *record.FakeRecorder
	c        *Controller
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{t: t, client: fake.NewClientset(objs...), clock: clocktesting.NewFakeClock(t0), recorder: record.NewFakeRecorder(1000)}
	f.factory = informers.NewSharedInformerFactory(f.client, 0)
	f.c = New(f.client, f.factory, f.recorder, f.clock)
	return f
}

func (f *fixture) ctx() context.Context { return context.Background() }

// refresh copies the clientset's objects into the informer caches.
func (f *fixture) refresh() {
	ctx := f.ctx()
	sets, _ := f.client.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{})
	pods, _ := f.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	revs, _ := f.client.AppsV1().ControllerRevisions("").List(ctx, metav1.ListOptions{})
	pvcs, _ := f.client.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	replace := func(inf cache.SharedIndexInformer, items []any) {
		if err := inf.GetIndexer().Replace(items, ""); err != nil {
			f.t.Fatal(err)
		}
	}
	var items []any
	for i := range sets.Items {
		items = append(items, &sets.Items[i])
	}
	replace(f.factory.Apps().V1().StatefulSets().Informer(), items)
	items = nil
	for i := range pods.Items {
		items = append(items, &pods.Items[i])
	}
	replace(f.factory.Core().V1().Pods().Informer(), items)
	items = nil
	for i := range revs.Items {
		items = append(items, &revs.Items[i])
	}
	replace(f.factory.Apps().V1().ControllerRevisions().Informer(), items)
	items = nil
	for i := range pvcs.Items {
		items = append(items, &pvcs.Items[i])
	}
	replace(f.factory.Core().V1().PersistentVolumeClaims().Informer(), items)
}

// sync runs one sync of ns/name after a refresh, then marks new pods Pending
// as the API server does.
func (f *fixture) sync(set *appsv1.StatefulSet) {
	f.t.Helper()
	f.refresh()
	if err := f.c.sync(f.ctx(), set.Namespace+"/"+set.Name); err != nil {
		f.t.Fatalf("sync: %v", err)
	}
	for _, p := range f.pods(set.Namespace) {
		if p.Status.Phase == "" {
			p.Status.Phase = corev1.PodPending
			f.updatePodStatus(p)
		}
	}
}

func (f *fixture) pods(ns string) []*corev1.Pod {
	l, err := f.client.CoreV1().Pods(ns).List(f.ctx(), metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []*corev1.Pod
	for i := range l.Items {
		out = append(out, &l.Items[i])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (f *fixture) podNames(ns string) string {
	var names []string
	for _, p := range f.pods(ns) {
		names = append(names, p.Name)
	}
	return strings.Join(names, ",")
}

func (f *fixture) pod(ns, name string) *corev1.Pod {
	p, err := f.client.CoreV1().Pods(ns).Get(f.ctx(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatalf("pod %s: %v", name, err)
	}
	return p
}

func (f *fixture) updatePodStatus(p *corev1.Pod) {
	if _, err := f.client.CoreV1().Pods(p.Namespace).UpdateStatus(f.ctx(), p, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

// ready makes pods Running and Ready since the fake clock's now.
func (f *fixture) ready(ns string, names ...string) {
	for _, n := range names {
		p := f.pod(ns, n)
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(f.clock.Now())}}
		f.updatePodStatus(p)
	}
}

// readyAll makes every pod of ns Running and Ready.
func (f *fixture) readyAll(ns string) {
	for _, p := range f.pods(ns) {
		if p.DeletionTimestamp == nil {
			f.ready(ns, p.Name)
		}
	}
}

func (f *fixture) setPhase(ns, name string, phase corev1.PodPhase) {
	p := f.pod(ns, name)
	p.Status.Phase = phase
	f.updatePodStatus(p)
}

// terminating marks a pod as being deleted (a grace period under way).
func (f *fixture) terminating(ns, name string) {
	p := f.pod(ns, name)
	p.DeletionTimestamp = ptr.To(metav1.NewTime(f.clock.Now()))
	if _, err := f.client.CoreV1().Pods(ns).Update(f.ctx(), p, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

// deleteReactor turns pod deletions into graceful ones (deletionTimestamp
// set, object kept) so the tests see "terminating".
func (f *fixture) gracefulDeletes() {
	f.client.PrependReactor("delete", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		name := a.(k8stesting.DeleteAction).GetName()
		obj, err := f.client.Tracker().Get(corev1.SchemeGroupVersion.WithResource("pods"), a.GetNamespace(), name)
		if err != nil {
			return true, nil, err
		}
		p := obj.(*corev1.Pod)
		if p.DeletionTimestamp != nil {
			return true, nil, nil
		}
		p.DeletionTimestamp = ptr.To(metav1.NewTime(f.clock.Now()))
		return true, nil, f.client.Tracker().Update(corev1.SchemeGroupVersion.WithResource("pods"), p, a.GetNamespace())
	})
}

// finishDeletes removes terminating pods for good.
func (f *fixture) finishDeletes(ns string) {
	for _, p := range f.pods(ns) {
		if p.DeletionTimestamp != nil {
			if err := f.client.Tracker().Delete(corev1.SchemeGroupVersion.WithResource("pods"), ns, p.Name); err != nil {
				f.t.Fatal(err)
			}
		}
	}
}

func (f *fixture) set(ns, name string) *appsv1.StatefulSet {
	s, err := f.client.AppsV1().StatefulSets(ns).Get(f.ctx(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func (f *fixture) updateSet(s *appsv1.StatefulSet) *appsv1.StatefulSet {
	s.Generation++
	out, err := f.client.AppsV1().StatefulSets(s.Namespace).Update(f.ctx(), s, metav1.UpdateOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fixture) events() []string {
	var out []string
	for {
		select {
		case e := <-f.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func (f *fixture) countActions(verb, resource string) int {
	n := 0
	for _, a := range f.client.Actions() {
		if a.GetVerb() == verb && a.GetResource().Resource == resource {
			n++
		}
	}
	return n
}

// newSet is a defaulted StatefulSet "web" in ns "ns" with label app=web.
func newSet(replicas int32) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: types.UID("uid-web"), Generation: 1},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(replicas),
			Selector:            &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			ServiceName:         "nginx",
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](0)}},
			RevisionHistoryLimit: ptr.To[int32](10),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways,
					Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1"}}},
			},
		},
	}
}

func must(t *testing.T, cond bool, format string, args ...any) {
	t.Helper()
	if !cond {
		t.Fatalf(format, args...)
	}
}

var _ = fmt.Sprint
