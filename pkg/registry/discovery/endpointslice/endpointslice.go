// Package endpointslice defines how the API server serves discovery.k8s.io/v1 EndpointSlices.
package endpointslice

import (
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the endpointslices resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:   discoveryv1.SchemeGroupVersion,
		Resource:       "endpointslices",
		Singular:       "endpointslice",
		Kind:           "EndpointSlice",
		Namespaced:     true,
		ShortNames:     nil,
		New:            func() runtime.Object { return &discoveryv1.EndpointSlice{} },
		NewList:        func() runtime.Object { return &discoveryv1.EndpointSliceList{} },
		Validate:       registry.Validator(Validate),
		ValidateUpdate: registry.UpdateValidator(ValidateUpdate),
		Table:          printers.For(schema.GroupResource{Group: discoveryv1.GroupName, Resource: "endpointslices"}),
	}
}
