package job

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
)

// --- pod state helpers ---

func isTerminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// isActive: neither terminal nor being deleted.
func isActive(p *corev1.Pod) bool { return !isTerminal(p) && p.DeletionTimestamp == nil }

// isTerminating: being deleted but not yet in a terminal phase.
func isTerminating(p *corev1.Pod) bool { return p.DeletionTimestamp != nil && !isTerminal(p) }

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func hasFinalizer(p *corev1.Pod) bool {
	return slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer)
}

// isPodFailed says whether a pod counts as a failure. herd's rule (see the
// package doc): only a pod that reached phase Failed is a failure; a pod
// deleted while running is a replacement case, not a failure.
func isPodFailed(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed }

// isLostTerminating: a pod being deleted that never reached a node; nothing
// will ever give it a terminal phase, so its finalizer is released without
// counting it.
func isLostTerminating(p *corev1.Pod) bool { return isTerminating(p) && p.Spec.NodeName == "" }

func onlyReplaceFailedPods(job *batchv1.Job) bool {
	if job.Spec.PodReplacementPolicy != nil {
		return *job.Spec.PodReplacementPolicy == batchv1.Failed
	}
	return job.Spec.PodFailurePolicy != nil
}

func isIndexed(job *batchv1.Job) bool {
	return ptr.Deref(job.Spec.CompletionMode, batchv1.NonIndexedCompletion) == batchv1.IndexedCompletion
}

func hasBackoffLimitPerIndex(job *batchv1.Job) bool {
	return isIndexed(job) && job.Spec.BackoffLimitPerIndex != nil
}

// finishTime is when a terminated pod finished, as Kubernetes' Job
// controller estimates it: the latest termination of its containers when
// every regular container and every restartable (sidecar) init container
// has terminated (plain init containers finished before the pod ran and do
// not count); else the time its Ready condition went false; else its
// deletion time minus the deletion grace period (the moment it was
// deleted); else its creation time.
func finishTime(p *corev1.Pod) time.Time {
	if t, ok := containersFinishTime(p); ok {
		return t
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionFalse && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	if p.DeletionTimestamp != nil {
		return p.DeletionTimestamp.Time.Add(-time.Duration(ptr.Deref(p.DeletionGracePeriodSeconds, 0)) * time.Second)
	}
	return p.CreationTimestamp.Time
}

// containersFinishTime is the latest finishedAt of the pod's regular and
// sidecar containers; ok is false when one of them has not terminated (or
// has no finish time) or there is none.
func containersFinishTime(p *corev1.Pod) (time.Time, bool) {
	var latest time.Time
	found := false
	consider := func(cs corev1.ContainerStatus) bool {
		term := cs.State.Terminated
		if term == nil || term.FinishedAt.IsZero() {
			return false
		}
		if !found || term.FinishedAt.Time.After(latest) {
			latest, found = term.FinishedAt.Time, true
		}
		return true
	}
	for _, cs := range p.Status.ContainerStatuses {
		if !consider(cs) {
			return time.Time{}, false
		}
	}
	sidecars := map[string]bool{}
	for i := range p.Spec.InitContainers {
		c := &p.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
		}
	}
	for _, cs := range p.Status.InitContainerStatuses {
		if sidecars[cs.Name] && !consider(cs) {
			return time.Time{}, false
		}
	}
	return latest, found
}

func sortByFinishTime(pods []*corev1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool { return finishTime(pods[i]).Before(finishTime(pods[j])) })
}

// --- pod re-creation backoff ---

// backoffRecord remembers, per Job, how many pods failed since the last
// success and when the last of them finished.
type backoffRecord struct {
	failuresAfterLastSuccess int32
	lastFailureTime          *time.Time
}

// nextBackoffRecord folds newly finished pods into a record.
func nextBackoffRecord(old backoffRecord, succeeded, failed []*corev1.Pod) backoffRecord {
	rec := old
	if len(succeeded) == 0 && len(failed) == 0 {
		return rec
	}
	failed = slices.Clone(failed)
	sortByFinishTime(failed)
	if len(succeeded) == 0 {
		rec.failuresAfterLastSuccess += int32(len(failed))
		t := finishTime(failed[len(failed)-1])
		rec.lastFailureTime = &t
		return rec
	}
	var lastSuccess time.Time
	for _, p := range succeeded {
		if t := finishTime(p); t.After(lastSuccess) {
			lastSuccess = t
		}
	}
	rec = backoffRecord{}
	for i := len(failed) - 1; i >= 0; i-- {
		t := finishTime(failed[i])
		if !t.After(lastSuccess) {
			break
		}
		if rec.lastFailureTime == nil {
			rec.lastFailureTime = &t
		}
		rec.failuresAfterLastSuccess++
	}
	return rec
}

// backoffDelay is base doubled for every failure after the first, capped.
func backoffDelay(failures int32, base, maxDelay time.Duration) time.Duration {
	d := base
	for i := int32(1); i < failures; i++ {
		d *= 2
		if d >= maxDelay {
			return maxDelay
		}
	}
	return min(d, maxDelay)
}

// remaining is how long pod creation must still wait.
func (r backoffRecord) remaining(clk clock.PassiveClock, base, maxDelay time.Duration) time.Duration {
	if r.failuresAfterLastSuccess == 0 || r.lastFailureTime == nil {
		return 0
	}
	d := backoffDelay(r.failuresAfterLastSuccess, base, maxDelay)
	elapsed := clk.Since(*r.lastFailureTime)
	if elapsed < 0 {
		return d
	}
	if elapsed >= d {
		return 0
	}
	return d - elapsed
}

// --- backoff limits ---

// restartsOnFailure sums container restarts of running/pending pods.
func pastBackoffLimitOnFailure(job *batchv1.Job, pods []*corev1.Pod) bool {
	if job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		return false
	}
	var restarts int32
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning && p.Status.Phase != corev1.PodPending {
			continue
		}
		for _, cs := range p.Status.InitContainerStatuses {
			restarts += cs.RestartCount
		}
		for _, cs := range p.Status.ContainerStatuses {
			restarts += cs.RestartCount
		}
	}
	limit := ptr.Deref(job.Spec.BackoffLimit, 6)
	if limit == 0 {
		return restarts > 0
	}
	return restarts >= limit
}

// --- pod failure policy ---

// matchPodFailurePolicy returns the FailJob message (if a FailJob rule
// matched), whether the failure counts against backoffLimit, and the matched
// action (nil when no rule matched).
func matchPodFailurePolicy(policy *batchv1.PodFailurePolicy, p *corev1.Pod) (*string, bool, *batchv1.PodFailurePolicyAction) {
	if policy == nil {
		return nil, true, nil
	}
	for i, rule := range policy.Rules {
		action := rule.Action
		var msg string
		matched := false
		if rule.OnExitCodes != nil {
			if cs := matchOnExitCodes(&p.Status, rule.OnExitCodes); cs != nil {
				matched = true
				msg = fmt.Sprintf("Container %s for pod %s/%s failed with exit code %v matching %v rule at index %d",
					cs.Name, p.Namespace, p.Name, cs.State.Terminated.ExitCode, rule.Action, i)
			}
		} else if len(rule.OnPodConditions) > 0 {
			if c := matchOnPodConditions(&p.Status, rule.OnPodConditions); c != nil {
				matched = true
				msg = fmt.Sprintf("Pod %s/%s has condition %v matching %v rule at index %d",
					p.Namespace, p.Name, c.Type, rule.Action, i)
			}
		}
		if !matched {
			continue
		}
		switch action {
		case batchv1.PodFailurePolicyActionIgnore:
			return nil, false, &action
		case batchv1.PodFailurePolicyActionFailJob:
			return &msg, true, &action
		default: // Count, FailIndex
			return nil, true, &action
		}
	}
	return nil, true, nil
}

func matchOnExitCodes(st *corev1.PodStatus, req *batchv1.PodFailurePolicyOnExitCodesRequirement) *corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses} {
		for i := range list {
			cs := &list[i]
			if req.ContainerName != nil && *req.ContainerName != cs.Name {
				continue
			}
			if cs.State.Terminated == nil || cs.State.Terminated.ExitCode == 0 {
				continue
			}
			in := slices.Contains(req.Values, cs.State.Terminated.ExitCode)
			if (req.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn) == in {
				return cs
			}
		}
	}
	return nil
}

func matchOnPodConditions(st *corev1.PodStatus, patterns []batchv1.PodFailurePolicyOnPodConditionsPattern) *corev1.PodCondition {
	for i := range st.Conditions {
		c := &st.Conditions[i]
		for _, pat := range patterns {
			want := pat.Status
			if want == "" {
				want = corev1.ConditionTrue
			}
			if c.Type == pat.Type && c.Status == want {
				return c
			}
		}
	}
	return nil
}

// failJobMessage returns the message of the first failed pod matching a
// FailJob rule.
func failJobMessage(job *batchv1.Job, pods []*corev1.Pod) *string {
	if job.Spec.PodFailurePolicy == nil {
		return nil
	}
	for _, p := range pods {
		if !isPodFailed(p) {
			continue
		}
		if msg, _, _ := matchPodFailurePolicy(job.Spec.PodFailurePolicy, p); msg != nil {
			return msg
		}
	}
	return nil
}

// --- success policy ---

// matchSuccessPolicy returns the message of the first rule that is met.
func matchSuccessPolicy(policy *batchv1.SuccessPolicy, completions int, succeeded intervals) (string, bool) {
	if policy == nil || len(succeeded) == 0 {
		return "", false
	}
	for i, rule := range policy.Rules {
		if rule.SucceededIndexes != nil {
			want := parseIntervals(*rule.SucceededIndexes, completions)
			n := 0
			for _, iv := range want {
				for ix := iv.first; ix <= iv.last; ix++ {
					if succeeded.has(ix) {
						n++
					}
				}
			}
			if rule.SucceededCount == nil && n == want.total() || rule.SucceededCount != nil && n >= int(*rule.SucceededCount) {
				return fmt.Sprintf("Matched rules at index %d", i), true
			}
		} else if rule.SucceededCount != nil && succeeded.total() >= int(*rule.SucceededCount) {
			return fmt.Sprintf("Matched rules at index %d", i), true
		}
	}
	return "", false
}

// --- backoffLimitPerIndex ---

func annotationInt(p *corev1.Pod, key string) int32 {
	if p == nil {
		return 0
	}
	v, err := strconv.Atoi(p.Annotations[key])
	if err != nil || v < 0 {
		return 0
	}
	return int32(v)
}

// isIndexFailed: the pod's failure makes its index fail (FailIndex rule, or
// the per-index backoff limit is used up).
func isIndexFailed(job *batchv1.Job, p *corev1.Pod) bool {
	if !isPodFailed(p) {
		return false
	}
	counted := true
	if job.Spec.PodFailurePolicy != nil {
		_, c, action := matchPodFailurePolicy(job.Spec.PodFailurePolicy, p)
		if action != nil && *action == batchv1.PodFailurePolicyActionFailIndex {
			return true
		}
		counted = c
	}
	return counted && annotationInt(p, batchv1.JobIndexFailureCountAnnotation) >= *job.Spec.BackoffLimitPerIndex
}

// nextIndexFailureCounts: the failure and ignored-failure counts a
// replacement of failed pod p carries.
func nextIndexFailureCounts(job *batchv1.Job, p *corev1.Pod) (int32, int32) {
	failures := annotationInt(p, batchv1.JobIndexFailureCountAnnotation)
	ignored := annotationInt(p, batchv1.JobIndexIgnoredFailureCountAnnotation)
	if p == nil {
		return 0, 0
	}
	counted := true
	if job.Spec.PodFailurePolicy != nil {
		_, counted, _ = matchPodFailurePolicy(job.Spec.PodFailurePolicy, p)
	}
	if counted {
		failures++
	} else {
		ignored++
	}
	return failures, ignored
}
