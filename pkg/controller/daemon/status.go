package daemon

import (
	"context"
	"fmt"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/herd-project/herd/pkg/controller/daemon/util"
	"github.com/herd-project/herd/pkg/controller/internal/replication"
)

// calculateStatus counts, over the nodes, where the DaemonSet should run and
// what its oldest pod on each node is like.
func calculateStatus(ds *appsv1.DaemonSet, nodes []*corev1.Node, pred *util.NodePredicate, nodeToPods map[string][]*corev1.Pod, hash string, now time.Time) appsv1.DaemonSetStatus {
	st := *ds.Status.DeepCopy()
	var desired, current, misscheduled, ready, updated, available int32
	generation, err := util.GetTemplateGeneration(ds)
	if err != nil {
		generation = nil
	}
	for _, node := range nodes {
		shouldRun, _ := pred.ShouldRun(node)
		pods := nodeToPods[node.Name]
		scheduled := len(pods) > 0
		if !shouldRun {
			if scheduled {
				misscheduled++
			}
			continue
		}
		desired++
		if !scheduled {
			continue
		}
		current++
		sorted := append([]*corev1.Pod(nil), pods...)
		sort.Sort(podByCreationTimestampAndPhase(sorted))
		pod := sorted[0]
		if replication.IsPodReady(pod) {
			ready++
			if replication.IsPodAvailable(pod, ds.Spec.MinReadySeconds, now) {
				available++
			}
		}
		if util.IsPodUpdated(pod, hash, generation) {
			updated++
		}
	}
	st.DesiredNumberScheduled = desired
	st.CurrentNumberScheduled = current
	st.NumberMisscheduled = misscheduled
	st.NumberReady = ready
	st.UpdatedNumberScheduled = updated
	st.NumberAvailable = available
	st.NumberUnavailable = desired - available
	return st
}

// updateDaemonSetStatus computes the status and writes it when it changed
// (or observedGeneration lags), retrying once with a fresh copy.
func (c *Controller) updateDaemonSetStatus(ctx context.Context, ds *appsv1.DaemonSet, nodes []*corev1.Node, pred *util.NodePredicate, nodeToPods map[string][]*corev1.Pod, hash string, updateObservedGen bool) error {
	st := calculateStatus(ds, nodes, pred, nodeToPods, hash, c.clock.Now())
	if err := c.storeStatus(ctx, ds, st, updateObservedGen); err != nil {
		return fmt.Errorf("error storing status for DaemonSet %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	// Check availability again once minReadySeconds has passed.
	if ds.Spec.MinReadySeconds > 0 && st.NumberReady != st.NumberAvailable {
		c.enqueueAfter(ds, time.Duration(ds.Spec.MinReadySeconds)*time.Second)
	}
	return nil
}

func countsEqual(a, b *appsv1.DaemonSetStatus) bool {
	return a.DesiredNumberScheduled == b.DesiredNumberScheduled &&
		a.CurrentNumberScheduled == b.CurrentNumberScheduled &&
		a.NumberMisscheduled == b.NumberMisscheduled &&
		a.NumberReady == b.NumberReady &&
		a.UpdatedNumberScheduled == b.UpdatedNumberScheduled &&
		a.NumberAvailable == b.NumberAvailable &&
		a.NumberUnavailable == b.NumberUnavailable
}

func (c *Controller) storeStatus(ctx context.Context, ds *appsv1.DaemonSet, st appsv1.DaemonSetStatus, updateObservedGen bool) error {
	if countsEqual(&ds.Status, &st) && ds.Status.ObservedGeneration >= ds.Generation {
		return nil
	}
	toUpdate := ds.DeepCopy()
	dsClient := c.client.AppsV1().DaemonSets(ds.Namespace)
	var err error
	for i := 0; ; i++ {
		if updateObservedGen {
			toUpdate.Status.ObservedGeneration = ds.Generation
		}
		toUpdate.Status.DesiredNumberScheduled = st.DesiredNumberScheduled
		toUpdate.Status.CurrentNumberScheduled = st.CurrentNumberScheduled
		toUpdate.Status.NumberMisscheduled = st.NumberMisscheduled
		toUpdate.Status.NumberReady = st.NumberReady
		toUpdate.Status.UpdatedNumberScheduled = st.UpdatedNumberScheduled
		toUpdate.Status.NumberAvailable = st.NumberAvailable
		toUpdate.Status.NumberUnavailable = st.NumberUnavailable
		klog.FromContext(ctx).V(4).Info("Updating status", "daemonSet", klog.KObj(ds),
			"desired", st.DesiredNumberScheduled, "current", st.CurrentNumberScheduled, "ready", st.NumberReady,
			"updated", st.UpdatedNumberScheduled, "available", st.NumberAvailable, "misscheduled", st.NumberMisscheduled)
		if _, err = dsClient.UpdateStatus(ctx, toUpdate, metav1.UpdateOptions{}); err == nil {
			return nil
		}
		if i >= statusUpdateRetries {
			return err
		}
		fresh, getErr := dsClient.Get(ctx, ds.Name, metav1.GetOptions{})
		if getErr != nil {
			return getErr
		}
		toUpdate = fresh
	}
}
