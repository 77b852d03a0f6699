// Package clusterrole defines how the API server serves
// rbac.authorization.k8s.io/v1 ClusterRoles: validation (aggregation rules
// included), table columns and the escalation check on writes.
package clusterrole

import (
	"context"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	apisrbac "github.com/herd-project/herd/pkg/apis/rbac"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
	rbacregistry "github.com/herd-project/herd/pkg/registry/rbac"
)

// Definition returns the clusterroles resource; guard checks writes for
// escalation.
func Definition(guard *rbacregistry.Guard) *registry.Definition {
	gr := schema.GroupResource{Group: rbacv1.GroupName, Resource: "clusterroles"}
	return &registry.Definition{
		GroupVersion:   rbacv1.SchemeGroupVersion,
		Resource:       "clusterroles",
		Singular:       "clusterrole",
		Kind:           "ClusterRole",
		New:            func() runtime.Object { return &rbacv1.ClusterRole{} },
		NewList:        func() runtime.Object { return &rbacv1.ClusterRoleList{} },
		Validate:       registry.Validator(apisrbac.ValidateClusterRole),
		ValidateUpdate: registry.UpdateValidator(apisrbac.ValidateClusterRoleUpdate),
		Table:          printers.For(gr),
		WrapMain: rbacregistry.Wrap(func(ctx context.Context, obj runtime.Object) error {
			r := obj.(*rbacv1.ClusterRole)
			return guard.ConfirmRole(ctx, gr, r.Name, "", r.Rules)
		}),
	}
}
