package job

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/controller/internal/podcontrol"
)

// manageJob creates or deletes pods so that the active count matches what
// the Job wants; it returns the new active count.
func (c *Controller) manageJob(ctx context.Context, jc *syncCtx) (int32, error) {
	logger := klog.FromContext(ctx)
	job := jc.job
	active := int32(len(jc.activePods))
	if suspended(job) {
		rmReady, rm, err := c.deletePods(ctx, job, activePodsForRemoval(job, jc.activePods, len(jc.activePods)), true)
		jc.ready -= rmReady
		jc.terminating += rm
		return active - rm, err
	}
	parallelism := ptr.Deref(job.Spec.Parallelism, 1)
	var want int32
	if job.Spec.Completions == nil {
		// Work queue: once any pod succeeded, start nothing new.
		if jc.succeeded > 0 {
			want = active
		} else {
			want = parallelism
		}
	} else {
		want = max(min(*job.Spec.Completions-jc.succeeded, parallelism), 0)
	}
	rmAtLeast := max(active-want, 0)
	toDelete := activePodsForRemoval(job, jc.activePods, int(rmAtLeast))
	if len(toDelete) > MaxPodCreateDeletePerSync {
		toDelete = toDelete[:MaxPodCreateDeletePerSync]
	}
	if len(toDelete) > 0 {
		logger.V(4).Info("Too many pods running for job", "job", klog.KObj(job), "deleting", len(toDelete), "target", want)
		rmReady, rm, err := c.deletePods(ctx, job, toDelete, true)
		jc.ready -= rmReady
		jc.terminating += rm
		return active - rm, err
	}

	var busyTerminating int32
	if onlyReplaceFailedPods(job) {
		busyTerminating = jc.terminating
	}
	diff := want - busyTerminating - active
	if diff <= 0 {
		return active, nil
	}
	if !hasBackoffLimitPerIndex(job) {
		if left := jc.newBackoff.remaining(c.clock, DefaultPodFailureBackoff, MaxPodFailureBackoff); left > 0 {
			logger.V(4).Info("Delaying pod creation after failures", "job", klog.KObj(job), "after", left)
			c.queue.AddAfter(jobKey(job), left)
			return active, nil
		}
	}
	diff = min(diff, MaxPodCreateDeletePerSync)
	var indexes []int
	if isIndexed(job) {
		completions := int(*job.Spec.Completions)
		indexes = firstPendingIndexes(jc, int(diff), completions)
		if hasBackoffLimitPerIndex(job) {
			var wait []int
			indexes, wait = c.indexesReadyAfterBackoff(job, indexes, jc.delayedPerIndex)
			if len(wait) > 0 {
				c.queue.AddAfter(jobKey(job), c.indexBackoff(job, jc.delayedPerIndex[wait[0]]))
			}
		}
		diff = int32(len(indexes))
		if diff == 0 {
			return active, nil
		}
	}
	key := jobKey(job)
	c.expectations.ExpectCreations(key, int(diff))
	logger.V(4).Info("Too few pods running", "job", klog.KObj(job), "want", want, "creating", diff)

	tmpl := job.Spec.Template.DeepCopy()
	if isIndexed(job) {
		addCompletionIndexEnv(tmpl)
	}
	if !containsString(tmpl.Finalizers, batchv1.JobTrackingFinalizer) {
		tmpl.Finalizers = append(tmpl.Finalizers, batchv1.JobTrackingFinalizer)
	}
	var errs []error
	var errMu sync.Mutex
	created := int32(0)
	for batch := min(diff, SlowStartInitialBatchSize); diff > 0; batch = min(2*batch, diff) {
		var wg sync.WaitGroup
		failedBefore := len(errs)
		for i := int32(0); i < batch; i++ {
			ix := unknownIndex
			if len(indexes) > 0 {
				ix, indexes = indexes[0], indexes[1:]
			}
			wg.Add(1)
			go func(ix int) {
				defer wg.Done()
				if err := c.createPod(ctx, job, tmpl, ix, jc.delayedPerIndex[ix]); err != nil {
					c.expectations.CreationObserved(key)
					errMu.Lock()
					errs = append(errs, err)
					errMu.Unlock()
					return
				}
				atomic.AddInt32(&created, 1)
			}(ix)
		}
		wg.Wait()
		diff -= batch
		if len(errs) > failedBefore {
			// Slow start: give up the rest after a failed batch.
			for i := int32(0); i < diff; i++ {
				c.expectations.CreationObserved(key)
			}
			break
		}
	}
	return active + created, utilerrors.NewAggregate(errs)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// indexBackoff is the per-index delay before re-creating after pod p.
func (c *Controller) indexBackoff(job *batchv1.Job, p *corev1.Pod) time.Duration {
	if p == nil {
		return 0
	}
	failures, _ := nextIndexFailureCounts(job, p)
	t := finishTime(p)
	rec := backoffRecord{failuresAfterLastSuccess: failures, lastFailureTime: &t}
	return rec.remaining(c.clock, DefaultPodFailureBackoff, MaxPodFailureBackoff)
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

// addCompletionIndexEnv gives every container JOB_COMPLETION_INDEX from the
// completion index annotation (downward API).
func addCompletionIndexEnv(tmpl *corev1.PodTemplateSpec) {
	add := func(cs []corev1.Container) {
		for i := range cs {
			found := false
			for _, e := range cs[i].Env {
				if e.Name == CompletionIndexEnvName {
					found = true
					break
				}
			}
			if found {
				continue
			}
			cs[i].Env = append(cs[i].Env, corev1.EnvVar{Name: CompletionIndexEnvName, ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{FieldPath: fmt.Sprintf("metadata.annotations['%s']", batchv1.JobCompletionIndexAnnotation)},
			}})
		}
	}
	add(tmpl.Spec.InitContainers)
	add(tmpl.Spec.Containers)
}

// CompletionIndexEnvName is the env var carrying an Indexed pod's index.
const CompletionIndexEnvName = "JOB_COMPLETION_INDEX"

const maxGeneratedNameLength = 63 - 5

// generateNamePrefix is "<job>-" or "<job>-<index>-", trimmed so that the
// server's 5 random characters fit in 63.
func generateNamePrefix(jobName string, ix int) string {
	suffix := "-"
	if ix != unknownIndex {
		suffix = "-" + strconv.Itoa(ix) + "-"
	}
	if len(jobName)+len(suffix) > maxGeneratedNameLength {
		jobName = jobName[:maxGeneratedNameLength-len(suffix)]
	}
	return jobName + suffix
}

// newPod builds a pod of the Job from the template.
func newPod(job *batchv1.Job, tmpl *corev1.PodTemplateSpec, ix int, prev *corev1.Pod) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    generateNamePrefix(job.Name, ix),
			Namespace:       job.Namespace,
			Labels:          copyMap(tmpl.Labels),
			Annotations:     copyMap(tmpl.Annotations),
			Finalizers:      append([]string(nil), tmpl.Finalizers...),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(job, jobKind)},
		},
		Spec: *tmpl.Spec.DeepCopy(),
	}
	if ix != unknownIndex {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		if pod.Labels == nil {
			pod.Labels = map[string]string{}
		}
		pod.Annotations[batchv1.JobCompletionIndexAnnotation] = strconv.Itoa(ix)
		pod.Labels[batchv1.JobCompletionIndexAnnotation] = strconv.Itoa(ix)
		pod.Spec.Hostname = fmt.Sprintf("%s-%d", job.Name, ix)
		if hasBackoffLimitPerIndex(job) {
			failures, ignored := int32(0), int32(0)
			if prev != nil {
				failures, ignored = nextIndexFailureCounts(job, prev)
			}
			pod.Annotations[batchv1.JobIndexFailureCountAnnotation] = strconv.Itoa(int(failures))
			if ignored > 0 {
				pod.Annotations[batchv1.JobIndexIgnoredFailureCountAnnotation] = strconv.Itoa(int(ignored))
			}
		}
	}
	return pod
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (c *Controller) createPod(ctx context.Context, job *batchv1.Job, tmpl *corev1.PodTemplateSpec, ix int, prev *corev1.Pod) error {
	pod := newPod(job, tmpl, ix, prev)
	created, err := c.client.CoreV1().Pods(job.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
		c.recorder.Eventf(job, corev1.EventTypeWarning, EventFailedCreate, "Error creating: %v", err)
		return err
	}
	klog.FromContext(ctx).V(4).Info("Created pod", "job", klog.KObj(job), "pod", klog.KObj(created))
	c.recorder.Eventf(job, corev1.EventTypeNormal, EventSuccessfulCreate, "Created pod: %v", created.Name)
	return nil
}

// deletePods deletes pods in parallel; it returns how many ready pods and
// how many pods in all were deleted. With untrack (deletions by manageJob)
// it records deletion expectations and first removes the tracking
// finalizer, so that these pods never count as succeeded or failed; without
// (the Job is finishing) pods keep the finalizer until trackStatus counts
// them.
func (c *Controller) deletePods(ctx context.Context, job *batchv1.Job, pods []*corev1.Pod, untrack bool) (int32, int32, error) {
	key := jobKey(job)
	var deleted, deletedReady int32
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range pods {
		if untrack {
			c.expectations.ExpectDeletions(key, []string{string(p.UID)})
		}
		wg.Add(1)
		go func(p *corev1.Pod) {
			defer wg.Done()
			var err error
			if untrack && hasFinalizer(p) {
				// Pods removed by scale-down or suspension are not
				// counted: drop the tracking finalizer first.
				_, err = c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, removeFinalizerPatch, metav1.PatchOptions{})
				if err != nil {
					err = fmt.Errorf("removing tracking finalizer: %w", err)
				}
			}
			if err == nil {
				err = c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}})
			}
			if err != nil && !apierrors.IsNotFound(err) {
				c.expectations.DeletionObserved(key, string(p.UID))
				c.recorder.Eventf(job, corev1.EventTypeWarning, EventFailedDelete, "Error deleting: %v", err)
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			if err == nil {
				c.recorder.Eventf(job, corev1.EventTypeNormal, EventSuccessfulDelete, "Deleted pod: %v", p.Name)
			}
			atomic.AddInt32(&deleted, 1)
			if isReady(p) {
				atomic.AddInt32(&deletedReady, 1)
			}
		}(p)
	}
	wg.Wait()
	return deletedReady, deleted, utilerrors.NewAggregate(errs)
}

// activePodsForRemoval picks pods to delete: for Indexed Jobs first pods
// with an invalid or duplicate index, then the least advanced pods.
func activePodsForRemoval(job *batchv1.Job, pods []*corev1.Pod, rmAtLeast int) []*corev1.Pod {
	var rm, left []*corev1.Pod
	if isIndexed(job) {
		completions := int(ptr.Deref(job.Spec.Completions, 0))
		byIndex := map[int][]*corev1.Pod{}
		for _, p := range pods {
			if ix, ok := validIndex(p, completions); ok {
				byIndex[ix] = append(byIndex[ix], p)
			} else {
				rm = append(rm, p)
			}
		}
		ixs := make([]int, 0, len(byIndex))
		for ix := range byIndex {
			ixs = append(ixs, ix)
		}
		sort.Ints(ixs)
		for _, ix := range ixs {
			group := byIndex[ix]
			sortPodsForDeletion(group)
			rm = append(rm, group[:len(group)-1]...)
			left = append(left, group[len(group)-1])
		}
	} else {
		left = append(left, pods...)
	}
	if len(rm) < rmAtLeast {
		sortPodsForDeletion(left)
		rm = append(rm, left[:min(rmAtLeast-len(rm), len(left))]...)
	}
	return rm
}

// sortPodsForDeletion orders pods from the cheapest to delete: unscheduled
// before scheduled, pending before running, not ready before ready, more
// restarts first, newer first.
func sortPodsForDeletion(pods []*corev1.Pod) {
	phaseRank := map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}
	restarts := func(p *corev1.Pod) int32 {
		var n int32
		for _, cs := range p.Status.ContainerStatuses {
			n += cs.RestartCount
		}
		return n
	}
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
			return a.Spec.NodeName == ""
		}
		if phaseRank[a.Status.Phase] != phaseRank[b.Status.Phase] {
			return phaseRank[a.Status.Phase] < phaseRank[b.Status.Phase]
		}
		if isReady(a) != isReady(b) {
			return !isReady(a)
		}
		if restarts(a) != restarts(b) {
			return restarts(a) > restarts(b)
		}
		return b.CreationTimestamp.Before(&a.CreationTimestamp)
	})
}

// --- status tracking with finalizers ---

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

// --- pod ownership ---

// podsNamingGoneJob: pods with the tracking finalizer whose controller is
// a Job of that name that no longer exists.
func (c *Controller) podsNamingGoneJob(ns, name string) []*corev1.Pod {
	pods, err := c.podLister.Pods(ns).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*corev1.Pod
	for _, p := range pods {
		if ref := jobControllerRef(p); ref != nil && ref.Name == name && hasFinalizer(p) {
			out = append(out, p)
		}
	}
	return out
}

// getPodsForJob returns the Job's pods, adopting matching orphans and
// releasing owned pods that no longer match its selector.
func (c *Controller) getPodsForJob(ctx context.Context, job *batchv1.Job) ([]*corev1.Pod, error) {
	selector, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil {
		return nil, errorf("couldn't convert Job selector: %w", err)
	}
	owned, err := podcontrol.ControlledPods(c.podIndex, job.Namespace, job.UID)
	if err != nil {
		return nil, err
	}
	var out, toRelease []*corev1.Pod
	for _, p := range owned {
		if selector.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		} else if job.DeletionTimestamp == nil {
			toRelease = append(toRelease, p)
		}
	}
	var errs []error
	for _, p := range toRelease {
		if err := c.releasePod(ctx, job, p); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	if job.DeletionTimestamp != nil || selector.Empty() {
		return out, utilerrors.NewAggregate(errs)
	}
	var canAdopt *bool
	orphans, err := podcontrol.OrphanPods(c.podIndex, job.Namespace)
	if err != nil {
		return nil, err
	}
	for _, p := range orphans {
		if metav1.GetControllerOf(p) != nil || p.DeletionTimestamp != nil || !selector.Matches(labels.Set(p.Labels)) {
			continue
		}
		if canAdopt == nil {
			// Re-check the live Job before adopting anything.
			fresh, err := c.client.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
			ok := err == nil && fresh.UID == job.UID && fresh.DeletionTimestamp == nil
			canAdopt = &ok
		}
		if !*canAdopt {
			break
		}
		if err := c.adoptPod(ctx, job, p); err != nil {
			if !apierrors.IsNotFound(err) {
				errs = append(errs, err)
			}
			continue
		}
		adopted := p.DeepCopy()
		adopted.OwnerReferences = append(adopted.OwnerReferences, *metav1.NewControllerRef(job, jobKind))
		if !hasFinalizer(adopted) {
			adopted.Finalizers = append(adopted.Finalizers, batchv1.JobTrackingFinalizer)
		}
		out = append(out, adopted)
	}
	return out, utilerrors.NewAggregate(errs)
}

func (c *Controller) adoptPod(ctx context.Context, job *batchv1.Job, p *corev1.Pod) error {
	patch := mustJSON(map[string]interface{}{
		"metadata": map[string]interface{}{
			"ownerReferences": []metav1.OwnerReference{*metav1.NewControllerRef(job, jobKind)},
			"uid":             p.UID,
			"finalizers":      []string{batchv1.JobTrackingFinalizer},
		},
	})
	_, err := c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	return err
}

func (c *Controller) releasePod(ctx context.Context, job *batchv1.Job, p *corev1.Pod) error {
	patch := mustJSON(map[string]interface{}{
		"metadata": map[string]interface{}{
			"ownerReferences":                     []map[string]interface{}{{"$patch": "delete", "uid": job.UID}},
			"uid":                                 p.UID,
			"$deleteFromPrimitiveList/finalizers": []string{batchv1.JobTrackingFinalizer},
		},
	})
	_, err := c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	return err
}

// syncOrphanPod releases the tracking finalizer of a pod that no Job
// controls and no Job selects.
func (c *Controller) syncOrphanPod(ctx context.Context, key string) error {
	ns, name, ok := strings.Cut(key, "/")
	if !ok {
		return nil
	}
	p, err := c.podLister.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !hasFinalizer(p) {
		return nil
	}
	if ref := metav1.GetControllerOf(p); ref != nil {
		if isJobRef(ref) && c.jobForPod(p) != nil {
			return nil
		}
	} else {
		jobs, err := c.jobLister.Jobs(ns).List(labels.Everything())
		if err != nil {
			return err
		}
		for _, j := range jobs {
			sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector)
			if err == nil && !sel.Empty() && sel.Matches(labels.Set(p.Labels)) && !IsJobFinished(j) && j.DeletionTimestamp == nil {
				return nil // the Job will adopt it
			}
		}
	}
	return c.releaseFinalizers(ctx, []*corev1.Pod{p})
}
