package printers

import (
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestHPAColumns(t *testing.T) {
	gr := schema.GroupResource{Group: "autoscaling", Resource: "horizontalpodautoscalers"}
	cpu := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: i32(50)}}}
	memQ := resource.MustParse("100Mi")
	mem := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &memQ}}}
	h := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", CreationTimestamp: metav1.NewTime(testNow.Add(-90e9))},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web"},
			MinReplicas:    i32(1), MaxReplicas: 5, Metrics: []autoscalingv2.MetricSpec{cpu, mem}},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 3},
	}
	cells := cellsOf(t, gr, h)
	checkCells(t, cells, []interface{}{"web", "Deployment/web", "cpu: <unknown>/50%, memory: <unknown>/100Mi", "1", int64(5), int64(3), "90s"})
	h.Status.CurrentMetrics = []autoscalingv2.MetricStatus{
		{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU,
			Current: autoscalingv2.MetricValueStatus{AverageUtilization: i32(120)}}},
		{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceMemory,
			Current: autoscalingv2.MetricValueStatus{AverageValue: resource.NewQuantity(64<<20, resource.BinarySI)}}},
	}
	h.Spec.MinReplicas = nil
	cells = cellsOf(t, gr, h)
	checkCells(t, cells, []interface{}{"web", "Deployment/web", "cpu: 120%/50%, memory: 64Mi/100Mi", "<unset>", int64(5), int64(3), "90s"})
	h.Spec.Metrics = append(h.Spec.Metrics, cpu, cpu)
	if got := hpaTargets(h.Spec.Metrics, nil); got != "cpu: <unknown>/50%, memory: <unknown>/100Mi, cpu: <unknown>/50% + 1 more..." {
		t.Fatalf("targets %q", got)
	}
	if got := hpaTargets(nil, nil); got != "<none>" {
		t.Fatalf("no metrics: %q", got)
	}
}

func i32(v int32) *int32 { return &v }
