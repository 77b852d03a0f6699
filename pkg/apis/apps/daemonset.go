package apps

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateDaemonSet validates a DaemonSet on create.
func ValidateDaemonSet(ds *appsv1.DaemonSet) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMeta(&ds.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateDaemonSetSpec(ds, field.NewPath("spec"))...)
	return allErrs
}

// ValidateDaemonSetUpdate validates an update of a DaemonSet's spec and
// metadata: the selector is immutable (apps/v1) and the template generation
// (annotation deprecated.daemonset.template.generation, Kubernetes'
// spec.templateGeneration) must move exactly with template changes.
func ValidateDaemonSetUpdate(newDS, oldDS *appsv1.DaemonSet) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newDS.ObjectMeta, &oldDS.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateDaemonSetTemplateGenerationUpdate(newDS, oldDS, field.NewPath("spec"))...)
	allErrs = append(allErrs, validateDaemonSetSpec(newDS, field.NewPath("spec"))...)
	allErrs = append(allErrs, apivalidation.ValidateImmutableField(newDS.Spec.Selector, oldDS.Spec.Selector, field.NewPath("spec").Child("selector"))...)
	return allErrs
}

// ValidateDaemonSetStatusUpdate validates an update of a DaemonSet's status.
func ValidateDaemonSetStatusUpdate(newDS, oldDS *appsv1.DaemonSet) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newDS.ObjectMeta, &oldDS.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateDaemonSetStatus(&newDS.Status, field.NewPath("status"))...)
	allErrs = append(allErrs, validateCollisionCountUpdate(newDS.Status.CollisionCount, oldDS.Status.CollisionCount)...)
	return allErrs
}

// SetDaemonSetTemplateGeneration does the DaemonSet strategy's bookkeeping
// of the template generation, kept in apps/v1 in the
// deprecated.daemonset.template.generation annotation: 1 on create (oldDS
// nil), the old value + 1 when an update changes the template, otherwise the
// old value when the update omits the annotation.
func SetDaemonSetTemplateGeneration(newDS, oldDS *appsv1.DaemonSet) {
	if newDS.Annotations == nil {
		newDS.Annotations = map[string]string{}
	}
	if oldDS == nil {
		newDS.Annotations[appsv1.DeprecatedTemplateGeneration] = "1"
		return
	}
	oldGen, _ := templateGeneration(oldDS)
	if !apiequality.Semantic.DeepEqual(newDS.Spec.Template, oldDS.Spec.Template) {
		newDS.Annotations[appsv1.DeprecatedTemplateGeneration] = strconv.FormatInt(oldGen+1, 10)
		return
	}
	if _, ok := newDS.Annotations[appsv1.DeprecatedTemplateGeneration]; !ok {
		if v, ok := oldDS.Annotations[appsv1.DeprecatedTemplateGeneration]; ok {
			newDS.Annotations[appsv1.DeprecatedTemplateGeneration] = v
		}
	}
}

// templateGeneration reads the template generation annotation (0 when absent).
func templateGeneration(ds *appsv1.DaemonSet) (int64, error) {
	v, ok := ds.Annotations[appsv1.DeprecatedTemplateGeneration]
	if !ok {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

func templateGenerationAnnotationPath() *field.Path {
	return field.NewPath("metadata", "annotations").Key(appsv1.DeprecatedTemplateGeneration)
}

func validateDaemonSetTemplateGenerationUpdate(newDS, oldDS *appsv1.DaemonSet, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	newGen, err := templateGeneration(newDS)
	if err != nil {
		// Reported by validateDaemonSetSpec.
		return allErrs
	}
	oldGen, err := templateGeneration(oldDS)
	if err != nil {
		return allErrs
	}
	genPath := fldPath.Child("templateGeneration")
	if newGen < oldGen {
		allErrs = append(allErrs, field.Invalid(genPath, newGen, "must not be decremented"))
	}
	templateUpdated := !apiequality.Semantic.DeepEqual(newDS.Spec.Template, oldDS.Spec.Template)
	if newGen == oldGen && templateUpdated {
		allErrs = append(allErrs, field.Invalid(genPath, newGen, "must be incremented upon template update"))
	} else if newGen > oldGen && !templateUpdated {
		allErrs = append(allErrs, field.Invalid(genPath, newGen, "must not be incremented without template update"))
	}
	return allErrs
}

func validateDaemonSetSpec(ds *appsv1.DaemonSet, fldPath *field.Path) field.ErrorList {
	spec := &ds.Spec
	var allErrs field.ErrorList
	allErrs = append(allErrs, metavalidation.ValidateLabelSelector(spec.Selector, metavalidation.LabelSelectorValidationOptions{}, fldPath.Child("selector"))...)
	selector, err := metav1.LabelSelectorAsSelector(spec.Selector)
	if err == nil && !selector.Matches(labels.Set(spec.Template.Labels)) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("template", "metadata", "labels"), spec.Template.Labels, "`selector` does not match template `labels`"))
	}
	if spec.Selector != nil && len(spec.Selector.MatchLabels)+len(spec.Selector.MatchExpressions) == 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("selector"), spec.Selector, "empty selector is invalid for daemonset"))
	}
	allErrs = append(allErrs, validateCorePodTemplate(&spec.Template, fldPath.Child("template"))...)
	allErrs = append(allErrs, validateRestartAndDeadline(&spec.Template.Spec, fldPath.Child("template", "spec"), "DaemonSet")...)
	allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	if gen, err := templateGeneration(ds); err != nil {
		allErrs = append(allErrs, field.Invalid(templateGenerationAnnotationPath(), ds.Annotations[appsv1.DeprecatedTemplateGeneration], "must be an integer"))
	} else {
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(gen, fldPath.Child("templateGeneration"))...)
	}
	allErrs = append(allErrs, validateDaemonSetUpdateStrategy(&spec.UpdateStrategy, fldPath.Child("updateStrategy"))...)
	if spec.RevisionHistoryLimit != nil {
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(*spec.RevisionHistoryLimit), fldPath.Child("revisionHistoryLimit"))...)
	}
	return allErrs
}

func validateDaemonSetUpdateStrategy(strategy *appsv1.DaemonSetUpdateStrategy, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch strategy.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
	case appsv1.RollingUpdateDaemonSetStrategyType:
		if strategy.RollingUpdate == nil {
			return append(allErrs, field.Required(fldPath.Child("rollingUpdate"), ""))
		}
		allErrs = append(allErrs, validateRollingUpdateDaemonSet(strategy.RollingUpdate, fldPath.Child("rollingUpdate"))...)
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath, strategy,
			[]string{string(appsv1.RollingUpdateDaemonSetStrategyType), string(appsv1.OnDeleteDaemonSetStrategyType)}))
	}
	return allErrs
}

func validateRollingUpdateDaemonSet(ru *appsv1.RollingUpdateDaemonSet, fldPath *field.Path) field.ErrorList {
	maxUnavailable, maxSurge := intOrZero(ru.MaxUnavailable), intOrZero(ru.MaxSurge)
	var allErrs field.ErrorList
	allErrs = append(allErrs, validatePositiveIntOrPercent(maxUnavailable, fldPath.Child("maxUnavailable"))...)
	allErrs = append(allErrs, validatePositiveIntOrPercent(maxSurge, fldPath.Child("maxSurge"))...)
	allErrs = append(allErrs, isNotMoreThan100Percent(maxUnavailable, fldPath.Child("maxUnavailable"))...)
	allErrs = append(allErrs, isNotMoreThan100Percent(maxSurge, fldPath.Child("maxSurge"))...)
	hasUnavailable := getIntOrPercentValue(maxUnavailable) != 0
	hasSurge := getIntOrPercentValue(maxSurge) != 0
	switch {
	case hasUnavailable && hasSurge:
		allErrs = append(allErrs, field.Invalid(fldPath.Child("maxSurge"), maxSurge, "may not be set when maxUnavailable is non-zero"))
	case !hasUnavailable && !hasSurge:
		allErrs = append(allErrs, field.Required(fldPath.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
	}
	return allErrs
}

func validateDaemonSetStatus(status *appsv1.DaemonSetStatus, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, f := range []struct {
		v    int32
		name string
	}{
		{status.CurrentNumberScheduled, "currentNumberScheduled"},
		{status.NumberMisscheduled, "numberMisscheduled"},
		{status.DesiredNumberScheduled, "desiredNumberScheduled"},
		{status.NumberReady, "numberReady"},
	} {
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(f.v), fldPath.Child(f.name))...)
	}
	allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(status.ObservedGeneration, fldPath.Child("observedGeneration"))...)
	for _, f := range []struct {
		v    int32
		name string
	}{
		{status.UpdatedNumberScheduled, "updatedNumberScheduled"},
		{status.NumberAvailable, "numberAvailable"},
		{status.NumberUnavailable, "numberUnavailable"},
	} {
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(f.v), fldPath.Child(f.name))...)
	}
	if status.CollisionCount != nil {
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(*status.CollisionCount), fldPath.Child("collisionCount"))...)
	}
	return allErrs
}
