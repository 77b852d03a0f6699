package autoscaling

import (
	"context"
	"strings"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func validHPA() *autoscalingv2.HorizontalPodAutoscaler {
	h := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas:    5,
		},
	}
	SetDefaultsHorizontalPodAutoscaler(h)
	return h
}

func TestDefaults(t *testing.T) {
	h := validHPA()
	if *h.Spec.MinReplicas != 1 || len(h.Spec.Metrics) != 1 || *h.Spec.Metrics[0].Resource.Target.AverageUtilization != 80 ||
		h.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU {
		t.Fatalf("defaults %+v", h.Spec)
	}
	if h.Spec.Behavior != nil {
		t.Fatal("behavior defaulted though unset")
	}
	h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](5)}}
	SetDefaultsHorizontalPodAutoscaler(h)
	b := h.Spec.Behavior
	if *b.ScaleDown.StabilizationWindowSeconds != 5 || len(b.ScaleDown.Policies) != 1 || b.ScaleDown.Policies[0].Value != 100 ||
		*b.ScaleUp.StabilizationWindowSeconds != 0 || len(b.ScaleUp.Policies) != 2 || *b.ScaleUp.SelectPolicy != autoscalingv2.MaxChangePolicySelect {
		t.Fatalf("behavior defaults %+v %+v", b.ScaleUp, b.ScaleDown)
	}
}

func TestValidation(t *testing.T) {
	if errs := ValidateHorizontalPodAutoscaler(context.Background(), validHPA()); len(errs) != 0 {
		t.Fatalf("valid HPA rejected: %v", errs)
	}
	cases := map[string]func(h *autoscalingv2.HorizontalPodAutoscaler){
		"spec.minReplicas":              func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = ptr.To[int32](0) },
		"spec.maxReplicas":              func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MaxReplicas = 0 },
		"spec.scaleTargetRef.kind":      func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.ScaleTargetRef.Kind = "" },
		"spec.scaleTargetRef.name":      func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.ScaleTargetRef.Name = "a/b" },
		"spec.metrics[0].type":          func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.Metrics[0].Type = "" },
		"spec.metrics[0].resource.name": func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.Metrics[0].Resource.Name = "" },
		"spec.metrics[0].resource.target.averageUtilization": func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics[0].Resource.Target.AverageUtilization = ptr.To[int32](0)
		},
		"spec.metrics[0].resource.target.averageValue": func(h *autoscalingv2.HorizontalPodAutoscaler) {
			q := resource.MustParse("100m")
			h.Spec.Metrics[0].Resource.Target.AverageValue = &q
		},
		"spec.behavior.scaleDown.stabilizationWindowSeconds": func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: ScaleDownRules(&autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](3601)})}
		},
		"spec.behavior.scaleUp.policies[0].periodSeconds": func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
				Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 1801}}}}
		},
		"spec.behavior.scaleUp.policies": func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{}}
		},
	}
	for path, mutate := range cases {
		h := validHPA()
		mutate(h)
		errs := ValidateHorizontalPodAutoscaler(context.Background(), h)
		found := false
		for _, e := range errs {
			if e.Field == path {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no error at that path: %v", path, errs)
		}
	}
	h := validHPA()
	h.Spec.MinReplicas = ptr.To[int32](4)
	h.Spec.MaxReplicas = 3
	errs := ValidateHorizontalPodAutoscaler(context.Background(), h)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "must be greater than or equal to `minReplicas`") {
		t.Fatalf("min > max: %v", errs)
	}
}

func TestV1Conversion(t *testing.T) {
	v1 := &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"},
			MaxReplicas: 5, TargetCPUUtilizationPercentage: ptr.To[int32](50)},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 2, CurrentCPUUtilizationPercentage: ptr.To[int32](70)},
	}
	var v2 autoscalingv2.HorizontalPodAutoscaler
	V1ToV2(v1, &v2)
	if *v2.Spec.MinReplicas != 1 || *v2.Spec.Metrics[0].Resource.Target.AverageUtilization != 50 ||
		*v2.Status.CurrentMetrics[0].Resource.Current.AverageUtilization != 70 || v2.Status.CurrentReplicas != 2 {
		t.Fatalf("v1 → v2: %+v", v2)
	}
	var back autoscalingv1.HorizontalPodAutoscaler
	V2ToV1(&v2, &back)
	if *back.Spec.TargetCPUUtilizationPercentage != 50 || *back.Status.CurrentCPUUtilizationPercentage != 70 || *back.Spec.MinReplicas != 1 {
		t.Fatalf("v2 → v1: %+v", back)
	}
	// A v1 HPA without a target gets v2's default of 80%.
	v1.Spec.TargetCPUUtilizationPercentage = nil
	V1ToV2(v1, &v2)
	if *v2.Spec.Metrics[0].Resource.Target.AverageUtilization != DefaultCPUUtilization {
		t.Fatalf("default target: %+v", v2.Spec.Metrics)
	}
}

func TestV1RoundTripKeepsWhatV1CannotShow(t *testing.T) {
	h := validHPA()
	memQ := resource.MustParse("100Mi")
	h.Spec.Metrics = append(h.Spec.Metrics,
		autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &memQ}}},
		autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: "qps"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &memQ}}})
	h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](5)}}
	h.Annotations = map[string]string{"keep": "me"}
	SetDefaultsHorizontalPodAutoscaler(h)
	h.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "ReadyForNewScale"}}

	var v1 autoscalingv1.HorizontalPodAutoscaler
	V2ToV1(h, &v1)
	if *v1.Spec.TargetCPUUtilizationPercentage != 80 || v1.Annotations[MetricSpecsAnnotation] == "" ||
		v1.Annotations[BehaviorSpecsAnnotation] == "" || !strings.Contains(v1.Annotations[ConditionsAnnotation], "ReadyForNewScale") {
		t.Fatalf("v1 view: %+v", v1.ObjectMeta.Annotations)
	}
	if !strings.Contains(v1.Annotations[MetricSpecsAnnotation], `"targetAverageValue":"100Mi"`) {
		t.Fatalf("metrics annotation %s", v1.Annotations[MetricSpecsAnnotation])
	}
	if len(h.Annotations) != 1 {
		t.Fatal("V2ToV1 changed its input")
	}
	var back autoscalingv2.HorizontalPodAutoscaler
	V1ToV2(&v1, &back)
	// As in Kubernetes, the other metrics come first, then the CPU target.
	if len(back.Spec.Metrics) != 3 || back.Spec.Metrics[0].Resource.Name != corev1.ResourceMemory ||
		back.Spec.Metrics[1].Pods.Metric.Name != "qps" || !isCPUUtilization(back.Spec.Metrics[2]) {
		t.Fatalf("metrics after the round trip: %+v", back.Spec.Metrics)
	}
	if back.Spec.Behavior == nil || *back.Spec.Behavior.ScaleDown.StabilizationWindowSeconds != 5 {
		t.Fatalf("behavior lost: %+v", back.Spec.Behavior)
	}
	if len(back.Annotations) != 1 || back.Annotations["keep"] != "me" || len(back.Status.Conditions) != 1 {
		t.Fatalf("annotations %v conditions %v", back.Annotations, back.Status.Conditions)
	}
}
