package daemon

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/controller/daemon/util"
)

func TestCreatesOnePodPerEligibleNode(t *testing.T) {
	ds := newDS("agent")
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	f := newFixture(t, ds,
		newNode("n1", label("disk", "ssd")),
		newNode("n2", label("disk", "ssd")),
		newNode("n3", label("disk", "hdd")),
		newNode("n4", label("disk", "ssd"), taint("dedicated", corev1.TaintEffectNoSchedule)),
	)
	f.mustSync(ds)
	if got, want := f.createdOn(), []string{"n1", "n2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("pods created on %v, want %v", got, want)
	}
	hash := hashOf(ds)
	for _, p := range f.createdPods() {
		if p.Labels[util.RevisionHashLabel] != hash || p.Labels[util.TemplateGenerationLabel] != "1" || p.Labels["app"] != "agent" {
			t.Errorf("pod labels = %v", p.Labels)
		}
		if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != ds.UID || ref.Kind != "DaemonSet" {
			t.Errorf("pod controller ref = %v", ref)
		}
		terms := p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		want := []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{nodeOf(p)}}}}}
		if !reflect.DeepEqual(terms, want) {
			t.Errorf("pod node affinity = %+v", terms)
		}
		if p.Spec.NodeName != "" {
			t.Errorf("pod bound by the controller to %q; the scheduler binds", p.Spec.NodeName)
		}
		if len(p.Spec.Tolerations) != 6 {
			t.Errorf("pod tolerations = %v, want the 6 daemon tolerations", p.Spec.Tolerations)
		}
		if p.GenerateName != "agent-" {
			t.Errorf("generateName = %q", p.GenerateName)
		}
	}
	ev := f.events()
	if !hasEvent(ev, "Normal SuccessfulCreate Created pod: agent-") {
		t.Errorf("events = %v", ev)
	}
	st := f.status(ds)
	if st.DesiredNumberScheduled != 2 || st.CurrentNumberScheduled != 0 || st.NumberUnavailable != 2 || st.ObservedGeneration != 1 {
		t.Errorf("status after create = %+v", st)
	}

	// Observed and ready: the status counts them.
	f.observeWrites()
	for _, p := range []*corev1.Pod{newDSPod("agent-a", ds, "n1", hash, ready(t0)), newDSPod("agent-b", ds, "n2", hash)} {
		f.observe(p)
	}
	for _, name := range []string{"agent-00001", "agent-00002"} {
		obj, ok, _ := f.factory.Core().V1().Pods().Informer().GetIndexer().GetByKey("default/" + name)
		if ok {
			_ = f.factory.Core().V1().Pods().Informer().GetIndexer().Delete(obj)
		}
	}
	f.observe(dsFromClient(t, f, ds))
	f.mustSync(ds)
	if c := f.createdOn(); len(c) != 0 {
		t.Errorf("created again on %v", c)
	}
	st = f.status(ds)
	want := appsv1.DaemonSetStatus{DesiredNumberScheduled: 2, CurrentNumberScheduled: 2, NumberReady: 1, UpdatedNumberScheduled: 2,
		NumberAvailable: 1, NumberUnavailable: 1, ObservedGeneration: 1}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("status = %+v, want %+v", st, want)
	}
}

func dsFromClient(t *testing.T, f *fixture, ds *appsv1.DaemonSet) *appsv1.DaemonSet {
	t.Helper()
	got, err := f.client.AppsV1().DaemonSets(ds.Namespace).Get(context.Background(), ds.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestHostNetworkPodToleratesNetworkUnavailable(t *testing.T) {
	ds := newDS("net")
	ds.Spec.Template.Spec.HostNetwork = true
	f := newFixture(t, ds, newNode("n1", taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)))
	f.mustSync(ds)
	if got := f.createdOn(); !reflect.DeepEqual(got, []string{"n1"}) {
		t.Fatalf("created on %v", got)
	}
	if n := len(f.createdPods()[0].Spec.Tolerations); n != 7 {
		t.Errorf("%d tolerations, want 7", n)
	}
}

func TestExtraPodsRemovedKeepingOldest(t *testing.T) {
	ds := newDS("agent")
	hash := hashOf(ds)
	f := newFixture(t, ds, newNode("n1"),
		newDSPod("young", ds, "n1", hash, createdAt(t0.Add(-time.Minute))),
		newDSPod("old", ds, "n1", hash, createdAt(t0.Add(-time.Hour))),
		newDSPod("middle", ds, "n1", hash, createdAt(t0.Add(-30*time.Minute))),
	)
	f.mustSync(ds)
	if got := f.deleted(); !reflect.DeepEqual(got, []string{"middle", "young"}) {
		t.Errorf("deleted %v, want [middle young]", got)
	}
	if !hasEvent(f.events(), "SuccessfulDelete Deleted pod: young") {
		t.Error("no SuccessfulDelete event")
	}
}

func TestTaints(t *testing.T) {
	ds := newDS("agent")
	hash := hashOf(ds)
	f := newFixture(t, ds,
		newNode("noschedule", taint("k", corev1.TaintEffectNoSchedule)),
		newNode("noexecute", taint("k", corev1.TaintEffectNoExecute)),
		newNode("fresh", taint("k", corev1.TaintEffectNoSchedule)),
		newDSPod("stays", ds, "noschedule", hash),
		newDSPod("evicted", ds, "noexecute", hash),
	)
	f.mustSync(ds)
	if c := f.createdOn(); len(c) != 0 {
		t.Errorf("created on tainted nodes %v", c)
	}
	// A NoSchedule taint added later lets the running pod stay; NoExecute does not.
	if got := f.deleted(); !reflect.DeepEqual(got, []string{"evicted"}) {
		t.Errorf("deleted %v, want [evicted]", got)
	}
	st := f.status(ds)
	if st.DesiredNumberScheduled != 0 || st.NumberMisscheduled != 2 {
		t.Errorf("status = %+v, want desired 0, misscheduled 2", st)
	}

	// The toleration makes both nodes eligible again.
	f.observeWrites()
	tol := dsFromClient(t, f, ds)
	tol = changeTemplate(tol, "nginx:1")
	tol.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}}
	f.observe(tol)
	f.mustSync(tol)
	if got := f.createdOn(); !reflect.DeepEqual(got, []string{"fresh", "noexecute"}) {
		t.Errorf("created on %v, want [fresh noexecute]", got)
	}
}

func TestNodeSelectorAndAffinityChanges(t *testing.T) {
	ds := newDS("agent")
	ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}}},
	}}}
	hash := hashOf(ds)
	f := newFixture(t, ds, newNode("in", label("zone", "a")), newNode("out", label("zone", "b")),
		newDSPod("leftover", ds, "out", hash))
	f.mustSync(ds)
	if got := f.createdOn(); !reflect.DeepEqual(got, []string{"in"}) {
		t.Errorf("created on %v, want [in]", got)
	}
	if got := f.deleted(); !reflect.DeepEqual(got, []string{"leftover"}) {
		t.Errorf("deleted %v, want the pod of the node that no longer matches", got)
	}
	// The user's required terms are replaced by the node name.
	terms := f.createdPods()[0].Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchExpressions) != 0 || terms[0].MatchFields[0].Values[0] != "in" {
		t.Errorf("terms = %+v", terms)
	}
}

func TestUnscheduledPodOfVanishedNodeDeleted(t *testing.T) {
	ds := newDS("agent")
	f := newFixture(t, ds, newNode("n1"),
		newDSPod("n1-pod", ds, "n1", hashOf(ds)),
		newDSPod("ghost", ds, "gone", hashOf(ds), unbound()),
		newDSPod("bound-ghost", ds, "gone2", hashOf(ds)))
	f.mustSync(ds)
	// The bound pod of a vanished node is the pod garbage collector's.
	if got := f.deleted(); !reflect.DeepEqual(got, []string{"ghost"}) {
		t.Errorf("deleted %v, want [ghost]", got)
	}
}

func TestFailedPodReplacedWithBackoff(t *testing.T) {
	ds := newDS("agent")
	// The back-off is per DaemonSet generation and node: a settled DaemonSet.
	ds.Status.ObservedGeneration = 1
	hash := hashOf(ds)
	f := newFixture(t, ds, newNode("n1"), newDSPod("failed-1", ds, "n1", hash, phase(corev1.PodFailed)))
	f.mustSync(ds)
	if got := f.deleted(); !reflect.DeepEqual(got, []string{"failed-1"}) {
		t.Fatalf("deleted %v", got)
	}
	if ev := f.events(); !hasEvent(ev, "Warning FailedDaemonPod Found failed daemon pod default/failed-1 on node n1, will try to kill it") {
		t.Errorf("events = %v", ev)
	}
	f.observeWrites()
	f.mustSync(ds)
	if got := f.createdOn(); !reflect.DeepEqual(got, []string{"n1"}) {
		t.Fatalf("replacement created on %v", got)
	}

	// The replacement fails too, at once: its deletion waits for the back-off.
	f.observeWrites()
	obj, ok, _ := f.factory.Core().V1().Pods().Informer().GetIndexer().GetByKey("default/agent-00001")
	if !ok {
		t.Fatal("replacement not observed")
	}
	failed := obj.(*corev1.Pod).DeepCopy()
	failed.Status.Phase = corev1.PodFailed
	f.observe(failed)
	f.clock.Step(500 * time.Millisecond)
	f.mustSync(ds)
	if got := f.deleted(); len(got) != 0 {
		t.Fatalf("deleted %v during the back-off", got)
	}
	f.clock.Step(2 * time.Second)
	f.mustSync(ds)
	if got := f.deleted(); !reflect.DeepEqual(got, []string{"agent-00001"}) {
		t.Fatalf("deleted %v after the back-off", got)
	}
}

func TestSucceededPodDeleted(t *testing.T) {
	ds := newDS("agent")
	f := newFixture(t, ds, newNode("n1"), newDSPod("done", ds, "n1", hashOf(ds), phase(corev1.PodSucceeded)))
	f.mustSync(ds)
	if got := f.deleted(); !reflect.DeepEqual(got, []string{"done"}) {
		t.Fatalf("deleted %v", got)
	}
	if !hasEvent(f.events(), "SucceededDaemonPod") {
		t.Error("no SucceededDaemonPod event")
	}
}

// rolloutFixture has ds on n nodes, each running a ready pod of ds's old
// template, and ds changed to a new one.
func rolloutFixture(t *testing.T, n int, mutate func(*appsv1.DaemonSet)) (*fixture, *appsv1.DaemonSet, string) {
	oldDS := newDS("agent")
	mutate(oldDS)
	objs := []runtime.Object{oldDS}
	for i := 0; i < n; i++ {
		node := "n" + string(rune('0'+i))
		objs = append(objs, newNode(node), newDSPod("old-"+node, oldDS, node, hashOf(oldDS), ready(t0.Add(-time.Hour))))
	}
	f := newFixture(t, objs...)
	f.mustSync(oldDS) // records the first revision
	f.observeWrites()
	ds := changeTemplate(dsFromClient(t, f, oldDS), "nginx:2")
	f.observe(ds)
	return f, ds, hashOf(ds)
}

func TestRollingUpdateMaxUnavailable(t *testing.T) {
	f, ds, _ := rolloutFixture(t, 4, func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("50%"))
	})
	f.mustSync(ds)
	if got := f.deleted(); len(got) != 2 {
		t.Fatalf("deleted %v, want 2 of 4 old pods (50%%)", got)
	}
	if c := f.createdOn(); len(c) != 0 {
		t.Errorf("created %v in the same sync", c)
	}
	st := f.status(ds)
	if st.UpdatedNumberScheduled != 0 || st.DesiredNumberScheduled != 4 {
		t.Errorf("status = %+v", st)
	}
	// Next sync: the manage step creates the new pods on the freed nodes.
	f.observeWrites()
	f.mustSync(ds)
	if c := f.createdOn(); len(c) != 2 {
		t.Errorf("created on %v, want the 2 freed nodes", c)
	}
	for _, p := range f.createdPods() {
		if p.Labels[util.TemplateGenerationLabel] != "2" || p.Spec.Containers[0].Image != "nginx:2" {
			t.Errorf("new pod labels %v image %s", p.Labels, p.Spec.Containers[0].Image)
		}
	}
}

func TestRollingUpdatePercentRoundsUp(t *testing.T) {
	f, ds, _ := rolloutFixture(t, 5, func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("30%"))
	})
	f.mustSync(ds)
	if got := f.deleted(); len(got) != 2 { // ceil(1.5)
		t.Fatalf("deleted %v, want 2", got)
	}
}

func TestRollingUpdateSurge(t *testing.T) {
	f, ds, hash := rolloutFixture(t, 3, func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromInt32(1))}
	})
	f.mustSync(ds)
	created := f.createdOn()
	if len(created) != 1 || len(f.deleted()) != 0 {
		t.Fatalf("created on %v, deleted %v; want one surge pod and no deletion", created, f.deleted())
	}
	node := created[0]
	f.observeWrites()
	// The new pod is not ready yet: the old one stays, no second surge.
	f.mustSync(ds)
	if len(f.createdOn()) != 0 || len(f.deleted()) != 0 {
		t.Fatalf("created %v deleted %v while the surge pod is not ready", f.createdOn(), f.deleted())
	}
	// Ready: the old pod on that node goes.
	f.observe(newDSPod("new-"+node, ds, node, hash, ready(t0.Add(-time.Minute))))
	for _, o := range f.factory.Core().V1().Pods().Informer().GetIndexer().List() {
		if p := o.(*corev1.Pod); p.Name != "new-"+node && p.Labels[util.RevisionHashLabel] == hash {
			_ = f.factory.Core().V1().Pods().Informer().GetIndexer().Delete(p)
		}
	}
	f.mustSync(ds)
	if got := f.deleted(); !reflect.DeepEqual(got, []string{"old-" + node}) {
		t.Fatalf("deleted %v, want old-%s", got, node)
	}
}

func TestOnDeleteUpdatesOnlyDeletedPods(t *testing.T) {
	f, ds, _ := rolloutFixture(t, 2, func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	})
	f.mustSync(ds)
	if len(f.deleted()) != 0 || len(f.createdOn()) != 0 {
		t.Fatalf("OnDelete: deleted %v created %v", f.deleted(), f.createdOn())
	}
	// The user deletes one pod: its replacement has the new template.
	obj, _, _ := f.factory.Core().V1().Pods().Informer().GetIndexer().GetByKey("default/old-n0")
	_ = f.factory.Core().V1().Pods().Informer().GetIndexer().Delete(obj)
	f.mustSync(ds)
	if got := f.createdOn(); !reflect.DeepEqual(got, []string{"n0"}) {
		t.Fatalf("created on %v", got)
	}
	if img := f.createdPods()[0].Spec.Containers[0].Image; img != "nginx:2" {
		t.Errorf("image %s", img)
	}
	if st := f.status(ds); st.UpdatedNumberScheduled != 0 || st.CurrentNumberScheduled != 1 {
		t.Errorf("status = %+v", st)
	}
}

func TestRevisions(t *testing.T) {
	ds := newDS("agent")
	ds.Annotations["kubernetes.io/change-cause"] = "first"
	f := newFixture(t, ds, newNode("n1"))
	f.mustSync(ds)
	revs, err := f.client.AppsV1().ControllerRevisions("default").List(context.Background(), metav1.ListOptions{})
	if err != nil || len(revs.Items) != 1 {
		t.Fatalf("revisions %v, %v", revs, err)
	}
	r1 := revs.Items[0]
	hash := hashOf(ds)
	if r1.Name != "agent-"+hash || r1.Revision != 1 || r1.Labels[util.RevisionHashLabel] != hash || r1.Labels["app"] != "agent" ||
		r1.Annotations["kubernetes.io/change-cause"] != "first" || metav1.GetControllerOf(&r1).UID != ds.UID {
		t.Errorf("revision = %+v", r1.ObjectMeta)
	}
	var data map[string]map[string]map[string]interface{}
	if err := json.Unmarshal(r1.Data.Raw, &data); err != nil {
		t.Fatal(err)
	}
	if data["spec"]["template"]["$patch"] != "replace" || len(data) != 1 || len(data["spec"]) != 1 {
		t.Errorf("revision data = %s", r1.Data.Raw)
	}
	f.observeWrites()

	// A new template: revision 2.
	ds2 := changeTemplate(dsFromClient(t, f, ds), "nginx:2")
	f.observe(ds2)
	f.mustSync(ds2)
	f.observeWrites()
	list, _ := f.client.AppsV1().ControllerRevisions("default").List(context.Background(), metav1.ListOptions{})
	if len(list.Items) != 2 {
		t.Fatalf("%d revisions", len(list.Items))
	}
	// Back to the first template (rollout undo): revision 1 becomes 3.
	ds3 := changeTemplate(dsFromClient(t, f, ds2), "nginx:1")
	f.observe(ds3)
	f.mustSync(ds3)
	r, err := f.client.AppsV1().ControllerRevisions("default").Get(context.Background(), r1.Name, metav1.GetOptions{})
	if err != nil || r.Revision != 3 {
		t.Fatalf("first revision after undo: %v, %v", r, err)
	}
	list, _ = f.client.AppsV1().ControllerRevisions("default").List(context.Background(), metav1.ListOptions{})
	if len(list.Items) != 2 {
		t.Errorf("%d revisions after undo, want 2", len(list.Items))
	}
}

func TestRevisionHistoryLimit(t *testing.T) {
	ds := newDS("agent")
	ds.Spec.RevisionHistoryLimit = ptr.To[int32](1)
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	// A pod still runs the first revision: it is kept beyond the limit.
	f := newFixture(t, ds, newDSPod("live", ds, "n1", hashOf(ds), ready(t0)))
	cur := ds
	for _, img := range []string{"nginx:2", "nginx:3", "nginx:4"} {
		f.mustSync(cur)
		f.observeWrites()
		cur = changeTemplate(dsFromClient(t, f, cur), img)
		f.observe(cur)
	}
	f.mustSync(cur)
	list, _ := f.client.AppsV1().ControllerRevisions("default").List(context.Background(), metav1.ListOptions{})
	var revs []int64
	for _, r := range list.Items {
		revs = append(revs, r.Revision)
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i] < revs[j] })
	if !reflect.DeepEqual(revs, []int64{1, 4}) {
		t.Errorf("revisions %v, want [1 4]: the live first and the current one", revs)
	}
}

func TestSelectingAllIsRefused(t *testing.T) {
	ds := newDS("agent")
	ds.Spec.Selector = &metav1.LabelSelector{}
	f := newFixture(t, ds, newNode("n1"))
	f.mustSync(ds)
	if len(f.createdOn()) != 0 || !hasEvent(f.events(), "SelectingAll") {
		t.Error("an empty selector must not create pods and must be reported")
	}
}

func TestNodeEventsEnqueue(t *testing.T) {
	ds := newDS("agent")
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"role": "edge"}
	f := newFixture(t, ds)
	f.c.addNode(newNode("other"))
	if f.c.queue.Len() != 0 {
		t.Fatal("a node that does not qualify enqueued the DaemonSet")
	}
	f.c.addNode(newNode("edge", label("role", "edge")))
	if f.c.queue.Len() != 1 {
		t.Fatal("a new eligible node did not enqueue the DaemonSet")
	}
	key, _ := f.c.queue.Get()
	f.c.queue.Done(key)
	old := newNode("x")
	hb := old.DeepCopy()
	hb.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	f.c.updateNode(old, hb)
	if f.c.queue.Len() != 0 {
		t.Fatal("a status-only node update enqueued the DaemonSet")
	}
	f.c.updateNode(old, newNode("x", label("role", "edge")))
	if f.c.queue.Len() != 1 {
		t.Fatal("a label making the node eligible did not enqueue the DaemonSet")
	}
}

func TestExpectationsHoldManageButNotStatus(t *testing.T) {
	ds := newDS("agent")
	f := newFixture(t, ds, newNode("n1"), newNode("n2"))
	f.mustSync(ds)
	if len(f.createdOn()) != 2 {
		t.Fatal("no pods created")
	}
	f.client.ClearActions()
	// The creations are not observed yet: no second round of creates.
	f.mustSync(ds)
	if len(f.createdOn()) != 0 {
		t.Fatalf("created %v again before observing the first creations", f.createdOn())
	}
}

func TestMinReadySeconds(t *testing.T) {
	ds := newDS("agent")
	ds.Spec.MinReadySeconds = 10
	ds.Status.ObservedGeneration = 1
	f := newFixture(t, ds, newNode("n1"), newDSPod("p", ds, "n1", hashOf(ds), ready(t0.Add(-5*time.Second))))
	f.mustSync(ds)
	if st := f.status(ds); st.NumberReady != 1 || st.NumberAvailable != 0 || st.NumberUnavailable != 1 {
		t.Fatalf("status = %+v, want ready 1 available 0", st)
	}
	// The controller looks again once minReadySeconds have passed.
	time.Sleep(50 * time.Millisecond) // the delaying queue registers its timer
	f.clock.Step(10 * time.Second)
	for deadline := time.Now().Add(5 * time.Second); f.c.queue.Len() != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no resync queued after minReadySeconds (queue length %d)", f.c.queue.Len())
		}
	}
	f.observeWrites()
	f.mustSync(ds)
	if st := f.status(ds); st.NumberAvailable != 1 || st.NumberUnavailable != 0 {
		t.Fatalf("status = %+v, want available 1", st)
	}
}

func TestAdoptsOrphansAndReleasesMismatches(t *testing.T) {
	ds := newDS("agent")
	hash := hashOf(ds)
	orphan := newDSPod("orphan", ds, "n1", hash)
	orphan.OwnerReferences = nil
	stray := newDSPod("stray", ds, "n2", hash)
	stray.Labels = map[string]string{"app": "other"}
	f := newFixture(t, ds, newNode("n1"), newNode("n2"), orphan, stray)
	f.mustSync(ds)
	var patched []string
	for _, a := range f.client.Actions() {
		if a.GetVerb() == "patch" && a.GetResource().Resource == "pods" {
			patched = append(patched, a.(interface{ GetName() string }).GetName())
		}
	}
	sort.Strings(patched)
	if !reflect.DeepEqual(patched, []string{"orphan", "stray"}) {
		t.Errorf("patched %v, want the orphan adopted and the stray released", patched)
	}
	// The adopted orphan serves n1; n2 gets a new pod.
	if got := f.createdOn(); !reflect.DeepEqual(got, []string{"n2"}) {
		t.Errorf("created on %v, want [n2]", got)
	}
}

func TestSurgeRemovesPodOfNodeThatNoLongerQualifiesOnceOthersAreAvailable(t *testing.T) {
	f, ds, hash := rolloutFixture(t, 2, func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromInt32(1))}
	})
	// n1 runs an available new pod; n0 runs an old one and gets a
	// NoSchedule taint: its pod may stay (manage keeps it), but with surge
	// the rolling update removes it once the other nodes are available.
	obj, _, _ := f.factory.Core().V1().Pods().Informer().GetIndexer().GetByKey("default/old-n1")
	_ = f.factory.Core().V1().Pods().Informer().GetIndexer().Delete(obj)
	f.observe(newDSPod("new-n1", ds, "n1", hash, ready(t0.Add(-time.Hour))))
	f.observe(newNode("n0", taint("k", corev1.TaintEffectNoSchedule)))
	f.mustSync(ds)
	if got := f.deleted(); !reflect.DeepEqual(got, []string{"old-n0"}) {
		t.Errorf("deleted %v, want [old-n0]", got)
	}

	// While the other node has no available pod, it stays.
	f2, ds2, _ := rolloutFixture(t, 2, func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromInt32(1))}
	})
	notReady := newDSPod("old-n1", ds2, "n1", "stale-hash")
	f2.observe(notReady)
	f2.observe(newNode("n0", taint("k", corev1.TaintEffectNoSchedule)))
	f2.mustSync(ds2)
	for _, name := range f2.deleted() {
		if name == "old-n0" {
			t.Errorf("the pod of the tainted node was deleted while no other pod is available")
		}
	}
}
