// Pod re-creation back-off: per Job (backoffLimit) and per index
// (backoffLimitPerIndex), from the finish times of failed pods.

package job

import (
	"slices"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
)

// backoffRemaining is how long pod creation after the failures in r must
// still wait, with the controller's clock and Kubernetes' delays.
func (c *Controller) backoffRemaining(r backoffRecord) time.Duration {
	return r.remaining(c.clock, DefaultPodFailureBackoff, MaxPodFailureBackoff)
}

// backoffFor returns the Job's re-creation back-off record.
func (c *Controller) backoffFor(key string) backoffRecord {
	c.backoffMu.Lock()
	defer c.backoffMu.Unlock()
	return c.backoffs[key]
}

// setBackoff stores the Job's record; an empty record forgets the Job.
func (c *Controller) setBackoff(key string, r backoffRecord) {
	c.backoffMu.Lock()
	defer c.backoffMu.Unlock()
	if r.failuresAfterLastSuccess == 0 {
		delete(c.backoffs, key)
		return
	}
	c.backoffs[key] = r
}

// countedFailures counts failures not ignored by the pod failure policy.
func countedFailures(job *batchv1.Job, failed []*corev1.Pod) int32 {
	var n int32
	for _, p := range failed {
		if _, counted, _ := matchPodFailurePolicy(job.Spec.PodFailurePolicy, p); counted {
			n++
		}
	}
	return n
}

// indexBackoff is the per-index delay before re-creating after pod p.
func (c *Controller) indexBackoff(job *batchv1.Job, p *corev1.Pod) time.Duration {
	if p == nil {
		return 0
	}
	failures, _ := nextIndexFailureCounts(job, p)
	t := finishTime(p)
	rec := backoffRecord{failuresAfterLastSuccess: failures, lastFailureTime: &t}
	return c.backoffRemaining(rec)
}

// indexesReadyAfterBackoff splits indexes into those whose backoff is over
// and the rest, the rest sorted by remaining time.
func (c *Controller) indexesReadyAfterBackoff(job *batchv1.Job, indexes []int, delayed map[int]*corev1.Pod) ([]int, []int) {
	var ready, wait []int
	for _, ix := range indexes {
		if c.indexBackoff(job, delayed[ix]) > 0 {
			wait = append(wait, ix)
		} else {
			ready = append(ready, ix)
		}
	}
	sort.SliceStable(wait, func(i, j int) bool {
		return c.indexBackoff(job, delayed[wait[i]]) < c.indexBackoff(job, delayed[wait[j]])
	})
	return ready, wait
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
