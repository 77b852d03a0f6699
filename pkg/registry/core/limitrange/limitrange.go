// Package limitrange defines how the API server serves core/v1 LimitRanges:
// Kubernetes' defaulting of Container items, validation and table columns.
// The LimitRanger admission plugin (pkg/admission/limitranger) applies them.
package limitrange

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the limitranges resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:     corev1.SchemeGroupVersion,
		Resource:         "limitranges",
		Singular:         "limitrange",
		Kind:             "LimitRange",
		Namespaced:       true,
		ShortNames:       []string{"limits"},
		New:              func() runtime.Object { return &corev1.LimitRange{} },
		NewList:          func() runtime.Object { return &corev1.LimitRangeList{} },
		PrepareForCreate: registry.Preparer(core.SetDefaultsLimitRange),
		PrepareForUpdate: registry.UpdatePreparer(func(l, _ *corev1.LimitRange) { core.SetDefaultsLimitRange(l) }),
		Validate:         registry.Validator(core.ValidateLimitRange),
		ValidateUpdate:   registry.UpdateValidator(core.ValidateLimitRangeUpdate),
		Table:            printers.For(schema.GroupResource{Group: corev1.GroupName, Resource: "limitranges"}),
	}
}
