package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/agent/runtime"
)

const (
	// minimumGracePeriod is the kubelet's floor for killing a container.
	minimumGracePeriod = 2 * time.Second
	defaultGracePeriod = 30 * time.Second

	deadlineReason = "DeadlineExceeded"
	// reasonStartError is a run that was created but whose process could
	// not start (containerd's terminated reason, exit code 128).
	reasonStartError = "StartError"

	reasonImagePullBackOff = "ImagePullBackOff"
	// imagePullBackOffAfter is when a pod whose image pull failed is
	// synced again to report ImagePullBackOff.
	imagePullBackOffAfter = time.Second
	deadlineMessage       = "Pod was active on the node longer than the specified deadline"
)

// rvNewer reports whether resource version a is newer than b (both are
// etcd revisions in practice; anything unparsable is not newer).
func rvNewer(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x > y
}

func isTerminalPhase(p corev1.PodPhase) bool {
	return p == corev1.PodSucceeded || p == corev1.PodFailed
}

// syncPod is the one sync function per pod: it reads the pod from the
// informer and the runs from the pod's state, starts or kills what must be,
// and writes the status once if it changed.
func (a *Agent) syncPod(ctx context.Context, uid types.UID) error {
	pod := a.podByUID(uid)
	a.mu.Lock()
	st := a.pods[uid]
	if st == nil && pod != nil && a.serves(pod.Spec.NodeName) {
		st = newPodState(uid)
		a.pods[uid] = st
	}
	a.mu.Unlock()
	if st == nil {
		return nil
	}
	if pod == nil || !a.serves(pod.Spec.NodeName) {
		return a.cleanup(ctx, st)
	}

	st.mu.Lock()
	defer st.mu.Unlock()
	st.lastPod = pod
	if st.deleted {
		return nil
	}
	now := a.clk.Now()
	base := pod
	if st.lastWritten != nil && rvNewer(st.lastWritten.ResourceVersion, pod.ResourceVersion) {
		base = st.lastWritten
	}
	if !st.seeded {
		a.seedFromAPIStatus(base, st)
		a.resumeProbesLocked(pod, base, st)
		st.seeded = true
	}
	deleting := pod.DeletionTimestamp != nil
	terminal := isTerminalPhase(base.Status.Phase)

	if !deleting && !terminal && !st.deadlineExceeded && pod.Spec.ActiveDeadlineSeconds != nil {
		start := now
		if base.Status.StartTime != nil {
			start = base.Status.StartTime.Time
		}
		deadline := start.Add(time.Duration(*pod.Spec.ActiveDeadlineSeconds) * time.Second)
		if !now.Before(deadline) {
			st.deadlineExceeded = true
			a.recorder(pod.Spec.NodeName).Event(pod, corev1.EventTypeNormal, deadlineReason, deadlineMessage)
		} else {
			a.queue.AddAfter(string(uid), deadline.Sub(now))
		}
	}

	if deleting || terminal || st.deadlineExceeded {
		grace := gracePeriod(pod)
		a.killAllLocked(pod, st, grace)
		status := a.generateStatus(pod, base, st, now, true)
		if err := a.writeStatus(ctx, base, st, status); err != nil {
			return err
		}
		if deleting && len(st.running()) == 0 && len(st.killing) == 0 {
			return a.finalDelete(ctx, pod, st)
		}
		return nil
	}

	if !st.prepared {
		err := a.rt.PreparePod(ctx, pod)
		var se *runtime.StartError
		switch {
		case errors.As(err, &se):
			if st.prepareErr == nil || st.prepareErr.Message != se.Message {
				a.recorder(pod.Spec.NodeName).Eventf(pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: %s", se.Message)
			}
			st.prepareErr = se
			a.queue.AddAfter(string(uid), backoffInitial)
		case err != nil:
			return err
		default:
			st.prepared = true
			st.prepareErr = nil
		}
	}
	if st.prepared {
		a.runContainers(ctx, pod, st, now)
	}
	status := a.generateStatus(pod, base, st, now, false)
	if isTerminalPhase(status.Phase) || regularContainersDone(pod, st) {
		// e.g. sidecars still running once the regular containers are done
		a.killAllLocked(pod, st, gracePeriod(pod))
		status = a.generateStatus(pod, base, st, now, true)
	}
	return a.writeStatus(ctx, base, st, status)
}

func gracePeriod(pod *corev1.Pod) time.Duration {
	switch {
	case pod.DeletionGracePeriodSeconds != nil:
		return time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		return time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return defaultGracePeriod
}

// seedFromAPIStatus folds containers the API status shows as having run,
// but that the runtime does not know (its state was lost), into the pod
// state, so that nothing runs twice and restart counts go on: a container
// the API saw running is reported as ContainerStatusUnknown (exit 137).
func (a *Agent) seedFromAPIStatus(base *corev1.Pod, st *podState) {
	all := append(append([]corev1.ContainerStatus{}, base.Status.InitContainerStatuses...), base.Status.ContainerStatuses...)
	for _, cs := range all {
		if _, ok := st.latest[cs.Name]; ok {
			continue
		}
		id := runtime.ContainerID(cs.ContainerID)
		if i := strings.Index(cs.ContainerID, "://"); i >= 0 {
			id = runtime.ContainerID(cs.ContainerID[i+3:])
		}
		if id == "" {
			id = runtime.ContainerID("lost-" + cs.Name + "-" + strconv.Itoa(int(cs.RestartCount)))
		}
		r := runtime.ContainerStatus{ID: id, PodUID: base.UID, PodNamespace: base.Namespace, PodName: base.Name,
			Name: cs.Name, Attempt: int(cs.RestartCount), State: runtime.StateExited}
		switch {
		case cs.State.Terminated != nil:
			t := cs.State.Terminated
			r.ExitCode, r.Reason, r.Message = t.ExitCode, t.Reason, t.Message
			r.StartedAt, r.FinishedAt = t.StartedAt.Time, t.FinishedAt.Time
		case cs.State.Running != nil:
			if ad, ok := a.rt.(runtime.Adopter); ok {
				if c, found := specContainer(base, cs.Name); found {
					if adopted, ok := ad.Adopt(base, c, id, int(cs.RestartCount), cs.State.Running.StartedAt.Time); ok {
						st.latest[cs.Name] = adopted
						continue
					}
				}
			}
			r.ExitCode, r.Reason = 137, "ContainerStatusUnknown"
			r.Message = "The container could not be located when the pod was terminated"
			r.StartedAt = cs.State.Running.StartedAt.Time
		case cs.LastTerminationState.Terminated != nil:
			t := cs.LastTerminationState.Terminated
			r.ExitCode, r.Reason, r.Message = t.ExitCode, t.Reason, t.Message
			r.StartedAt, r.FinishedAt = t.StartedAt.Time, t.FinishedAt.Time
			if t.ContainerID != "" {
				r.ID = runtime.ContainerID(t.ContainerID[strings.Index(t.ContainerID, "://")+3:])
			}
		default:
			continue
		}
		st.latest[cs.Name] = r
	}
	for _, cs := range all {
		seedPrevious(st, base.UID, cs)
	}
}

// seedPrevious keeps the lastState the API shows for a container whose
// current run was seeded or adopted but whose previous run the runtime does
// not know (the simulated runtime keeps nothing): the status goes on
// showing it, as the kubelet's does, and is not rewritten without it.
func seedPrevious(st *podState, uid types.UID, cs corev1.ContainerStatus) {
	t := cs.LastTerminationState.Terminated
	l, ok := st.latest[cs.Name]
	if t == nil || !ok || cs.State.Terminated == nil && cs.State.Running == nil {
		// Waiting after an exit: that exit is the latest run itself.
		return
	}
	if _, known := st.previous[cs.Name]; known {
		return
	}
	id := runtime.ContainerID("lost-" + cs.Name + "-" + strconv.Itoa(int(cs.RestartCount)-1))
	if i := strings.Index(t.ContainerID, "://"); i >= 0 {
		id = runtime.ContainerID(t.ContainerID[i+3:])
	}
	if id == l.ID {
		return
	}
	st.previous[cs.Name] = runtime.ContainerStatus{ID: id, PodUID: uid, Name: cs.Name, Attempt: l.Attempt - 1,
		State: runtime.StateExited, ExitCode: t.ExitCode, Reason: t.Reason, Message: t.Message,
		StartedAt: t.StartedAt.Time, FinishedAt: t.FinishedAt.Time}
}

// runContainers starts what must run: init containers in order, each to
// success (sidecars to started), then the regular containers; exited
// containers restart by their restart policy after the CrashLoopBackOff
// delay.
func (a *Agent) runContainers(ctx context.Context, pod *corev1.Pod, st *podState, now time.Time) {
	initDone := true
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		l, ok := st.latest[c.Name]
		if !ok {
			a.startContainer(ctx, pod, st, c, 0, now)
			initDone = false
			break
		}
		if isSidecar(c) {
			if l.State == runtime.StateRunning {
				if st.postStart[l.ID] || !st.startedLocked(l.ID) {
					initDone = false
					break
				}
				continue
			}
			a.restartContainer(ctx, pod, st, c, l, now)
			if !anyRegularStarted(pod, st) {
				initDone = false
				break
			}
			continue
		}
		if l.State == runtime.StateRunning {
			initDone = false
			break
		}
		if l.ExitCode == 0 {
			continue
		}
		if pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
			a.restartContainer(ctx, pod, st, c, l, now)
		}
		initDone = false
		break
	}
	if !initDone {
		return
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		l, ok := st.latest[c.Name]
		switch {
		case !ok:
			a.startContainer(ctx, pod, st, c, 0, now)
		case l.State == runtime.StateRunning:
		case shouldRestart(pod, c, l.ExitCode):
			a.restartContainer(ctx, pod, st, c, l, now)
		}
	}
}

// regularContainersDone: every regular container exited for good, so the
// pod is over even if sidecars still run (they are stopped then).
func regularContainersDone(pod *corev1.Pod, st *podState) bool {
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		l, ok := st.latest[c.Name]
		if !ok || l.State != runtime.StateExited || shouldRestart(pod, c, l.ExitCode) {
			return false
		}
		if _, failing := st.startErrs[c.Name]; failing {
			return false
		}
	}
	return len(pod.Spec.Containers) > 0
}

func anyRegularStarted(pod *corev1.Pod, st *podState) bool {
	for i := range pod.Spec.Containers {
		if _, ok := st.latest[pod.Spec.Containers[i].Name]; ok {
			return true
		}
	}
	return false
}

func (st *podState) startedLocked(id runtime.ContainerID) bool {
	ps, ok := st.probes[id]
	return !ok || ps.started
}

// restartContainer starts the next attempt of an exited container, or,
// while it is backing off, sends BackOff and comes back when the delay ends.
func (a *Agent) restartContainer(ctx context.Context, pod *corev1.Pod, st *podState, c *corev1.Container, l runtime.ContainerStatus, now time.Time) {
	if in, _, remaining := st.inBackoff(c.Name, l.FinishedAt, now); in {
		if st.backoffEvent[c.Name] != l.ID {
			st.backoffEvent[c.Name] = l.ID
			a.recorder(pod.Spec.NodeName).Eventf(containerRef(pod, c.Name), corev1.EventTypeWarning, "BackOff",
				"Back-off restarting failed container %s in pod %s", c.Name, formatPod(pod))
		}
		a.queue.AddAfter(string(pod.UID), remaining)
		return
	}
	if _, failing := st.startErrs[c.Name]; !failing {
		st.nextBackoff(c.Name, now)
	}
	a.startContainer(ctx, pod, st, c, l.Attempt+1, now)
}

type startFailure struct {
	err *runtime.StartError
	at  time.Time
}

// startContainer starts one run of c; a failure leaves the container
// waiting with the error's reason and is retried with back-off.
func (a *Agent) startContainer(ctx context.Context, pod *corev1.Pod, st *podState, c *corev1.Container, attempt int, now time.Time) {
	key := "start/" + c.Name
	rec := a.recorder(pod.Spec.NodeName)
	ref := containerRef(pod, c.Name)
	if f, ok := st.startErrs[c.Name]; ok {
		if e := st.backoff[key]; e != nil && now.Sub(f.at) < e.delay {
			if f.err.Reason == runtime.ReasonErrImagePull && now.Sub(f.at) < imagePullBackOffAfter {
				a.queue.AddAfter(string(pod.UID), imagePullBackOffAfter-now.Sub(f.at))
				return
			}
			if f.err.Reason == runtime.ReasonErrImagePull {
				// The kubelet's image back-off: ErrImagePull turns into
				// ImagePullBackOff until the next pull.
				st.startErrs[c.Name] = startFailure{at: f.at, err: &runtime.StartError{Reason: reasonImagePullBackOff,
					Message: fmt.Sprintf("Back-off pulling image %q: %s: %s", c.Image, runtime.ReasonErrImagePull, f.err.Message)}}
				rec.Eventf(ref, corev1.EventTypeNormal, "BackOff", "Back-off pulling image %q", c.Image)
				rec.Eventf(ref, corev1.EventTypeWarning, "Failed", "Error: %s", reasonImagePullBackOff)
			}
			a.queue.AddAfter(string(pod.UID), e.delay-now.Sub(f.at))
			return
		}
	}
	started, err := a.rt.StartContainer(ctx, pod, c, runtime.StartOptions{
		Attempt: attempt, NodeName: pod.Spec.NodeName, HostIP: a.nodeIP, PodIP: a.nodeIP,
	})
	if err != nil {
		var se *runtime.StartError
		if !errors.As(err, &se) {
			se = &runtime.StartError{Reason: "RunContainerError", Message: err.Error()}
		}
		st.startErrs[c.Name] = startFailure{err: se, at: now}
		st.nextBackoff(key, now)
		retry := st.backoff[key].delay
		if se.Reason == runtime.ReasonErrImagePull {
			rec.Eventf(ref, corev1.EventTypeWarning, "Failed", "Failed to pull image %q: %s", c.Image, se.Message)
			rec.Eventf(ref, corev1.EventTypeWarning, "Failed", "Error: %s", runtime.ReasonErrImagePull)
			// Come back soon to show ImagePullBackOff, as the kubelet's
			// next sync does.
			retry = imagePullBackOffAfter
		} else {
			rec.Eventf(ref, corev1.EventTypeWarning, "Failed", "Error: %s", se.Message)
		}
		a.queue.AddAfter(string(pod.UID), retry)
		return
	}
	delete(st.startErrs, c.Name)
	delete(st.backoff, key)
	if a.rt.Name() == "simulated" {
		// The simulated runtime plays a node with every image; the
		// process runtime pulls and uses no image, so it says nothing.
		rec.Eventf(ref, corev1.EventTypeNormal, "Pulled", "Container image %q already present on machine", c.Image)
	}
	rec.Eventf(ref, corev1.EventTypeNormal, "Created", "Created container: %s", c.Name)
	if started.State == runtime.StateExited && started.Reason == reasonStartError {
		// Created, but its process could not start: the kubelet's
		// FailedToStartContainer event; the run counts as ended.
		rec.Eventf(ref, corev1.EventTypeWarning, "Failed", "Error: %s", started.Message)
	} else {
		rec.Eventf(ref, corev1.EventTypeNormal, "Started", "Started container %s", c.Name)
	}
	id := started.ID
	if started.StartedAt.IsZero() {
		started.StartedAt = now
	}
	run := runtime.ContainerStatus{ID: id, PodUID: pod.UID, PodNamespace: pod.Namespace, PodName: pod.Name,
		Name: c.Name, Attempt: attempt, State: runtime.StateRunning, StartedAt: started.StartedAt}
	if started.State == runtime.StateExited {
		// The run ended before the start returned: one status write
		// reports both.
		run.State, run.ExitCode, run.Reason, run.Message, run.FinishedAt =
			started.State, started.ExitCode, started.Reason, started.Message, started.FinishedAt
	}
	st.record(run)
	klog.FromContext(ctx).V(3).Info("Started container", "pod", klog.KObj(pod), "container", c.Name, "attempt", attempt)
	if run.State == runtime.StateExited {
		return
	}
	a.startProbesLocked(pod, st, c, id, now)
	if c.Lifecycle != nil && c.Lifecycle.PostStart != nil {
		st.postStart[id] = true
		go a.runPostStart(pod, st, c.DeepCopy(), id)
	}
}

// killAllLocked stops every running run of the pod (preStop first) unless
// already being stopped.
func (a *Agent) killAllLocked(pod *corev1.Pod, st *podState, grace time.Duration) {
	for _, r := range st.running() {
		if st.killing[r.ID] {
			continue
		}
		st.stopProbesLocked(r.ID)
		c := containerSpec(pod, r.Name)
		st.killing[r.ID] = true
		go a.killContainer(pod, st, c, r.ID, grace, "Stopping container "+r.Name, true)
	}
}

// specContainer finds the init or regular container name in pod's spec.
func specContainer(pod *corev1.Pod, name string) (*corev1.Container, bool) {
	return containerSpec(pod, name), containerNamed(pod, name)
}

func containerNamed(pod *corev1.Pod, name string) bool {
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			if cs[i].Name == name {
				return true
			}
		}
	}
	return false
}

func containerSpec(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return pod.Spec.InitContainers[i].DeepCopy()
		}
	}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return pod.Spec.Containers[i].DeepCopy()
		}
	}
	return &corev1.Container{Name: name}
}

// killContainer runs preStop (bounded by grace), then stops the run with
// what is left of grace (at least 2 s, like the kubelet). The caller set
// st.killing[id]; it stays until the exit arrives, or is cleared on error.
func (a *Agent) killContainer(pod *corev1.Pod, st *podState, c *corev1.Container, id runtime.ContainerID, grace time.Duration, message string, preStop bool) {
	ctx := a.ctx
	start := a.clk.Now()
	if preStop && c.Lifecycle != nil && c.Lifecycle.PreStop != nil && grace > 0 {
		hctx, cancel := context.WithTimeout(ctx, grace)
		if msg, err := a.runHook(hctx, pod, c, id, runtime.HookPreStop, c.Lifecycle.PreStop); err != nil {
			a.recorder(pod.Spec.NodeName).Eventf(containerRef(pod, c.Name), corev1.EventTypeWarning, "FailedPreStopHook",
				"PreStopHook failed: %s", msg)
		}
		cancel()
		grace -= a.clk.Since(start)
	}
	if grace < minimumGracePeriod {
		grace = minimumGracePeriod
	}
	a.recorder(pod.Spec.NodeName).Event(containerRef(pod, c.Name), corev1.EventTypeNormal, "Killing", message)
	if err := a.rt.StopContainer(ctx, id, grace); err != nil {
		klog.FromContext(ctx).V(2).Info("Stopping container failed", "pod", klog.KObj(pod), "container", c.Name, "err", err)
		st.mu.Lock()
		delete(st.killing, id)
		st.mu.Unlock()
	}
	a.queue.Add(string(pod.UID))
}

// finalDelete is the kubelet's last word on a deleted pod: every container
// has stopped, so the object goes (grace 0, UID precondition) and the
// runtime forgets the pod.
func (a *Agent) finalDelete(ctx context.Context, pod *corev1.Pod, st *podState) error {
	err := a.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return err
	}
	st.deleted = true
	for id := range st.probes {
		st.stopProbesLocked(id)
	}
	klog.FromContext(ctx).V(2).Info("Pod deleted", "pod", klog.KObj(pod))
	return a.rt.RemovePod(ctx, pod.UID)
}

// cleanup forgets a pod that left the API (or our nodes): whatever still
// runs is stopped and the runtime state removed.
func (a *Agent) cleanup(ctx context.Context, st *podState) error {
	st.mu.Lock()
	for id := range st.probes {
		st.stopProbesLocked(id)
	}
	st.mu.Unlock()
	if err := a.rt.RemovePod(ctx, st.uid); err != nil {
		return err
	}
	a.mu.Lock()
	if a.pods[st.uid] == st {
		delete(a.pods, st.uid)
	}
	a.mu.Unlock()
	return nil
}

// writeStatus writes status through pods/status when it differs from what
// the API has.
func (a *Agent) writeStatus(ctx context.Context, base *corev1.Pod, st *podState, status corev1.PodStatus) error {
	if apiequality.Semantic.DeepEqual(base.Status, status) {
		return nil
	}
	upd := base.DeepCopy()
	upd.Status = status
	out, err := a.client.CoreV1().Pods(base.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	st.lastWritten = out
	return nil
}
