// Package autoscaling holds herd's rules for autoscaling HorizontalPodAutoscalers
// (Kubernetes' autoscaling/v2 defaulting and validation, and the
// conversion that serves autoscaling/v1 as a view of the v2 object). The
// controller lives in pkg/controller/podautoscaler.
package autoscaling
