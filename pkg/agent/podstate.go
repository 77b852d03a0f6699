package agent

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"sync"

	"github.com/herd-project/herd/pkg/agent/runtime"
)

const (
	// backoffInitial and backoffMax are the kubelet's CrashLoopBackOff
	// bounds; a container that ran 2×backoffMax since its last restart
	// starts over at backoffInitial.
	backoffInitial = 10 * time.Second
	backoffMax     = 300 * time.Second
)

// podState is what the agent knows of one pod beyond the API object: the
// runtime's runs of its containers and the in-flight work on them. mu
// guards everything; syncs, the exit loop and probe workers take it.
type podState struct {
	uid types.UID
	mu  sync.Mutex

	// latest and previous run of each container (previous is the one the
	// status reports as lastState).
	latest   map[string]runtime.ContainerStatus
	previous map[string]runtime.ContainerStatus

	// recovered: the state was rebuilt from the runtime after a restart.
	recovered bool
	// seeded: lost containers from the API status were folded in.
	seeded bool

	prepared   bool
	prepareErr *runtime.StartError
	startErrs  map[string]startFailure
	backoff    map[string]*backoffEntry
	// backoffEvent remembers the exit a BackOff event was sent for.
	backoffEvent map[string]runtime.ContainerID

	// postStart holds runs whose postStart hook is still running.
	postStart map[runtime.ContainerID]bool
	// killing holds runs being stopped (liveness, deletion, deadline).
	killing map[runtime.ContainerID]bool
	probes  map[runtime.ContainerID]*probeState

	terminating      bool // deletion / deadline kill in flight
	deadlineExceeded bool
	deleted          bool // final API delete done

	lastWritten *corev1.Pod
	// spec of the last pod seen, for cleanup once the object is gone.
	lastPod *corev1.Pod
}

type backoffEntry struct {
	delay      time.Duration
	lastUpdate time.Time
}

type probeState struct {
	cancel   context.CancelFunc
	ready    bool // readiness result (true if no readiness probe)
	started  bool // startup result (true if no startup probe)
	hasReady bool
}

func newPodState(uid types.UID) *podState {
	return &podState{
		uid:          uid,
		latest:       map[string]runtime.ContainerStatus{},
		previous:     map[string]runtime.ContainerStatus{},
		startErrs:    map[string]startFailure{},
		backoff:      map[string]*backoffEntry{},
		backoffEvent: map[string]runtime.ContainerID{},
		postStart:    map[runtime.ContainerID]bool{},
		killing:      map[runtime.ContainerID]bool{},
		probes:       map[runtime.ContainerID]*probeState{},
	}
}

// record folds a runtime fact about a run into latest/previous.
func (st *podState) record(r runtime.ContainerStatus) {
	l, ok := st.latest[r.Name]
	switch {
	case !ok:
		st.latest[r.Name] = r
	case r.Attempt > l.Attempt:
		st.previous[r.Name] = l
		st.latest[r.Name] = r
	case r.Attempt == l.Attempt:
		if l.ID == r.ID || l.ID == "" {
			st.latest[r.Name] = r
		}
	default:
		p, ok := st.previous[r.Name]
		if !ok || r.Attempt >= p.Attempt {
			st.previous[r.Name] = r
		}
	}
	if r.State == runtime.StateExited {
		delete(st.killing, r.ID)
		delete(st.postStart, r.ID)
	}
}

func (st *podState) stopProbesLocked(id runtime.ContainerID) {
	if ps, ok := st.probes[id]; ok {
		ps.cancel()
		delete(st.probes, id)
	}
}

// running lists the runs that are still alive.
func (st *podState) running() []runtime.ContainerStatus {
	var out []runtime.ContainerStatus
	for _, r := range st.latest {
		if r.State == runtime.StateRunning {
			out = append(out, r)
		}
	}
	for _, r := range st.previous {
		if r.State == runtime.StateRunning {
			out = append(out, r)
		}
	}
	return out
}

// inBackoff reports whether container name, which exited at finishedAt,
// must wait before its next start, and how long.
func (st *podState) inBackoff(name string, finishedAt, now time.Time) (bool, time.Duration, time.Duration) {
	e, ok := st.backoff[name]
	if !ok {
		return false, 0, 0
	}
	if finishedAt.Sub(e.lastUpdate) > 2*backoffMax {
		return false, 0, 0
	}
	elapsed := now.Sub(finishedAt)
	if elapsed < e.delay {
		return true, e.delay, e.delay - elapsed
	}
	return false, 0, 0
}

// nextBackoff records a restart at now and doubles the delay.
func (st *podState) nextBackoff(name string, now time.Time) {
	e, ok := st.backoff[name]
	if !ok || now.Sub(e.lastUpdate) > 2*backoffMax {
		st.backoff[name] = &backoffEntry{delay: backoffInitial, lastUpdate: now}
		return
	}
	e.delay *= 2
	if e.delay > backoffMax {
		e.delay = backoffMax
	}
	e.lastUpdate = now
}

// containerRef is the object events about a container refer to.
func containerRef(pod *corev1.Pod, name string) *corev1.ObjectReference {
	path := fmt.Sprintf("spec.containers{%s}", name)
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			path = fmt.Sprintf("spec.initContainers{%s}", name)
		}
	}
	return &corev1.ObjectReference{
		Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
		ResourceVersion: pod.ResourceVersion, FieldPath: path,
	}
}

// formatPod is the kubelet's format.Pod: name_namespace(uid).
func formatPod(pod *corev1.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}

func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// shouldRestart is the restart rule for a regular container that exited
// with code.
func shouldRestart(pod *corev1.Pod, c *corev1.Container, code int32) bool {
	policy := pod.Spec.RestartPolicy
	if c.RestartPolicy != nil {
		switch *c.RestartPolicy {
		case corev1.ContainerRestartPolicyAlways:
			return true
		case corev1.ContainerRestartPolicyOnFailure:
			return code != 0
		case corev1.ContainerRestartPolicyNever:
			return false
		}
	}
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return code != 0
	default:
		return true
	}
}
