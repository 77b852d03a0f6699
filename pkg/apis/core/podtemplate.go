package core

import (
	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// PodValidationOptions tunes pod spec validation for the object that embeds it.
type PodValidationOptions struct {
	// AllowedRestartPolicies, when not empty, restricts spec.restartPolicy
	// (Job: Never, OnFailure; Deployment/ReplicaSet/StatefulSet/DaemonSet: Always).
	// A value outside the list is reported as
	// field.NotSupported(<spec>.restartPolicy, value, AllowedRestartPolicies).
	AllowedRestartPolicies []corev1.RestartPolicy
}

// ValidatePodTemplateSpec validates a pod template embedded in a workload:
// template labels and annotations, the pod spec under fldPath.spec, and no
// ephemeral containers. Like Kubernetes, it expects a defaulted template
// (SetDefaultsPodSpec): restartPolicy, dnsPolicy, terminationGracePeriodSeconds,
// imagePullPolicy, terminationMessagePolicy and port protocols are required.
func ValidatePodTemplateSpec(spec *corev1.PodTemplateSpec, fldPath *field.Path, opts PodValidationOptions) field.ErrorList {
	var allErrs field.ErrorList
	allErrs = append(allErrs, metav1validation.ValidateLabels(spec.Labels, fldPath.Child("labels"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateAnnotations(spec.Annotations, fldPath.Child("annotations"))...)
	allErrs = append(allErrs, validatePodSpecificAnnotations(spec.Annotations, &spec.Spec, fldPath.Child("annotations"))...)
	allErrs = append(allErrs, ValidatePodSpec(&spec.Spec, nil, fldPath.Child("spec"), opts)...)
	if len(spec.Spec.EphemeralContainers) > 0 {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"))
	}
	return allErrs
}

// ValidatePodSpec validates a pod spec. podMeta may be nil for templates.
// It expects a defaulted spec (see ValidatePodTemplateSpec).
func ValidatePodSpec(spec *corev1.PodSpec, podMeta *metav1.ObjectMeta, fldPath *field.Path, opts PodValidationOptions) field.ErrorList {
	return validatePodSpec(spec, podMeta, fldPath, opts, false)
}
