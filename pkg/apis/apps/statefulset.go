package apps

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// statefulSetOptions mirrors the options Kubernetes uses on update: a
// serviceName stored before it was validated may stay, and the (immutable)
// volume claim templates are not re-validated.
type statefulSetOptions struct {
	allowInvalidServiceName          bool
	skipValidateVolumeClaimTemplates bool
}

// ValidateStatefulSet validates a StatefulSet on create.
func ValidateStatefulSet(ss *appsv1.StatefulSet) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMeta(&ss.ObjectMeta, true, apivalidation.NameIsDNSLabel, field.NewPath("metadata"))
	allErrs = append(allErrs, validateStatefulSetSpec(&ss.Spec, field.NewPath("spec"), statefulSetOptions{})...)
	return allErrs
}

// ValidateStatefulSetUpdate validates an update of a StatefulSet's spec and
// metadata: only replicas, ordinals, template, updateStrategy,
// revisionHistoryLimit, persistentVolumeClaimRetentionPolicy and
// minReadySeconds may change.
func ValidateStatefulSetUpdate(newSS, oldSS *appsv1.StatefulSet) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newSS.ObjectMeta, &oldSS.ObjectMeta, field.NewPath("metadata"))
	opts := statefulSetOptions{
		allowInvalidServiceName:          newSS.Spec.ServiceName == oldSS.Spec.ServiceName,
		skipValidateVolumeClaimTemplates: apiequality.Semantic.DeepEqual(newSS.Spec.VolumeClaimTemplates, oldSS.Spec.VolumeClaimTemplates),
	}
	allErrs = append(allErrs, validateStatefulSetSpec(&newSS.Spec, field.NewPath("spec"), opts)...)

	clone := newSS.Spec.DeepCopy()
	clone.Replicas = oldSS.Spec.Replicas
	clone.Ordinals = oldSS.Spec.Ordinals
	clone.Template = oldSS.Spec.Template
	clone.UpdateStrategy = oldSS.Spec.UpdateStrategy
	clone.RevisionHistoryLimit = oldSS.Spec.RevisionHistoryLimit
	clone.PersistentVolumeClaimRetentionPolicy = oldSS.Spec.PersistentVolumeClaimRetentionPolicy
	clone.MinReadySeconds = oldSS.Spec.MinReadySeconds
	if !apiequality.Semantic.DeepEqual(*clone, oldSS.Spec) {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec"), "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
	}
	return allErrs
}

// ValidateStatefulSetStatusUpdate validates an update of a StatefulSet's status.
func ValidateStatefulSetStatusUpdate(newSS, oldSS *appsv1.StatefulSet) field.ErrorList {
	allErrs := validateStatefulSetStatus(&newSS.Status, field.NewPath("status"))
	allErrs = append(allErrs, apivalidation.ValidateObjectMetaUpdate(&newSS.ObjectMeta, &oldSS.ObjectMeta, field.NewPath("metadata"))...)
	allErrs = append(allErrs, validateCollisionCountUpdate(newSS.Status.CollisionCount, oldSS.Status.CollisionCount)...)
	return allErrs
}

func validateStatefulSetSpec(spec *appsv1.StatefulSetSpec, fldPath *field.Path, opts statefulSetOptions) field.ErrorList {
	var allErrs field.ErrorList
	switch spec.PodManagementPolicy {
	case "":
		allErrs = append(allErrs, field.Required(fldPath.Child("podManagementPolicy"), ""))
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		allErrs = append(allErrs, field.Invalid(fldPath.Child("podManagementPolicy"), spec.PodManagementPolicy,
			fmt.Sprintf("must be '%s' or '%s'", appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement)))
	}

	strategyPath := fldPath.Child("updateStrategy")
	switch spec.UpdateStrategy.Type {
	case "":
		allErrs = append(allErrs, field.Required(strategyPath, ""))
	case appsv1.OnDeleteStatefulSetStrategyType:
		if spec.UpdateStrategy.RollingUpdate != nil {
			allErrs = append(allErrs, field.Invalid(strategyPath.Child("rollingUpdate"), spec.UpdateStrategy.RollingUpdate,
				fmt.Sprintf("only allowed for updateStrategy '%s'", appsv1.RollingUpdateStatefulSetStrategyType)))
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		if spec.UpdateStrategy.RollingUpdate != nil {
			allErrs = append(allErrs, validateRollingUpdateStatefulSet(spec.UpdateStrategy.RollingUpdate, strategyPath.Child("rollingUpdate"))...)
		}
	default:
		allErrs = append(allErrs, field.Invalid(strategyPath, spec.UpdateStrategy,
			fmt.Sprintf("must be '%s' or '%s'", appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType)))
	}

	if p := spec.PersistentVolumeClaimRetentionPolicy; p != nil {
		policyPath := fldPath.Child("persistentVolumeClaimRetentionPolicy")
		allErrs = append(allErrs, validatePVCRetentionPolicyType(p.WhenDeleted, policyPath.Child("whenDeleted"))...)
		allErrs = append(allErrs, validatePVCRetentionPolicyType(p.WhenScaled, policyPath.Child("whenScaled"))...)
	}
	if !opts.skipValidateVolumeClaimTemplates {
		for i := range spec.VolumeClaimTemplates {
			allErrs = append(allErrs, validateVolumeClaimTemplateSpec(&spec.VolumeClaimTemplates[i].Spec, fldPath.Child("volumeClaimTemplates").Index(i).Child("spec"))...)
		}
	}

	allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(replicasOrZero(spec.Replicas)), fldPath.Child("replicas"))...)
	allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	if spec.Ordinals != nil {
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(spec.Ordinals.Start), fldPath.Child("ordinals", "start"))...)
	}
	// serviceName is optional; when set it names a (headless) Service.
	if spec.ServiceName != "" && !opts.allowInvalidServiceName {
		for _, msg := range utilvalidation.IsDNS1123Label(spec.ServiceName) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("serviceName"), spec.ServiceName, msg))
		}
	}

	allErrs = append(allErrs, validateSelector(spec.Selector, fldPath.Child("selector"), "statefulset")...)
	selector, err := metav1.LabelSelectorAsSelector(spec.Selector)
	if err != nil {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("selector"), spec.Selector, ""))
	} else {
		allErrs = append(allErrs, validateStatefulSetTemplate(spec, selector, fldPath.Child("template"))...)
	}
	allErrs = append(allErrs, validateRestartAndDeadline(&spec.Template.Spec, fldPath.Child("template", "spec"), "StatefulSet")...)
	return allErrs
}

// validateStatefulSetTemplate checks the template against the selector and
// runs the core template rules. Volume mounts may name volume claim
// templates, so those are presented to the core rules as claim volumes.
func validateStatefulSetTemplate(spec *appsv1.StatefulSetSpec, selector labels.Selector, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	tmpl := &spec.Template
	if !selector.Empty() && !selector.Matches(labels.Set(tmpl.Labels)) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("metadata", "labels"), tmpl.Labels, "`selector` does not match template `labels`"))
	}
	withClaims := tmpl
	if len(spec.VolumeClaimTemplates) > 0 {
		withClaims = tmpl.DeepCopy()
		existing := sets.New[string]()
		for _, v := range withClaims.Spec.Volumes {
			existing.Insert(v.Name)
		}
		for _, claim := range spec.VolumeClaimTemplates {
			if claim.Name == "" || existing.Has(claim.Name) {
				continue
			}
			withClaims.Spec.Volumes = append(withClaims.Spec.Volumes, corev1.Volume{
				Name: claim.Name,
				VolumeSource: corev1.VolumeSource{
					PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim.Name},
				},
			})
		}
	}
	allErrs = append(allErrs, validateCorePodTemplate(withClaims, fldPath)...)
	return allErrs
}

func validateRollingUpdateStatefulSet(ru *appsv1.RollingUpdateStatefulSetStrategy, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if ru.Partition != nil {
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(*ru.Partition), fldPath.Child("partition"))...)
	}
	if ru.MaxUnavailable != nil {
		p := fldPath.Child("maxUnavailable")
		allErrs = append(allErrs, validatePositiveIntOrPercent(*ru.MaxUnavailable, p)...)
		if getIntOrPercentValue(*ru.MaxUnavailable) == 0 {
			allErrs = append(allErrs, field.Invalid(p, *ru.MaxUnavailable, "cannot be 0"))
		}
		allErrs = append(allErrs, isNotMoreThan100Percent(*ru.MaxUnavailable, p)...)
	}
	return allErrs
}

func validatePVCRetentionPolicyType(policy appsv1.PersistentVolumeClaimRetentionPolicyType, fldPath *field.Path) field.ErrorList {
	switch policy {
	case appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType:
		return nil
	}
	return field.ErrorList{field.NotSupported(fldPath, policy, []string{
		string(appsv1.RetainPersistentVolumeClaimRetentionPolicyType),
		string(appsv1.DeletePersistentVolumeClaimRetentionPolicyType)})}
}

var supportedAccessModes = sets.New(
	corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod)

// validateVolumeClaimTemplateSpec applies the core PersistentVolumeClaim spec
// rules a claim template needs before a claim can be created from it:
// access modes and a positive storage request.
func validateVolumeClaimTemplateSpec(spec *corev1.PersistentVolumeClaimSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(spec.AccessModes) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("accessModes"), "at least 1 access mode is required"))
	}
	foundReadWriteOncePod, foundOther := false, false
	for _, mode := range spec.AccessModes {
		if !supportedAccessModes.Has(mode) {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("accessModes"), mode, sets.List(supportedAccessModes)))
		}
		if mode == corev1.ReadWriteOncePod {
			foundReadWriteOncePod = true
		} else if supportedAccessModes.Has(mode) {
			foundOther = true
		}
	}
	if foundReadWriteOncePod && foundOther {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("accessModes"), "may not use ReadWriteOncePod with other access modes"))
	}
	storagePath := fldPath.Child("resources").Key(string(corev1.ResourceStorage))
	storage, ok := spec.Resources.Requests[corev1.ResourceStorage]
	switch {
	case !ok:
		allErrs = append(allErrs, field.Required(storagePath, ""))
	case storage.Sign() <= 0:
		allErrs = append(allErrs, field.Invalid(storagePath, storage.String(), "must be greater than zero"))
	}
	return allErrs
}

func validateStatefulSetStatus(status *appsv1.StatefulSetStatus, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, f := range []struct {
		v    int32
		name string
	}{
		{status.Replicas, "replicas"},
		{status.ReadyReplicas, "readyReplicas"},
		{status.CurrentReplicas, "currentReplicas"},
		{status.UpdatedReplicas, "updatedReplicas"},
		{status.AvailableReplicas, "availableReplicas"},
	} {
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(f.v), fldPath.Child(f.name))...)
	}
	allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(status.ObservedGeneration, fldPath.Child("observedGeneration"))...)
	if status.CollisionCount != nil {
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(*status.CollisionCount), fldPath.Child("collisionCount"))...)
	}
	const msg = "cannot be greater than status.replicas"
	if status.ReadyReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("readyReplicas"), status.ReadyReplicas, msg))
	}
	if status.CurrentReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("currentReplicas"), status.CurrentReplicas, msg))
	}
	if status.UpdatedReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("updatedReplicas"), status.UpdatedReplicas, msg))
	}
	if status.AvailableReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("availableReplicas"), status.AvailableReplicas, msg))
	}
	if status.AvailableReplicas > status.ReadyReplicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("availableReplicas"), status.AvailableReplicas, "cannot be greater than status.readyReplicas"))
	}
	return allErrs
}
