// Package ingressclass defines how the API server serves
// networking.k8s.io/v1 IngressClasses: validation (the controller is
// immutable) and table columns.
package ingressclass

import (
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/networking"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the ingressclasses resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:   networkingv1.SchemeGroupVersion,
		Resource:       "ingressclasses",
		Singular:       "ingressclass",
		Kind:           "IngressClass",
		New:            func() runtime.Object { return &networkingv1.IngressClass{} },
		NewList:        func() runtime.Object { return &networkingv1.IngressClassList{} },
		HasGeneration:  true,
		Validate:       registry.Validator(networking.ValidateIngressClass),
		ValidateUpdate: registry.UpdateValidator(networking.ValidateIngressClassUpdate),
		Table:          printers.For(schema.GroupResource{Group: networkingv1.GroupName, Resource: "ingressclasses"}),
	}
}
