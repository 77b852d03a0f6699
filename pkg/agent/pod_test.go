package agent

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

func ts(d time.Duration) metav1.Time { return metav1.NewTime(t0.Add(d)) }

func TestPodRunsThenSucceeds(t *testing.T) {
	e := newEnv(t)
	pod := e.create(newPod("job", corev1.RestartPolicyNever, map[string]string{"simulate.herd.dev/duration": "30s"}))
	p := e.waitPod("job", "Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })

	e.agent.mu.Lock()
	st := e.agent.pods[pod.UID]
	e.agent.mu.Unlock()
	st.mu.Lock()
	cid := "simulated://" + string(st.latest["main"].ID)
	st.mu.Unlock()
	want := []corev1.ContainerStatus{{
		Name: "main", Image: "busybox", ImageID: "busybox", ContainerID: cid,
		State:     corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ts(0)}},
		Ready:     true,
		Started:   ptr.To(true),
		Resources: &corev1.ResourceRequirements{},
	}}
	if !apiequality.Semantic.DeepEqual(p.Status.ContainerStatuses, want) {
		t.Fatalf("running container statuses:\n got %+v\nwant %+v", p.Status.ContainerStatuses, want)
	}
	if p.Status.PodIP != "10.0.0.5" || p.Status.HostIP != "10.0.0.5" || len(p.Status.PodIPs) != 1 || len(p.Status.HostIPs) != 1 {
		t.Errorf("IPs: %+v", p.Status)
	}
	if p.Status.StartTime == nil || !p.Status.StartTime.Equal(ptr.To(ts(0))) {
		t.Errorf("startTime %v", p.Status.StartTime)
	}
	if p.Status.QOSClass != corev1.PodQOSBestEffort {
		t.Errorf("qos %q", p.Status.QOSClass)
	}
	wantConds := []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled}
	if len(p.Status.Conditions) != len(wantConds) {
		t.Fatalf("conditions %+v", p.Status.Conditions)
	}
	for i, c := range p.Status.Conditions {
		if c.Type != wantConds[i] || c.Status != corev1.ConditionTrue {
			t.Errorf("condition %d: %+v", i, c)
		}
	}
	if c := cond(p, corev1.PodScheduled); !c.LastTransitionTime.Equal(ptr.To(ts(0))) {
		t.Errorf("PodScheduled transition time not kept: %v", c.LastTransitionTime)
	}

	e.step(30 * time.Second)
	p = e.waitPod("job", "Succeeded", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
	want = []corev1.ContainerStatus{{
		Name: "main", Image: "busybox", ImageID: "busybox", ContainerID: cid,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 0, Reason: "Completed", StartedAt: ts(0), FinishedAt: ts(30 * time.Second), ContainerID: cid,
		}},
		Started: ptr.To(false),
	}}
	if !apiequality.Semantic.DeepEqual(p.Status.ContainerStatuses, want) {
		t.Fatalf("terminated container statuses:\n got %+v\nwant %+v", p.Status.ContainerStatuses, want)
	}
	checks := map[corev1.PodConditionType][2]string{
		corev1.PodReadyToStartContainers: {"False", ""},
		corev1.PodInitialized:            {"True", "PodCompleted"},
		corev1.PodReady:                  {"False", "PodCompleted"},
		corev1.ContainersReady:           {"False", "PodCompleted"},
		corev1.PodScheduled:              {"True", ""},
	}
	for typ, w := range checks {
		c := cond(p, typ)
		if string(c.Status) != w[0] || c.Reason != w[1] {
			t.Errorf("%s = %s/%s, want %s/%s", typ, c.Status, c.Reason, w[0], w[1])
		}
	}
	if c := cond(p, corev1.PodReady); !c.LastTransitionTime.Equal(ptr.To(ts(30 * time.Second))) {
		t.Errorf("Ready transition at %v", c.LastTransitionTime)
	}
	for _, ev := range []string{"Normal Pulled Container image \"busybox\" already present on machine", "Normal Created Created container: main", "Normal Started Started container main"} {
		if !e.hasEvent(ev) {
			t.Errorf("missing event %q in %v", ev, e.events)
		}
	}
}

func TestPodFailsWithExitCode(t *testing.T) {
	e := newEnv(t)
	e.create(newPod("bad", corev1.RestartPolicyNever, map[string]string{"simulate.herd.dev/exit-code": "3"}))
	p := e.waitPod("bad", "Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	term := p.Status.ContainerStatuses[0].State.Terminated
	if term == nil || term.ExitCode != 3 || term.Reason != "Error" {
		t.Fatalf("state %+v", p.Status.ContainerStatuses[0].State)
	}
	if c := cond(p, corev1.PodReady); c.Reason != "PodFailed" || c.Status != corev1.ConditionFalse {
		t.Errorf("Ready %+v", c)
	}
	// a terminal pod is never started again
	time.Sleep(50 * time.Millisecond)
	if n := e.countEvents("Started container main"); n != 1 {
		t.Errorf("started %d times", n)
	}
}

func TestOOMKilled(t *testing.T) {
	e := newEnv(t)
	e.create(newPod("oom", corev1.RestartPolicyNever, map[string]string{"simulate.herd.dev/oom": "true"}))
	p := e.waitPod("oom", "Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	if term := p.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 137 || term.Reason != "OOMKilled" {
		t.Fatalf("state %+v", p.Status.ContainerStatuses[0].State)
	}
}

func TestStartErrorWaits(t *testing.T) {
	e := newEnv(t)
	e.create(newPod("noimg", corev1.RestartPolicyAlways, map[string]string{"simulate.herd.dev/start-error": "give a command"}))
	p := e.waitPod("noimg", "CreateContainerError", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
			p.Status.ContainerStatuses[0].State.Waiting.Reason == "CreateContainerError"
	})
	if w := p.Status.ContainerStatuses[0].State.Waiting; w.Message != "give a command" || p.Status.Phase != corev1.PodPending {
		t.Fatalf("waiting %+v phase %s", w, p.Status.Phase)
	}
	if !e.hasEvent("Warning Failed Error: give a command") {
		t.Errorf("events %v", e.events)
	}
}

func TestInitContainersRunInOrder(t *testing.T) {
	e := newEnv(t)
	pod := newPod("init", corev1.RestartPolicyAlways, map[string]string{
		"simulate.herd.dev/duration.init1": "10s", "simulate.herd.dev/duration.init2": "10s"})
	pod.Spec.InitContainers = []corev1.Container{{Name: "init1", Image: "busybox"}, {Name: "init2", Image: "busybox"}}
	e.create(pod)
	p := e.waitPod("init", "init1 running", func(p *corev1.Pod) bool {
		return len(p.Status.InitContainerStatuses) == 2 && p.Status.InitContainerStatuses[0].State.Running != nil
	})
	if s := p.Status.InitContainerStatuses[1].State.Waiting; s == nil || s.Reason != "PodInitializing" {
		t.Errorf("init2 %+v", p.Status.InitContainerStatuses[1].State)
	}
	if s := p.Status.ContainerStatuses[0].State.Waiting; s == nil || s.Reason != "PodInitializing" {
		t.Errorf("main %+v", p.Status.ContainerStatuses[0].State)
	}
	if c := cond(p, corev1.PodInitialized); c.Status != corev1.ConditionFalse || c.Reason != "ContainersNotInitialized" ||
		c.Message != "containers with incomplete status: [init1 init2]" {
		t.Errorf("Initialized %+v", c)
	}
	if p.Status.Phase != corev1.PodPending {
		t.Errorf("phase %s", p.Status.Phase)
	}
	e.step(10 * time.Second)
	p = e.waitPod("init", "init2 running", func(p *corev1.Pod) bool {
		return len(p.Status.InitContainerStatuses) == 2 && p.Status.InitContainerStatuses[1].State.Running != nil
	})
	if s := p.Status.InitContainerStatuses[0]; s.State.Terminated == nil || s.State.Terminated.Reason != "Completed" || !s.Ready {
		t.Errorf("init1 %+v ready=%v", s.State, s.Ready)
	}
	if c := cond(p, corev1.PodInitialized); c.Message != "containers with incomplete status: [init2]" {
		t.Errorf("Initialized %+v", c)
	}
	e.step(10 * time.Second)
	p = e.waitPod("init", "main running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	if c := cond(p, corev1.PodInitialized); c.Status != corev1.ConditionTrue {
		t.Errorf("Initialized %+v", c)
	}
	if !p.Status.ContainerStatuses[0].Ready {
		t.Errorf("main not ready")
	}
}

func TestInitContainerFailureNeverFailsPod(t *testing.T) {
	e := newEnv(t)
	pod := newPod("initfail", corev1.RestartPolicyNever, map[string]string{"simulate.herd.dev/exit-code.init1": "2"})
	pod.Spec.InitContainers = []corev1.Container{{Name: "init1", Image: "busybox"}}
	e.create(pod)
	p := e.waitPod("initfail", "Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	if n := e.countEvents("Started container main"); n != 0 {
		t.Errorf("main started %d times", n)
	}
	if s := p.Status.ContainerStatuses[0].State.Waiting; s == nil || s.Reason != "PodInitializing" {
		t.Errorf("main %+v", p.Status.ContainerStatuses[0].State)
	}
}

func TestCrashLoopBackOffDelays(t *testing.T) {
	e := newEnv(t)
	pod := e.create(newPod("crash", corev1.RestartPolicyOnFailure, map[string]string{"simulate.herd.dev/exit-code": "1"}))
	// the first restart is immediate; then back-off 10s, 20s, 40s … 5m.
	p := e.waitPod("crash", "CrashLoopBackOff", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
			p.Status.ContainerStatuses[0].State.Waiting.Reason == "CrashLoopBackOff"
	})
	delays := []time.Duration{10, 20, 40, 80, 160, 300, 300}
	for i, d := range delays {
		d *= time.Second
		cs := p.Status.ContainerStatuses[0]
		wantMsg := fmt.Sprintf("back-off %s restarting failed container=main pod=crash_default(%s)", d, pod.UID)
		if cs.State.Waiting.Message != wantMsg || cs.RestartCount != int32(i+1) {
			t.Fatalf("step %d: restarts=%d message %q, want %d %q", i, cs.RestartCount, cs.State.Waiting.Message, i+1, wantMsg)
		}
		if cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 1 {
			t.Fatalf("lastState %+v", cs.LastTerminationState)
		}
		if p.Status.Phase != corev1.PodRunning {
			t.Fatalf("phase %s", p.Status.Phase)
		}
		// one second early: still backing off
		e.step(d - time.Second)
		time.Sleep(30 * time.Millisecond)
		if got := e.get("crash").Status.ContainerStatuses[0].RestartCount; got != int32(i+1) {
			t.Fatalf("step %d: restarted early (restarts=%d)", i, got)
		}
		e.step(time.Second)
		next := int32(i + 2)
		p = e.waitPod("crash", fmt.Sprintf("restart %d", next), func(p *corev1.Pod) bool {
			cs := p.Status.ContainerStatuses[0]
			return cs.RestartCount == next && cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff"
		})
	}
	if !e.hasEvent(fmt.Sprintf("Warning BackOff Back-off restarting failed container main in pod crash_default(%s)", pod.UID)) {
		t.Errorf("no BackOff event")
	}
}

func TestBackOffResetsAfterLongRun(t *testing.T) {
	e := newEnv(t)
	// every run lasts 11 minutes and fails: each restart is immediate
	e.create(newPod("slow", corev1.RestartPolicyAlways, map[string]string{"simulate.herd.dev/duration": "11m", "simulate.herd.dev/exit-code": "1"}))
	e.waitPod("slow", "running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	for i := 1; i <= 3; i++ {
		e.step(11 * time.Minute)
		n := int32(i)
		p := e.waitPod("slow", "restart", func(p *corev1.Pod) bool {
			return p.Status.ContainerStatuses[0].RestartCount == n && p.Status.ContainerStatuses[0].State.Running != nil
		})
		if p.Status.ContainerStatuses[0].LastTerminationState.Terminated == nil {
			t.Fatal("no lastState")
		}
	}
}

func TestReadinessProbeFlipsReady(t *testing.T) {
	e := newEnv(t)
	pod := newPod("web", corev1.RestartPolicyAlways, map[string]string{"simulate.herd.dev/readiness-delay": "15s"})
	pod.Spec.Containers[0].ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intOrStr(8080)}},
		PeriodSeconds: 10, FailureThreshold: 3, SuccessThreshold: 1,
	}
	e.create(pod)
	p := e.waitPod("web", "Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	if p.Status.ContainerStatuses[0].Ready {
		t.Fatal("ready before the probe succeeded")
	}
	if c := cond(p, corev1.PodReady); c.Status != corev1.ConditionFalse || c.Message != "containers with unready status: [main]" || c.Reason != "ContainersNotReady" {
		t.Errorf("Ready %+v", c)
	}
	e.step(10 * time.Second) // probe at 10s fails
	time.Sleep(30 * time.Millisecond)
	if e.get("web").Status.ContainerStatuses[0].Ready {
		t.Fatal("ready at 10s")
	}
	e.step(10 * time.Second) // probe at 20s succeeds
	p = e.waitPod("web", "Ready", func(p *corev1.Pod) bool { return cond(p, corev1.PodReady).Status == corev1.ConditionTrue })
	if !p.Status.ContainerStatuses[0].Ready || cond(p, corev1.ContainersReady).Status != corev1.ConditionTrue {
		t.Errorf("%s", describe(p))
	}
	if !e.hasEvent("Warning Unhealthy Readiness probe failed:") {
		t.Errorf("no Unhealthy event: %v", e.events)
	}
}

func TestLivenessProbeRestarts(t *testing.T) {
	e := newEnv(t)
	pod := newPod("live", corev1.RestartPolicyAlways, map[string]string{"simulate.herd.dev/liveness-fail-after": "25s"})
	pod.Spec.Containers[0].LivenessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}},
		PeriodSeconds: 10, FailureThreshold: 2,
	}
	e.create(pod)
	e.waitPod("live", "Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	e.step(10 * time.Second)
	e.step(10 * time.Second)
	e.step(10 * time.Second) // 30s: first failure
	time.Sleep(30 * time.Millisecond)
	if got := e.get("live").Status.ContainerStatuses[0].RestartCount; got != 0 {
		t.Fatalf("restarted after one failure")
	}
	e.step(10 * time.Second) // 40s: second failure -> kill
	p := e.waitPod("live", "restarted", func(p *corev1.Pod) bool {
		cs := p.Status.ContainerStatuses[0]
		return cs.RestartCount == 1 && cs.State.Running != nil
	})
	last := p.Status.ContainerStatuses[0].LastTerminationState.Terminated
	if last == nil || last.FinishedAt != ts(40*time.Second) {
		t.Errorf("lastState %+v", p.Status.ContainerStatuses[0].LastTerminationState)
	}
	if !e.hasEvent("Normal Killing Container main failed liveness probe, will be restarted") {
		t.Errorf("events %v", e.events)
	}
	if n := e.countEvents("Warning Unhealthy Liveness probe failed: simulated liveness failure"); n != 2 {
		t.Errorf("%d Unhealthy events", n)
	}
}

func intOrStr(i int) intstr.IntOrString { return intstr.FromInt32(int32(i)) }

func TestGracefulDeletion(t *testing.T) {
	e := newEnv(t)
	pod := newPod("web", corev1.RestartPolicyAlways, map[string]string{"simulate.herd.dev/stop-delay": "5s"})
	pod.Spec.TerminationGracePeriodSeconds = ptr.To[int64](30)
	pod.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"drain"}}}}
	e.create(pod)
	p := e.waitPod("web", "Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	// the API server's graceful delete: deletionTimestamp + grace
	now := metav1.NewTime(e.clk.Now())
	p.DeletionTimestamp = &now
	p.DeletionGracePeriodSeconds = ptr.To[int64](30)
	if _, err := e.client.CoreV1().Pods("default").Update(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.eventually("Killing event", func() bool { return e.hasEvent("Normal Killing Stopping container main") })
	if e.get("web") == nil {
		t.Fatal("pod deleted before its container stopped")
	}
	e.step(5 * time.Second)
	e.eventually("pod deleted", func() bool { return e.get("web") == nil })
	var del clienttesting.DeleteActionImpl
	for _, act := range e.client.Actions() {
		if d, ok := act.(clienttesting.DeleteActionImpl); ok && d.Resource.Resource == "pods" {
			del = d
		}
	}
	if del.Name != "web" || del.DeleteOptions.GracePeriodSeconds == nil || *del.DeleteOptions.GracePeriodSeconds != 0 ||
		del.DeleteOptions.Preconditions == nil || *del.DeleteOptions.Preconditions.UID != pod.UID {
		t.Fatalf("delete action %+v", del)
	}
	e.eventually("runtime cleaned", func() bool {
		l, _ := e.rt.ListContainers(context.Background())
		return len(l) == 0
	})
}

func TestActiveDeadline(t *testing.T) {
	e := newEnv(t)
	pod := newPod("dl", corev1.RestartPolicyNever, map[string]string{"simulate.herd.dev/duration": "1h"})
	pod.Spec.ActiveDeadlineSeconds = ptr.To[int64](60)
	e.create(pod)
	e.waitPod("dl", "Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	e.step(59 * time.Second)
	time.Sleep(30 * time.Millisecond)
	if e.get("dl").Status.Phase != corev1.PodRunning {
		t.Fatal("failed before the deadline")
	}
	e.step(time.Second)
	p := e.waitPod("dl", "DeadlineExceeded", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodFailed && p.Status.ContainerStatuses[0].State.Terminated != nil
	})
	if p.Status.Reason != "DeadlineExceeded" || p.Status.Message != "Pod was active on the node longer than the specified deadline" {
		t.Errorf("reason %q message %q", p.Status.Reason, p.Status.Message)
	}
	if !e.hasEvent("Normal DeadlineExceeded Pod was active on the node longer than the specified deadline") {
		t.Errorf("events %v", e.events)
	}
}

func TestRecoveryAfterRestart(t *testing.T) {
	e := newEnv(t)
	e.create(newPod("svc", corev1.RestartPolicyAlways, nil))
	e.create(newPod("batch", corev1.RestartPolicyNever, map[string]string{"simulate.herd.dev/duration": "30s"}))
	e.waitPod("svc", "Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	before := e.waitPod("batch", "Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	svcID := e.get("svc").Status.ContainerStatuses[0].ContainerID

	e.stop()
	e.step(time.Minute) // batch exits while the agent is down
	e.evMu.Lock()
	e.events = nil
	e.evMu.Unlock()
	e.start([]string{"node-a"})

	p := e.waitPod("batch", "Succeeded", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
	term := p.Status.ContainerStatuses[0].State.Terminated
	if term.FinishedAt != ts(30*time.Second) || p.Status.ContainerStatuses[0].ContainerID != before.Status.ContainerStatuses[0].ContainerID {
		t.Errorf("batch %+v", term)
	}
	time.Sleep(50 * time.Millisecond)
	svc := e.get("svc")
	if svc.Status.ContainerStatuses[0].ContainerID != svcID || svc.Status.ContainerStatuses[0].RestartCount != 0 || svc.Status.Phase != corev1.PodRunning {
		t.Errorf("svc re-run: %s", describe(svc))
	}
	if n := e.countEvents("Started container"); n != 0 {
		t.Errorf("%d containers started again after restart", n)
	}
}

func TestPodDeletedWhileDownIsCleanedUp(t *testing.T) {
	e := newEnv(t)
	pod := e.create(newPod("gone", corev1.RestartPolicyAlways, nil))
	e.waitPod("gone", "Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	e.stop()
	if err := e.client.CoreV1().Pods("default").Delete(context.Background(), "gone", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.start([]string{"node-a"})
	e.eventually("runtime state removed", func() bool {
		l, _ := e.rt.ListContainers(context.Background())
		for _, c := range l {
			if c.PodUID == pod.UID {
				return false
			}
		}
		return true
	})
}

func TestLostContainerReportedUnknown(t *testing.T) {
	e := newEnv(t)
	e.stop()
	pod := newPod("lost", corev1.RestartPolicyNever, nil)
	pod.Status.Phase = corev1.PodRunning
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", Image: "busybox", ContainerID: "simulated://gone-1",
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ts(0)}}}}
	e.create(pod)
	e.start([]string{"node-a"})
	p := e.waitPod("lost", "Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	term := p.Status.ContainerStatuses[0].State.Terminated
	if term == nil || term.Reason != "ContainerStatusUnknown" || term.ExitCode != 137 {
		t.Fatalf("%s", describe(p))
	}
	if e.countEvents("Started container") != 0 {
		t.Error("lost container started again under restartPolicy Never")
	}
}

func TestSidecarStoppedWhenMainEnds(t *testing.T) {
	e := newEnv(t)
	pod := newPod("side", corev1.RestartPolicyNever, map[string]string{"simulate.herd.dev/duration.main": "10s"})
	pod.Spec.InitContainers = []corev1.Container{{Name: "proxy", Image: "envoy", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}}
	e.create(pod)
	p := e.waitPod("side", "Running", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && p.Status.ContainerStatuses[0].State.Running != nil
	})
	if s := p.Status.InitContainerStatuses[0]; s.State.Running == nil || !s.Ready || !*s.Started {
		t.Errorf("sidecar %+v", s)
	}
	if c := cond(p, corev1.PodInitialized); c.Status != corev1.ConditionTrue {
		t.Errorf("Initialized %+v", c)
	}
	e.step(10 * time.Second)
	p = e.waitPod("side", "Succeeded", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
	if s := p.Status.InitContainerStatuses[0]; s.State.Terminated == nil {
		t.Errorf("sidecar still %+v", s.State)
	}
	if !e.hasEvent("Normal Killing Stopping container proxy") {
		t.Errorf("events %v", e.events)
	}
}

func TestPostStartHookGatesRunning(t *testing.T) {
	e := newEnv(t)
	pod := newPod("hook", corev1.RestartPolicyAlways, nil)
	pod.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 5}}}
	e.create(pod)
	p := e.waitPod("hook", "ContainerCreating", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil
	})
	if r := p.Status.ContainerStatuses[0].State.Waiting.Reason; r != "ContainerCreating" || p.Status.Phase != corev1.PodPending {
		t.Fatalf("%s", describe(p))
	}
	e.step(5 * time.Second)
	e.waitPod("hook", "Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
}
