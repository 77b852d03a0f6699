package agent

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"
	clienttesting "k8s.io/client-go/testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/agent/runtime/simulated"
)

// BenchmarkSimulated10kPods100Nodes: 10,000 pods created by a client loop,
// bound round-robin to 100 simulated nodes served by one agent, until all
// are Running (fake clientset, real clock, simulated runtime with logs).
func BenchmarkSimulated10kPods100Nodes(b *testing.B) {
	const nodes, pods = 100, 10000
	for i := 0; i < b.N; i++ {
		client := newBenchClientset()
		rt := simulated.New(simulated.Options{LogDir: b.TempDir(), Clock: clock.RealClock{}})
		names := make([]string, nodes)
		for n := range names {
			names[n] = fmt.Sprintf("sim-%04d", n)
		}
		rec := record.NewFakeRecorder(0) // a nil channel: events are dropped
		rec.Events = nil
		a, err := New(Config{Client: client, NodeNames: names, Runtime: rt, NodeIP: "10.0.0.1", Recorder: rec, Workers: 32})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = a.Run(ctx) }()
		for {
			if l, _ := client.CoordinationV1().Leases(NodeLeaseNamespace).List(ctx, metav1.ListOptions{}); len(l.Items) == nodes {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		start := time.Now()
		for p := 0; p < pods; p++ {
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%05d", p), Namespace: "default", UID: types.UID(fmt.Sprintf("bench-%d-%d", i, p))},
				Spec: corev1.PodSpec{NodeName: names[p%nodes], RestartPolicy: corev1.RestartPolicyAlways,
					Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
				Status: corev1.PodStatus{Phase: corev1.PodPending},
			}
			if _, err := client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		created := time.Since(start)
		for {
			running := 0
			for _, obj := range a.podInf.GetStore().List() {
				if obj.(*corev1.Pod).Status.Phase == corev1.PodRunning {
					running++
				}
			}
			if running == pods {
				break
			}
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("only %d/%d pods running after 5m", running, pods)
			}
			time.Sleep(20 * time.Millisecond)
		}
		elapsed := time.Since(start)
		cancel()
		<-done
		b.ReportMetric(float64(pods)/elapsed.Seconds(), "pods/s")
		b.ReportMetric(created.Seconds(), "create-s")
		b.ReportMetric(elapsed.Seconds(), "all-running-s")
	}
}

// benchTracker is the fake clientset's object tracker with watch channels
// large enough for 10,000 pods: the stock fake watcher panics when 100
// events are pending, and fake.NewClientset's field management costs
// ~10 ms per write.
type benchTracker struct {
	clienttesting.ObjectTracker
	mu       sync.Mutex
	watchers map[schema.GroupVersionResource][]*watch.FakeWatcher
}

func newBenchClientset() *fake.Clientset {
	t := &benchTracker{
		ObjectTracker: clienttesting.NewObjectTracker(scheme.Scheme, scheme.Codecs.UniversalDecoder()),
		watchers:      map[schema.GroupVersionResource][]*watch.FakeWatcher{},
	}
	cs := &fake.Clientset{}
	cs.AddReactor("*", "*", clienttesting.ObjectReaction(t))
	cs.AddWatchReactor("*", func(action clienttesting.Action) (bool, watch.Interface, error) {
		w := watch.NewFakeWithChanSize(1<<17, false)
		t.mu.Lock()
		t.watchers[action.GetResource()] = append(t.watchers[action.GetResource()], w)
		t.mu.Unlock()
		return true, w, nil
	})
	return cs
}

func (t *benchTracker) emit(gvr schema.GroupVersionResource, typ watch.EventType, obj runtime.Object) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range t.watchers[gvr] {
		w.Action(typ, obj.DeepCopyObject())
	}
}

func (t *benchTracker) Create(gvr schema.GroupVersionResource, obj runtime.Object, ns string, opts ...metav1.CreateOptions) error {
	if err := t.ObjectTracker.Create(gvr, obj, ns, opts...); err != nil {
		return err
	}
	t.emit(gvr, watch.Added, obj)
	return nil
}

func (t *benchTracker) Update(gvr schema.GroupVersionResource, obj runtime.Object, ns string, opts ...metav1.UpdateOptions) error {
	if err := t.ObjectTracker.Update(gvr, obj, ns, opts...); err != nil {
		return err
	}
	t.emit(gvr, watch.Modified, obj)
	return nil
}

func (t *benchTracker) Delete(gvr schema.GroupVersionResource, ns, name string, opts ...metav1.DeleteOptions) error {
	obj, err := t.ObjectTracker.Get(gvr, ns, name)
	if err != nil {
		return err
	}
	if err := t.ObjectTracker.Delete(gvr, ns, name, opts...); err != nil {
		return err
	}
	t.emit(gvr, watch.Deleted, obj)
	return nil
}
