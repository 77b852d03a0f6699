package apps

import (
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/apis/core"
)

// The core/v1 ReplicationController lives here, beside the ReplicaSet whose
// rules it shares (its selector is a plain label map and its template may
// be absent).

func registerReplicationControllerDefaults(s *runtime.Scheme) {
	s.AddTypeDefaultingFunc(&corev1.ReplicationController{}, func(obj interface{}) {
		SetDefaultsReplicationController(obj.(*corev1.ReplicationController))
	})
	s.AddTypeDefaultingFunc(&corev1.ReplicationControllerList{}, func(obj interface{}) {
		l := obj.(*corev1.ReplicationControllerList)
		for i := range l.Items {
			SetDefaultsReplicationController(&l.Items[i])
		}
	})
}

// SetDefaultsReplicationController applies Kubernetes' core/v1 defaults: the
// selector and the object's labels default to the template's labels, and
// replicas to 1.
func SetDefaultsReplicationController(rc *corev1.ReplicationController) {
	if rc.Spec.Template != nil && rc.Spec.Template.Labels != nil {
		if len(rc.Spec.Selector) == 0 {
			rc.Spec.Selector = rc.Spec.Template.Labels
		}
		if len(rc.Labels) == 0 {
			rc.Labels = rc.Spec.Template.Labels
		}
	}
	if rc.Spec.Replicas == nil {
		rc.Spec.Replicas = ptr.To[int32](1)
	}
	if rc.Spec.Template != nil {
		core.SetDefaultsPodSpec(&rc.Spec.Template.Spec)
	}
}

// ValidateReplicationController validates a ReplicationController on create.
func ValidateReplicationController(rc *corev1.ReplicationController) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMeta(&rc.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return append(allErrs, validateReplicationControllerSpec(&rc.Spec, field.NewPath("spec"))...)
}

// ValidateReplicationControllerUpdate validates an update of its spec and
// metadata (the selector may change, unlike a ReplicaSet's).
func ValidateReplicationControllerUpdate(newRC, oldRC *corev1.ReplicationController) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newRC.ObjectMeta, &oldRC.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateReplicationControllerSpec(&newRC.Spec, field.NewPath("spec"))...)
}

// ValidateReplicationControllerStatusUpdate validates an update of its status.
func ValidateReplicationControllerStatusUpdate(newRC, oldRC *corev1.ReplicationController) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newRC.ObjectMeta, &oldRC.ObjectMeta, field.NewPath("metadata"))
	st := &newRC.Status
	fldPath := field.NewPath("status")
	for _, f := range []struct {
		v    int32
		name string
	}{{st.Replicas, "replicas"}, {st.FullyLabeledReplicas, "fullyLabeledReplicas"}, {st.ReadyReplicas, "readyReplicas"}, {st.AvailableReplicas, "availableReplicas"}} {
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(f.v), fldPath.Child(f.name))...)
	}
	allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(st.ObservedGeneration, fldPath.Child("observedGeneration"))...)
	const msg = "cannot be greater than status.replicas"
	if st.FullyLabeledReplicas > st.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("fullyLabeledReplicas"), st.FullyLabeledReplicas, msg))
	}
	if st.ReadyReplicas > st.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("readyReplicas"), st.ReadyReplicas, msg))
	}
	if st.AvailableReplicas > st.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("availableReplicas"), st.AvailableReplicas, msg))
	}
	if st.AvailableReplicas > st.ReadyReplicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("availableReplicas"), st.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	return allErrs
}

func validateReplicationControllerSpec(spec *corev1.ReplicationControllerSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	replicas := replicasOrZero(spec.Replicas)
	allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	if len(spec.Selector) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("selector"), ""))
	} else {
		allErrs = append(allErrs, metav1validation.ValidateLabels(spec.Selector, fldPath.Child("selector"))...)
	}
	allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(replicas), fldPath.Child("replicas"))...)
	tmplPath := fldPath.Child("template")
	if spec.Template == nil {
		return append(allErrs, field.Required(tmplPath, ""))
	}
	if sel := labels.Set(spec.Selector).AsSelector(); !sel.Empty() && !sel.Matches(labels.Set(spec.Template.Labels)) {
		allErrs = append(allErrs, field.Invalid(tmplPath.Child("metadata", "labels"), spec.Template.Labels, "`selector` does not match template `labels`"))
	}
	allErrs = append(allErrs, validateCorePodTemplate(spec.Template, tmplPath)...)
	if replicas > 1 {
		allErrs = append(allErrs, validateReadOnlyPersistentDisks(spec.Template.Spec.Volumes, tmplPath.Child("spec", "volumes"))...)
	}
	return append(allErrs, validateRestartAndDeadline(&spec.Template.Spec, tmplPath.Child("spec"), "ReplicationController")...)
}
