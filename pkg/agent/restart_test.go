package agent

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/agent/runtime/simulated"
)

// TestRestartedAgentDoesNotRewriteUnchangedStatus: after a restart of the
// agent (and of its simulated runtime, which keeps nothing), pods whose
// containers go on running keep their status exactly (restart counts,
// lastState, conditions and their times) and are not written at all.
func TestRestartedAgentDoesNotRewriteUnchangedStatus(t *testing.T) {
	e := newEnv(t)
	e.create(newPod("svc", corev1.RestartPolicyAlways, nil))
	// Fails once, then runs: restartCount 1 and a lastState.
	e.create(newPod("flaky", corev1.RestartPolicyAlways, map[string]string{"simulate.herd.dev/fail-attempts": "1"}))
	withInit := newPod("init", corev1.RestartPolicyAlways, nil)
	withInit.Spec.InitContainers = []corev1.Container{{Name: "setup", Image: "busybox"},
		{Name: "sidecar", Image: "busybox", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}}
	e.create(withInit)
	e.create(newPod("done", corev1.RestartPolicyNever, nil))

	running := func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning }
	e.waitPod("svc", "Running", running)
	e.waitPod("flaky", "Running after one restart", func(p *corev1.Pod) bool {
		return running(p) && p.Status.ContainerStatuses[0].RestartCount == 1 && p.Status.ContainerStatuses[0].State.Running != nil &&
			p.Status.ContainerStatuses[0].LastTerminationState.Terminated != nil
	})
	e.waitPod("init", "Running", func(p *corev1.Pod) bool {
		return running(p) && cond(p, corev1.PodReady).Status == corev1.ConditionTrue
	})
	e.waitPod("done", "Succeeded", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
	time.Sleep(100 * time.Millisecond)
	before := map[string]*corev1.Pod{}
	for _, n := range []string{"svc", "flaky", "init", "done"} {
		before[n] = e.get(n)
	}

	e.stop()
	e.client.ClearActions()
	e.rt = simulated.New(simulated.Options{LogDir: t.TempDir(), Clock: e.clk})
	e.start([]string{"node-a"})
	e.step(time.Second)
	time.Sleep(200 * time.Millisecond)

	for _, a := range e.client.Actions() {
		if a.GetResource().Resource == "pods" && a.GetVerb() != "list" && a.GetVerb() != "watch" && a.GetVerb() != "get" {
			t.Errorf("pod written after the restart: %s %s", a.GetVerb(), a.GetSubresource())
		}
	}
	for n, b := range before {
		p := e.get(n)
		if p.ResourceVersion != b.ResourceVersion || !apiequality.Semantic.DeepEqual(p.Status, b.Status) {
			t.Errorf("%s changed after the restart:\n was %s\n now %s", n, describe(b), describe(p))
		}
	}
}

// TestProbesResumeAfterRestart: the probes of containers adopted after a
// restart go on from the results the API shows: a ready pod stays ready
// without a write, and a liveness probe that starts failing still restarts
// the container.
func TestProbesResumeAfterRestart(t *testing.T) {
	e := newEnv(t)
	pod := newPod("web", corev1.RestartPolicyAlways, map[string]string{"simulate.herd.dev/liveness-fail-after": "60s"})
	pod.Spec.Containers[0].ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}},
		PeriodSeconds: 10, FailureThreshold: 3, SuccessThreshold: 1,
	}
	pod.Spec.Containers[0].LivenessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}},
		PeriodSeconds: 10, FailureThreshold: 1,
	}
	e.create(pod)
	before := e.waitPod("web", "Ready", func(p *corev1.Pod) bool { return cond(p, corev1.PodReady).Status == corev1.ConditionTrue })

	e.stop()
	e.client.ClearActions()
	e.rt = simulated.New(simulated.Options{LogDir: t.TempDir(), Clock: e.clk})
	e.start([]string{"node-a"})
	e.step(10 * time.Second)
	e.step(10 * time.Second)
	time.Sleep(100 * time.Millisecond)
	if p := e.get("web"); p.ResourceVersion != before.ResourceVersion || !apiequality.Semantic.DeepEqual(p.Status, before.Status) {
		t.Fatalf("status changed after the restart:\n was %s\n now %s", describe(before), describe(p))
	}
	for _, a := range e.client.Actions() {
		if a.GetResource().Resource == "pods" && a.GetVerb() == "update" {
			t.Fatalf("pod written after the restart: %s %s", a.GetVerb(), a.GetSubresource())
		}
	}
	for i := 0; i < 5; i++ {
		e.step(10 * time.Second) // the run is 60s old after 4 steps: liveness fails
	}
	e.waitPod("web", "restarted by its liveness probe", func(p *corev1.Pod) bool {
		return p.Status.ContainerStatuses[0].RestartCount == 1
	})
	if !e.hasEvent("Normal Killing Container main failed liveness probe, will be restarted") {
		t.Errorf("events %v", e.events)
	}
}
