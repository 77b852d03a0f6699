package replicaset

import (
	"context"
	"reflect"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/controller/internal/replication"
)

// ReplicaFailure condition reasons.
const (
	ReasonFailedCreate = "FailedCreate"
	ReasonFailedDelete = "FailedDelete"
)

func sortRanked(r replication.ActivePodsWithRanks) { sort.Sort(r) }

// calculateStatus computes the status from the claimed active pods and the
// owned terminating pods; manageErr sets or clears ReplicaFailure.
func calculateStatus(rs *appsv1.ReplicaSet, activePods, terminatingPods []*corev1.Pod, manageErr error, now time.Time) appsv1.ReplicaSetStatus {
	newStatus := *rs.Status.DeepCopy()
	fullyLabeled, ready, available := 0, 0, 0
	templateLabels := labels.Set(rs.Spec.Template.Labels).AsSelectorPreValidated()
	for _, p := range activePods {
		if templateLabels.Matches(labels.Set(p.Labels)) {
			fullyLabeled++
		}
		if replication.IsPodReady(p) {
			ready++
			if replication.IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
				available++
			}
		}
	}
	failure := getCondition(rs.Status, appsv1.ReplicaSetReplicaFailure)
	if manageErr != nil && failure == nil {
		reason := ""
		if diff := len(activePods) - int(*rs.Spec.Replicas); diff < 0 {
			reason = ReasonFailedCreate
		} else if diff > 0 {
			reason = ReasonFailedDelete
		}
		setCondition(&newStatus, appsv1.ReplicaSetCondition{
			Type:               appsv1.ReplicaSetReplicaFailure,
			Status:             corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now),
			Reason:             reason,
			Message:            manageErr.Error(),
		})
	} else if manageErr == nil && failure != nil {
		removeCondition(&newStatus, appsv1.ReplicaSetReplicaFailure)
	}
	newStatus.Replicas = int32(len(activePods))
	newStatus.FullyLabeledReplicas = int32(fullyLabeled)
	newStatus.ReadyReplicas = int32(ready)
	newStatus.AvailableReplicas = int32(available)
	newStatus.TerminatingReplicas = ptr.To(int32(len(terminatingPods)))
	newStatus.ObservedGeneration = rs.Generation
	return newStatus
}

func getCondition(status appsv1.ReplicaSetStatus, t appsv1.ReplicaSetConditionType) *appsv1.ReplicaSetCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}

func setCondition(status *appsv1.ReplicaSetStatus, c appsv1.ReplicaSetCondition) {
	if cur := getCondition(*status, c.Type); cur != nil && cur.Status == c.Status && cur.Reason == c.Reason {
		return
	}
	removeCondition(status, c.Type)
	status.Conditions = append(status.Conditions, c)
}

func removeCondition(status *appsv1.ReplicaSetStatus, t appsv1.ReplicaSetConditionType) {
	var out []appsv1.ReplicaSetCondition
	for _, c := range status.Conditions {
		if c.Type != t {
			out = append(out, c)
		}
	}
	status.Conditions = out
}

// updateStatus writes newStatus unless it equals the current status,
// retrying once on failure with a fresh copy.
func (c *Controller) updateStatus(ctx context.Context, rs *appsv1.ReplicaSet, newStatus appsv1.ReplicaSetStatus) (*appsv1.ReplicaSet, error) {
	if reflect.DeepEqual(rs.Status, newStatus) {
		return rs, nil
	}
	var err error
	for i := 0; ; i++ {
		klogStatus(ctx, rs, newStatus)
		rs.Status = newStatus
		var updated *appsv1.ReplicaSet
		updated, err = c.client.AppsV1().ReplicaSets(rs.Namespace).UpdateStatus(ctx, rs, metav1.UpdateOptions{})
		if err == nil {
			c.consistency.WroteAt(types.NamespacedName{Namespace: rs.Namespace, Name: rs.Name}, rs.UID, c.resource, updated.ResourceVersion)
			return updated, nil
		}
		if i >= statusUpdateRetries {
			break
		}
		fresh, getErr := c.client.AppsV1().ReplicaSets(rs.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
		if getErr != nil {
			return nil, getErr
		}
		rs = fresh
	}
	return nil, err
}
