package scheduler

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"
)

var podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

type nodeOpt func(*v1.Node)

func makeNode(name, cpu, mem string, opts ...nodeOpt) *v1.Node {
	n := &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: v1.NodeStatus{
			Allocatable: v1.ResourceList{
				v1.ResourceCPU:              resource.MustParse(cpu),
				v1.ResourceMemory:           resource.MustParse(mem),
				v1.ResourceEphemeralStorage: resource.MustParse("10Gi"),
				v1.ResourcePods:             resource.MustParse("110"),
			},
			Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}},
		},
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

type podOpt func(*v1.Pod)

func makePod(name, cpu, mem string, opts ...podOpt) *v1.Pod {
	req := v1.ResourceList{}
	if cpu != "" {
		req[v1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		req[v1.ResourceMemory] = resource.MustParse(mem)
	}
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)},
		Spec: v1.PodSpec{
			SchedulerName: SchedulerName,
			Containers:    []v1.Container{{Name: "c", Image: "busybox", Resources: v1.ResourceRequirements{Requests: req}}},
		},
		Status: v1.PodStatus{Phase: v1.PodPending},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func onNode(node string) podOpt { return func(p *v1.Pod) { p.Spec.NodeName = node } }

func ownedBy(uid string) podOpt {
	return func(p *v1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: types.UID(uid), Controller: ptrTo(true)}}
	}
}

func ptrTo[T any](v T) *T { return &v }

// testEnv is a scheduler on a fake clientset whose pods/binding behaves as
// the API server's: it sets spec.nodeName and PodScheduled=True.
type testEnv struct {
	t        *testing.T
	ctx      context.Context
	client   *fake.Clientset
	recorder *record.FakeRecorder
	clock    *testingclock.FakeClock
	sched    *Scheduler
	factory  informers.SharedInformerFactory

	gateMu sync.Mutex
	gate   chan struct{} // when set, bound pods reach the informer only once it is closed
}

func init() {
	// The fake clientset's watchers panic ("channel full") when more than
	// 100 events are unread; asynchronous bindings at full speed outrun the
	// reflector on 2 cores. The real API server has no such limit.
	watch.DefaultChanSize = 1 << 16
}

func newTestEnv(t testing.TB, objs ...runtime.Object) *testEnv {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	// NewSimpleClientset: NewClientset's field-managed tracker rebuilds a REST mapper on
	// every write (~2 ms), which would dominate the throughput benchmark.
	client := fake.NewSimpleClientset(objs...) //nolint:staticcheck // see above
	env := &testEnv{
		ctx:      ctx,
		client:   client,
		recorder: record.NewFakeRecorder(3 * benchPods), // FakeRecorder blocks when its buffer is full,
		clock:    testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
	}
	if tt, ok := t.(*testing.T); ok {
		env.t = tt
	}
	client.PrependReactor("create", "pods", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "binding" {
			return false, nil, nil
		}
		env.gateMu.Lock()
		gate := env.gate
		env.gateMu.Unlock()
		b := action.(k8stesting.CreateAction).GetObject().(*v1.Binding)
		obj, err := client.Tracker().Get(podsGVR, b.Namespace, b.Name)
		if err != nil {
			return true, nil, err
		}
		pod := obj.(*v1.Pod).DeepCopy()
		if pod.Spec.NodeName != "" {
			return true, nil, fmt.Errorf("pod %s is already assigned to node %q", pod.Name, pod.Spec.NodeName)
		}
		pod.Spec.NodeName = b.Target.Name
		setCondition(pod, v1.PodCondition{Type: v1.PodScheduled, Status: v1.ConditionTrue})
		if gate != nil {
			// The binding succeeds, but the informer only hears of it
			// once the gate opens.
			go func() {
				<-gate
				_ = client.Tracker().Update(podsGVR, pod, pod.Namespace)
			}()
			return true, nil, nil
		}
		return true, nil, client.Tracker().Update(podsGVR, pod, pod.Namespace)
	})
	env.factory = informers.NewSharedInformerFactory(client, 0)
	env.sched = New(client, env.factory, env.recorder, env.clock)
	env.factory.Start(ctx.Done())
	env.factory.WaitForCacheSync(ctx.Done())
	toolscache.WaitForCacheSync(ctx.Done(), env.sched.synced...)
	return env
}

func setCondition(pod *v1.Pod, c v1.PodCondition) {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == c.Type {
			pod.Status.Conditions[i] = c
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, c)
}

// eventually polls cond for up to 5 s.
func (e *testEnv) eventually(what string, cond func() bool) {
	e.t.Helper()
	err := wait.PollUntilContextTimeout(e.ctx, 2*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
	if err != nil {
		e.t.Fatalf("timed out waiting for %s", what)
	}
}

// drain runs scheduling attempts until the queue is empty (items waiting
// for their backoff stay) and waits for the bindings started.
func (e *testEnv) drain() {
	for e.sched.queue.Len() > 0 {
		e.sched.processNextItem(e.ctx)
	}
	e.sched.binds.Wait()
}

func (e *testEnv) getPod(name string) *v1.Pod {
	e.t.Helper()
	p, err := e.client.CoreV1().Pods("default").Get(e.ctx, name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *testEnv) createPod(p *v1.Pod) {
	e.t.Helper()
	queued := e.sched.queue.Len()
	if _, err := e.client.CoreV1().Pods(p.Namespace).Create(e.ctx, p, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.eventually("pod queued", func() bool { return e.sched.queue.Len() == queued+1 })
}

func (e *testEnv) events() []string {
	var out []string
	for {
		select {
		case ev := <-e.recorder.Events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

func (e *testEnv) bindCount() int {
	n := 0
	for _, a := range e.client.Actions() {
		if a.GetVerb() == "create" && a.GetSubresource() == "binding" {
			n++
		}
	}
	return n
}

func podScheduledCondition(p *v1.Pod) *v1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == v1.PodScheduled {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

type runtimeObject = runtime.Object

func everything() labels.Selector { return labels.Everything() }
