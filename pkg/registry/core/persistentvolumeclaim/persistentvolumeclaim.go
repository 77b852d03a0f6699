// Package persistentvolumeclaim defines how the API server serves core/v1 PersistentVolumeClaims: validation, the /status subresource and table columns.
package persistentvolumeclaim

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the persistentvolumeclaims resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion: corev1.SchemeGroupVersion,
		Resource:     "persistentvolumeclaims",
		Singular:     "persistentvolumeclaim",
		Kind:         "PersistentVolumeClaim",
		Namespaced:   true,
		ShortNames:   []string{"pvc"},
		New:          func() runtime.Object { return &corev1.PersistentVolumeClaim{} },
		NewList:      func() runtime.Object { return &corev1.PersistentVolumeClaimList{} },
		HasStatus:    true,
		PrepareForCreate: registry.Preparer(func(c *corev1.PersistentVolumeClaim) {
			c.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
			core.AddProtectionFinalizerPVC(c)
		}),
		Validate:             registry.Validator(core.ValidatePersistentVolumeClaim),
		ValidateUpdate:       registry.UpdateValidator(core.ValidatePersistentVolumeClaimUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(core.ValidatePersistentVolumeClaimStatusUpdate),
		Table:                printers.For(schema.GroupResource{Group: corev1.GroupName, Resource: "persistentvolumeclaims"}),
	}
}
