// Package lease defines how the API server serves coordination.k8s.io/v1 Leases, which node agents renew as heartbeats and controllers use for leader election.
package lease

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the leases resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:   coordinationv1.SchemeGroupVersion,
		Resource:       "leases",
		Singular:       "lease",
		Kind:           "Lease",
		Namespaced:     true,
		ShortNames:     nil,
		New:            func() runtime.Object { return &coordinationv1.Lease{} },
		NewList:        func() runtime.Object { return &coordinationv1.LeaseList{} },
		Validate:       registry.Validator(Validate),
		ValidateUpdate: registry.UpdateValidator(ValidateUpdate),
		Table:          printers.For(schema.GroupResource{Group: coordinationv1.GroupName, Resource: "leases"}),
	}
}
