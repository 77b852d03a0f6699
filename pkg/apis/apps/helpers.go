package apps

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/herd-project/herd/pkg/apis/core"
)

// intOrZero turns an unset int-or-percent into the integer 0, as the
// conversion to Kubernetes' internal types does.
func intOrZero(v *intstr.IntOrString) intstr.IntOrString {
	if v == nil {
		return intstr.FromInt32(0)
	}
	return *v
}

// validatePositiveIntOrPercent checks a non-negative integer or a valid percentage.
func validatePositiveIntOrPercent(v intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch v.Type {
	case intstr.String:
		for _, msg := range utilvalidation.IsValidPercent(v.StrVal) {
			allErrs = append(allErrs, field.Invalid(fldPath, v, msg))
		}
	case intstr.Int:
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(v.IntValue()), fldPath)...)
	default:
		allErrs = append(allErrs, field.Invalid(fldPath, v, "must be an integer or percentage (e.g '5%%')"))
	}
	return allErrs
}

func getPercentValue(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || len(utilvalidation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	value, _ := strconv.Atoi(v.StrVal[:len(v.StrVal)-1])
	return value, true
}

func getIntOrPercentValue(v intstr.IntOrString) int {
	if value, isPercent := getPercentValue(v); isPercent {
		return value
	}
	return v.IntValue()
}

// isNotMoreThan100Percent rejects percentages above 100%.
func isNotMoreThan100Percent(v intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	value, isPercent := getPercentValue(v)
	if !isPercent || value <= 100 {
		return nil
	}
	return field.ErrorList{field.Invalid(fldPath, v, "must not be greater than 100%")}
}

// isDecremented reports whether a counter went down (or was removed).
func isDecremented(update, old *int32) bool {
	if update == nil && old != nil {
		return true
	}
	if update == nil || old == nil {
		return false
	}
	return *update < *old
}

// validateCollisionCountUpdate rejects decrementing status.collisionCount.
func validateCollisionCountUpdate(update, old *int32) field.ErrorList {
	if !isDecremented(update, old) {
		return nil
	}
	var value int32
	if update != nil {
		value = *update
	}
	return field.ErrorList{field.Invalid(field.NewPath("status").Child("collisionCount"), value, "cannot be decremented")}
}

// validateCorePodTemplate runs the core pod template validation restricted
// to restartPolicy Always, dropping core's restartPolicy findings: the apps
// rules report those with Kubernetes' exact error (NotSupported).
func validateCorePodTemplate(tmpl *corev1.PodTemplateSpec, fldPath *field.Path) field.ErrorList {
	opts := core.PodValidationOptions{AllowedRestartPolicies: []corev1.RestartPolicy{corev1.RestartPolicyAlways}}
	restartPath := fldPath.Child("spec", "restartPolicy").String()
	var allErrs field.ErrorList
	for _, err := range core.ValidatePodTemplateSpec(tmpl, fldPath, opts) {
		if err.Field != restartPath {
			allErrs = append(allErrs, err)
		}
	}
	return allErrs
}

// validateRestartAndDeadline applies the rules every apps workload template
// shares: restartPolicy Always, no activeDeadlineSeconds.
func validateRestartAndDeadline(spec *corev1.PodSpec, specPath *field.Path, kind string) field.ErrorList {
	var allErrs field.ErrorList
	if spec.RestartPolicy != corev1.RestartPolicyAlways {
		allErrs = append(allErrs, field.NotSupported(specPath.Child("restartPolicy"), spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if spec.ActiveDeadlineSeconds != nil {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("activeDeadlineSeconds"), fmt.Sprintf("activeDeadlineSeconds in %s is not Supported", kind)))
	}
	return allErrs
}

// validateTemplateForReplicaSet validates a ReplicaSet or Deployment pod
// template against its selector and replica count.
func validateTemplateForReplicaSet(tmpl *corev1.PodTemplateSpec, selector labels.Selector, replicas int32, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if !selector.Empty() && !selector.Matches(labels.Set(tmpl.Labels)) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("metadata", "labels"), tmpl.Labels, "`selector` does not match template `labels`"))
	}
	allErrs = append(allErrs, validateCorePodTemplate(tmpl, fldPath)...)
	if replicas > 1 {
		allErrs = append(allErrs, validateReadOnlyPersistentDisks(tmpl.Spec.Volumes, fldPath.Child("spec", "volumes"))...)
	}
	allErrs = append(allErrs, validateRestartAndDeadline(&tmpl.Spec, fldPath.Child("spec"), "ReplicaSet")...)
	return allErrs
}

// validateReadOnlyPersistentDisks: a GCE PD shared by several replicas must be read-only.
func validateReadOnlyPersistentDisks(volumes []corev1.Volume, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i := range volumes {
		if pd := volumes[i].GCEPersistentDisk; pd != nil && !pd.ReadOnly {
			allErrs = append(allErrs, field.Invalid(fldPath.Index(i).Child("gcePersistentDisk", "readOnly"), false,
				"must be true for replicated pods > 1; GCE PD can only be mounted on multiple machines if it is read-only"))
		}
	}
	return allErrs
}

func replicasOrZero(r *int32) int32 {
	if r == nil {
		return 0
	}
	return *r
}
