// Tracking finished pods with the batch.kubernetes.io/job-tracking
// finalizer and status.uncountedTerminatedPods, and the status write.

package job

import (
	"context"
	"encoding/json"
	"slices"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// recordWrite remembers the resourceVersion a status write returned.
func (c *Controller) recordWrite(job *batchv1.Job) {
	c.consistency.WroteAt(types.NamespacedName{Namespace: job.Namespace, Name: job.Name}, job.UID, batchv1.Resource("jobs"), job.ResourceVersion)
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

// trackStatus records newly finished pods in uncountedTerminatedPods,
// removes their finalizers, moves them into the counters, and sets the
// terminal condition once nothing is left to count or terminate.
func (c *Controller) trackStatus(ctx context.Context, jc *syncCtx, needsFlush bool) error {
	logger := klog.FromContext(ctx)
	job := jc.job
	key := jobKey(job)
	indexed := isIndexed(job)
	completions := int(ptr.Deref(job.Spec.Completions, 0))
	withFinalizer := sets.New[types.UID]()
	for _, p := range jc.pods {
		if hasFinalizer(p) && !jc.expectedRm.Has(string(p.UID)) {
			withFinalizer.Insert(p.UID)
		}
	}
	if moveUncounted(&job.Status, withFinalizer) {
		needsFlush = true
	}
	uncounted := job.Status.UncountedTerminatedPods
	var toRelease []*corev1.Pod
	var newIndexes []int
	reachedMax := false
	for _, p := range jc.pods {
		if !hasFinalizer(p) || jc.expectedRm.Has(string(p.UID)) {
			continue
		}
		failed := isPodFailed(p)
		if !c.canRemoveFinalizer(jc, p, failed) {
			continue
		}
		toRelease = append(toRelease, p)
		if p.Status.Phase == corev1.PodSucceeded && !jc.uncountedFailed.Has(p.UID) {
			if indexed {
				if ix, ok := validIndex(p, completions); ok && !jc.prevSucceededIndexes.has(ix) && !jc.failedIndexes.has(ix) {
					newIndexes = append(newIndexes, ix)
				}
			} else if !jc.uncountedSucceeded.Has(p.UID) {
				uncounted.Succeeded = append(uncounted.Succeeded, p.UID)
				jc.uncountedSucceeded.Insert(p.UID)
				needsFlush = true
			}
		} else if failed || (jc.finishedCondition != nil && jc.finishedCondition.Type != batchv1.JobSuccessCriteriaMet && p.Status.Phase != corev1.PodSucceeded && !isLostTerminating(p)) {
			// When the Job fails, its unfinished pods count as failed.
			if jc.uncountedFailed.Has(p.UID) {
				continue
			}
			if indexed {
				if _, ok := validIndex(p, completions); !ok {
					continue
				}
			}
			if _, counted, _ := matchPodFailurePolicy(job.Spec.PodFailurePolicy, p); counted || !failed {
				uncounted.Failed = append(uncounted.Failed, p.UID)
				jc.uncountedFailed.Insert(p.UID)
				needsFlush = true
			}
		}
		if len(newIndexes)+len(uncounted.Succeeded)+len(uncounted.Failed) >= MaxUncountedPods {
			reachedMax = true
			break
		}
	}
	if indexed {
		jc.succeededIndexes = jc.prevSucceededIndexes.withIndexes(newIndexes)
		s := jc.succeededIndexes.String()
		if s != job.Status.CompletedIndexes {
			needsFlush = true
		}
		job.Status.CompletedIndexes = s
		job.Status.Succeeded = int32(jc.succeededIndexes.total())
		var failedStr *string
		if hasBackoffLimitPerIndex(job) {
			failedStr = ptr.To(jc.failedIndexes.String())
		}
		if !ptr.Equal(job.Status.FailedIndexes, failedStr) {
			job.Status.FailedIndexes = failedStr
			needsFlush = true
		}
	}
	if fc := jc.finishedCondition; fc != nil {
		switch fc.Type {
		case batchv1.JobFailureTarget:
			job.Status.Conditions = append(job.Status.Conditions, *fc)
			needsFlush = true
			jc.finishedCondition = c.newCondition(batchv1.JobFailed, fc.Reason, fc.Message)
		case batchv1.JobSuccessCriteriaMet:
			if conditionTrue(job, batchv1.JobSuccessCriteriaMet) == nil {
				job.Status.Conditions = append(job.Status.Conditions, *fc)
				needsFlush = true
			}
			jc.finishedCondition = c.newCondition(batchv1.JobComplete, fc.Reason, fc.Message)
		}
	}

	// 1. Record the uncounted pods (and everything else) in the status.
	if needsFlush {
		updated, err := c.updateStatus(ctx, job)
		if err != nil {
			return errorf("adding uncounted pods to status: %w", err)
		}
		jc.job, job = updated, updated
		c.setBackoff(key, jc.newBackoff)
		needsFlush = false
	}
	// 2. Remove the finalizers of the recorded pods.
	var rmErr error
	if len(toRelease) > 0 {
		ok, err := c.removeFinalizers(ctx, key, toRelease)
		rmErr = err
		for i, p := range toRelease {
			if ok[i] {
				withFinalizer.Delete(p.UID)
			}
		}
	}
	// 3. Move the pods whose finalizer is gone into the counters.
	if moveUncounted(&job.Status, withFinalizer) {
		needsFlush = true
	}
	if rmErr != nil {
		if needsFlush {
			if _, err := c.updateStatus(ctx, job); err != nil {
				return errorf("removing uncounted pods from status: %w", err)
			}
		}
		return rmErr
	}
	finished := !reachedMax && c.enactFinished(logger, jc)
	if finished {
		needsFlush = true
	}
	if needsFlush {
		updated, err := c.updateStatus(ctx, jc.job)
		if err != nil {
			return errorf("removing uncounted pods from status: %w", err)
		}
		if finished {
			c.recordFinished(updated, jc.finishedCondition)
		}
	}
	return nil
}

func (c *Controller) canRemoveFinalizer(jc *syncCtx, p *corev1.Pod, failed bool) bool {
	if jc.job.DeletionTimestamp != nil || jc.finishedCondition != nil || p.Status.Phase == corev1.PodSucceeded {
		return true
	}
	if isLostTerminating(p) {
		return true
	}
	if !failed {
		return false
	}
	if hasBackoffLimitPerIndex(jc.job) {
		if ix := completionIndex(p); ix != unknownIndex {
			if d, ok := jc.delayedPerIndex[ix]; ok && d.UID == p.UID {
				return false
			}
		}
	}
	return true
}

// moveUncounted moves uids whose pods no longer hold the finalizer from
// uncountedTerminatedPods into succeeded/failed.
func moveUncounted(st *batchv1.JobStatus, withFinalizer sets.Set[types.UID]) bool {
	u := st.UncountedTerminatedPods
	changed := false
	keep := func(list []types.UID, counter *int32) []types.UID {
		var out []types.UID
		for _, uid := range list {
			if withFinalizer.Has(uid) {
				out = append(out, uid)
				continue
			}
			*counter++
			changed = true
		}
		return out
	}
	u.Succeeded = keep(u.Succeeded, &st.Succeeded)
	u.Failed = keep(u.Failed, &st.Failed)
	return changed
}

func (c *Controller) enactFinished(logger klog.Logger, jc *syncCtx) bool {
	fc := jc.finishedCondition
	if fc == nil {
		return false
	}
	job := jc.job
	if u := job.Status.UncountedTerminatedPods; u != nil && len(u.Succeeded)+len(u.Failed) > 0 {
		logger.V(4).Info("Delaying the terminal condition: pods still uncounted", "job", klog.KObj(job))
		return false
	}
	if ptr.Deref(job.Status.Terminating, 0) > 0 {
		logger.V(4).Info("Delaying the terminal condition: pods still terminating", "job", klog.KObj(job))
		return false
	}
	job.Status.Conditions = append(job.Status.Conditions, *fc)
	if fc.Type == batchv1.JobComplete {
		job.Status.CompletionTime = ptr.To(fc.LastTransitionTime)
	}
	return true
}

func (c *Controller) recordFinished(job *batchv1.Job, fc *batchv1.JobCondition) {
	switch fc.Type {
	case batchv1.JobComplete:
		if job.Spec.Completions != nil && job.Status.Succeeded > *job.Spec.Completions {
			c.recorder.Event(job, corev1.EventTypeWarning, EventTooManySucceeded, "Too many succeeded pods running after completion count reached")
		}
		c.recorder.Event(job, corev1.EventTypeNormal, EventCompleted, "Job completed")
	case batchv1.JobFailed:
		c.recorder.Event(job, corev1.EventTypeWarning, fc.Reason, fc.Message)
	}
}

func (c *Controller) updateStatus(ctx context.Context, job *batchv1.Job) (*batchv1.Job, error) {
	updated, err := c.client.BatchV1().Jobs(job.Namespace).UpdateStatus(ctx, job, metav1.UpdateOptions{})
	if err != nil {
		return nil, err
	}
	c.recordWrite(updated)
	return updated, nil
}

var removeFinalizerPatch = mustJSON(map[string]interface{}{
	"metadata": map[string]interface{}{
		"$deleteFromPrimitiveList/finalizers": []string{batchv1.JobTrackingFinalizer},
	},
})

func mustJSON(v interface{}) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// removeFinalizers patches the tracking finalizer off the pods in parallel.
func (c *Controller) removeFinalizers(ctx context.Context, key string, pods []*corev1.Pod) ([]bool, error) {
	ok := make([]bool, len(pods))
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, p := range pods {
		if key != "" {
			c.expectations.ExpectFinalizerRemoval(key, string(p.UID))
		}
		wg.Add(1)
		go func(i int, p *corev1.Pod) {
			defer wg.Done()
			_, err := c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, removeFinalizerPatch, metav1.PatchOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				if key != "" {
					c.expectations.FinalizerRemovalObserved(key, string(p.UID))
				}
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			ok[i] = true
		}(i, p)
	}
	wg.Wait()
	return ok, utilerrors.NewAggregate(errs)
}

// releaseFinalizers removes the tracking finalizer from pods nobody counts.
func (c *Controller) releaseFinalizers(ctx context.Context, pods []*corev1.Pod) error {
	if len(pods) == 0 {
		return nil
	}
	_, err := c.removeFinalizers(ctx, "", pods)
	return err
}

func hasFinalizer(p *corev1.Pod) bool {
	return slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer)
}
