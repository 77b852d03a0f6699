package deployment

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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/apis/apps"
	"github.com/herd-project/herd/pkg/controller/deployment/util"
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
	events   []string
}

// newFixture: fake clientset that stamps UID and creationTimestamp (from
// the fake clock) on created objects.
func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{t: t, client: fake.NewClientset(objs...), clock: clocktesting.NewFakeClock(t0), recorder: record.NewFakeRecorder(10000)}
	var n atomic.Int64
	f.client.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		o, ok := a.(k8stesting.CreateAction).GetObject().(metav1.Object)
		if ok {
			if o.GetName() == "" && o.GetGenerateName() != "" {
				o.SetName(fmt.Sprintf("%s%05d", o.GetGenerateName(), n.Add(1)))
			}
			o.SetUID(types.UID("uid-" + o.GetName()))
			// Creation order must be visible even at the same fake time.
			o.SetCreationTimestamp(metav1.NewTime(f.clock.Now().Add(time.Duration(n.Add(1)) * time.Millisecond)))
		}
		return false, nil, nil
	})
	f.factory = informers.NewSharedInformerFactory(f.client, 0)
	f.c = New(f.client, f.factory, f.recorder, f.clock)
	f.refresh()
	return f
}

// refresh copies the client's state into the informer indexers.
func (f *fixture) refresh() {
	ctx := context.Background()
	ds, _ := f.client.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	var items []interface{}
	for i := range ds.Items {
		items = append(items, &ds.Items[i])
	}
	_ = f.factory.Apps().V1().Deployments().Informer().GetIndexer().Replace(items, "")
	rss, _ := f.client.AppsV1().ReplicaSets("").List(ctx, metav1.ListOptions{})
	items = nil
	for i := range rss.Items {
		items = append(items, &rss.Items[i])
	}
	_ = f.factory.Apps().V1().ReplicaSets().Informer().GetIndexer().Replace(items, "")
	pods, _ := f.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	items = nil
	for i := range pods.Items {
		items = append(items, &pods.Items[i])
	}
	_ = f.factory.Core().V1().Pods().Informer().GetIndexer().Replace(items, "")
}

func (f *fixture) sync(name string) error {
	f.t.Helper()
	f.refresh()
	err := f.c.syncDeployment(context.Background(), "default/"+name)
	f.refresh()
	for {
		select {
		case e := <-f.recorder.Events:
			f.events = append(f.events, e)
		default:
			return err
		}
	}
}

func (f *fixture) mustSync(name string) {
	f.t.Helper()
	if err := f.sync(name); err != nil {
		f.t.Fatalf("sync: %v", err)
	}
}

func (f *fixture) deployment(name string) *appsv1.Deployment {
	f.t.Helper()
	d, err := f.client.AppsV1().Deployments("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

func (f *fixture) update(d *appsv1.Deployment) {
	f.t.Helper()
	d.Generation++
	if _, err := f.client.AppsV1().Deployments("default").Update(context.Background(), d, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

// replicaSets returns the ReplicaSets, oldest first.
func (f *fixture) replicaSets() []*appsv1.ReplicaSet {
	list, _ := f.client.AppsV1().ReplicaSets("default").List(context.Background(), metav1.ListOptions{})
	var out []*appsv1.ReplicaSet
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	sort.Sort(util.ByCreationTimestamp(out))
	return out
}

func (f *fixture) putRSStatus(rs *appsv1.ReplicaSet) {
	f.t.Helper()
	if _, err := f.client.AppsV1().ReplicaSets("default").UpdateStatus(context.Background(), rs, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

// simulatePods plays the ReplicaSet controller: status.replicas follows
// spec (deleting unavailable pods first); when becomeReady, every pod is available.
func (f *fixture) simulatePods(becomeReady bool) {
	for _, rs := range f.replicaSets() {
		want := *rs.Spec.Replicas
		rs.Status.Replicas = want
		rs.Status.AvailableReplicas = min(rs.Status.AvailableReplicas, want)
		if becomeReady {
			rs.Status.AvailableReplicas = want
		}
		rs.Status.ReadyReplicas = rs.Status.AvailableReplicas
		rs.Status.TerminatingReplicas = ptr.To(int32(0))
		rs.Status.ObservedGeneration = rs.Generation
		f.putRSStatus(rs)
	}
}

func newDeployment(name string, replicas int32, surge, unavailable *intstr.IntOrString) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("dep-uid-" + name), Generation: 1},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"k8s-app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: "nginx:1.26"}}},
			},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: surge, MaxUnavailable: unavailable}},
		},
	}
	apps.SetDefaultsDeployment(d)
	return d
}

func ios(s string) *intstr.IntOrString { v := intstr.Parse(s); return &v }

func findCond(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	return util.GetCondition(d.Status, t)
}

func TestNewDeploymentCreatesReplicaSet(t *testing.T) {
	d := newDeployment("nginx", 3, nil, nil)
	d.Annotations = map[string]string{"kubernetes.io/change-cause": "initial", util.LastAppliedAnnotation: "{}"}
	f := newFixture(t, d)
	f.mustSync("nginx")
	rss := f.replicaSets()
	if len(rss) != 1 {
		t.Fatalf("replica sets = %d", len(rss))
	}
	rs := rss[0]
	hash := util.ComputeHash(&d.Spec.Template, nil)
	if rs.Name != "nginx-"+hash || rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash ||
		rs.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != hash ||
		rs.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash || rs.Spec.Template.Labels["k8s-app"] != "nginx" {
		t.Fatalf("rs naming/labels wrong: name %s labels %v selector %v", rs.Name, rs.Labels, rs.Spec.Selector)
	}
	if *rs.Spec.Replicas != 3 {
		t.Fatalf("replicas = %d, want 3", *rs.Spec.Replicas)
	}
	wantAnn := map[string]string{util.RevisionAnnotation: "1", util.DesiredReplicasAnnotation: "3", util.MaxReplicasAnnotation: "4", "kubernetes.io/change-cause": "initial"}
	for k, v := range wantAnn {
		if rs.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, rs.Annotations[k], v)
		}
	}
	if _, ok := rs.Annotations[util.LastAppliedAnnotation]; ok {
		t.Errorf("last-applied annotation copied")
	}
	if ref := metav1.GetControllerOf(rs); ref == nil || ref.UID != d.UID || ref.Kind != "Deployment" {
		t.Fatalf("owner = %+v", ref)
	}
	want := fmt.Sprintf("Normal ScalingReplicaSet Scaled up replica set %s from 0 to 3", rs.Name)
	if len(f.events) != 1 || f.events[0] != want {
		t.Fatalf("events = %q, want %q", f.events, want)
	}
	got := f.deployment("nginx")
	if got.Annotations[util.RevisionAnnotation] != "1" {
		t.Fatalf("deployment revision = %q", got.Annotations[util.RevisionAnnotation])
	}
	c := findCond(got, appsv1.DeploymentProgressing)
	if c == nil || c.Reason != util.NewReplicaSetReason || c.Status != corev1.ConditionTrue || c.Message != fmt.Sprintf("Created new replica set %q", rs.Name) {
		t.Fatalf("progressing = %+v", c)
	}
	// The next sync reports the status: nothing available yet.
	f.simulatePods(false)
	f.mustSync("nginx")
	got = f.deployment("nginx")
	st := got.Status
	if st.Replicas != 3 || st.UpdatedReplicas != 3 || st.AvailableReplicas != 0 || st.UnavailableReplicas != 3 || st.ObservedGeneration != 1 || *st.TerminatingReplicas != 0 {
		t.Fatalf("status = %+v", st)
	}
	if c := findCond(got, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionFalse || c.Reason != util.MinimumReplicasUnavailable || c.Message != "Deployment does not have minimum availability." {
		t.Fatalf("available = %+v", c)
	}
	if c := findCond(got, appsv1.DeploymentProgressing); c.Reason != util.ReplicaSetUpdatedReason || c.Message != fmt.Sprintf("ReplicaSet %q is progressing.", rs.Name) {
		t.Fatalf("progressing = %+v", c)
	}
	f.simulatePods(true)
	f.mustSync("nginx")
	got = f.deployment("nginx")
	if c := findCond(got, appsv1.DeploymentAvailable); c.Status != corev1.ConditionTrue || c.Reason != util.MinimumReplicasAvailable || c.Message != "Deployment has minimum availability." {
		t.Fatalf("available = %+v", c)
	}
	if c := findCond(got, appsv1.DeploymentProgressing); c.Status != corev1.ConditionTrue || c.Reason != util.NewRSAvailableReason || c.Message != fmt.Sprintf("ReplicaSet %q has successfully progressed.", rs.Name) {
		t.Fatalf("progressing = %+v", c)
	}
	if got.Status.AvailableReplicas != 3 || got.Status.UnavailableReplicas != 0 || got.Status.ReadyReplicas != 3 {
		t.Fatalf("status = %+v", got.Status)
	}
}

func TestComputeHash(t *testing.T) {
	d := newDeployment("nginx", 1, nil, nil)
	h1 := util.ComputeHash(&d.Spec.Template, nil)
	if h1 != util.ComputeHash(d.Spec.Template.DeepCopy(), nil) {
		t.Fatal("hash not deterministic")
	}
	if h1 == util.ComputeHash(&d.Spec.Template, ptr.To(int32(1))) {
		t.Fatal("collisionCount does not change the hash")
	}
	d.Spec.Template.Spec.Containers[0].Image = "nginx:1.27"
	if h1 == util.ComputeHash(&d.Spec.Template, nil) {
		t.Fatal("template change does not change the hash")
	}
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	for _, r := range h1 {
		if !strings.ContainsRune(alphabet, r) {
			t.Fatalf("hash %q not safe-encoded", h1)
		}
	}
}

func TestScalingOnlyIsNotANewRevision(t *testing.T) {
	d := newDeployment("nginx", 2, nil, nil)
	f := newFixture(t, d)
	f.mustSync("nginx")
	f.simulatePods(true)
	f.mustSync("nginx")
	d = f.deployment("nginx")
	d.Spec.Replicas = ptr.To(int32(5))
	f.update(d)
	f.mustSync("nginx")
	rss := f.replicaSets()
	if len(rss) != 1 || *rss[0].Spec.Replicas != 5 || rss[0].Annotations[util.RevisionAnnotation] != "1" || rss[0].Annotations[util.DesiredReplicasAnnotation] != "5" {
		t.Fatalf("rs = %d replicas %d annotations %v", len(rss), *rss[0].Spec.Replicas, rss[0].Annotations)
	}
	if last := f.events[len(f.events)-1]; last != fmt.Sprintf("Normal ScalingReplicaSet Scaled up replica set %s from 2 to 5", rss[0].Name) {
		t.Fatalf("event = %q", last)
	}
}

// runRollingUpdate changes the template and steps pods until the rollout
// completes, checking Kubernetes' bounds after every step.
func runRollingUpdate(t *testing.T, replicas int32, surge, unavailable string) {
	d := newDeployment("web", replicas, ios(surge), ios(unavailable))
	f := newFixture(t, d)
	f.mustSync("web")
	f.simulatePods(true)
	f.mustSync("web")
	maxSurge, maxUnavail, _ := util.ResolveFenceposts(ios(surge), ios(unavailable), replicas)

	d = f.deployment("web")
	d.Spec.Template.Spec.Containers[0].Image = "nginx:1.27"
	f.update(d)
	check := func(stage string) {
		var total, available int32
		for _, rs := range f.replicaSets() {
			total += rs.Status.Replicas
			available += rs.Status.AvailableReplicas
		}
		if total > replicas+maxSurge {
			t.Fatalf("%s: %d pods > replicas+maxSurge %d", stage, total, replicas+maxSurge)
		}
		if available < replicas-maxUnavail {
			t.Fatalf("%s: %d available < replicas-maxUnavailable %d", stage, available, replicas-maxUnavail)
		}
	}
	for i := 0; i < 100; i++ {
		f.mustSync("web")
		f.simulatePods(false) // pods created/deleted, new ones not ready yet
		check(fmt.Sprintf("step %d before ready", i))
		f.simulatePods(true)
		check(fmt.Sprintf("step %d after ready", i))
		got := f.deployment("web")
		if c := findCond(got, appsv1.DeploymentProgressing); c != nil && c.Reason == util.NewRSAvailableReason && got.Status.UpdatedReplicas == replicas && got.Status.Replicas == replicas {
			rss := f.replicaSets()
			if len(rss) != 2 || *rss[0].Spec.Replicas != 0 || *rss[1].Spec.Replicas != replicas {
				t.Fatalf("final rs sizes wrong")
			}
			if rss[1].Annotations[util.RevisionAnnotation] != "2" || got.Annotations[util.RevisionAnnotation] != "2" {
				t.Fatalf("revision: rs %q deployment %q", rss[1].Annotations[util.RevisionAnnotation], got.Annotations[util.RevisionAnnotation])
			}
			if c.Message != fmt.Sprintf("ReplicaSet %q has successfully progressed.", rss[1].Name) {
				t.Fatalf("message = %q", c.Message)
			}
			return
		}
	}
	t.Fatalf("rollout did not complete; status %+v", f.deployment("web").Status)
}

func TestRollingUpdateInvariants(t *testing.T) {
	for _, tc := range []struct {
		replicas           int32
		surge, unavailable string
	}{
		{4, "1", "0"},
		{4, "0", "1"},
		{10, "25%", "25%"},
		{10, "3", "2"},
		{5, "30%", "0"},
		{1, "0", "50%"}, // both resolve to 0 => unavailable 1
		{7, "100%", "100%"},
	} {
		t.Run(fmt.Sprintf("%d-%s-%s", tc.replicas, tc.surge, tc.unavailable), func(t *testing.T) {
			runRollingUpdate(t, tc.replicas, tc.surge, tc.unavailable)
		})
	}
}

func TestResolveFenceposts(t *testing.T) {
	for _, tc := range []struct {
		surge, unavail string
		desired        int32
		wantS, wantU   int32
	}{
		{"25%", "25%", 10, 3, 2},
		{"25%", "25%", 1, 1, 0},
		{"0", "0", 5, 0, 1},
		{"0%", "10%", 5, 0, 1},
		{"1", "0", 4, 1, 0},
		{"50%", "50%", 3, 2, 1},
	} {
		s, u, err := util.ResolveFenceposts(ios(tc.surge), ios(tc.unavail), tc.desired)
		if err != nil || s != tc.wantS || u != tc.wantU {
			t.Errorf("%+v: got %d %d %v", tc, s, u, err)
		}
	}
}

func TestRollingUpdateEventsAndFirstStep(t *testing.T) {
	d := newDeployment("nginx", 4, ios("1"), ios("0"))
	f := newFixture(t, d)
	f.mustSync("nginx")
	f.simulatePods(true)
	f.mustSync("nginx")
	d = f.deployment("nginx")
	d.Spec.Template.Spec.Containers[0].Image = "nginx:1.27"
	f.update(d)
	f.events = nil
	f.mustSync("nginx")
	rss := f.replicaSets()
	if len(rss) != 2 || *rss[0].Spec.Replicas != 4 || *rss[1].Spec.Replicas != 1 {
		t.Fatalf("sizes old %d new %d", *rss[0].Spec.Replicas, *rss[1].Spec.Replicas)
	}
	if want := fmt.Sprintf("Normal ScalingReplicaSet Scaled up replica set %s from 0 to 1", rss[1].Name); len(f.events) != 1 || f.events[0] != want {
		t.Fatalf("events %q", f.events)
	}
	if c := findCond(f.deployment("nginx"), appsv1.DeploymentProgressing); c.Reason != util.NewReplicaSetReason {
		t.Fatalf("progressing = %+v", c)
	}
	// New pod not ready: nothing scales down.
	f.simulatePods(false)
	f.events = nil
	f.mustSync("nginx")
	if len(f.events) != 0 {
		t.Fatalf("events while new pod unavailable: %q", f.events)
	}
	f.simulatePods(true)
	f.mustSync("nginx")
	if want := fmt.Sprintf("Normal ScalingReplicaSet Scaled down replica set %s from 4 to 3", rss[0].Name); len(f.events) != 1 || f.events[0] != want {
		t.Fatalf("events %q", f.events)
	}
}

func TestRecreate(t *testing.T) {
	d := newDeployment("db", 2, nil, nil)
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	f := newFixture(t, d)
	f.mustSync("db")
	f.simulatePods(true)
	f.mustSync("db")
	old := f.replicaSets()[0]
	// One running pod of the old ReplicaSet.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "old-pod", Namespace: "default", Labels: old.Spec.Template.Labels,
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(old, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	if _, err := f.client.CoreV1().Pods("default").Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	d = f.deployment("db")
	d.Spec.Template.Spec.Containers[0].Image = "postgres:17"
	f.update(d)
	f.mustSync("db")
	rss := f.replicaSets()
	if len(rss) != 1 || *rss[0].Spec.Replicas != 0 {
		t.Fatalf("first step must only scale old down: %d rs, old replicas %d", len(rss), *rss[0].Spec.Replicas)
	}
	f.simulatePods(false) // status.replicas 0, but the pod is still running
	f.mustSync("db")
	if n := len(f.replicaSets()); n != 1 {
		t.Fatalf("new ReplicaSet created while an old pod runs")
	}
	_ = f.client.CoreV1().Pods("default").Delete(context.Background(), "old-pod", metav1.DeleteOptions{})
	f.mustSync("db")
	rss = f.replicaSets()
	if len(rss) != 2 || *rss[1].Spec.Replicas != 2 || rss[1].Annotations[util.RevisionAnnotation] != "2" {
		t.Fatalf("new rs not created at full size: %d", len(rss))
	}
	if max := rss[1].Annotations[util.MaxReplicasAnnotation]; max != "2" {
		t.Fatalf("max-replicas for Recreate = %q", max)
	}
}

func TestProgressDeadlineExceeded(t *testing.T) {
	d := newDeployment("web", 2, ios("1"), ios("0"))
	d.Spec.ProgressDeadlineSeconds = ptr.To(int32(10))
	f := newFixture(t, d)
	f.mustSync("web")
	f.simulatePods(false)
	f.mustSync("web")
	f.clock.Step(5 * time.Second)
	f.mustSync("web")
	if c := findCond(f.deployment("web"), appsv1.DeploymentProgressing); c.Status != corev1.ConditionTrue {
		t.Fatalf("timed out too early: %+v", c)
	}
	f.clock.Step(6 * time.Second)
	f.mustSync("web")
	got := f.deployment("web")
	rs := f.replicaSets()[0]
	c := findCond(got, appsv1.DeploymentProgressing)
	if c.Status != corev1.ConditionFalse || c.Reason != util.TimedOutReason || c.Message != fmt.Sprintf("ReplicaSet %q has timed out progressing.", rs.Name) {
		t.Fatalf("progressing = %+v", c)
	}
	if !c.LastUpdateTime.Time.Equal(t0.Add(11 * time.Second)) {
		t.Fatalf("lastUpdateTime = %v", c.LastUpdateTime)
	}
	// Progress afterwards flips it back.
	f.simulatePods(true)
	f.mustSync("web")
	if c := findCond(f.deployment("web"), appsv1.DeploymentProgressing); c.Status != corev1.ConditionTrue || c.Reason != util.NewRSAvailableReason {
		t.Fatalf("progressing after recovery = %+v", c)
	}
}

func TestRequeueStuckDeployment(t *testing.T) {
	d := newDeployment("web", 1, nil, nil)
	d.Spec.ProgressDeadlineSeconds = ptr.To(int32(30))
	now := metav1.NewTime(t0)
	d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: util.ReplicaSetUpdatedReason, LastUpdateTime: now, LastTransitionTime: now}}
	f := newFixture(t, d)
	f.clock.Step(10 * time.Second)
	if after := f.c.requeueStuckDeployment(d, appsv1.DeploymentStatus{}); after != 20*time.Second {
		t.Fatalf("requeue after %v, want 20s", after)
	}
}

func TestPausedDeployment(t *testing.T) {
	d := newDeployment("web", 2, nil, nil)
	f := newFixture(t, d)
	f.mustSync("web")
	f.simulatePods(true)
	f.mustSync("web")
	d = f.deployment("web")
	d.Spec.Paused = true
	d.Spec.Template.Spec.Containers[0].Image = "nginx:1.27"
	d.Spec.Replicas = ptr.To(int32(4))
	f.update(d)
	f.mustSync("web")
	rss := f.replicaSets()
	if len(rss) != 1 {
		t.Fatalf("paused deployment rolled out: %d replica sets", len(rss))
	}
	if *rss[0].Spec.Replicas != 4 {
		t.Fatalf("paused deployment not scaled: %d", *rss[0].Spec.Replicas)
	}
	c := findCond(f.deployment("web"), appsv1.DeploymentProgressing)
	if c.Status != corev1.ConditionUnknown || c.Reason != util.PausedDeployReason || c.Message != "Deployment is paused" {
		t.Fatalf("progressing = %+v", c)
	}
	// No timeout while paused.
	f.clock.Step(time.Hour)
	f.mustSync("web")
	if c := findCond(f.deployment("web"), appsv1.DeploymentProgressing); c.Reason != util.PausedDeployReason {
		t.Fatalf("paused condition replaced: %+v", c)
	}
	d = f.deployment("web")
	d.Spec.Paused = false
	f.update(d)
	f.mustSync("web")
	if n := len(f.replicaSets()); n != 2 {
		t.Fatalf("resume did not roll out: %d", n)
	}
	c = findCond(f.deployment("web"), appsv1.DeploymentProgressing)
	if c.Reason == util.PausedDeployReason {
		t.Fatalf("still paused condition: %+v", c)
	}
	if !strings.Contains(strings.Join(f.events, "\n"), "Scaled up replica set") {
		t.Fatalf("events %q", f.events)
	}
}

func TestResumedCondition(t *testing.T) {
	d := newDeployment("web", 1, nil, nil)
	now := metav1.NewTime(t0)
	d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionUnknown, Reason: util.PausedDeployReason, LastUpdateTime: now, LastTransitionTime: now}}
	f := newFixture(t, d)
	if err := f.c.checkPausedConditions(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	c := findCond(f.deployment("web"), appsv1.DeploymentProgressing)
	if c.Reason != util.ResumedDeployReason || c.Message != "Deployment is resumed" || c.Status != corev1.ConditionUnknown {
		t.Fatalf("progressing = %+v", c)
	}
}

func TestRollbackReusesOldReplicaSet(t *testing.T) {
	d := newDeployment("web", 2, nil, nil)
	f := newFixture(t, d)
	step := func() {
		for i := 0; i < 10; i++ {
			f.mustSync("web")
			f.simulatePods(true)
		}
	}
	step()
	images := []string{"nginx:1.27", "nginx:1.28"}
	for _, img := range images {
		d = f.deployment("web")
		d.Spec.Template.Spec.Containers[0].Image = img
		f.update(d)
		step()
	}
	rss := f.replicaSets()
	if len(rss) != 3 {
		t.Fatalf("rs = %d", len(rss))
	}
	first := rss[0]
	// kubectl rollout undo --to-revision=1: the template of revision 1.
	d = f.deployment("web")
	d.Spec.Template = *first.Spec.Template.DeepCopy()
	delete(d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	f.update(d)
	step()
	rss = f.replicaSets()
	if len(rss) != 3 {
		t.Fatalf("rollback created a ReplicaSet: %d", len(rss))
	}
	if rss[0].Annotations[util.RevisionAnnotation] != "4" || rss[0].Annotations[util.RevisionHistoryAnnotation] != "1" || *rss[0].Spec.Replicas != 2 {
		t.Fatalf("rolled-back rs annotations %v replicas %d", rss[0].Annotations, *rss[0].Spec.Replicas)
	}
	if f.deployment("web").Annotations[util.RevisionAnnotation] != "4" {
		t.Fatal("deployment revision not 4")
	}
	// Roll back again to revision 2 then to 4's template: history grows.
	d = f.deployment("web")
	d.Spec.Template = *rss[1].Spec.Template.DeepCopy()
	delete(d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	f.update(d)
	step()
	d = f.deployment("web")
	d.Spec.Template = *rss[0].Spec.Template.DeepCopy()
	delete(d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	f.update(d)
	step()
	if got := f.replicaSets()[0].Annotations[util.RevisionHistoryAnnotation]; got != "1,4" {
		t.Fatalf("revision-history = %q, want 1,4", got)
	}
}

func TestRevisionHistoryLimitCleanup(t *testing.T) {
	d := newDeployment("web", 1, nil, nil)
	d.Spec.RevisionHistoryLimit = ptr.To(int32(1))
	f := newFixture(t, d)
	step := func() {
		for i := 0; i < 10; i++ {
			f.mustSync("web")
			f.simulatePods(true)
		}
	}
	step()
	for _, img := range []string{"a", "b", "c"} {
		d = f.deployment("web")
		d.Spec.Template.Spec.Containers[0].Image = img
		f.update(d)
		step()
	}
	rss := f.replicaSets()
	if len(rss) != 2 {
		t.Fatalf("replica sets kept = %d, want 2 (current + 1 history)", len(rss))
	}
	if rss[0].Annotations[util.RevisionAnnotation] != "3" || rss[1].Annotations[util.RevisionAnnotation] != "4" {
		t.Fatalf("kept revisions %s,%s", rss[0].Annotations[util.RevisionAnnotation], rss[1].Annotations[util.RevisionAnnotation])
	}
}

func TestRolloutRestartAnnotationIsNewRevision(t *testing.T) {
	d := newDeployment("web", 1, nil, nil)
	f := newFixture(t, d)
	f.mustSync("web")
	f.simulatePods(true)
	d = f.deployment("web")
	d.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-01-01T12:00:00Z"}
	f.update(d)
	f.mustSync("web")
	rss := f.replicaSets()
	if len(rss) != 2 || rss[1].Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] == "" {
		t.Fatalf("restart did not create a new ReplicaSet")
	}
}

func TestProportionalScaling(t *testing.T) {
	d := newDeployment("web", 10, ios("3"), ios("2"))
	f := newFixture(t, d)
	f.mustSync("web")
	f.simulatePods(true)
	f.mustSync("web")
	d = f.deployment("web")
	d.Spec.Template.Spec.Containers[0].Image = "nginx:1.27"
	f.update(d)
	// One sync: new RS at 3 (surge), old down to 8 (10-2 unavailable).
	f.mustSync("web")
	f.simulatePods(false)
	rss := f.replicaSets()
	if *rss[0].Spec.Replicas != 8 || *rss[1].Spec.Replicas != 3 {
		t.Fatalf("mid-rollout sizes %d/%d, want 8/3", *rss[0].Spec.Replicas, *rss[1].Spec.Replicas)
	}
	// Scale 10 -> 20 mid-rollout: allowed 23, 11 exist, add 12 by the
	// max-replicas (13) fractions: old round(8*23/13)-8 = 6, new
	// round(3*23/13)-3 = 2, leftover 4 to the largest (old).
	d = f.deployment("web")
	d.Spec.Replicas = ptr.To(int32(20))
	f.update(d)
	f.events = nil
	f.mustSync("web")
	rss = f.replicaSets()
	if *rss[0].Spec.Replicas != 18 || *rss[1].Spec.Replicas != 5 {
		t.Fatalf("proportional sizes %d/%d, want 18/5", *rss[0].Spec.Replicas, *rss[1].Spec.Replicas)
	}
	for _, rs := range rss {
		if rs.Annotations[util.DesiredReplicasAnnotation] != "20" || rs.Annotations[util.MaxReplicasAnnotation] != "23" {
			t.Fatalf("annotations %v", rs.Annotations)
		}
	}
	wantEv := fmt.Sprintf("Normal ScalingReplicaSet Scaled up replica set %s from 8 to 18", rss[0].Name)
	if len(f.events) != 2 || f.events[0] != wantEv {
		t.Fatalf("events %q", f.events)
	}
}

func TestHashCollisionBumpsCollisionCount(t *testing.T) {
	d := newDeployment("web", 1, nil, nil)
	hash := util.ComputeHash(&d.Spec.Template, nil)
	squatter := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-" + hash, Namespace: "default", UID: "squat", Labels: map[string]string{"other": "x"}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(0)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"other": "x"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"other": "x"}}}},
	}
	f := newFixture(t, d, squatter)
	if err := f.sync("web"); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("err = %v", err)
	}
	got := f.deployment("web")
	if got.Status.CollisionCount == nil || *got.Status.CollisionCount != 1 {
		t.Fatalf("collisionCount = %v", got.Status.CollisionCount)
	}
	f.mustSync("web")
	want := "web-" + util.ComputeHash(&d.Spec.Template, ptr.To(int32(1)))
	found := false
	for _, rs := range f.replicaSets() {
		found = found || rs.Name == want
	}
	if !found {
		t.Fatalf("no ReplicaSet %s", want)
	}
	if cc := f.deployment("web").Status.CollisionCount; cc == nil || *cc != 1 {
		t.Fatalf("collisionCount lost: %v", cc)
	}
}

func TestAdoptsOrphanAndReleasesReplicaSets(t *testing.T) {
	d := newDeployment("web", 1, nil, nil)
	orphan := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-orphan", Namespace: "default", UID: "o1", Labels: map[string]string{"k8s-app": "web"}, CreationTimestamp: metav1.NewTime(t0.Add(-time.Hour))},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(1)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "web"}},
			Template: *d.Spec.Template.DeepCopy()},
	}
	strayed := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-strayed", Namespace: "default", UID: "s1", Labels: map[string]string{"k8s-app": "other"},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, controllerKind)}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(0)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "other"}}},
	}
	f := newFixture(t, d, orphan, strayed)
	f.mustSync("web")
	rss := map[string]*appsv1.ReplicaSet{}
	for _, rs := range f.replicaSets() {
		rss[rs.Name] = rs
	}
	if ref := metav1.GetControllerOf(rss["web-orphan"]); ref == nil || ref.UID != d.UID {
		t.Fatalf("orphan not adopted: %+v", rss["web-orphan"].OwnerReferences)
	}
	if len(rss["web-strayed"].OwnerReferences) != 0 {
		t.Fatalf("strayed not released")
	}
	if len(rss) != 2 {
		t.Fatalf("adopted rs with same template must be reused, got %d", len(rss))
	}
	if rss["web-orphan"].Annotations[util.RevisionAnnotation] != "1" {
		t.Fatalf("adopted rs revision %v", rss["web-orphan"].Annotations)
	}
}

func TestReplicaFailureCopiedFromReplicaSet(t *testing.T) {
	d := newDeployment("web", 1, nil, nil)
	f := newFixture(t, d)
	f.mustSync("web")
	rs := f.replicaSets()[0]
	rs.Status.Conditions = []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: "quota", LastTransitionTime: metav1.NewTime(t0)}}
	f.putRSStatus(rs)
	f.mustSync("web")
	c := findCond(f.deployment("web"), appsv1.DeploymentReplicaFailure)
	if c == nil || c.Reason != "FailedCreate" || c.Message != "quota" || c.Status != corev1.ConditionTrue {
		t.Fatalf("replica failure = %+v", c)
	}
	rs = f.replicaSets()[0]
	rs.Status.Conditions = nil
	f.putRSStatus(rs)
	f.mustSync("web")
	if c := findCond(f.deployment("web"), appsv1.DeploymentReplicaFailure); c != nil {
		t.Fatalf("replica failure not removed: %+v", c)
	}
}

func TestFailedReplicaSetCreate(t *testing.T) {
	d := newDeployment("web", 1, nil, nil)
	f := newFixture(t, d)
	f.client.PrependReactor("create", "replicasets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, fmt.Errorf("etcd down")
	})
	if err := f.sync("web"); err == nil {
		t.Fatal("no error")
	}
	c := findCond(f.deployment("web"), appsv1.DeploymentProgressing)
	hash := util.ComputeHash(&d.Spec.Template, nil)
	if c == nil || c.Status != corev1.ConditionFalse || c.Reason != util.FailedRSCreateReason || c.Message != fmt.Sprintf("Failed to create new replica set %q: etcd down", "web-"+hash) {
		t.Fatalf("progressing = %+v", c)
	}
}

func TestSelectingAll(t *testing.T) {
	d := newDeployment("web", 1, nil, nil)
	d.Spec.Selector = &metav1.LabelSelector{}
	f := newFixture(t, d)
	f.mustSync("web")
	if len(f.replicaSets()) != 0 || len(f.events) != 1 || !strings.Contains(f.events[0], "SelectingAll") {
		t.Fatalf("events %q", f.events)
	}
}

func TestLegacyRollbackAnnotation(t *testing.T) {
	d := newDeployment("web", 1, nil, nil)
	f := newFixture(t, d)
	step := func() {
		for i := 0; i < 10; i++ {
			f.mustSync("web")
			f.simulatePods(true)
		}
	}
	step()
	d = f.deployment("web")
	d.Spec.Template.Spec.Containers[0].Image = "nginx:1.27"
	f.update(d)
	step()
	d = f.deployment("web")
	d.Annotations[util.RollbackToAnnotation] = "0" // previous revision
	f.update(d)
	f.events = nil
	f.mustSync("web")
	got := f.deployment("web")
	if got.Spec.Template.Spec.Containers[0].Image != "nginx:1.26" {
		t.Fatalf("image = %s", got.Spec.Template.Spec.Containers[0].Image)
	}
	if _, ok := got.Annotations[util.RollbackToAnnotation]; ok {
		t.Fatal("rollback annotation not cleared")
	}
	if _, ok := got.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; ok {
		t.Fatal("pod-template-hash copied into the deployment template")
	}
	if len(f.events) != 1 || f.events[0] != `Normal DeploymentRollback Rolled back deployment "web" to revision 1` {
		t.Fatalf("events %q", f.events)
	}
	d = f.deployment("web")
	d.Annotations[util.RollbackToAnnotation] = "9"
	f.update(d)
	f.events = nil
	f.mustSync("web")
	if len(f.events) != 1 || f.events[0] != "Warning DeploymentRollbackRevisionNotFound Unable to find the revision to rollback to." {
		t.Fatalf("events %q", f.events)
	}
}

func TestEventHandlersEnqueue(t *testing.T) {
	d := newDeployment("web", 1, nil, nil)
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	f := newFixture(t, d)
	drain := func() []string {
		var keys []string
		for f.c.queue.Len() > 0 {
			k, _ := f.c.queue.Get()
			f.c.queue.Done(k)
			f.c.queue.Forget(k)
			keys = append(keys, k)
		}
		return keys
	}
	orphan := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "default", Labels: map[string]string{"k8s-app": "web"}}}
	f.c.addReplicaSet(orphan)
	if k := drain(); len(k) != 1 || k[0] != "default/web" {
		t.Fatalf("orphan add enqueued %v", k)
	}
	unrelated := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "y", Namespace: "default", Labels: map[string]string{"k8s-app": "other"}}}
	f.c.addReplicaSet(unrelated)
	if k := drain(); len(k) != 0 {
		t.Fatalf("unrelated add enqueued %v", k)
	}
	owned := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "z", Namespace: "default", UID: "z1", ResourceVersion: "1",
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, controllerKind)}}, Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(1))}}
	_ = f.factory.Apps().V1().ReplicaSets().Informer().GetIndexer().Add(owned)
	owned2 := owned.DeepCopy()
	owned2.ResourceVersion = "2"
	f.c.updateReplicaSet(owned, owned2)
	if k := drain(); len(k) != 1 {
		t.Fatalf("owned update enqueued %v", k)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default",
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(owned, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}}}
	f.c.deletePod(pod)
	if k := drain(); len(k) != 1 || k[0] != "default/web" {
		t.Fatalf("pod delete of a Recreate deployment enqueued %v", k)
	}
}

// A sync on a ReplicaSet cache older than our own ReplicaSet write is
// skipped (and requeued by the worker); once the informer observes the
// write, the sync runs.
func TestWaitsForCacheToObserveOwnWrites(t *testing.T) {
	d := newDeployment("nginx", 3, nil, nil)
	f := newFixture(t, d)
	rsStore := f.factory.Apps().V1().ReplicaSets().Informer().GetIndexer()
	rsStore.Bookmark("4")
	f.c.consistency.WroteAt(types.NamespacedName{Namespace: "default", Name: "nginx"}, d.UID, appsv1.Resource("replicasets"), "5")
	if err := f.c.syncDeployment(context.Background(), "default/nginx"); !consistency.IsStale(err) {
		t.Fatalf("sync on a stale cache = %v, want a stale-cache error", err)
	}
	if n := len(f.replicaSets()); n != 0 {
		t.Fatalf("%d ReplicaSets created from a stale cache", n)
	}
	f.c.queue.Add("default/nginx")
	f.c.processNextWorkItem(context.Background())
	if n := f.c.queue.NumRequeues("default/nginx"); n != 1 {
		t.Fatalf("stale sync requeued %d times, want 1", n)
	}
	rsStore.Bookmark("5")
	if err := f.c.syncDeployment(context.Background(), "default/nginx"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.replicaSets()); n != 1 {
		t.Fatalf("%d ReplicaSets after the cache caught up, want 1", n)
	}
}
