package daemon

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/controller/daemon/util"
	deploymentutil "github.com/herd-project/herd/pkg/controller/deployment/util"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	t        testing.TB
	client   *fake.Clientset
	factory  informers.SharedInformerFactory
	c        *Controller
	clock    *clocktesting.FakeClock
	recorder *record.FakeRecorder
	// gone are the pods tests removed from the store.
	gone map[string]bool
}

// newFixture builds a controller over a fake clientset that names pods from
// generateName; objs are stored in the client and in the informer indexers
// (no informer runs: tests add what the controller should observe).
func newFixture(t testing.TB, objs ...runtime.Object) *fixture {
	f := &fixture{t: t, client: fake.NewClientset(objs...), clock: clocktesting.NewFakeClock(t0), recorder: record.NewFakeRecorder(10000), gone: map[string]bool{}}
	var n atomic.Int64
	f.client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		if p.Name == "" && p.GenerateName != "" {
			p.Name = fmt.Sprintf("%s%05d", p.GenerateName, n.Add(1))
		}
		p.UID = types.UID("uid-" + p.Name)
		return false, nil, nil
	})
	f.factory = informers.NewSharedInformerFactory(f.client, 0)
	var err error
	if f.c, err = New(f.client, f.factory, f.recorder, f.clock); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		f.observe(o)
	}
	return f
}

// observe puts obj into the informer's store, as a watch event would.
func (f *fixture) observe(o runtime.Object) {
	switch o := o.(type) {
	case *appsv1.DaemonSet:
		_ = f.factory.Apps().V1().DaemonSets().Informer().GetIndexer().Update(o)
	case *corev1.Pod:
		_ = f.factory.Core().V1().Pods().Informer().GetIndexer().Update(o)
	case *corev1.Node:
		_ = f.factory.Core().V1().Nodes().Informer().GetIndexer().Update(o)
	case *appsv1.ControllerRevision:
		_ = f.factory.Apps().V1().ControllerRevisions().Informer().GetIndexer().Update(o)
	}
}

func (f *fixture) sync(ds *appsv1.DaemonSet) error {
	f.t.Helper()
	return f.c.syncDaemonSet(context.Background(), ds.Namespace+"/"+ds.Name)
}

func (f *fixture) mustSync(ds *appsv1.DaemonSet) {
	f.t.Helper()
	if err := f.sync(ds); err != nil {
		f.t.Fatalf("sync: %v", err)
	}
}

// observeWrites copies what the controller wrote (pods, revisions, the
// DaemonSet) into the informer stores, and forgets the expectations the
// writes satisfy.
func (f *fixture) observeWrites() {
	for _, a := range f.client.Actions() {
		switch a.GetVerb() {
		case "create":
			switch o := a.(k8stesting.CreateAction).GetObject().(type) {
			case *corev1.Pod:
				// The recorded action precedes the naming reactor: find
				// the created pods in the client.
				list, err := f.client.CoreV1().Pods(o.Namespace).List(context.Background(), metav1.ListOptions{})
				if err != nil {
					f.t.Fatal(err)
				}
				idx := f.factory.Core().V1().Pods().Informer().GetIndexer()
				for i := range list.Items {
					p := &list.Items[i]
					if _, ok, _ := idx.Get(p); !ok && !f.gone[p.Name] {
						f.observe(p)
						f.c.addPod(p)
					}
				}
			case *appsv1.ControllerRevision:
				f.observe(o)
			}
		case "delete":
			d := a.(k8stesting.DeleteAction)
			var idx cache.Indexer
			switch a.GetResource().Resource {
			case "pods":
				idx = f.factory.Core().V1().Pods().Informer().GetIndexer()
			case "controllerrevisions":
				idx = f.factory.Apps().V1().ControllerRevisions().Informer().GetIndexer()
			default:
				continue
			}
			f.gone[d.GetName()] = true
			if obj, ok, _ := idx.GetByKey(d.GetNamespace() + "/" + d.GetName()); ok {
				_ = idx.Delete(obj)
				if p, ok := obj.(*corev1.Pod); ok {
					f.c.deletePod(p)
				}
			}
		case "update", "patch":
			switch o := a.(type) {
			case k8stesting.UpdateAction:
				f.observe(o.GetObject())
			}
		}
	}
	f.client.ClearActions()
}

func (f *fixture) createdPods() []*corev1.Pod {
	var out []*corev1.Pod
	for _, a := range f.client.Actions() {
		if c, ok := a.(k8stesting.CreateAction); ok && a.GetResource().Resource == "pods" {
			out = append(out, c.GetObject().(*corev1.Pod))
		}
	}
	sort.Slice(out, func(i, j int) bool { return nodeOf(out[i]) < nodeOf(out[j]) })
	return out
}

func nodeOf(p *corev1.Pod) string {
	n, _ := util.GetTargetNodeName(p)
	return n
}

func (f *fixture) createdOn() []string {
	var out []string
	for _, p := range f.createdPods() {
		out = append(out, nodeOf(p))
	}
	return out
}

func (f *fixture) deleted() []string {
	var out []string
	for _, a := range f.client.Actions() {
		if d, ok := a.(k8stesting.DeleteAction); ok && a.GetResource().Resource == "pods" {
			out = append(out, d.GetName())
		}
	}
	sort.Strings(out)
	return out
}

func (f *fixture) status(ds *appsv1.DaemonSet) appsv1.DaemonSetStatus {
	f.t.Helper()
	got, err := f.client.AppsV1().DaemonSets(ds.Namespace).Get(context.Background(), ds.Name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return got.Status
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

func hasEvent(events []string, substr string) bool {
	for _, e := range events {
		if strings.Contains(e, substr) {
			return true
		}
	}
	return false
}

func newDS(name string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("ds-uid-" + name), Generation: 1,
			Annotations: map[string]string{appsv1.DeprecatedTemplateGeneration: "1"}},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}, RestartPolicy: corev1.RestartPolicyAlways},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromInt32(1)), MaxSurge: ptr.To(intstr.FromInt32(0))}},
			RevisionHistoryLimit: ptr.To[int32](10),
		},
	}
}

// changeTemplate changes the image, as an update through the API would
// (template generation and generation bumped).
func changeTemplate(ds *appsv1.DaemonSet, image string) *appsv1.DaemonSet {
	ds = ds.DeepCopy()
	ds.Spec.Template.Spec.Containers[0].Image = image
	g, _ := util.GetTemplateGeneration(ds)
	ds.Annotations[appsv1.DeprecatedTemplateGeneration] = fmt.Sprint(*g + 1)
	ds.Generation++
	return ds
}

func hashOf(ds *appsv1.DaemonSet) string {
	return deploymentutil.ComputeHash(&ds.Spec.Template, ds.Status.CollisionCount)
}

type nodeOpt func(*corev1.Node)

func newNode(name string, opts ...nodeOpt) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}}}
	for _, o := range opts {
		o(n)
	}
	return n
}

func label(k, v string) nodeOpt { return func(n *corev1.Node) { n.Labels[k] = v } }
func taint(k string, e corev1.TaintEffect) nodeOpt {
	return func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: k, Value: "x", Effect: e})
	}
}

type podOpt func(*corev1.Pod)

// newDSPod is a bound, running pod of ds on node made from the revision hash.
func newDSPod(name string, ds *appsv1.DaemonSet, node, hash string, opts ...podOpt) *corev1.Pod {
	g, _ := util.GetTemplateGeneration(ds)
	t := util.CreatePodTemplate(ds.Spec.Template, g, hash)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name), Labels: t.Labels,
			CreationTimestamp: metav1.NewTime(t0.Add(-time.Hour)), ResourceVersion: "1",
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, controllerKind)}},
		Spec:   t.Spec,
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	p.Spec.Affinity = util.ReplaceDaemonSetPodNodeNameNodeAffinity(p.Spec.Affinity, node)
	p.Spec.NodeName = node
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
func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }
func createdAt(at time.Time) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(at) }
}
func unbound() podOpt { return func(p *corev1.Pod) { p.Spec.NodeName = "" } }
