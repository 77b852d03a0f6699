package apps

import (
	"bytes"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateControllerRevision validates a ControllerRevision on create: a
// valid name, data present, revision non-negative.
func ValidateControllerRevision(cr *appsv1.ControllerRevision) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMeta(&cr.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	if len(cr.Data.Raw) == 0 && cr.Data.Object == nil {
		allErrs = append(allErrs, field.Required(field.NewPath("data"), "data is mandatory"))
	}
	allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(cr.Revision, field.NewPath("revision"))...)
	return allErrs
}

// ValidateControllerRevisionUpdate validates an update of a
// ControllerRevision: data is immutable, the revision number may change.
func ValidateControllerRevisionUpdate(newCR, oldCR *appsv1.ControllerRevision) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newCR.ObjectMeta, &oldCR.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, ValidateControllerRevision(newCR)...)
	if !rawExtensionEqual(newCR.Data, oldCR.Data) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("data"), newCR.Data, "field is immutable"))
	}
	return allErrs
}

func rawExtensionEqual(a, b runtime.RawExtension) bool {
	if a.Object != nil || b.Object != nil {
		return apiequality.Semantic.DeepEqual(a.Object, b.Object) && bytes.Equal(a.Raw, b.Raw)
	}
	return bytes.Equal(a.Raw, b.Raw)
}
