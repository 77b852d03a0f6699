// Package ingress defines how the API server serves networking.k8s.io/v1
// Ingresses: validation, the /status subresource and table columns. herd
// stores them for ingress controllers; it routes no traffic itself.
package ingress

import (
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/networking"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the ingresses resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:         networkingv1.SchemeGroupVersion,
		Resource:             "ingresses",
		Singular:             "ingress",
		Kind:                 "Ingress",
		Namespaced:           true,
		ShortNames:           []string{"ing"},
		New:                  func() runtime.Object { return &networkingv1.Ingress{} },
		NewList:              func() runtime.Object { return &networkingv1.IngressList{} },
		HasStatus:            true,
		HasGeneration:        true,
		Validate:             registry.Validator(networking.ValidateIngress),
		ValidateUpdate:       registry.UpdateValidator(networking.ValidateIngressUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(networking.ValidateIngressStatusUpdate),
		Table:                printers.For(schema.GroupResource{Group: networkingv1.GroupName, Resource: "ingresses"}),
	}
}
