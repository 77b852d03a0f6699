// Package resourcequota defines how the API server serves core/v1
// ResourceQuotas: validation, the /status subresource (written by the quota
// controller and the quota admission plugin) and table columns. Enforcement
// lives in pkg/admission/resourcequota and pkg/controller/resourcequota.
package resourcequota

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the resourcequotas resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion: corev1.SchemeGroupVersion,
		Resource:     "resourcequotas",
		Singular:     "resourcequota",
		Kind:         "ResourceQuota",
		Namespaced:   true,
		ShortNames:   []string{"quota"},
		New:          func() runtime.Object { return &corev1.ResourceQuota{} },
		NewList:      func() runtime.Object { return &corev1.ResourceQuotaList{} },
		HasStatus:    true,
		// A new quota starts with no status: the controller computes it.
		PrepareForCreate: registry.Preparer(func(q *corev1.ResourceQuota) {
			q.Status = corev1.ResourceQuotaStatus{}
		}),
		Validate:             registry.Validator(core.ValidateResourceQuota),
		ValidateUpdate:       registry.UpdateValidator(core.ValidateResourceQuotaUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(core.ValidateResourceQuotaStatusUpdate),
		Table:                printers.For(schema.GroupResource{Group: corev1.GroupName, Resource: "resourcequotas"}),
	}
}
