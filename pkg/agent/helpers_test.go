package agent

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/herd-project/herd/pkg/agent/runtime"
	"github.com/herd-project/herd/pkg/agent/runtime/simulated"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type env struct {
	t      *testing.T
	client *fake.Clientset
	clk    *clocktesting.FakeClock
	rt     *simulated.Runtime
	// rtOverride, when set before start, is the runtime the agent uses.
	rtOverride runtime.Runtime
	agent      *Agent
	cancel     context.CancelFunc
	done       chan struct{}

	evMu   sync.Mutex
	events []string

	// annotated makes the next start serve annotated nodes too.
	annotated bool
}

func newEnv(t *testing.T, nodes ...string) *env {
	t.Helper()
	if len(nodes) == 0 {
		nodes = []string{"node-a"}
	}
	e := &env{t: t, client: fake.NewClientset(), clk: clocktesting.NewFakeClock(t0)}
	// the fake tracker sets no UIDs; the API server does
	e.client.PrependReactor("create", "*", func(action clienttesting.Action) (bool, kruntime.Object, error) {
		if obj, ok := action.(clienttesting.CreateAction).GetObject().(metav1.Object); ok && obj.GetUID() == "" {
			obj.SetUID(types.UID(fmt.Sprintf("auto-%d", uidSeq.Add(1))))
		}
		return false, nil, nil
	})
	e.rt = simulated.New(simulated.Options{LogDir: t.TempDir(), Clock: e.clk})
	e.start(nodes)
	return e
}

// start runs a (new) agent on the env's client and runtime.
func (e *env) start(nodes []string) {
	e.t.Helper()
	rec := record.NewFakeRecorder(10000)
	go func() {
		for ev := range rec.Events {
			e.evMu.Lock()
			e.events = append(e.events, ev)
			e.evMu.Unlock()
		}
	}()
	var rt runtime.Runtime = e.rt
	if e.rtOverride != nil {
		rt = e.rtOverride
	}
	a, err := New(Config{
		Client: e.client, NodeNames: nodes, Runtime: rt, Clock: e.clk, NodeIP: "10.0.0.5",
		KubeletPort: 10250, Recorder: rec, ClientCertUser: testClientCertUser, ServeAnnotatedNodes: e.annotated,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.agent, e.cancel, e.done = a, cancel, make(chan struct{})
	go func() {
		defer close(e.done)
		if err := a.Run(ctx); err != nil {
			e.t.Errorf("Run: %v", err)
		}
	}()
	e.t.Cleanup(e.stop)
	// wait for recovery to be done: workers started
	e.eventually("agent started", func() bool {
		_, err := e.client.CoordinationV1().Leases(NodeLeaseNamespace).Get(context.Background(), nodes[0], metav1.GetOptions{})
		return err == nil
	})
}

func (e *env) stop() {
	if e.cancel != nil {
		e.cancel()
		<-e.done
		e.cancel = nil
	}
}

func (e *env) eventually(what string, f func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if f() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("timed out waiting for %s", what)
}

func (e *env) step(d time.Duration) {
	// let pending work settle before moving time
	time.Sleep(20 * time.Millisecond)
	e.clk.Step(d)
}

func (e *env) create(pod *corev1.Pod) *corev1.Pod {
	e.t.Helper()
	out, err := e.client.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) get(name string) *corev1.Pod {
	p, err := e.client.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return p
}

// waitPod waits until cond holds for the pod and returns it.
func (e *env) waitPod(name, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	e.t.Helper()
	var last *corev1.Pod
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if p := e.get(name); p != nil {
			last = p
			if cond(p) {
				return p
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if last != nil {
		e.t.Fatalf("pod %s: timed out waiting for %s; status: %s", name, what, describe(last))
	}
	e.t.Fatalf("pod %s: timed out waiting for %s (no pod)", name, what)
	return nil
}

// hasEvent reports whether an event containing substr was recorded, waiting
// up to 5 s (wall time) for it: events reach the fake recorder on their own
// goroutine, possibly after the status the test waited for.
func (e *env) hasEvent(substr string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for {
		if e.recorded(substr) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) recorded(substr string) bool {
	e.evMu.Lock()
	defer e.evMu.Unlock()
	for _, ev := range e.events {
		if strings.Contains(ev, substr) {
			return true
		}
	}
	return false
}

func (e *env) countEvents(substr string) int {
	e.evMu.Lock()
	defer e.evMu.Unlock()
	n := 0
	for _, ev := range e.events {
		if strings.Contains(ev, substr) {
			n++
		}
	}
	return n
}

func describe(p *corev1.Pod) string {
	var b strings.Builder
	fmt.Fprintf(&b, "phase=%s reason=%s", p.Status.Phase, p.Status.Reason)
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		fmt.Fprintf(&b, " [%s restarts=%d ready=%v state=%s]", cs.Name, cs.RestartCount, cs.Ready, stateString(cs.State))
	}
	for _, c := range p.Status.Conditions {
		fmt.Fprintf(&b, " %s=%s", c.Type, c.Status)
	}
	return b.String()
}

func stateString(s corev1.ContainerState) string {
	switch {
	case s.Running != nil:
		return "running"
	case s.Terminated != nil:
		return fmt.Sprintf("terminated(%d,%s)", s.Terminated.ExitCode, s.Terminated.Reason)
	case s.Waiting != nil:
		return "waiting(" + s.Waiting.Reason + ")"
	}
	return "none"
}

var uidSeq atomic.Int64

func newPod(name string, policy corev1.RestartPolicy, annotations map[string]string, containers ...string) *corev1.Pod {
	n := uidSeq.Add(1)
	if len(containers) == 0 {
		containers = []string{"main"}
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(fmt.Sprintf("uid-%s-%d", name, n)),
			Annotations: annotations, Generation: 1},
		Spec: corev1.PodSpec{NodeName: "node-a", RestartPolicy: policy},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0)},
		}},
	}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Image: "busybox"})
	}
	return p
}

func cond(p *corev1.Pod, t corev1.PodConditionType) corev1.PodCondition {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return corev1.PodCondition{}
}
