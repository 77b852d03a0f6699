package statefulset

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/util/retry"
)

// statusUpdater writes a StatefulSet's status: once per sync, only when it
// changed, retrying a conflict on the cache's (or server's) fresher copy.
type statusUpdater struct {
	client kubernetes.Interface
	lister appslisters.StatefulSetLister
}

func (u *statusUpdater) update(ctx context.Context, set *appsv1.StatefulSet, status *appsv1.StatefulSetStatus) error {
	completeRollingUpdate(set, status)
	if !inconsistentStatus(set, status) {
		return nil
	}
	set = set.DeepCopy()
	first := true
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if !first {
			fresh, err := u.client.AppsV1().StatefulSets(set.Namespace).Get(ctx, set.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if fresh.UID != set.UID {
				return nil
			}
			set = fresh
		}
		first = false
		set.Status = *status
		_, err := u.client.AppsV1().StatefulSets(set.Namespace).UpdateStatus(ctx, set, metav1.UpdateOptions{})
		return err
	})
}

// inconsistentStatus: the status to write differs from the stored one.
func inconsistentStatus(set *appsv1.StatefulSet, status *appsv1.StatefulSetStatus) bool {
	return status.ObservedGeneration > set.Status.ObservedGeneration ||
		!apiequality.Semantic.DeepEqual(*status, set.Status)
}
