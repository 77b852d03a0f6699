package agent

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/agent/runtime"
)

// Condition reasons the kubelet uses.
const (
	reasonContainersNotReady       = "ContainersNotReady"
	reasonContainersNotInitialized = "ContainersNotInitialized"
	reasonPodCompleted             = "PodCompleted"
	reasonPodFailed                = "PodFailed"
	reasonReadinessGatesNotReady   = "ReadinessGatesNotReady"
	reasonContainerCreating        = "ContainerCreating"
	reasonPodInitializing          = "PodInitializing"
	reasonCrashLoopBackOff         = "CrashLoopBackOff"
)

func rfc(t time.Time) metav1.Time {
	if t.IsZero() {
		return metav1.Time{}
	}
	return metav1.NewTime(t).Rfc3339Copy()
}

// kubeletConditions are the pod conditions the kubelet owns and rewrites.
var kubeletConditions = map[corev1.PodConditionType]bool{
	corev1.PodReadyToStartContainers: true,
	corev1.PodInitialized:            true,
	corev1.PodReady:                  true,
	corev1.ContainersReady:           true,
	corev1.PodScheduled:              true,
}

// generateStatus computes the pod's API status from the pod state, the way
// the kubelet's generateAPIPodStatus does. podIsTerminal: the pod will run
// nothing more (deleted, terminal, deadline exceeded).
func (a *Agent) generateStatus(pod, base *corev1.Pod, st *podState, now time.Time, podIsTerminal bool) corev1.PodStatus {
	old := base.Status
	s := corev1.PodStatus{
		HostIP:                old.HostIP,
		HostIPs:               old.HostIPs,
		PodIP:                 old.PodIP,
		PodIPs:                old.PodIPs,
		StartTime:             old.StartTime,
		QOSClass:              old.QOSClass,
		NominatedNodeName:     old.NominatedNodeName,
		ResourceClaimStatuses: old.ResourceClaimStatuses,
		Resize:                old.Resize,
		ObservedGeneration:    pod.Generation,
	}
	s.HostIP = a.nodeIP
	s.HostIPs = []corev1.HostIP{{IP: a.nodeIP}}
	if s.PodIP == "" && st.prepared {
		s.PodIP = a.nodeIP
		s.PodIPs = []corev1.PodIP{{IP: a.nodeIP}}
	}
	if s.StartTime == nil {
		t := rfc(now)
		s.StartTime = &t
	}
	if s.QOSClass == "" {
		s.QOSClass = qosClass(pod)
	}
	hasInit := len(pod.Spec.InitContainers) > 0
	s.InitContainerStatuses = a.containerStatuses(pod, st, pod.Spec.InitContainers, old.InitContainerStatuses, hasInit, true, now, podIsTerminal)
	s.ContainerStatuses = a.containerStatuses(pod, st, pod.Spec.Containers, old.ContainerStatuses, hasInit, false, now, podIsTerminal)

	all := append(append([]corev1.ContainerStatus{}, s.ContainerStatuses...), s.InitContainerStatuses...)
	s.Phase = getPhase(pod, all, podIsTerminal)
	if st.deadlineExceeded {
		s.Phase = corev1.PodFailed
		s.Reason, s.Message = deadlineReason, deadlineMessage
	}
	if isTerminalPhase(old.Phase) && s.Phase != old.Phase {
		s.Phase = old.Phase // never leave a terminal phase
	}
	if s.Phase == old.Phase && s.Reason == "" {
		s.Reason, s.Message = old.Reason, old.Message
	}

	// conditions
	var conds []corev1.PodCondition
	for _, c := range old.Conditions {
		if !kubeletConditions[c.Type] {
			conds = append(conds, c)
		}
	}
	ready2start := corev1.PodCondition{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionFalse}
	if st.prepared && !(podIsTerminal && len(st.running()) == 0) {
		ready2start.Status = corev1.ConditionTrue
	}
	allCS := append(append([]corev1.ContainerStatus{}, s.InitContainerStatuses...), s.ContainerStatuses...)
	containersReady := containersReadyCondition(pod, allCS, s.Phase)
	gen := []corev1.PodCondition{
		ready2start,
		initializedCondition(pod, allCS, s.Phase),
		podReadyCondition(pod, conds, containersReady),
		containersReady,
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
	}
	for _, c := range gen {
		c.ObservedGeneration = pod.Generation
		c.LastTransitionTime = rfc(now)
		for _, oc := range old.Conditions {
			if oc.Type == c.Type && oc.Status == c.Status {
				c.LastTransitionTime = oc.LastTransitionTime
			}
		}
		conds = append(conds, c)
	}
	s.Conditions = conds
	return s
}

// containerStatuses converts the runs of containers into API statuses.
func (a *Agent) containerStatuses(pod *corev1.Pod, st *podState, containers []corev1.Container, old []corev1.ContainerStatus, hasInit, isInit bool, now time.Time, podIsTerminal bool) []corev1.ContainerStatus {
	if len(containers) == 0 {
		return nil
	}
	defaultReason := reasonContainerCreating
	if hasInit {
		defaultReason = reasonPodInitializing
	}
	out := make([]corev1.ContainerStatus, 0, len(containers))
	for i := range containers {
		c := &containers[i]
		cs := corev1.ContainerStatus{
			Name:    c.Name,
			Image:   c.Image,
			State:   corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: defaultReason}},
			Started: ptr.To(false),
		}
		cs.VolumeMounts = volumeMountStatuses(c)
		sidecar := isInit && isSidecar(c)
		l, ok := st.latest[c.Name]
		shownRunning := false
		if ok {
			cs.RestartCount = int32(l.Attempt)
			cid := a.rt.Name() + "://" + string(l.ID)
			switch {
			case l.State == runtime.StateRunning && st.postStart[l.ID]:
				// the kubelet reports a container whose postStart hook
				// runs as still being created
				cs.State.Waiting.Reason = reasonContainerCreating
			case l.State == runtime.StateRunning:
				cs.ImageID = c.Image
				cs.ContainerID = cid
				cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: rfc(l.StartedAt)}}
				shownRunning = true
			default:
				cs.ImageID = c.Image
				cs.ContainerID = cid
				cs.State = corev1.ContainerState{Terminated: terminated(a.rt.Name(), l)}
			}
			if p, ok := st.previous[c.Name]; ok && p.State == runtime.StateExited {
				cs.LastTerminationState = corev1.ContainerState{Terminated: terminated(a.rt.Name(), p)}
			}
		}
		if f, failed := st.startErrs[c.Name]; failed && !podIsTerminal {
			if cs.State.Terminated != nil {
				cs.LastTerminationState = cs.State
			}
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: f.err.Reason, Message: f.err.Message}}
		} else if !ok && st.prepareErr != nil && !podIsTerminal {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: st.prepareErr.Reason, Message: st.prepareErr.Message}
		} else if ok && l.State == runtime.StateExited && !podIsTerminal && willRestart(pod, c, isInit, l.ExitCode) {
			if in, delay, _ := st.inBackoff(c.Name, l.FinishedAt, now); in {
				cs.LastTerminationState = cs.State
				cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
					Reason:  reasonCrashLoopBackOff,
					Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", delay, c.Name, formatPod(pod)),
				}}
			}
		}
		if shownRunning {
			ps := st.probes[l.ID]
			started := ps == nil || ps.started
			cs.Started = ptr.To(started)
			if !isInit || sidecar {
				cs.Ready = started && (ps == nil || ps.ready)
			}
			cs.Resources = containerResources(c)
		}
		if isInit && !sidecar && cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0 {
			cs.Ready = true
		}
		out = append(out, cs)
	}
	return out
}

func terminated(rtName string, r runtime.ContainerStatus) *corev1.ContainerStateTerminated {
	t := &corev1.ContainerStateTerminated{
		ExitCode:   r.ExitCode,
		Reason:     r.Reason,
		Message:    r.Message,
		StartedAt:  rfc(r.StartedAt),
		FinishedAt: rfc(r.FinishedAt),
	}
	if !strings.HasPrefix(string(r.ID), "lost-") {
		t.ContainerID = rtName + "://" + string(r.ID)
	}
	return t
}

func willRestart(pod *corev1.Pod, c *corev1.Container, isInit bool, code int32) bool {
	if isInit {
		if isSidecar(c) {
			return true
		}
		return code != 0 && pod.Spec.RestartPolicy != corev1.RestartPolicyNever
	}
	return shouldRestart(pod, c, code)
}

func volumeMountStatuses(c *corev1.Container) []corev1.VolumeMountStatus {
	if len(c.VolumeMounts) == 0 {
		return nil
	}
	out := make([]corev1.VolumeMountStatus, 0, len(c.VolumeMounts))
	for _, m := range c.VolumeMounts {
		vs := corev1.VolumeMountStatus{Name: m.Name, MountPath: m.MountPath, ReadOnly: m.ReadOnly}
		if m.ReadOnly {
			vs.RecursiveReadOnly = ptr.To(corev1.RecursiveReadOnlyDisabled)
		}
		out = append(out, vs)
	}
	return out
}

// containerResources is the running container's resources as the kubelet
// reports them: cpu, memory and ephemeral-storage of the spec.
func containerResources(c *corev1.Container) *corev1.ResourceRequirements {
	filter := func(l corev1.ResourceList) corev1.ResourceList {
		var out corev1.ResourceList
		for _, n := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
			if q, ok := l[n]; ok {
				if out == nil {
					out = corev1.ResourceList{}
				}
				out[n] = q.DeepCopy()
			}
		}
		return out
	}
	return &corev1.ResourceRequirements{Limits: filter(c.Resources.Limits), Requests: filter(c.Resources.Requests)}
}

// getPhase is the kubelet's phase rule.
func getPhase(pod *corev1.Pod, info []corev1.ContainerStatus, podIsTerminal bool) corev1.PodPhase {
	find := func(name string) (corev1.ContainerStatus, bool) {
		for _, s := range info {
			if s.Name == name {
				return s, true
			}
		}
		return corev1.ContainerStatus{}, false
	}
	pendingInit, failedInit := 0, 0
	unknown, running, waiting, stopped, succeeded := 0, 0, 0, 0, 0
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		s, ok := find(c.Name)
		if isSidecar(c) {
			switch {
			case !ok:
				unknown++
			case s.State.Running != nil:
				if s.Started == nil || !*s.Started {
					pendingInit++
				}
				running++
			case s.State.Terminated != nil:
			case s.State.Waiting != nil:
				if s.LastTerminationState.Terminated == nil {
					pendingInit++
					waiting++
				}
			default:
				pendingInit++
				unknown++
			}
			continue
		}
		switch {
		case !ok:
			pendingInit++
		case s.State.Running != nil:
			pendingInit++
		case s.State.Terminated != nil:
			if s.State.Terminated.ExitCode != 0 {
				failedInit++
			}
		case s.State.Waiting != nil:
			if s.LastTerminationState.Terminated != nil {
				if s.LastTerminationState.Terminated.ExitCode != 0 {
					failedInit++
				}
			} else {
				pendingInit++
			}
		default:
			pendingInit++
		}
	}
	anyRegularStarted := false
	for i := range pod.Spec.Containers {
		s, ok := find(pod.Spec.Containers[i].Name)
		if !ok {
			unknown++
			continue
		}
		if s.State.Running != nil || s.State.Terminated != nil || s.LastTerminationState.Terminated != nil {
			anyRegularStarted = true
		}
		switch {
		case s.State.Running != nil:
			running++
		case s.State.Terminated != nil:
			stopped++
			if s.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case s.State.Waiting != nil:
			if s.LastTerminationState.Terminated != nil {
				stopped++
			} else {
				waiting++
			}
		default:
			unknown++
		}
	}
	if failedInit > 0 && pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
		return corev1.PodFailed
	}
	switch {
	case pendingInit > 0 && !anyRegularStarted:
		return corev1.PodPending
	case waiting > 0:
		return corev1.PodPending
	case running > 0 && unknown == 0:
		return corev1.PodRunning
	case running == 0 && stopped > 0 && unknown == 0:
		if podIsTerminal {
			if stopped == succeeded {
				return corev1.PodSucceeded
			}
			return corev1.PodFailed
		}
		if pod.Spec.RestartPolicy == corev1.RestartPolicyAlways || pod.Spec.RestartPolicy == "" {
			return corev1.PodRunning
		}
		if stopped == succeeded {
			return corev1.PodSucceeded
		}
		if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
			return corev1.PodFailed
		}
		return corev1.PodRunning
	default:
		return corev1.PodPending
	}
}

func findStatus(all []corev1.ContainerStatus, name string) (corev1.ContainerStatus, bool) {
	for _, s := range all {
		if s.Name == name {
			return s, true
		}
	}
	return corev1.ContainerStatus{}, false
}

func containersReadyCondition(pod *corev1.Pod, all []corev1.ContainerStatus, phase corev1.PodPhase) corev1.PodCondition {
	var unknown, unready []string
	check := func(name string) {
		if s, ok := findStatus(all, name); ok {
			if !s.Ready {
				unready = append(unready, name)
			}
		} else {
			unknown = append(unknown, name)
		}
	}
	for i := range pod.Spec.InitContainers {
		if isSidecar(&pod.Spec.InitContainers[i]) {
			check(pod.Spec.InitContainers[i].Name)
		}
	}
	for i := range pod.Spec.Containers {
		check(pod.Spec.Containers[i].Name)
	}
	c := corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionFalse}
	if phase == corev1.PodSucceeded && len(unknown) == 0 {
		c.Reason = reasonPodCompleted
		return c
	}
	if phase == corev1.PodFailed {
		c.Reason = reasonPodFailed
		return c
	}
	var msgs []string
	if len(unknown) > 0 {
		msgs = append(msgs, fmt.Sprintf("containers with unknown status: %s", unknown))
	}
	if len(unready) > 0 {
		msgs = append(msgs, fmt.Sprintf("containers with unready status: %s", unready))
	}
	if len(msgs) > 0 {
		c.Reason = reasonContainersNotReady
		c.Message = strings.Join(msgs, ", ")
		return c
	}
	c.Status = corev1.ConditionTrue
	return c
}

func podReadyCondition(pod *corev1.Pod, conds []corev1.PodCondition, containersReady corev1.PodCondition) corev1.PodCondition {
	c := corev1.PodCondition{Type: corev1.PodReady, Status: containersReady.Status, Reason: containersReady.Reason, Message: containersReady.Message}
	if containersReady.Status != corev1.ConditionTrue {
		return c
	}
	var msgs []string
	for _, rg := range pod.Spec.ReadinessGates {
		var found *corev1.PodCondition
		for i := range conds {
			if conds[i].Type == rg.ConditionType {
				found = &conds[i]
			}
		}
		if found == nil {
			msgs = append(msgs, fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", string(rg.ConditionType)))
		} else if found.Status != corev1.ConditionTrue {
			msgs = append(msgs, fmt.Sprintf("the status of pod readiness gate %q is not \"True\", but %v", string(rg.ConditionType), found.Status))
		}
	}
	if len(msgs) > 0 {
		return corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: reasonReadinessGatesNotReady, Message: strings.Join(msgs, ", ")}
	}
	return c
}

func initializedCondition(pod *corev1.Pod, all []corev1.ContainerStatus, phase corev1.PodPhase) corev1.PodCondition {
	var unknown, incomplete []string
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		s, ok := findStatus(all, c.Name)
		if !ok {
			unknown = append(unknown, c.Name)
			continue
		}
		if isSidecar(c) {
			if s.Started == nil || !*s.Started {
				incomplete = append(incomplete, c.Name)
			}
		} else if !s.Ready {
			incomplete = append(incomplete, c.Name)
		}
	}
	if phase == corev1.PodSucceeded && len(unknown) == 0 {
		return corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, Reason: reasonPodCompleted}
	}
	for i := range pod.Spec.Containers {
		if s, ok := findStatus(all, pod.Spec.Containers[i].Name); ok &&
			(s.State.Running != nil || s.State.Terminated != nil || s.LastTerminationState.Terminated != nil) {
			return corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}
		}
	}
	var msgs []string
	if len(unknown) > 0 {
		msgs = append(msgs, fmt.Sprintf("containers with unknown status: %s", unknown))
	}
	if len(incomplete) > 0 {
		msgs = append(msgs, fmt.Sprintf("containers with incomplete status: %s", incomplete))
	}
	if len(msgs) > 0 {
		return corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionFalse, Reason: reasonContainersNotInitialized, Message: strings.Join(msgs, ", ")}
	}
	return corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}
}

// qosClass is Kubernetes' QoS rule, used when the API server left it empty.
func qosClass(pod *corev1.Pod) corev1.PodQOSClass {
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	guaranteed := true
	all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range all {
		for n, q := range c.Resources.Requests {
			if n == corev1.ResourceCPU || n == corev1.ResourceMemory {
				if q.Sign() > 0 {
					acc := requests[n]
					acc.Add(q)
					requests[n] = acc
				}
			}
		}
		have := 0
		for n, q := range c.Resources.Limits {
			if n == corev1.ResourceCPU || n == corev1.ResourceMemory {
				if q.Sign() > 0 {
					have++
					acc := limits[n]
					acc.Add(q)
					limits[n] = acc
				}
			}
		}
		if have != 2 {
			guaranteed = false
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed {
		for n, r := range requests {
			if l, ok := limits[n]; !ok || l.Cmp(r) != 0 {
				guaranteed = false
			}
		}
	}
	if guaranteed && len(limits) == 2 {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}
