package deployment

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/herd-project/herd/pkg/controller/deployment/util"
)

// rolloutRolling scales the new ReplicaSet up, then old ones down, within
// maxSurge/maxUnavailable.
func (c *Controller) rolloutRolling(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true)
	if err != nil {
		return err
	}
	all := append(oldRSs, newRS)
	scaledUp, err := c.reconcileNewReplicaSet(ctx, all, newRS, d)
	if err != nil {
		return err
	}
	if scaledUp {
		return c.syncRolloutStatus(ctx, all, newRS, d)
	}
	scaledDown, err := c.reconcileOldReplicaSets(ctx, all, util.FilterActiveReplicaSets(oldRSs), newRS, d)
	if err != nil {
		return err
	}
	if scaledDown {
		return c.syncRolloutStatus(ctx, all, newRS, d)
	}
	if util.DeploymentComplete(d, &d.Status) {
		if err := c.cleanupDeployment(ctx, oldRSs, d); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, all, newRS, d)
}

func (c *Controller) reconcileNewReplicaSet(ctx context.Context, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	if *newRS.Spec.Replicas == *d.Spec.Replicas {
		return false, nil
	}
	if *newRS.Spec.Replicas > *d.Spec.Replicas {
		scaled, _, err := c.scaleReplicaSetAndRecordEvent(ctx, newRS, *d.Spec.Replicas, d)
		return scaled, err
	}
	count, err := util.NewRSNewReplicas(d, all, newRS)
	if err != nil {
		return false, err
	}
	scaled, _, err := c.scaleReplicaSetAndRecordEvent(ctx, newRS, count, d)
	return scaled, err
}

func (c *Controller) reconcileOldReplicaSets(ctx context.Context, all, oldRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	if util.GetReplicaCountForReplicaSets(oldRSs) == 0 {
		return false, nil
	}
	allPods := util.GetReplicaCountForReplicaSets(all)
	minAvailable := *d.Spec.Replicas - util.MaxUnavailable(d)
	newUnavailable := *newRS.Spec.Replicas - newRS.Status.AvailableReplicas
	maxScaledDown := allPods - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return false, nil
	}
	oldRSs, cleaned, err := c.cleanupUnhealthyReplicas(ctx, oldRSs, d, maxScaledDown)
	if err != nil {
		return false, err
	}
	all = append(oldRSs, newRS)
	scaledDown, err := c.scaleDownOldReplicaSetsForRollingUpdate(ctx, all, oldRSs, d)
	if err != nil {
		return false, err
	}
	return cleaned+scaledDown > 0, nil
}

// cleanupUnhealthyReplicas removes unavailable replicas of old ReplicaSets
// first, oldest first, at most maxCleanup.
func (c *Controller) cleanupUnhealthyReplicas(ctx context.Context, oldRSs []*appsv1.ReplicaSet, d *appsv1.Deployment, maxCleanup int32) ([]*appsv1.ReplicaSet, int32, error) {
	sort.Sort(util.ByCreationTimestamp(oldRSs))
	total := int32(0)
	for i, rs := range oldRSs {
		if total >= maxCleanup {
			break
		}
		if *rs.Spec.Replicas == 0 || *rs.Spec.Replicas == rs.Status.AvailableReplicas {
			continue
		}
		n := min(maxCleanup-total, *rs.Spec.Replicas-rs.Status.AvailableReplicas)
		newCount := *rs.Spec.Replicas - n
		if newCount > *rs.Spec.Replicas {
			return nil, 0, fmt.Errorf("when cleaning up unhealthy replicas, got invalid request to scale down %s/%s %d -> %d", rs.Namespace, rs.Name, *rs.Spec.Replicas, newCount)
		}
		_, updated, err := c.scaleReplicaSetAndRecordEvent(ctx, rs, newCount, d)
		if err != nil {
			return nil, total, err
		}
		total += n
		oldRSs[i] = updated
	}
	return oldRSs, total, nil
}

// scaleDownOldReplicaSetsForRollingUpdate scales old ReplicaSets down, oldest
// first, while availability stays above replicas-maxUnavailable.
func (c *Controller) scaleDownOldReplicaSetsForRollingUpdate(ctx context.Context, all, oldRSs []*appsv1.ReplicaSet, d *appsv1.Deployment) (int32, error) {
	minAvailable := *d.Spec.Replicas - util.MaxUnavailable(d)
	available := util.GetAvailableReplicaCountForReplicaSets(all)
	if available <= minAvailable {
		return 0, nil
	}
	sort.Sort(util.ByCreationTimestamp(oldRSs))
	total := int32(0)
	want := available - minAvailable
	for _, rs := range oldRSs {
		if total >= want {
			break
		}
		if *rs.Spec.Replicas == 0 {
			continue
		}
		n := min(*rs.Spec.Replicas, want-total)
		newCount := *rs.Spec.Replicas - n
		if _, _, err := c.scaleReplicaSetAndRecordEvent(ctx, rs, newCount, d); err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// rolloutRecreate scales all old ReplicaSets to 0, waits until their pods
// are gone, then creates/scales up the new one.
func (c *Controller) rolloutRecreate(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, podMap map[types.UID][]*corev1.Pod) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	all := append(oldRSs, newRS)
	active := util.FilterActiveReplicaSets(oldRSs)
	scaledDown := false
	for _, rs := range active {
		scaled, _, err := c.scaleReplicaSetAndRecordEvent(ctx, rs, 0, d)
		if err != nil {
			return err
		}
		scaledDown = scaledDown || scaled
	}
	if scaledDown {
		return c.syncRolloutStatus(ctx, all, newRS, d)
	}
	if oldPodsRunning(newRS, oldRSs, podMap) {
		return c.syncRolloutStatus(ctx, all, newRS, d)
	}
	if newRS == nil {
		newRS, oldRSs, err = c.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true)
		if err != nil {
			return err
		}
		all = append(oldRSs, newRS)
	}
	if _, _, err := c.scaleReplicaSetAndRecordEvent(ctx, newRS, *d.Spec.Replicas, d); err != nil {
		return err
	}
	if util.DeploymentComplete(d, &d.Status) {
		if err := c.cleanupDeployment(ctx, oldRSs, d); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, all, newRS, d)
}

// oldPodsRunning reports whether old ReplicaSets still have pods that have not finished.
func oldPodsRunning(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet, podMap map[types.UID][]*corev1.Pod) bool {
	if util.GetActualReplicaCountForReplicaSets(oldRSs) > 0 {
		return true
	}
	for uid, pods := range podMap {
		if newRS != nil && newRS.UID == uid {
			continue
		}
		for _, p := range pods {
			if p.Status.Phase != corev1.PodFailed && p.Status.Phase != corev1.PodSucceeded {
				return true
			}
		}
	}
	return false
}

// syncRolloutStatus computes the status with the Progressing and
// ReplicaFailure conditions and writes it if it changed.
func (c *Controller) syncRolloutStatus(ctx context.Context, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) error {
	newStatus := c.calculateStatus(all, newRS, d)
	if !util.HasProgressDeadline(d) {
		util.RemoveCondition(&newStatus, appsv1.DeploymentProgressing)
	}
	now := c.clock.Now()
	cur := util.GetCondition(d.Status, appsv1.DeploymentProgressing)
	complete := newStatus.Replicas == newStatus.UpdatedReplicas && cur != nil && cur.Reason == util.NewRSAvailableReason
	if util.HasProgressDeadline(d) && !complete {
		switch {
		case util.DeploymentComplete(d, &newStatus):
			msg := fmt.Sprintf("Deployment %q has successfully progressed.", d.Name)
			if newRS != nil {
				msg = fmt.Sprintf("ReplicaSet %q has successfully progressed.", newRS.Name)
			}
			util.SetCondition(&newStatus, *util.NewCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, util.NewRSAvailableReason, msg, now))
		case util.DeploymentProgressing(d, &newStatus):
			msg := fmt.Sprintf("Deployment %q is progressing.", d.Name)
			if newRS != nil {
				msg = fmt.Sprintf("ReplicaSet %q is progressing.", newRS.Name)
			}
			cond := util.NewCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, util.ReplicaSetUpdatedReason, msg, now)
			// Progress refreshes lastUpdateTime even with the same reason.
			if cur != nil {
				if cur.Status == corev1.ConditionTrue {
					cond.LastTransitionTime = cur.LastTransitionTime
				}
				util.RemoveCondition(&newStatus, appsv1.DeploymentProgressing)
			}
			util.SetCondition(&newStatus, *cond)
		case util.DeploymentTimedOut(d, now):
			msg := fmt.Sprintf("Deployment %q has timed out progressing.", d.Name)
			if newRS != nil {
				msg = fmt.Sprintf("ReplicaSet %q has timed out progressing.", newRS.Name)
			}
			util.SetCondition(&newStatus, *util.NewCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, util.TimedOutReason, msg, now))
		}
	}
	if failure := replicaFailure(all, newRS); failure != nil {
		util.SetCondition(&newStatus, *failure)
	} else {
		util.RemoveCondition(&newStatus, appsv1.DeploymentReplicaFailure)
	}
	if reflect.DeepEqual(d.Status, newStatus) {
		c.requeueStuckDeployment(d, newStatus)
		return nil
	}
	d.Status = newStatus
	return c.updateStatus(ctx, d)
}

// replicaFailure returns the ReplicaFailure of the new ReplicaSet, else of an old one.
func replicaFailure(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) *appsv1.DeploymentCondition {
	find := func(rs *appsv1.ReplicaSet) *appsv1.DeploymentCondition {
		for _, c := range rs.Status.Conditions {
			if c.Type == appsv1.ReplicaSetReplicaFailure {
				dc := util.ReplicaSetToDeploymentCondition(c)
				return &dc
			}
		}
		return nil
	}
	if newRS != nil {
		if c := find(newRS); c != nil {
			return c
		}
	}
	for _, rs := range all {
		if rs == nil || (newRS != nil && rs.UID == newRS.UID) {
			continue
		}
		if c := find(rs); c != nil {
			return c
		}
	}
	return nil
}

// requeueStuckDeployment checks the Deployment again when its progress
// deadline would expire; it returns the delay (-1 if none).
func (c *Controller) requeueStuckDeployment(d *appsv1.Deployment, newStatus appsv1.DeploymentStatus) time.Duration {
	cur := util.GetCondition(d.Status, appsv1.DeploymentProgressing)
	if !util.HasProgressDeadline(d) || cur == nil {
		return -1
	}
	if util.DeploymentComplete(d, &newStatus) || cur.Reason == util.TimedOutReason {
		return -1
	}
	after := cur.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Sub(c.clock.Now())
	if after < time.Second {
		if key, err := keyFunc(d); err == nil {
			c.queue.AddRateLimited(key)
		}
		return 0
	}
	c.enqueueAfter(d, after+time.Second)
	return after
}
