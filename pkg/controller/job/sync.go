package job

import (
	"context"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/controller/internal/podcontrol"
)

const orphanPrefix = "orphan-pod:"

// syncCtx is what one sync of one Job knows and computes.
type syncCtx struct {
	job *batchv1.Job
	// statusEvents are the Normal events about a status change
	// (Suspended, Resumed): sent once the status is written, so that a
	// failed write and its retry do not send them twice.
	statusEvents [][2]string
	pods         []*corev1.Pod
	activePods   []*corev1.Pod

	succeeded, failed int32
	ready             int32
	terminating       int32

	newSucceeded, newFailed []*corev1.Pod
	uncountedSucceeded      sets.Set[types.UID]
	uncountedFailed         sets.Set[types.UID]
	expectedRm              sets.Set[string]

	finishedCondition *batchv1.JobCondition

	prevSucceededIndexes intervals
	succeededIndexes     intervals
	failedIndexes        intervals
	delayedPerIndex      map[int]*corev1.Pod

	newBackoff backoffRecord
}

func (c *Controller) sync(ctx context.Context, key string) error {
	if rest, ok := strings.CutPrefix(key, orphanPrefix); ok {
		return c.syncOrphanPod(ctx, rest)
	}
	return c.syncJob(ctx, key)
}

func managedByUs(job *batchv1.Job) bool {
	return job.Spec.ManagedBy == nil || *job.Spec.ManagedBy == batchv1.JobControllerName
}

func conditionTrue(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range job.Status.Conditions {
		if c := &job.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// IsJobFinished reports whether the Job has a Complete or Failed condition
// that is True.
func IsJobFinished(job *batchv1.Job) bool {
	return conditionTrue(job, batchv1.JobComplete) != nil || conditionTrue(job, batchv1.JobFailed) != nil
}

func suspended(job *batchv1.Job) bool { return ptr.Deref(job.Spec.Suspend, false) }

func (c *Controller) newCondition(t batchv1.JobConditionType, reason, msg string) *batchv1.JobCondition {
	now := metav1.NewTime(c.clock.Now())
	return &batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: msg,
		LastProbeTime: now, LastTransitionTime: now}
}

// syncJob reconciles one Job: read state from the listers, compute, write.
func (c *Controller) syncJob(ctx context.Context, key string) error {
	logger := klog.FromContext(ctx)
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	// Counting from a Job older than our last status write would lose or
	// double-count pods whose finalizers are already gone.
	nn := types.NamespacedName{Namespace: ns, Name: name}
	if err := c.consistency.EnsureReady(nn); err != nil {
		return err
	}
	shared, err := c.jobLister.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expectations.Delete(key)
		c.consistency.Clear(nn, "")
		c.setBackoff(key, backoffRecord{})
		return c.releaseFinalizers(ctx, c.podsNamingGoneJob(ns, name))
	}
	if err != nil {
		return err
	}
	if !managedByUs(shared) {
		logger.V(4).Info("Skipping Job managed by another controller", "job", klog.KObj(shared), "managedBy", *shared.Spec.ManagedBy)
		return nil
	}
	if IsJobFinished(shared) {
		c.setBackoff(key, backoffRecord{})
		c.consistency.Clear(nn, shared.UID)
		owned, err := podcontrol.ControlledPods(c.podIndex, shared.Namespace, shared.UID)
		if err != nil {
			return err
		}
		var leftovers []*corev1.Pod
		for _, p := range owned {
			if hasFinalizer(p) {
				leftovers = append(leftovers, p)
			}
		}
		return c.releaseFinalizers(ctx, leftovers)
	}

	job := shared.DeepCopy()
	if job.Status.UncountedTerminatedPods == nil {
		job.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
	satisfied := c.expectations.Satisfied(key)
	pods, err := c.getPodsForJob(ctx, job)
	if err != nil {
		return err
	}
	jc := &syncCtx{
		job:                job,
		pods:               pods,
		expectedRm:         c.expectations.ExpectedFinalizerRemovals(key),
		uncountedSucceeded: sets.New(job.Status.UncountedTerminatedPods.Succeeded...),
		uncountedFailed:    sets.New(job.Status.UncountedTerminatedPods.Failed...),
	}
	for _, p := range pods {
		switch {
		case isActive(p):
			jc.activePods = append(jc.activePods, p)
			if isReady(p) {
				jc.ready++
			}
		case isTerminating(p):
			jc.terminating++
		}
	}
	active := int32(len(jc.activePods))
	jc.newSucceeded, jc.newFailed = newFinishedPods(jc)
	jc.succeeded = job.Status.Succeeded + int32(len(jc.newSucceeded)) + int32(jc.uncountedSucceeded.Len())
	jc.failed = job.Status.Failed + countedFailures(job, jc.newFailed) + int32(jc.uncountedFailed.Len())

	statusChanged := false
	if job.Status.StartTime == nil && !suspended(job) {
		now := metav1.NewTime(c.clock.Now())
		job.Status.StartTime = &now
		statusChanged = true
	}
	jc.newBackoff = nextBackoffRecord(c.backoffFor(key), jc.newSucceeded, jc.newFailed)

	// Interim conditions already written by an earlier sync decide the end.
	if sc := conditionTrue(job, batchv1.JobSuccessCriteriaMet); sc != nil {
		jc.finishedCondition = c.newCondition(batchv1.JobSuccessCriteriaMet, sc.Reason, sc.Message)
	} else if ft := conditionTrue(job, batchv1.JobFailureTarget); ft != nil {
		jc.finishedCondition = c.newCondition(batchv1.JobFailed, ft.Reason, ft.Message)
	} else if msg := failJobMessage(job, pods); msg != nil {
		jc.finishedCondition = c.newCondition(batchv1.JobFailureTarget, ReasonPodFailurePolicy, *msg)
	}
	if jc.finishedCondition == nil {
		if jc.failed > ptr.Deref(job.Spec.BackoffLimit, 6) || pastBackoffLimitOnFailure(job, pods) {
			jc.finishedCondition = c.newCondition(batchv1.JobFailureTarget, ReasonBackoffLimitExceeded, MessageBackoffLimitExceeded)
		} else if c.pastActiveDeadline(job) {
			jc.finishedCondition = c.newCondition(batchv1.JobFailureTarget, ReasonDeadlineExceeded, MessageDeadlineExceeded)
		} else if job.Spec.ActiveDeadlineSeconds != nil && !suspended(job) && job.Status.StartTime != nil {
			left := time.Duration(*job.Spec.ActiveDeadlineSeconds)*time.Second - c.clock.Since(job.Status.StartTime.Time)
			logger.V(4).Info("Job has activeDeadlineSeconds, requeueing", "job", klog.KObj(job), "after", left)
			c.queue.AddAfter(key, left)
		}
	}
	if isIndexed(job) {
		completions := int(ptr.Deref(job.Spec.Completions, 0))
		jc.prevSucceededIndexes, jc.succeededIndexes = succeededIndexes(job, pods, completions)
		jc.succeeded = int32(jc.succeededIndexes.total())
		if hasBackoffLimitPerIndex(job) {
			jc.failedIndexes = failedIndexes(job, pods, completions)
			if jc.finishedCondition == nil {
				if job.Spec.MaxFailedIndexes != nil && jc.failedIndexes.total() > int(*job.Spec.MaxFailedIndexes) {
					jc.finishedCondition = c.newCondition(batchv1.JobFailureTarget, ReasonMaxFailedIndexesExceeded, MessageMaxFailedIndexesExceeded)
				} else if jc.failedIndexes.total() > 0 && jc.failedIndexes.total()+jc.succeededIndexes.total() >= completions {
					jc.finishedCondition = c.newCondition(batchv1.JobFailureTarget, ReasonFailedIndexes, MessageFailedIndexes)
				}
			}
			jc.delayedPerIndex = podsWithDelayedDeletionPerIndex(jc, completions)
		}
		if jc.finishedCondition == nil {
			if msg, met := matchSuccessPolicy(job.Spec.SuccessPolicy, completions, jc.succeededIndexes); met {
				jc.finishedCondition = c.newCondition(batchv1.JobSuccessCriteriaMet, ReasonSuccessPolicy, msg)
			}
		}
	}

	var manageErr error
	if jc.finishedCondition != nil {
		deletedReady, deleted, err := c.deletePods(ctx, job, jc.activePods, false)
		if deleted != active || !satisfied {
			// Pods are left, or the cache may miss some: decide later.
			jc.finishedCondition = nil
		}
		active -= deleted
		jc.ready -= deletedReady
		jc.terminating += deleted
		manageErr = err
	} else {
		manageCalled := false
		if satisfied && job.DeletionTimestamp == nil {
			active, manageErr = c.manageJob(ctx, jc)
			manageCalled = true
		}
		complete := false
		if job.Spec.Completions == nil {
			complete = jc.succeeded > 0 && active == 0
		} else {
			complete = jc.succeeded >= *job.Spec.Completions && active == 0
		}
		if complete {
			jc.finishedCondition = c.newCondition(batchv1.JobSuccessCriteriaMet, ReasonCompletionsReached, MessageCompletionsReached)
		} else if manageCalled {
			if suspended(job) {
				// A suspended Job has not started; resuming starts the
				// activeDeadlineSeconds clock afresh.
				if job.Status.StartTime != nil {
					job.Status.StartTime = nil
					statusChanged = true
				}
				if setSuspended(job, corev1.ConditionTrue, ReasonJobSuspended, "Job suspended", c.clock.Now()) {
					statusChanged = true
					jc.statusEvents = append(jc.statusEvents, [2]string{EventSuspended, "Job suspended"})
				}
			} else if setSuspended(job, corev1.ConditionFalse, ReasonJobResumed, "Job resumed", c.clock.Now()) {
				statusChanged = true
				jc.statusEvents = append(jc.statusEvents, [2]string{EventResumed, "Job resumed"})
				// activeDeadlineSeconds counts continuous activity.
				now := metav1.NewTime(c.clock.Now())
				job.Status.StartTime = &now
			}
		}
	}

	statusChanged = statusChanged || active != job.Status.Active || !ptr.Equal(&jc.ready, job.Status.Ready) ||
		!ptr.Equal(&jc.terminating, job.Status.Terminating)
	job.Status.Active = active
	job.Status.Ready = ptr.To(jc.ready)
	job.Status.Terminating = ptr.To(jc.terminating)
	if err := c.trackStatus(ctx, jc, statusChanged); err != nil {
		return errorf("tracking status: %w", err)
	}
	for _, ev := range jc.statusEvents {
		c.recorder.Event(job, corev1.EventTypeNormal, ev[0], ev[1])
	}
	return manageErr
}

func (c *Controller) pastActiveDeadline(job *batchv1.Job) bool {
	if job.Spec.ActiveDeadlineSeconds == nil || job.Status.StartTime == nil || suspended(job) {
		return false
	}
	return c.clock.Since(job.Status.StartTime.Time) >= time.Duration(*job.Spec.ActiveDeadlineSeconds)*time.Second
}

// setSuspended sets the Suspended condition; it reports whether it changed.
// An absent condition is only added when suspending.
func setSuspended(job *batchv1.Job, status corev1.ConditionStatus, reason, msg string, now time.Time) bool {
	for i := range job.Status.Conditions {
		cond := &job.Status.Conditions[i]
		if cond.Type != batchv1.JobSuspended {
			continue
		}
		if cond.Status == status && cond.Reason == reason && cond.Message == msg {
			return false
		}
		if cond.Status != status {
			cond.LastTransitionTime = metav1.NewTime(now)
		}
		cond.Status, cond.Reason, cond.Message = status, reason, msg
		cond.LastProbeTime = metav1.NewTime(now)
		return true
	}
	if status == corev1.ConditionFalse {
		return false
	}
	t := metav1.NewTime(now)
	job.Status.Conditions = append(job.Status.Conditions, batchv1.JobCondition{Type: batchv1.JobSuspended,
		Status: status, Reason: reason, Message: msg, LastProbeTime: t, LastTransitionTime: t})
	return true
}

// newFinishedPods: terminated pods still holding the tracking finalizer and
// not yet recorded in uncountedTerminatedPods.
func newFinishedPods(jc *syncCtx) (succeeded, failed []*corev1.Pod) {
	completions := int(ptr.Deref(jc.job.Spec.Completions, 0))
	for _, p := range jc.pods {
		if !hasFinalizer(p) || jc.expectedRm.Has(string(p.UID)) {
			continue
		}
		if isIndexed(jc.job) {
			if _, ok := validIndex(p, completions); !ok {
				continue
			}
		}
		switch {
		case p.Status.Phase == corev1.PodSucceeded && !jc.uncountedSucceeded.Has(p.UID):
			succeeded = append(succeeded, p)
		case isPodFailed(p) && !jc.uncountedFailed.Has(p.UID):
			failed = append(failed, p)
		}
	}
	return succeeded, failed
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

// succeededIndexes returns the indexes in status.completedIndexes and those
// plus the indexes of succeeded pods not yet recorded.
func succeededIndexes(job *batchv1.Job, pods []*corev1.Pod, completions int) (intervals, intervals) {
	prev := parseIntervals(job.Status.CompletedIndexes, completions)
	var add []int
	for _, p := range pods {
		if p.Status.Phase != corev1.PodSucceeded || !hasFinalizer(p) {
			continue
		}
		if ix, ok := validIndex(p, completions); ok {
			add = append(add, ix)
		}
	}
	return prev, prev.withIndexes(add)
}

// failedIndexes returns status.failedIndexes plus indexes newly failed.
func failedIndexes(job *batchv1.Job, pods []*corev1.Pod, completions int) intervals {
	prev := intervals{}
	if job.Status.FailedIndexes != nil {
		prev = parseIntervals(*job.Status.FailedIndexes, completions)
	}
	var add []int
	for _, p := range pods {
		if !hasFinalizer(p) || !isIndexFailed(job, p) {
			continue
		}
		if ix, ok := validIndex(p, completions); ok {
			add = append(add, ix)
		}
	}
	return prev.withIndexes(add)
}

// podsWithDelayedDeletionPerIndex: for each index still to run and without
// an active pod, its latest failed pod; that pod keeps its finalizer until
// its replacement (which inherits its failure count) exists.
func podsWithDelayedDeletionPerIndex(jc *syncCtx, completions int) map[int]*corev1.Pod {
	out := map[int]*corev1.Pod{}
	withActive := map[int]bool{}
	for _, p := range jc.activePods {
		if ix, ok := validIndex(p, completions); ok {
			withActive[ix] = true
		}
	}
	for _, p := range jc.pods {
		if !isPodFailed(p) || !hasFinalizer(p) || jc.expectedRm.Has(string(p.UID)) {
			continue
		}
		ix, ok := validIndex(p, completions)
		if !ok || withActive[ix] || jc.succeededIndexes.has(ix) || jc.failedIndexes.has(ix) {
			continue
		}
		if last, ok := out[ix]; !ok || finishTime(last).Before(finishTime(p)) {
			out[ix] = p
		}
	}
	return out
}
