package deployment

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/controller/deployment/util"
)

// syncStatusOnly only updates the status (Deployment being deleted).
func (c *Controller) syncStatusOnly(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	return c.syncDeploymentStatus(ctx, append(oldRSs, newRS), newRS, d)
}

// sync handles scaling events and paused Deployments: scale, no rollout.
func (c *Controller) sync(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	if err := c.scale(ctx, d, newRS, oldRSs); err != nil {
		return err
	}
	if d.Spec.Paused && getRollbackTo(d) == nil {
		if err := c.cleanupDeployment(ctx, oldRSs, d); err != nil {
			return err
		}
	}
	return c.syncDeploymentStatus(ctx, append(oldRSs, newRS), newRS, d)
}

// checkPausedConditions sets Progressing Unknown DeploymentPaused /
// DeploymentResumed when spec.paused changes (not over a timeout).
func (c *Controller) checkPausedConditions(ctx context.Context, d *appsv1.Deployment) error {
	if !util.HasProgressDeadline(d) {
		return nil
	}
	cond := util.GetCondition(d.Status, appsv1.DeploymentProgressing)
	if cond != nil && cond.Reason == util.TimedOutReason {
		return nil
	}
	pausedExists := cond != nil && cond.Reason == util.PausedDeployReason
	now := c.clock.Now()
	switch {
	case d.Spec.Paused && !pausedExists:
		util.SetCondition(&d.Status, *util.NewCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, util.PausedDeployReason, "Deployment is paused", now))
	case !d.Spec.Paused && pausedExists:
		util.SetCondition(&d.Status, *util.NewCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, util.ResumedDeployReason, "Deployment is resumed", now))
	default:
		return nil
	}
	return c.updateStatus(ctx, d)
}

// isScalingEvent: an active ReplicaSet's desired-replicas annotation differs
// from spec.replicas.
func (c *Controller) isScalingEvent(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (bool, error) {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false)
	if err != nil {
		return false, err
	}
	for _, rs := range util.FilterActiveReplicaSets(append(oldRSs, newRS)) {
		desired, ok := util.DesiredReplicas(rs)
		if !ok {
			continue
		}
		if desired != *d.Spec.Replicas {
			return true, nil
		}
	}
	return false, nil
}

// getAllReplicaSetsAndSyncRevision returns the new ReplicaSet (created when
// createIfNotExisted) and all old ones, keeping revisions in sync.
func (c *Controller) getAllReplicaSetsAndSyncRevision(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, createIfNotExisted bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	_, allOld := util.FindOldReplicaSets(d, rsList)
	newRS, err := c.getNewReplicaSet(ctx, d, rsList, allOld, createIfNotExisted)
	if err != nil {
		return nil, nil, err
	}
	return newRS, allOld, nil
}

// getNewReplicaSet finds (bumping its revision) or creates the ReplicaSet of
// the current template.
func (c *Controller) getNewReplicaSet(ctx context.Context, d *appsv1.Deployment, rsList, oldRSs []*appsv1.ReplicaSet, createIfNotExisted bool) (*appsv1.ReplicaSet, error) {
	logger := klog.FromContext(ctx)
	existing := util.FindNewReplicaSet(d, rsList)
	newRevision := strconv.FormatInt(util.MaxRevision(oldRSs)+1, 10)
	now := c.clock.Now()
	if existing != nil {
		rsCopy := existing.DeepCopy()
		annotationsUpdated := util.SetNewReplicaSetAnnotations(d, rsCopy, newRevision, true, util.MaxRevHistoryLengthInChars)
		minReadyChanged := rsCopy.Spec.MinReadySeconds != d.Spec.MinReadySeconds
		if annotationsUpdated || minReadyChanged {
			rsCopy.Spec.MinReadySeconds = d.Spec.MinReadySeconds
			updated, err := c.client.AppsV1().ReplicaSets(rsCopy.Namespace).Update(ctx, rsCopy, metav1.UpdateOptions{})
			if err == nil {
				c.wrote(d, appsv1.Resource("replicasets"), updated)
			}
			return updated, err
		}
		needsUpdate := util.SetDeploymentRevision(d, rsCopy.Annotations[util.RevisionAnnotation])
		if util.HasProgressDeadline(d) && util.GetCondition(d.Status, appsv1.DeploymentProgressing) == nil {
			msg := fmt.Sprintf("Found new replica set %q", rsCopy.Name)
			util.SetCondition(&d.Status, *util.NewCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, util.FoundNewRSReason, msg, now))
			needsUpdate = true
		}
		if needsUpdate {
			if err := c.updateStatus(ctx, d); err != nil {
				return nil, err
			}
		}
		return rsCopy, nil
	}
	if !createIfNotExisted {
		return nil, nil
	}
	tmpl := *d.Spec.Template.DeepCopy()
	hash := util.ComputeHash(&tmpl, d.Status.CollisionCount)
	tmpl.Labels = util.CloneAndAddLabel(d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	newRS := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            d.Name + "-" + hash,
			Namespace:       d.Namespace,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, controllerKind)},
			Labels:          tmpl.Labels,
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        ptr.To(int32(0)),
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        util.CloneSelectorAndAddLabel(d.Spec.Selector, appsv1.DefaultDeploymentUniqueLabelKey, hash),
			Template:        tmpl,
		},
	}
	count, err := util.NewRSNewReplicas(d, append(oldRSs, newRS), newRS)
	if err != nil {
		return nil, err
	}
	*newRS.Spec.Replicas = count
	util.SetNewReplicaSetAnnotations(d, newRS, newRevision, false, util.MaxRevHistoryLengthInChars)
	created, err := c.client.AppsV1().ReplicaSets(d.Namespace).Create(ctx, newRS, metav1.CreateOptions{})
	if err == nil {
		c.wrote(d, appsv1.Resource("replicasets"), created)
	}
	alreadyExists := false
	switch {
	case apierrors.IsAlreadyExists(err):
		alreadyExists = true
		rs, rsErr := c.rsLister.ReplicaSets(newRS.Namespace).Get(newRS.Name)
		if rsErr != nil {
			return nil, rsErr
		}
		if ref := metav1.GetControllerOf(rs); ref != nil && ref.UID == d.UID && util.EqualIgnoreHash(&d.Spec.Template, &rs.Spec.Template) {
			created, err = rs, nil
			break
		}
		// A different ReplicaSet holds the name: bump collisionCount so
		// the next sync computes another hash.
		if d.Status.CollisionCount == nil {
			d.Status.CollisionCount = new(int32)
		}
		pre := *d.Status.CollisionCount
		*d.Status.CollisionCount++
		if dErr := c.updateStatus(ctx, d); dErr == nil {
			logger.V(2).Info("Found a hash collision for deployment - bumping collisionCount", "deployment", klog.KObj(d), "oldCollisionCount", pre, "newCollisionCount", *d.Status.CollisionCount)
		}
		return nil, err
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil, err
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", newRS.Name, err)
		if util.HasProgressDeadline(d) {
			util.SetCondition(&d.Status, *util.NewCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, util.FailedRSCreateReason, msg, now))
			_ = c.updateStatus(ctx, d)
		}
		c.recorder.Event(d, corev1.EventTypeWarning, util.FailedRSCreateReason, msg)
		return nil, err
	}
	if !alreadyExists && count > 0 {
		c.recorder.Eventf(d, corev1.EventTypeNormal, EventScalingReplicaSet, "Scaled up replica set %s from 0 to %d", created.Name, count)
	}
	needsUpdate := util.SetDeploymentRevision(d, newRevision)
	if !alreadyExists && util.HasProgressDeadline(d) {
		msg := fmt.Sprintf("Created new replica set %q", created.Name)
		util.SetCondition(&d.Status, *util.NewCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, util.NewReplicaSetReason, msg, now))
		needsUpdate = true
	}
	if needsUpdate {
		if err := c.updateStatus(ctx, d); err != nil {
			return created, err
		}
	}
	return created, nil
}

// scale resizes the ReplicaSets to spec.replicas: the single active (or
// latest) one directly, or all active ones proportionally mid-rollout.
func (c *Controller) scale(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) error {
	if target := util.FindActiveOrLatest(newRS, oldRSs); target != nil {
		if *target.Spec.Replicas == *d.Spec.Replicas {
			return nil
		}
		_, _, err := c.scaleReplicaSetAndRecordEvent(ctx, target, *d.Spec.Replicas, d)
		return err
	}
	if util.IsSaturated(d, newRS) {
		for _, old := range util.FilterActiveReplicaSets(oldRSs) {
			if _, _, err := c.scaleReplicaSetAndRecordEvent(ctx, old, 0, d); err != nil {
				return err
			}
		}
		return nil
	}
	if !util.IsRollingUpdate(d) {
		return nil
	}
	all := util.FilterActiveReplicaSets(append(oldRSs, newRS))
	allReplicas := util.GetReplicaCountForReplicaSets(all)
	allowed := int32(0)
	if *d.Spec.Replicas > 0 {
		allowed = *d.Spec.Replicas + util.MaxSurge(d)
	}
	toAdd := allowed - allReplicas
	op := ""
	switch {
	case toAdd > 0:
		sort.Sort(util.BySizeNewer(all))
		op = "up"
	case toAdd < 0:
		sort.Sort(util.BySizeOlder(all))
		op = "down"
	}
	added := int32(0)
	sizes := make(map[string]int32, len(all))
	for _, rs := range all {
		if toAdd != 0 {
			p := util.GetProportion(rs, d, toAdd, added)
			sizes[rs.Name] = *rs.Spec.Replicas + p
			added += p
		} else {
			sizes[rs.Name] = *rs.Spec.Replicas
		}
	}
	for i, rs := range all {
		if i == 0 && toAdd != 0 {
			sizes[rs.Name] += toAdd - added
			if sizes[rs.Name] < 0 {
				sizes[rs.Name] = 0
			}
		}
		if _, _, err := c.scaleReplicaSet(ctx, rs, sizes[rs.Name], d, op); err != nil {
			return err
		}
	}
	return nil
}

func (c *Controller) scaleReplicaSetAndRecordEvent(ctx context.Context, rs *appsv1.ReplicaSet, newScale int32, d *appsv1.Deployment) (bool, *appsv1.ReplicaSet, error) {
	if *rs.Spec.Replicas == newScale {
		return false, rs, nil
	}
	op := "down"
	if *rs.Spec.Replicas < newScale {
		op = "up"
	}
	return c.scaleReplicaSet(ctx, rs, newScale, d, op)
}

// scaleReplicaSet writes the size and the replicas annotations.
func (c *Controller) scaleReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet, newScale int32, d *appsv1.Deployment, op string) (bool, *appsv1.ReplicaSet, error) {
	sizeChanged := *rs.Spec.Replicas != newScale
	maxReplicas := *d.Spec.Replicas + util.MaxSurge(d)
	if !sizeChanged && !util.ReplicasAnnotationsNeedUpdate(rs, *d.Spec.Replicas, maxReplicas) {
		return false, rs, nil
	}
	oldScale := *rs.Spec.Replicas
	rsCopy := rs.DeepCopy()
	*rsCopy.Spec.Replicas = newScale
	util.SetReplicasAnnotations(rsCopy, *d.Spec.Replicas, maxReplicas)
	updated, err := c.client.AppsV1().ReplicaSets(rsCopy.Namespace).Update(ctx, rsCopy, metav1.UpdateOptions{})
	if err != nil {
		return false, rs, err
	}
	c.wrote(d, appsv1.Resource("replicasets"), updated)
	if sizeChanged {
		c.recorder.Eventf(d, corev1.EventTypeNormal, EventScalingReplicaSet, "Scaled %s replica set %s from %d to %d", op, updated.Name, oldScale, newScale)
	}
	return sizeChanged, updated, nil
}

// cleanupDeployment deletes the oldest empty old ReplicaSets beyond revisionHistoryLimit.
func (c *Controller) cleanupDeployment(ctx context.Context, oldRSs []*appsv1.ReplicaSet, d *appsv1.Deployment) error {
	if !util.HasRevisionHistoryLimit(d) {
		return nil
	}
	var cleanable []*appsv1.ReplicaSet
	for _, rs := range oldRSs {
		if rs != nil && rs.DeletionTimestamp == nil {
			cleanable = append(cleanable, rs)
		}
	}
	diff := int32(len(cleanable)) - *d.Spec.RevisionHistoryLimit
	if diff <= 0 {
		return nil
	}
	sort.Sort(util.ByRevision(cleanable))
	for i := int32(0); i < diff; i++ {
		rs := cleanable[i]
		if rs.Status.Replicas != 0 || *rs.Spec.Replicas != 0 || rs.Generation > rs.Status.ObservedGeneration || rs.DeletionTimestamp != nil {
			continue
		}
		klog.FromContext(ctx).V(4).Info("Trying to cleanup replica set for deployment", "replicaSet", klog.KObj(rs), "deployment", klog.KObj(d))
		if err := c.client.AppsV1().ReplicaSets(rs.Namespace).Delete(ctx, rs.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// syncDeploymentStatus writes calculateStatus if it changed.
func (c *Controller) syncDeploymentStatus(ctx context.Context, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) error {
	newStatus := c.calculateStatus(all, newRS, d)
	if reflect.DeepEqual(d.Status, newStatus) {
		return nil
	}
	d.Status = newStatus
	return c.updateStatus(ctx, d)
}

// calculateStatus computes the counters and the Available condition.
func (c *Controller) calculateStatus(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) appsv1.DeploymentStatus {
	available := util.GetAvailableReplicaCountForReplicaSets(all)
	total := util.GetReplicaCountForReplicaSets(all)
	unavailable := max(total-available, 0)
	status := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            util.GetActualReplicaCountForReplicaSets(all),
		UpdatedReplicas:     util.GetActualReplicaCountForReplicaSets([]*appsv1.ReplicaSet{newRS}),
		ReadyReplicas:       util.GetReadyReplicaCountForReplicaSets(all),
		AvailableReplicas:   available,
		UnavailableReplicas: unavailable,
		TerminatingReplicas: util.GetTerminatingReplicaCountForReplicaSets(all),
		CollisionCount:      d.Status.CollisionCount,
	}
	status.Conditions = append(status.Conditions, d.Status.Conditions...)
	now := c.clock.Now()
	if available >= *d.Spec.Replicas-util.MaxUnavailable(d) {
		util.SetCondition(&status, *util.NewCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, util.MinimumReplicasAvailable, "Deployment has minimum availability.", now))
	} else {
		util.SetCondition(&status, *util.NewCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, util.MinimumReplicasUnavailable, "Deployment does not have minimum availability.", now))
	}
	return status
}
