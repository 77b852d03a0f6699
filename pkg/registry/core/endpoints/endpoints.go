// Package endpoints defines how the API server serves core/v1 Endpoints.
package endpoints

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the endpoints resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:   corev1.SchemeGroupVersion,
		Resource:       "endpoints",
		Singular:       "endpoints",
		Kind:           "Endpoints",
		Namespaced:     true,
		ShortNames:     []string{"ep"},
		New:            func() runtime.Object { return &corev1.Endpoints{} },
		NewList:        func() runtime.Object { return &corev1.EndpointsList{} },
		Validate:       registry.Validator(core.ValidateEndpoints),
		ValidateUpdate: registry.UpdateValidator(core.ValidateEndpointsUpdate),
		Table:          printers.For(schema.GroupResource{Group: corev1.GroupName, Resource: "endpoints"}),
	}
}
