package statefulset

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/controller/history"
)

// maxBatchSize caps one slow-start batch of Parallel creations/deletions.
const maxBatchSize = 500

// setControl is the core of a sync: revisions, pods, status.
type setControl struct {
	pods     *podControl
	history  *history.History
	status   *statusUpdater
	recorder record.EventRecorder
	clock    clock.PassiveClock
}

// updateStatefulSet reconciles one StatefulSet with its claimed pods and
// writes its status once; it returns the status written.
func (sc *setControl) updateStatefulSet(ctx context.Context, set *appsv1.StatefulSet, pods []*corev1.Pod, owner history.Owner) (*appsv1.StatefulSetStatus, error) {
	set = set.DeepCopy()
	revisions, err := sc.history.List(ctx, owner)
	if err != nil {
		return nil, err
	}
	history.Sort(revisions)

	current, update, collisionCount, err := sc.getStatefulSetRevisions(ctx, set, revisions)
	if err != nil {
		return nil, err
	}
	status, err := sc.updateStatefulSetPods(ctx, set, current, update, collisionCount, pods)
	if status == nil {
		return nil, utilerrors.NewAggregate([]error{err, sc.truncateHistory(ctx, set, pods, revisions, current, update)})
	}
	statusErr := sc.status.update(ctx, set, status)
	truncErr := sc.truncateHistory(ctx, set, pods, revisions, current, update)
	return status, utilerrors.NewAggregate([]error{err, statusErr, truncErr})
}

// getStatefulSetRevisions finds or creates the update revision (the set's
// template) and the current one (status.currentRevision, else the update
// revision). A template equal to an older revision re-uses it with the next
// revision number: that is a rollback.
func (sc *setControl) getStatefulSetRevisions(ctx context.Context, set *appsv1.StatefulSet, revisions []*appsv1.ControllerRevision) (current, update *appsv1.ControllerRevision, collisionCount int32, err error) {
	if set.Status.CollisionCount != nil {
		collisionCount = *set.Status.CollisionCount
	}
	update, err = newRevision(set, history.NextRevision(revisions), &collisionCount)
	if err != nil {
		return nil, nil, collisionCount, err
	}
	equal := history.FindEqual(revisions, update, decodeRevision)
	switch {
	case len(equal) > 0 && history.Equal(revisions[len(revisions)-1], equal[len(equal)-1], decodeRevision):
		update = revisions[len(revisions)-1]
	case len(equal) > 0:
		update, err = sc.history.Renumber(ctx, equal[len(equal)-1], update.Revision)
		if err != nil {
			return nil, nil, collisionCount, err
		}
	default:
		update, err = sc.history.Create(ctx, set, update, &collisionCount)
		if err != nil {
			return nil, nil, collisionCount, err
		}
	}
	for _, r := range revisions {
		if r.Name == set.Status.CurrentRevision {
			current = r
			break
		}
	}
	if current == nil {
		current = update
	}
	return current, update, collisionCount, nil
}

// truncateHistory deletes the oldest revisions beyond revisionHistoryLimit
// that neither the status nor any pod uses.
func (sc *setControl) truncateHistory(ctx context.Context, set *appsv1.StatefulSet, pods []*corev1.Pod, revisions []*appsv1.ControllerRevision, current, update *appsv1.ControllerRevision) error {
	live := map[string]bool{}
	if current != nil {
		live[current.Name] = true
	}
	if update != nil {
		live[update.Name] = true
	}
	for _, p := range pods {
		live[getPodRevision(p)] = true
	}
	limit := int32(10)
	if set.Spec.RevisionHistoryLimit != nil {
		limit = *set.Spec.RevisionHistoryLimit
	}
	for _, r := range history.ToTruncate(revisions, limit, func(r *appsv1.ControllerRevision) bool { return live[r.Name] }) {
		if err := sc.history.Delete(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// computeStatus counts the pods: created, ready, available, current and
// updated (the last two among pods not terminating).
func computeStatus(status *appsv1.StatefulSetStatus, minReadySeconds int32, now time.Time, current, update *appsv1.ControllerRevision, lists ...[]*corev1.Pod) {
	status.Replicas, status.ReadyReplicas, status.AvailableReplicas = 0, 0, 0
	status.CurrentReplicas, status.UpdatedReplicas = 0, 0
	for _, list := range lists {
		for _, pod := range list {
			if isCreated(pod) {
				status.Replicas++
			}
			if isRunningAndReady(pod) {
				status.ReadyReplicas++
				if isRunningAndAvailable(pod, minReadySeconds, now) {
					status.AvailableReplicas++
				}
			}
			if isCreated(pod) && !isTerminating(pod) {
				rev := getPodRevision(pod)
				if rev == current.Name {
					status.CurrentReplicas++
				}
				if rev == update.Name {
					status.UpdatedReplicas++
				}
			}
		}
	}
}

// updateStatefulSetPods creates, fixes and deletes pods toward the target
// state and returns the status to write. OrderedReady (monotonic) works on
// one pod at a time in ordinal order and stops at the first pod that is not
// Running, Ready and available; Parallel acts on all pods at once.
func (sc *setControl) updateStatefulSetPods(ctx context.Context, set *appsv1.StatefulSet, current, update *appsv1.ControllerRevision, collisionCount int32, pods []*corev1.Pod) (*appsv1.StatefulSetStatus, error) {
	logger := klog.FromContext(ctx)
	now := sc.clock.Now()
	currentSet, err := applyRevision(set, current)
	if err != nil {
		return nil, err
	}
	updateSet, err := applyRevision(set, update)
	if err != nil {
		return nil, err
	}
	status := &appsv1.StatefulSetStatus{
		ObservedGeneration: set.Generation,
		CurrentRevision:    current.Name,
		UpdateRevision:     update.Name,
		CollisionCount:     &collisionCount,
		Conditions:         set.Status.Conditions,
	}
	minReady := set.Spec.MinReadySeconds
	computeStatus(status, minReady, now, current, update, pods)

	replicaCount := int(replicasOf(set))
	replicas := make([]*corev1.Pod, replicaCount)
	var condemned []*corev1.Pod
	start := getStartOrdinal(set)
	for _, pod := range pods {
		switch {
		case podInOrdinalRange(pod, set):
			replicas[getOrdinal(pod)-start] = pod
		case getOrdinal(pod) >= 0:
			condemned = append(condemned, pod)
		}
	}
	for i := range replicas {
		if replicas[i] == nil {
			replicas[i] = newVersionedStatefulSetPod(currentSet, updateSet, current.Name, update.Name, start+i)
		}
	}
	// Condemned pods go highest ordinal first.
	sort.Sort(sort.Reverse(ascendingOrdinal(condemned)))

	var firstUnavailable *corev1.Pod
	for _, p := range replicas {
		if isUnavailable(p, minReady, now) {
			firstUnavailable = p
			break
		}
	}
	if firstUnavailable == nil {
		for i := len(condemned) - 1; i >= 0; i-- {
			if isUnavailable(condemned[i], minReady, now) {
				firstUnavailable = condemned[i]
				break
			}
		}
	}

	finish := func(err error) (*appsv1.StatefulSetStatus, error) {
		computeStatus(status, minReady, now, current, update, replicas, condemned)
		return status, err
	}
	if set.DeletionTimestamp != nil {
		return status, nil
	}
	monotonic := !allowsBurst(set)

	if stop, err := runForAll(len(replicas), monotonic, func(i int) (bool, error) {
		return sc.processReplica(ctx, set, updateSet, monotonic, replicas, i, now)
	}); stop || err != nil {
		return finish(err)
	}
	if stop, err := runForAll(len(condemned), monotonic, func(i int) (bool, error) {
		match, err := sc.pods.claimsMatchRetentionPolicy(updateSet, condemned[i])
		if err != nil {
			return true, err
		}
		if !match {
			if err := sc.pods.updatePodClaimForRetentionPolicy(ctx, updateSet, condemned[i]); err != nil {
				return true, err
			}
		}
		return false, nil
	}); stop || err != nil {
		return finish(err)
	}
	if stop, err := runForAll(len(condemned), monotonic, func(i int) (bool, error) {
		return sc.processCondemned(ctx, set, firstUnavailable, monotonic, condemned, i, now)
	}); stop || err != nil {
		return finish(err)
	}
	computeStatus(status, minReady, now, current, update, replicas, condemned)

	if set.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return status, nil
	}

	// RollingUpdate with maxUnavailable: delete, highest ordinal first and
	// down to the partition, up to maxUnavailable minus the unavailable
	// pods that do not run the update revision.
	updateMin, maxUnavailable := 0, 1
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		if ru.Partition != nil {
			updateMin = int(*ru.Partition)
		}
		if maxUnavailable, err = getStatefulSetMaxUnavailable(ru.MaxUnavailable, replicaCount); err != nil {
			return status, err
		}
	}
	unavailable := 0
	for _, p := range replicas {
		if isUnavailable(p, minReady, now) {
			unavailable++
		}
	}
	if unavailable > maxUnavailable {
		logger.V(4).Info("StatefulSet has more unavailable pods than maxUnavailable", "statefulSet", klog.KObj(set),
			"unavailable", unavailable, "maxUnavailable", maxUnavailable)
		return status, nil
	}
	toDelete := maxUnavailable - unavailable
	for target := len(replicas) - 1; target >= updateMin && toDelete > 0; target-- {
		if getPodRevision(replicas[target]) == update.Name || isTerminating(replicas[target]) {
			continue
		}
		logger.V(2).Info("Pod of StatefulSet is terminating for update", "statefulSet", klog.KObj(set), "pod", klog.KObj(replicas[target]))
		if err := sc.pods.deleteStatefulPod(ctx, set, replicas[target]); err != nil {
			return status, err
		}
		toDelete--
		status.CurrentReplicas--
	}
	return status, nil
}

// processReplica brings one replica slot in line; it returns true when the
// sync must stop here.
func (sc *setControl) processReplica(ctx context.Context, set, updateSet *appsv1.StatefulSet, monotonic bool, replicas []*corev1.Pod, i int, now time.Time) (bool, error) {
	logger := klog.FromContext(ctx)
	pod := replicas[i]
	// A finished pod (failed, or succeeded after an eviction or a node
	// restart) is deleted; its successor is created once it is gone.
	if isFailed(pod) || isSucceeded(pod) {
		if pod.DeletionTimestamp == nil {
			sc.recorder.Eventf(set, corev1.EventTypeWarning, EventRecreatingFailedPod,
				"StatefulSet %s/%s is recreating failed Pod %s", set.Namespace, set.Name, pod.Name)
			if err := sc.pods.deleteStatefulPod(ctx, set, pod); err != nil {
				return true, err
			}
		}
		return true, nil
	}
	if !isCreated(pod) {
		stale, err := sc.pods.podClaimIsStale(set, pod)
		if err != nil || stale {
			return true, err
		}
		if err := sc.pods.createStatefulPod(ctx, set, pod); err != nil {
			return true, err
		}
		if monotonic {
			return true, nil
		}
		return false, nil
	}
	if isPending(pod) {
		if err := sc.pods.createMissingPersistentVolumeClaims(ctx, set, pod); err != nil {
			return true, err
		}
	}
	if monotonic {
		if isTerminating(pod) {
			logger.V(4).Info("StatefulSet is waiting for Pod to terminate", "statefulSet", klog.KObj(set), "pod", klog.KObj(pod))
			return true, nil
		}
		if !isRunningAndReady(pod) {
			logger.V(4).Info("StatefulSet is waiting for Pod to be Running and Ready", "statefulSet", klog.KObj(set), "pod", klog.KObj(pod))
			return true, nil
		}
		if !isRunningAndAvailable(pod, set.Spec.MinReadySeconds, now) {
			logger.V(4).Info("StatefulSet is waiting for Pod to be Available", "statefulSet", klog.KObj(set), "pod", klog.KObj(pod))
			return true, nil
		}
	}
	retentionMatch, err := sc.pods.claimsMatchRetentionPolicy(updateSet, pod)
	if err != nil {
		retentionMatch = true
	}
	if identityMatches(set, pod) && storageMatches(set, pod) && retentionMatch {
		return false, nil
	}
	if err := sc.pods.updateStatefulPod(ctx, updateSet, pod.DeepCopy()); err != nil {
		return true, err
	}
	return false, nil
}

// processCondemned deletes one pod beyond the replica range. OrderedReady
// waits for a terminating pod to go, and for an unhealthy pod unless it is
// the first unhealthy one.
func (sc *setControl) processCondemned(ctx context.Context, set *appsv1.StatefulSet, firstUnavailable *corev1.Pod, monotonic bool, condemned []*corev1.Pod, i int, now time.Time) (bool, error) {
	pod := condemned[i]
	if isTerminating(pod) {
		return monotonic, nil
	}
	if monotonic && pod != firstUnavailable && !isRunningAndAvailable(pod, set.Spec.MinReadySeconds, now) {
		return true, nil
	}
	klog.FromContext(ctx).V(2).Info("Pod of StatefulSet is terminating for scale down", "statefulSet", klog.KObj(set), "pod", klog.KObj(pod))
	return true, sc.pods.deleteStatefulPod(ctx, set, pod)
}

// runForAll calls fn for 0..n-1: in order, stopping when fn says so, when
// monotonic; otherwise in slow-start batches (1, 2, 4, … up to 500) run
// concurrently, stopping at the first batch with an error.
func runForAll(n int, monotonic bool, fn func(i int) (bool, error)) (bool, error) {
	if monotonic {
		for i := 0; i < n; i++ {
			if stop, err := fn(i); stop || err != nil {
				return true, err
			}
		}
		return false, nil
	}
	next := 0
	for batch := min(n, 1); batch > 0; batch = min(min(2*batch, n-next), maxBatchSize) {
		var wg sync.WaitGroup
		errs := make([]error, batch)
		for j := 0; j < batch; j++ {
			wg.Add(1)
			go func(slot, i int) {
				defer wg.Done()
				_, errs[slot] = fn(i)
			}(j, next+j)
		}
		wg.Wait()
		next += batch
		if err := utilerrors.NewAggregate(errs); err != nil {
			return true, err
		}
	}
	return false, nil
}

// canAdoptFunc re-reads the set before the first adoption.
func (c *Controller) canAdoptFunc(set *appsv1.StatefulSet) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		fresh, err := c.client.AppsV1().StatefulSets(set.Namespace).Get(ctx, set.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if fresh.UID != set.UID {
			return fmt.Errorf("original StatefulSet %v/%v is gone: got uid %v, wanted %v", set.Namespace, set.Name, fresh.UID, set.UID)
		}
		if fresh.DeletionTimestamp != nil {
			return fmt.Errorf("%v/%v has just been deleted at %v", set.Namespace, set.Name, fresh.DeletionTimestamp)
		}
		return nil
	}
}
