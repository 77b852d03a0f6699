package replicaset

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/klog/v2"
)

func klogStatus(ctx context.Context, rs *appsv1.ReplicaSet, s appsv1.ReplicaSetStatus) {
	klog.FromContext(ctx).V(4).Info("Updating status", "replicaSet", klog.KObj(rs),
		"replicas", s.Replicas, "fullyLabeledReplicas", s.FullyLabeledReplicas,
		"readyReplicas", s.ReadyReplicas, "availableReplicas", s.AvailableReplicas,
		"observedGeneration", s.ObservedGeneration)
}
