package core

import (
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateObjectMeta is the metadata check every group's validation shares:
// apimachinery's plus Kubernetes' rule that short finalizer names are
// standard ones.
func ValidateObjectMeta(meta *metav1.ObjectMeta, namespaced bool, nameFn apimachineryvalidation.ValidateNameFunc, fldPath *field.Path) field.ErrorList {
	return validateObjectMeta(meta, namespaced, nameFn, fldPath)
}

// ValidateObjectMetaUpdate checks a metadata update the same way.
func ValidateObjectMetaUpdate(newMeta, oldMeta *metav1.ObjectMeta, fldPath *field.Path) field.ErrorList {
	return validateObjectMetaUpdate(newMeta, oldMeta, fldPath)
}
