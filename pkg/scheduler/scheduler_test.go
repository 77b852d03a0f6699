package scheduler

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
)

func TestUnschedulableThenNodeAdded(t *testing.T) {
	env := newTestEnv(t, makeNode("small", "2", "1Gi"))
	env.createPod(makePod("p", "1", "2Gi"))
	env.drain()

	want := "0/1 nodes are available: 1 Insufficient memory."
	p := env.getPod("p")
	c := podScheduledCondition(p)
	if p.Spec.NodeName != "" || c == nil || c.Status != v1.ConditionFalse || c.Reason != v1.PodReasonUnschedulable || c.Message != want {
		t.Fatalf("pod after failed attempt: node %q condition %+v", p.Spec.NodeName, c)
	}
	if !c.LastTransitionTime.Time.Equal(env.clock.Now()) {
		t.Fatalf("lastTransitionTime %v", c.LastTransitionTime)
	}
	if got := env.events(); len(got) != 1 || got[0] != "Warning FailedScheduling "+want {
		t.Fatalf("events %q", got)
	}
	if env.sched.queue.Len() != 0 {
		t.Fatalf("unschedulable pod requeued without a cluster event")
	}
	// Our own status write does not retry the pod.
	env.eventually("status write seen", func() bool {
		lp, _ := env.sched.podLister.Pods("default").Get("p")
		return podScheduledCondition(lp) != nil
	})
	if env.sched.queue.Len() != 0 {
		t.Fatalf("status update requeued the pod")
	}

	// A node that fits appears: the pod is retried at once, though its
	// 1 s backoff is not over (the clock has not moved): the queue is idle.
	if _, err := env.client.CoreV1().Nodes().Create(env.ctx, makeNode("big", "4", "8Gi"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.eventually("requeue without waiting for the backoff", func() bool {
		return env.sched.queue.Len() == 1
	})
	env.drain()
	p = env.getPod("p")
	if p.Spec.NodeName != "big" {
		t.Fatalf("pod bound to %q, want big", p.Spec.NodeName)
	}
	if got := env.events(); len(got) != 1 || got[0] != "Normal Scheduled Successfully assigned default/p to big" {
		t.Fatalf("events %q", got)
	}
	if env.bindCount() != 1 {
		t.Fatalf("bindings %d", env.bindCount())
	}
}

func TestNoNodes(t *testing.T) {
	env := newTestEnv(t)
	env.createPod(makePod("p", "1", "1Gi"))
	env.drain()
	c := podScheduledCondition(env.getPod("p"))
	if c == nil || c.Reason != v1.PodReasonUnschedulable || c.Message != "no nodes available to schedule pods" {
		t.Fatalf("condition %+v", c)
	}
	if got := env.events(); len(got) != 1 || got[0] != "Warning FailedScheduling no nodes available to schedule pods" {
		t.Fatalf("events %q", got)
	}
}

func TestAssumeCachePreventsOvercommit(t *testing.T) {
	env := newTestEnv(t, makeNode("n1", "2", "8Gi"))
	// Bindings succeed but the informer hears of none of them until all
	// three pods went through the algorithm: only the assume cache knows.
	gate := make(chan struct{})
	env.gate = gate
	for i := 1; i <= 3; i++ {
		env.createPod(makePod(fmt.Sprintf("p%d", i), "1", "100Mi"))
	}
	env.drain()
	close(gate)

	if got := env.bindCount(); got != 2 {
		t.Fatalf("bindings %d, want 2", got)
	}
	env.eventually("bindings visible", func() bool {
		n := 0
		for i := 1; i <= 3; i++ {
			if p, err := env.sched.podLister.Pods("default").Get(fmt.Sprintf("p%d", i)); err == nil && p.Spec.NodeName != "" {
				n++
			}
		}
		return n == 2
	})
	bound, unschedulable := 0, 0
	for i := 1; i <= 3; i++ {
		p := env.getPod(fmt.Sprintf("p%d", i))
		if p.Spec.NodeName == "n1" {
			bound++
			continue
		}
		if c := podScheduledCondition(p); c != nil && c.Message == "0/1 nodes are available: 1 Insufficient cpu." {
			unschedulable++
		}
	}
	if bound != 2 || unschedulable != 1 {
		t.Fatalf("bound %d unschedulable %d", bound, unschedulable)
	}
}

func TestIgnoredPods(t *testing.T) {
	other := makePod("other", "1", "1Gi")
	other.Spec.SchedulerName = "my-scheduler"
	deleting := makePod("deleting", "1", "1Gi")
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	deleting.Finalizers = []string{"example.com/hold"}
	gated := makePod("gated", "1", "1Gi")
	gated.Spec.SchedulingGates = []v1.PodSchedulingGate{{Name: "example.com/wait"}}
	env := newTestEnv(t, makeNode("n1", "4", "8Gi"),
		makePod("assigned", "1", "1Gi", onNode("n1")), other, deleting, gated)
	if n := env.sched.queue.Len(); n != 0 {
		t.Fatalf("queue has %d pods", n)
	}
	for _, key := range []string{"default/assigned", "default/other", "default/deleting", "default/gated"} {
		if err := env.sched.scheduleOne(env.ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	env.sched.binds.Wait()
	if env.bindCount() != 0 || len(env.events()) != 0 {
		t.Fatalf("bindings %d", env.bindCount())
	}
	if podScheduledCondition(env.getPod("other")) != nil {
		t.Fatal("pod of another scheduler got a condition")
	}
	// The assigned pod's request counts on its node.
	env.sched.cache.mu.Lock()
	cpu := env.sched.cache.nodes["n1"].requested.milliCPU
	env.sched.cache.mu.Unlock()
	if cpu != 1000 {
		t.Fatalf("n1 requested cpu %d, want 1000", cpu)
	}

	// Removing the gate makes the pod ours.
	g := env.getPod("gated")
	g.Spec.SchedulingGates = nil
	if _, err := env.client.CoreV1().Pods("default").Update(env.ctx, g, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.eventually("gated pod queued", func() bool { return env.sched.queue.Len() == 1 })
	env.drain()
	if env.getPod("gated").Spec.NodeName != "n1" {
		t.Fatal("ungated pod not bound")
	}
}

func TestTerminatedAndDeletedPodsFreeResources(t *testing.T) {
	env := newTestEnv(t, makeNode("n1", "1", "8Gi"),
		makePod("running", "1", "1Gi", onNode("n1"), func(p *v1.Pod) { p.Status.Phase = v1.PodRunning }),
		makePod("done", "1", "1Gi", onNode("n1"), func(p *v1.Pod) { p.Status.Phase = v1.PodSucceeded }))
	env.createPod(makePod("p", "1", "1Gi"))
	env.drain()
	if c := podScheduledCondition(env.getPod("p")); c == nil || c.Message != "0/1 nodes are available: 1 Insufficient cpu." {
		t.Fatalf("condition %+v", c)
	}
	// A pod still running through its grace period keeps its resources.
	r := env.getPod("running")
	r.DeletionTimestamp = &metav1.Time{Time: env.clock.Now()}
	if _, err := env.client.CoreV1().Pods("default").Update(env.ctx, r, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.eventually("terminating pod seen", func() bool {
		p, _ := env.sched.podLister.Pods("default").Get("running")
		return p.DeletionTimestamp != nil
	})
	env.clock.Step(20 * time.Second)
	if env.sched.queue.Len() != 0 {
		t.Fatal("terminating (still running) pod requeued the pending pod")
	}
	// It terminates: phase Failed frees the cpu and the pending pod is retried.
	r = env.getPod("running")
	r.Status.Phase = v1.PodFailed
	if _, err := env.client.CoreV1().Pods("default").UpdateStatus(env.ctx, r, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.eventually("requeue", func() bool { return env.sched.queue.Len() == 1 })
	env.drain()
	if env.getPod("p").Spec.NodeName != "n1" {
		t.Fatal("pod not bound after the terminated pod freed its cpu")
	}

	// Deletion frees too.
	env.createPod(makePod("q", "1", "1Gi"))
	env.drain()
	if env.getPod("q").Spec.NodeName != "" {
		t.Fatal("q bound on a full node")
	}
	env.clock.Step(20 * time.Second)
	if err := env.client.CoreV1().Pods("default").Delete(env.ctx, "p", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.eventually("requeue after delete", func() bool { return env.sched.queue.Len() == 1 })
	env.drain()
	if env.getPod("q").Spec.NodeName != "n1" {
		t.Fatal("q not bound after p was deleted")
	}
}

func TestNodeChangesThatRequeue(t *testing.T) {
	node := makeNode("n1", "4", "8Gi")
	node.Spec.Taints = []v1.Taint{{Key: "dedicated", Value: "db", Effect: v1.TaintEffectNoSchedule}}
	env := newTestEnv(t, node)
	env.createPod(makePod("p", "1", "1Gi"))
	env.drain()
	if c := podScheduledCondition(env.getPod("p")); c == nil || c.Message != "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: db}." {
		t.Fatalf("condition %+v", c)
	}
	env.clock.Step(time.Minute) // backoff long over

	// A heartbeat does not requeue.
	n, _ := env.client.CoreV1().Nodes().Get(env.ctx, "n1", metav1.GetOptions{})
	n.Status.Conditions[0].LastHeartbeatTime = metav1.NewTime(env.clock.Now())
	if _, err := env.client.CoreV1().Nodes().UpdateStatus(env.ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.eventually("heartbeat seen", func() bool {
		env.sched.cache.mu.Lock()
		defer env.sched.cache.mu.Unlock()
		ln := env.sched.cache.nodes["n1"]
		return ln != nil && !ln.node.Status.Conditions[0].LastHeartbeatTime.IsZero()
	})
	if env.sched.queue.Len() != 0 {
		t.Fatal("heartbeat requeued the pod")
	}

	// Removing the taint does.
	n, _ = env.client.CoreV1().Nodes().Get(env.ctx, "n1", metav1.GetOptions{})
	n.Spec.Taints = nil
	if _, err := env.client.CoreV1().Nodes().Update(env.ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.eventually("requeue", func() bool { return env.sched.queue.Len() == 1 })
	env.drain()
	if env.getPod("p").Spec.NodeName != "n1" {
		t.Fatal("pod not bound after taint removal")
	}
}

func TestPeriodicFlush(t *testing.T) {
	env := newTestEnv(t, makeNode("n1", "1", "1Gi"))
	env.createPod(makePod("p", "2", "100Mi"))
	env.drain()
	env.eventually("status write seen", func() bool {
		lp, _ := env.sched.podLister.Pods("default").Get("p")
		return podScheduledCondition(lp) != nil
	})
	env.sched.flushUnschedulableLeftover()
	if env.sched.queue.Len() != 0 {
		t.Fatal("flushed before 5 minutes")
	}
	env.clock.Step(5 * time.Minute)
	env.sched.flushUnschedulableLeftover()
	if env.sched.queue.Len() != 1 {
		t.Fatal("not flushed after 5 minutes")
	}
	env.drain()
	// Same message: no second status write, but a second event.
	patches := 0
	for _, a := range env.client.Actions() {
		if a.GetVerb() == "patch" && a.GetSubresource() == "status" {
			patches++
		}
	}
	if patches != 1 {
		t.Fatalf("status patches %d, want 1", patches)
	}
	if got := env.events(); len(got) != 2 {
		t.Fatalf("events %q", got)
	}
}

func TestBindFailureForgetsAssumedPod(t *testing.T) {
	env := newTestEnv(t, makeNode("n1", "1", "8Gi"))
	env.client.PrependReactor("create", "pods", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "binding" {
			return false, nil, nil
		}
		return true, nil, apierrors.NewConflict(podsGVR.GroupResource(), "p", errors.New("etcd is busy"))
	})
	env.createPod(makePod("p", "1", "1Gi"))
	env.drain()
	want := `Warning FailedScheduling Binding rejected: Operation cannot be fulfilled on pods "p": etcd is busy`
	if got := env.events(); len(got) != 1 || got[0] != want {
		t.Fatalf("events %q", got)
	}
	env.sched.cache.mu.Lock()
	cpu := env.sched.cache.nodes["n1"].requested.milliCPU
	_, cached := env.sched.cache.pods["uid-p"]
	env.sched.cache.mu.Unlock()
	if cpu != 0 || cached {
		t.Fatalf("assumed pod not forgotten: cpu %d cached %v", cpu, cached)
	}
	// Retried after its backoff; an error backoff is sat out even when a
	// node changes and the queue is idle.
	if env.sched.queue.Len() != 0 {
		t.Fatal("retried without backoff")
	}
	if _, err := env.client.CoreV1().Nodes().Create(env.ctx, makeNode("n2", "1", "8Gi"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.eventually("node seen", func() bool {
		env.sched.cache.mu.Lock()
		defer env.sched.cache.mu.Unlock()
		return env.sched.cache.nodes["n2"] != nil
	})
	if env.sched.queue.Len() != 0 {
		t.Fatal("a pod backing off after a binding error was retried on a node event")
	}
	env.eventually("retry after backoff", func() bool {
		env.clock.Step(100 * time.Millisecond)
		return env.sched.queue.Len() == 1
	})
}

func TestRunSchedulesEverything(t *testing.T) {
	var objs []runtimeObject
	for i := 0; i < 5; i++ {
		objs = append(objs, makeNode(fmt.Sprintf("n%d", i), "4", "8Gi"))
	}
	for i := 0; i < 50; i++ {
		objs = append(objs, makePod(fmt.Sprintf("p%02d", i), "100m", "100Mi", ownedBy("rs")))
	}
	env := newTestEnv(t, objs...)
	ctx, cancel := context.WithCancel(env.ctx)
	done := make(chan struct{})
	go func() { env.sched.Run(ctx, 2); close(done) }()
	env.eventually("all bound", func() bool {
		pods, _ := env.sched.podLister.List(everything())
		for _, p := range pods {
			if p.Spec.NodeName == "" {
				return false
			}
		}
		return len(pods) == 50
	})
	cancel()
	<-done
	perNode := map[string]int{}
	pods, _ := env.sched.podLister.List(everything())
	for _, p := range pods {
		perNode[p.Spec.NodeName]++
	}
	for node, n := range perNode {
		if n != 10 {
			t.Fatalf("owner spreading: %s has %d pods (%v)", node, n, perNode)
		}
	}
	if env.bindCount() != 50 {
		t.Fatalf("bindings %d", env.bindCount())
	}
}

// TestBackoffPoppedWhenQueueIdle: Kubernetes 1.33+ (SchedulerPopFromBackoffQ).
// An unschedulable pod moved by a cluster event while its backoff runs
// waits in backoffQ only while other pods are queued; once the queue is
// idle it is tried at once, without the clock moving. A stale timer of
// that backoff does not retry it again once it is parked.
func TestBackoffPoppedWhenQueueIdle(t *testing.T) {
	env := newTestEnv(t, makeNode("small", "1", "1Gi"))
	env.createPod(makePod("p", "2", "100Mi"))
	env.drain()
	if env.getPod("p").Spec.NodeName != "" {
		t.Fatal("p bound on a node too small")
	}
	// Another pod is queued when the node event comes: p waits behind it.
	env.createPod(makePod("q", "500m", "100Mi"))
	if _, err := env.client.CoreV1().Nodes().Create(env.ctx, makeNode("big", "4", "8Gi"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.eventually("p in backoffQ", func() bool {
		env.sched.mu.Lock()
		defer env.sched.mu.Unlock()
		_, ok := env.sched.backoffQ["default/p"]
		return ok
	})
	if n := env.sched.queue.Len(); n != 1 {
		t.Fatalf("queue length %d with q queued, want 1 (p backing off)", n)
	}
	// q is scheduled; the queue is idle and p is popped from backoffQ.
	env.sched.processNextItem(env.ctx)
	if n := env.sched.queue.Len(); n != 1 {
		t.Fatalf("queue length %d after q, want 1 (p popped)", n)
	}
	env.drain()
	if got := env.getPod("p").Spec.NodeName; got != "big" {
		t.Fatalf("p on %q, want big", got)
	}
	if got := env.getPod("q").Spec.NodeName; got == "" {
		t.Fatal("q not bound")
	}

	// r fails, a node change pops it at once and it fails again (the
	// node is still too small): it parks, and the timer of the backoff it
	// was popped from does not retry it.
	env.createPod(makePod("r", "16", "100Mi"))
	env.drain()
	n, _ := env.client.CoreV1().Nodes().Get(env.ctx, "small", metav1.GetOptions{})
	n.Labels["zone"] = "a"
	if _, err := env.client.CoreV1().Nodes().Update(env.ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.eventually("r popped", func() bool { return env.sched.queue.Len() == 1 })
	env.drain()
	env.sched.mu.Lock()
	parked := env.sched.pending["default/r"] != nil && env.sched.pending["default/r"].parked
	env.sched.mu.Unlock()
	if !parked {
		t.Fatal("r not parked after its second failure")
	}
	env.events()
	env.clock.Step(time.Minute)
	env.eventually("stale timers fired", func() bool { return env.sched.queue.Len() == 2 }) // p's and r's
	env.drain()
	if got := env.events(); len(got) != 0 {
		t.Fatalf("the stale backoff timer retried the parked pod: %q", got)
	}
}
