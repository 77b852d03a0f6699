package autoscaling

import (
	"context"
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	// MaxStabilizationWindowSeconds bounds a rule's window (one hour).
	MaxStabilizationWindowSeconds int32 = 3600
	// MaxPeriodSeconds bounds a policy's period (30 minutes).
	MaxPeriodSeconds int32 = 1800
)

// ValidateHorizontalPodAutoscaler checks a new HPA.
func ValidateHorizontalPodAutoscaler(_ context.Context, obj runtime.Object) field.ErrorList {
	hpa := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	allErrs := apimachineryvalidation.ValidateObjectMeta(&hpa.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return append(allErrs, validateSpec(&hpa.Spec, field.NewPath("spec"))...)
}

// ValidateHorizontalPodAutoscalerUpdate checks an update.
func ValidateHorizontalPodAutoscalerUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	hpa, oldHPA := obj.(*autoscalingv2.HorizontalPodAutoscaler), old.(*autoscalingv2.HorizontalPodAutoscaler)
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&hpa.ObjectMeta, &oldHPA.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateSpec(&hpa.Spec, field.NewPath("spec"))...)
}

// ValidateHorizontalPodAutoscalerStatusUpdate checks a status update.
func ValidateHorizontalPodAutoscalerStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	hpa, oldHPA := obj.(*autoscalingv2.HorizontalPodAutoscaler), old.(*autoscalingv2.HorizontalPodAutoscaler)
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&hpa.ObjectMeta, &oldHPA.ObjectMeta, field.NewPath("metadata"))
	st, p := hpa.Status, field.NewPath("status")
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(st.CurrentReplicas), p.Child("currentReplicas"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(st.DesiredReplicas), p.Child("desiredReplicas"))...)
	return allErrs
}

func validateSpec(spec *autoscalingv2.HorizontalPodAutoscalerSpec, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if spec.MinReplicas != nil && *spec.MinReplicas < 1 {
		allErrs = append(allErrs, field.Invalid(p.Child("minReplicas"), *spec.MinReplicas, "must be greater than or equal to 1"))
	}
	if spec.MaxReplicas < 1 {
		allErrs = append(allErrs, field.Invalid(p.Child("maxReplicas"), spec.MaxReplicas, "must be greater than 0"))
	}
	if spec.MinReplicas != nil && spec.MaxReplicas < *spec.MinReplicas {
		allErrs = append(allErrs, field.Invalid(p.Child("maxReplicas"), spec.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	ref := p.Child("scaleTargetRef")
	if spec.ScaleTargetRef.Kind == "" {
		allErrs = append(allErrs, field.Required(ref.Child("kind"), ""))
	} else {
		for _, msg := range path.IsValidPathSegmentName(spec.ScaleTargetRef.Kind) {
			allErrs = append(allErrs, field.Invalid(ref.Child("kind"), spec.ScaleTargetRef.Kind, msg))
		}
	}
	if spec.ScaleTargetRef.Name == "" {
		allErrs = append(allErrs, field.Required(ref.Child("name"), ""))
	} else {
		for _, msg := range path.IsValidPathSegmentName(spec.ScaleTargetRef.Name) {
			allErrs = append(allErrs, field.Invalid(ref.Child("name"), spec.ScaleTargetRef.Name, msg))
		}
	}
	for i := range spec.Metrics {
		allErrs = append(allErrs, validateMetric(&spec.Metrics[i], p.Child("metrics").Index(i))...)
	}
	if b := spec.Behavior; b != nil {
		allErrs = append(allErrs, validateRules(b.ScaleUp, p.Child("behavior", "scaleUp"))...)
		allErrs = append(allErrs, validateRules(b.ScaleDown, p.Child("behavior", "scaleDown"))...)
	}
	return allErrs
}

var metricTypes = sets.New(string(autoscalingv2.ObjectMetricSourceType), string(autoscalingv2.PodsMetricSourceType),
	string(autoscalingv2.ResourceMetricSourceType), string(autoscalingv2.ExternalMetricSourceType),
	string(autoscalingv2.ContainerResourceMetricSourceType))

func validateMetric(m *autoscalingv2.MetricSpec, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if m.Type == "" {
		return field.ErrorList{field.Required(p.Child("type"), "must specify a metric source type")}
	}
	if !metricTypes.Has(string(m.Type)) {
		return field.ErrorList{field.NotSupported(p.Child("type"), m.Type, sets.List(metricTypes))}
	}
	switch m.Type {
	case autoscalingv2.ResourceMetricSourceType:
		if m.Resource == nil {
			return field.ErrorList{field.Required(p.Child("resource"), "must populate information for the given metric source")}
		}
		allErrs = append(allErrs, validateResourceTarget(string(m.Resource.Name), &m.Resource.Target, p.Child("resource"))...)
	case autoscalingv2.ContainerResourceMetricSourceType:
		if m.ContainerResource == nil {
			return field.ErrorList{field.Required(p.Child("containerResource"), "must populate information for the given metric source")}
		}
		if m.ContainerResource.Container == "" {
			allErrs = append(allErrs, field.Required(p.Child("containerResource", "container"), "must populate container name"))
		}
		allErrs = append(allErrs, validateResourceTarget(string(m.ContainerResource.Name), &m.ContainerResource.Target, p.Child("containerResource"))...)
	case autoscalingv2.PodsMetricSourceType:
		if m.Pods == nil {
			return field.ErrorList{field.Required(p.Child("pods"), "must populate information for the given metric source")}
		}
		allErrs = append(allErrs, validateTarget(&m.Pods.Target, p.Child("pods", "target"))...)
	case autoscalingv2.ObjectMetricSourceType:
		if m.Object == nil {
			return field.ErrorList{field.Required(p.Child("object"), "must populate information for the given metric source")}
		}
		allErrs = append(allErrs, validateTarget(&m.Object.Target, p.Child("object", "target"))...)
	case autoscalingv2.ExternalMetricSourceType:
		if m.External == nil {
			return field.ErrorList{field.Required(p.Child("external"), "must populate information for the given metric source")}
		}
		allErrs = append(allErrs, validateTarget(&m.External.Target, p.Child("external", "target"))...)
	}
	return allErrs
}

func validateResourceTarget(name string, t *autoscalingv2.MetricTarget, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if name == "" {
		allErrs = append(allErrs, field.Required(p.Child("name"), "must specify a resource name"))
	}
	tp := p.Child("target")
	allErrs = append(allErrs, validateTarget(t, tp)...)
	if t.AverageUtilization == nil && t.AverageValue == nil {
		allErrs = append(allErrs, field.Required(tp.Child("averageUtilization"), "must set either a target raw value or a target utilization"))
	}
	if t.AverageUtilization != nil && t.AverageValue != nil {
		allErrs = append(allErrs, field.Forbidden(tp.Child("averageValue"), "may not set both a target raw value and a target utilization"))
	}
	return allErrs
}

func validateTarget(t *autoscalingv2.MetricTarget, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch t.Type {
	case "":
		allErrs = append(allErrs, field.Required(p.Child("type"), "must specify a metric target type"))
	case autoscalingv2.UtilizationMetricType, autoscalingv2.ValueMetricType, autoscalingv2.AverageValueMetricType:
	default:
		allErrs = append(allErrs, field.Invalid(p.Child("type"), t.Type, "must be either Utilization, Value, or AverageValue"))
	}
	if t.Value != nil && t.Value.Sign() != 1 {
		allErrs = append(allErrs, field.Invalid(p.Child("value"), t.Value.String(), "must be positive"))
	}
	if t.AverageValue != nil && t.AverageValue.Sign() != 1 {
		allErrs = append(allErrs, field.Invalid(p.Child("averageValue"), t.AverageValue.String(), "must be positive"))
	}
	if t.AverageUtilization != nil && *t.AverageUtilization < 1 {
		allErrs = append(allErrs, field.Invalid(p.Child("averageUtilization"), *t.AverageUtilization, "must be greater than 0"))
	}
	return allErrs
}

func validateRules(r *autoscalingv2.HPAScalingRules, p *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var allErrs field.ErrorList
	if w := r.StabilizationWindowSeconds; w != nil && (*w < 0 || *w > MaxStabilizationWindowSeconds) {
		allErrs = append(allErrs, field.Invalid(p.Child("stabilizationWindowSeconds"), *w,
			fmt.Sprintf("must be greater than or equal to zero and less than or equal to %d", MaxStabilizationWindowSeconds)))
	}
	if sp := r.SelectPolicy; sp != nil {
		switch *sp {
		case autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect, autoscalingv2.DisabledPolicySelect:
		default:
			allErrs = append(allErrs, field.NotSupported(p.Child("selectPolicy"), *sp,
				[]string{string(autoscalingv2.DisabledPolicySelect), string(autoscalingv2.MaxChangePolicySelect), string(autoscalingv2.MinChangePolicySelect)}))
		}
	}
	if len(r.Policies) == 0 && (r.SelectPolicy == nil || *r.SelectPolicy != autoscalingv2.DisabledPolicySelect) {
		allErrs = append(allErrs, field.Required(p.Child("policies"), "must specify at least one Policy"))
	}
	for i, pol := range r.Policies {
		pp := p.Child("policies").Index(i)
		switch pol.Type {
		case autoscalingv2.PodsScalingPolicy, autoscalingv2.PercentScalingPolicy:
		default:
			allErrs = append(allErrs, field.NotSupported(pp.Child("type"), pol.Type,
				[]string{string(autoscalingv2.PodsScalingPolicy), string(autoscalingv2.PercentScalingPolicy)}))
		}
		if pol.Value <= 0 {
			allErrs = append(allErrs, field.Invalid(pp.Child("value"), pol.Value, "must be greater than zero"))
		}
		if pol.PeriodSeconds <= 0 || pol.PeriodSeconds > MaxPeriodSeconds {
			allErrs = append(allErrs, field.Invalid(pp.Child("periodSeconds"), pol.PeriodSeconds,
				fmt.Sprintf("must be greater than zero and less than or equal to %d", MaxPeriodSeconds)))
		}
	}
	if t := r.Tolerance; t != nil && t.Sign() < 0 {
		allErrs = append(allErrs, field.Invalid(p.Child("tolerance"), t.String(), "must be greater than or equal to 0"))
	}
	return allErrs
}
