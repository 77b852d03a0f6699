// Package networkpolicy defines how the API server serves
// networking.k8s.io/v1 NetworkPolicies: defaulting, validation and table
// columns. herd stores them; it does not enforce them yet.
package networkpolicy

import (
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/networking"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the networkpolicies resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:   networkingv1.SchemeGroupVersion,
		Resource:       "networkpolicies",
		Singular:       "networkpolicy",
		Kind:           "NetworkPolicy",
		Namespaced:     true,
		ShortNames:     []string{"netpol"},
		New:            func() runtime.Object { return &networkingv1.NetworkPolicy{} },
		NewList:        func() runtime.Object { return &networkingv1.NetworkPolicyList{} },
		HasGeneration:  true,
		Validate:       registry.Validator(networking.ValidateNetworkPolicy),
		ValidateUpdate: registry.UpdateValidator(networking.ValidateNetworkPolicyUpdate),
		Table:          printers.For(schema.GroupResource{Group: networkingv1.GroupName, Resource: "networkpolicies"}),
	}
}
