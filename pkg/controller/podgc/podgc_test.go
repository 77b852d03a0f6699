package podgc

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type env struct {
	t      *testing.T
	client *fake.Clientset
	clock  *clocktesting.FakeClock
	c      *Controller
}

func newEnv(t *testing.T, opts Options, objs ...runtime.Object) *env {
	client := fake.NewSimpleClientset(objs...)
	factory := informers.NewSharedInformerFactory(client, 0)
	clk := clocktesting.NewFakeClock(t0)
	c := New(client, factory, clk, opts)
	for _, o := range objs {
		var err error
		switch x := o.(type) {
		case *corev1.Pod:
			err = factory.Core().V1().Pods().Informer().GetIndexer().Add(x)
		case *corev1.Node:
			err = factory.Core().V1().Nodes().Informer().GetIndexer().Add(x)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(c.nodeQueue.ShutDown)
	return &env{t: t, client: client, clock: clk, c: c}
}

func pod(name, node string, phase corev1.PodPhase, created time.Duration) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: k8stypes.UID("uid-" + name),
			CreationTimestamp: metav1.NewTime(t0.Add(created))},
		Spec:   corev1.PodSpec{NodeName: node},
		Status: corev1.PodStatus{Phase: phase},
	}
}

func terminatingPod(p *corev1.Pod) *corev1.Pod {
	now := metav1.NewTime(t0)
	p.DeletionTimestamp = &now
	return p
}

func node(name string, ready bool, taints ...corev1.Taint) *corev1.Node {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}}}}
}

// writes returns "verb name" of pod writes; deletes must have grace 0.
func (e *env) writes() []string {
	e.t.Helper()
	var out []string
	for _, a := range e.client.Actions() {
		if a.GetResource().Resource != "pods" {
			continue
		}
		switch x := a.(type) {
		case clienttesting.DeleteAction:
			o := x.GetDeleteOptions()
			if o.GracePeriodSeconds == nil || *o.GracePeriodSeconds != 0 {
				e.t.Fatalf("delete of %s without grace 0", x.GetName())
			}
			if o.Preconditions == nil || o.Preconditions.UID == nil || string(*o.Preconditions.UID) != "uid-"+x.GetName() {
				e.t.Fatalf("delete of %s without uid precondition", x.GetName())
			}
			out = append(out, "delete "+x.GetName())
		case clienttesting.PatchAction:
			out = append(out, "patch "+x.GetSubresource()+" "+x.GetName())
		}
	}
	sort.Strings(out)
	return out
}

func (e *env) expect(want ...string) {
	e.t.Helper()
	sort.Strings(want)
	if got := strings.Join(e.writes(), ","); got != strings.Join(want, ",") {
		e.t.Fatalf("writes = %s, want %s", got, strings.Join(want, ","))
	}
}

func TestTerminatedAboveThresholdOldestFirst(t *testing.T) {
	evicted := pod("evicted", "n", corev1.PodFailed, 10*time.Minute)
	evicted.Status.Reason = "Evicted"
	e := newEnv(t, Options{TerminatedPodThreshold: 2},
		node("n", true),
		pod("old-failed", "n", corev1.PodFailed, time.Minute),
		pod("older-ok", "n", corev1.PodSucceeded, 0),
		pod("new-ok", "n", corev1.PodSucceeded, 5*time.Minute),
		evicted,
		pod("running-oldest", "n", corev1.PodRunning, -time.Hour),
	)
	e.c.gc(context.Background())
	// 4 terminated, threshold 2: the evicted one, then the oldest.
	e.expect("delete evicted", "delete older-ok")
}

func TestTerminatedAtThresholdKept(t *testing.T) {
	e := newEnv(t, Options{TerminatedPodThreshold: 2},
		node("n", true),
		pod("a", "n", corev1.PodFailed, 0),
		pod("b", "n", corev1.PodSucceeded, 0),
	)
	e.c.gc(context.Background())
	e.expect()
	if e.c.threshold != 2 || New(e.client, informers.NewSharedInformerFactory(e.client, 0), e.clock, Options{}).threshold != DefaultTerminatedPodThreshold {
		t.Fatal("threshold default")
	}
}

func TestNegativeThresholdDisables(t *testing.T) {
	e := newEnv(t, Options{TerminatedPodThreshold: -1}, node("n", true), pod("a", "n", corev1.PodFailed, 0))
	e.c.gc(context.Background())
	e.expect()
}

func waitLen(t *testing.T, c *Controller, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for c.nodeQueue.Len() != n {
		if time.Now().After(deadline) {
			t.Fatalf("node queue length %d, want %d", c.nodeQueue.Len(), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestPodsOnGoneNodeAfterQuarantine(t *testing.T) {
	e := newEnv(t, Options{},
		node("alive", true),
		pod("orphan", "gone", corev1.PodRunning, 0),
		terminatingPod(pod("stuck", "gone", corev1.PodRunning, 0)),
		pod("done", "gone", corev1.PodSucceeded, 0),
		pod("fine", "alive", corev1.PodRunning, 0),
	)
	ctx := context.Background()
	e.c.gc(ctx)
	e.expect()
	e.clock.Step(Quarantine - time.Second)
	time.Sleep(20 * time.Millisecond)
	e.c.gc(ctx)
	e.expect()
	e.clock.Step(time.Second)
	waitLen(t, e.c, 1)
	e.c.gc(ctx)
	e.expect("patch status orphan", "patch status stuck", "delete orphan", "delete stuck", "delete done")

	for _, a := range e.client.Actions() {
		p, ok := a.(clienttesting.PatchAction)
		if !ok || p.GetName() != "orphan" {
			continue
		}
		var got struct {
			Metadata struct{ UID string }
			Status   corev1.PodStatus
		}
		if err := json.Unmarshal(p.GetPatch(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Metadata.UID != "uid-orphan" || got.Status.Phase != corev1.PodFailed || len(got.Status.Conditions) != 1 {
			t.Fatalf("patch = %s", p.GetPatch())
		}
		c := got.Status.Conditions[0]
		if c.Type != corev1.DisruptionTarget || c.Status != corev1.ConditionTrue || c.Reason != "DeletionByPodGC" ||
			c.Message != "PodGC: node no longer exists" || !c.LastTransitionTime.Time.Equal(t0.Add(Quarantine)) {
			t.Fatalf("condition = %+v", c)
		}
	}
}

func TestNodeBackDuringQuarantine(t *testing.T) {
	e := newEnv(t, Options{}, pod("p", "flaky", corev1.PodRunning, 0))
	ctx := context.Background()
	e.c.gc(ctx)
	// the node registers again before the quarantine ends (the cache lags)
	if _, err := e.client.CoreV1().Nodes().Create(ctx, node("flaky", true), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.clock.Step(Quarantine)
	waitLen(t, e.c, 1)
	e.c.gc(ctx)
	e.expect()
}

func TestUnscheduledTerminatingForceDeleted(t *testing.T) {
	e := newEnv(t, Options{},
		terminatingPod(pod("unscheduled", "", corev1.PodPending, 0)),
		pod("pending", "", corev1.PodPending, 0),
	)
	e.c.gc(context.Background())
	e.expect("patch status unscheduled", "delete unscheduled")
	p, err := e.client.CoreV1().Pods("ns").Get(context.Background(), "pending", metav1.GetOptions{})
	if err != nil || p.Status.Phase != corev1.PodPending {
		t.Fatalf("pending pod touched: %v", err)
	}
}

func TestTerminatingOnOutOfServiceNode(t *testing.T) {
	taint := corev1.Taint{Key: corev1.TaintNodeOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute}
	e := newEnv(t, Options{},
		node("down", false, taint),
		node("tainted-but-ready", true, taint),
		terminatingPod(pod("stuck", "down", corev1.PodRunning, 0)),
		pod("running", "down", corev1.PodRunning, 0),
		terminatingPod(pod("ready-node", "tainted-but-ready", corev1.PodRunning, 0)),
	)
	e.c.gc(context.Background())
	e.expect("patch status stuck", "delete stuck")
}

func TestRunCollectsEveryPeriod(t *testing.T) {
	e := newEnv(t, Options{TerminatedPodThreshold: 1, Period: 20 * time.Second})
	factory := informers.NewSharedInformerFactory(e.client, 0)
	e.c = New(e.client, factory, e.clock, Options{TerminatedPodThreshold: 1, Period: 20 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { defer close(done); e.c.Run(ctx, 1) }()
	defer func() { cancel(); <-done }()
	for _, p := range []*corev1.Pod{pod("a", "", corev1.PodFailed, 0), pod("b", "", corev1.PodFailed, time.Second)} {
		if _, err := e.client.CoreV1().Pods("ns").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(e.writes()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no collection after a period")
		}
		if e.clock.HasWaiters() {
			e.clock.Step(20 * time.Second)
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.expect("delete a")
}
