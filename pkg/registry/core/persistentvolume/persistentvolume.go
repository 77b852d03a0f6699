// Package persistentvolume defines how the API server serves core/v1 PersistentVolumes: validation, the /status subresource and table columns.
package persistentvolume

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the persistentvolumes resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion: corev1.SchemeGroupVersion,
		Resource:     "persistentvolumes",
		Singular:     "persistentvolume",
		Kind:         "PersistentVolume",
		Namespaced:   false,
		ShortNames:   []string{"pv"},
		New:          func() runtime.Object { return &corev1.PersistentVolume{} },
		NewList:      func() runtime.Object { return &corev1.PersistentVolumeList{} },
		HasStatus:    true,
		PrepareForCreate: registry.Preparer(func(v *corev1.PersistentVolume) {
			v.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumePending}
			core.AddProtectionFinalizerPV(v)
		}),
		Validate:             registry.Validator(core.ValidatePersistentVolume),
		ValidateUpdate:       registry.UpdateValidator(core.ValidatePersistentVolumeUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(core.ValidatePersistentVolumeStatusUpdate),
		Table:                printers.For(schema.GroupResource{Group: corev1.GroupName, Resource: "persistentvolumes"}),
	}
}
