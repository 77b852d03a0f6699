package agent

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/herd-project/herd/pkg/agent/runtime/simulated"
)

// A simulated image pull failure: ErrImagePull, then ImagePullBackOff while
// backing off, then another pull.
func TestImagePullBackOff(t *testing.T) {
	e := newEnv(t)
	e.create(newPod("pull", corev1.RestartPolicyAlways, map[string]string{"simulate.herd.dev/image-pull-error": "manifest for busybox:nope not found"}))
	waiting := func(reason string) func(p *corev1.Pod) bool {
		return func(p *corev1.Pod) bool {
			return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
				p.Status.ContainerStatuses[0].State.Waiting.Reason == reason
		}
	}
	p := e.waitPod("pull", "ErrImagePull", waiting("ErrImagePull"))
	if w := p.Status.ContainerStatuses[0].State.Waiting; w.Message != "manifest for busybox:nope not found" || p.Status.Phase != corev1.PodPending {
		t.Fatalf("waiting %+v phase %s", w, p.Status.Phase)
	}
	e.step(time.Second)
	p = e.waitPod("pull", "ImagePullBackOff", waiting("ImagePullBackOff"))
	if w := p.Status.ContainerStatuses[0].State.Waiting; w.Message != `Back-off pulling image "busybox": ErrImagePull: manifest for busybox:nope not found` {
		t.Fatalf("waiting %+v", w)
	}
	for _, ev := range []string{
		`Warning Failed Failed to pull image "busybox": manifest for busybox:nope not found`,
		"Warning Failed Error: ErrImagePull",
		`Normal BackOff Back-off pulling image "busybox"`,
		"Warning Failed Error: ImagePullBackOff",
	} {
		if !e.hasEvent(ev) {
			t.Errorf("no event %q in %v", ev, e.events)
		}
	}
	e.step(10 * time.Second)
	e.waitPod("pull", "ErrImagePull again", waiting("ErrImagePull"))
	if n := e.countEvents("Error: ErrImagePull"); n != 2 {
		t.Errorf("%d pulls, want 2", n)
	}
}

// Running simulated containers survive a restart of the agent and its
// runtime (kwok-like): same container, no restart, and a timed run still
// ends at its original start plus its duration.
func TestSimulatedRunsSurviveRestart(t *testing.T) {
	e := newEnv(t)
	e.create(newPod("svc", corev1.RestartPolicyAlways, nil))
	e.create(newPod("job", corev1.RestartPolicyNever, map[string]string{"simulate.herd.dev/duration": "30s"}))
	running := func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning }
	svc := e.waitPod("svc", "Running", running)
	job := e.waitPod("job", "Running", running)

	e.stop()
	e.rt = simulated.New(simulated.Options{LogDir: t.TempDir(), Clock: e.clk})
	e.start([]string{"node-a"})
	e.step(10 * time.Second)
	time.Sleep(100 * time.Millisecond)
	for _, before := range []*corev1.Pod{svc, job} {
		p := e.get(before.Name)
		cs := p.Status.ContainerStatuses[0]
		if p.Status.Phase != corev1.PodRunning || cs.State.Running == nil || cs.RestartCount != 0 ||
			cs.ContainerID != before.Status.ContainerStatuses[0].ContainerID {
			t.Errorf("%s after restart: %s", before.Name, describe(p))
		}
	}
	e.step(20 * time.Second)
	p := e.waitPod("job", "Succeeded", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
	if term := p.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 0 || !term.FinishedAt.Time.Equal(t0.Add(30*time.Second)) {
		t.Errorf("job: %s", describe(p))
	}
}
