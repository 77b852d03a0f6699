package autoscaling

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// DefaultCPUUtilization is the target of an HPA that names no metric.
const DefaultCPUUtilization int32 = 80

// RegisterDefaults adds the defaulting functions to s.
func RegisterDefaults(s *runtime.Scheme) {
	s.AddTypeDefaultingFunc(&autoscalingv2.HorizontalPodAutoscaler{}, func(obj interface{}) {
		SetDefaultsHorizontalPodAutoscaler(obj.(*autoscalingv2.HorizontalPodAutoscaler))
	})
	s.AddTypeDefaultingFunc(&autoscalingv2.HorizontalPodAutoscalerList{}, func(obj interface{}) {
		l := obj.(*autoscalingv2.HorizontalPodAutoscalerList)
		for i := range l.Items {
			SetDefaultsHorizontalPodAutoscaler(&l.Items[i])
		}
	})
}

// SetDefaultsHorizontalPodAutoscaler applies Kubernetes' defaults:
// minReplicas 1, a CPU target of 80% when no metric is given, and the
// default scaling rules in every unset field of a given behavior.
func SetDefaultsHorizontalPodAutoscaler(hpa *autoscalingv2.HorizontalPodAutoscaler) {
	if hpa.Spec.MinReplicas == nil {
		hpa.Spec.MinReplicas = ptr.To[int32](1)
	}
	if len(hpa.Spec.Metrics) == 0 {
		hpa.Spec.Metrics = []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{
				Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(DefaultCPUUtilization)}},
		}}
	}
	if b := hpa.Spec.Behavior; b != nil {
		b.ScaleUp = ScaleUpRules(b.ScaleUp)
		b.ScaleDown = ScaleDownRules(b.ScaleDown)
	}
}

// ScaleUpRules fills the unset fields of r with the default scale-up rules:
// no stabilization, the larger of 4 pods or 100% per 15 s.
func ScaleUpRules(r *autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	d := &autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: ptr.To[int32](0),
		SelectPolicy:               ptr.To(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
	return merge(d, r)
}

// ScaleDownRules fills the unset fields of r with the default scale-down
// rules: 100% per 15 s; the stabilization window stays unset (the
// controller's default, 5 minutes).
func ScaleDownRules(r *autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	d := &autoscalingv2.HPAScalingRules{
		SelectPolicy: ptr.To(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
	return merge(d, r)
}

func merge(d, r *autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if r == nil {
		return d
	}
	if r.StabilizationWindowSeconds != nil {
		d.StabilizationWindowSeconds = r.StabilizationWindowSeconds
	}
	if r.SelectPolicy != nil {
		d.SelectPolicy = r.SelectPolicy
	}
	if r.Policies != nil {
		d.Policies = r.Policies
	}
	d.Tolerance = r.Tolerance
	return d
}
