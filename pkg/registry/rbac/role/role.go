// Package role defines how the API server serves rbac.authorization.k8s.io/v1
// Roles: validation, table columns and the escalation check on writes.
package role

import (
	"context"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	apisrbac "github.com/herd-project/herd/pkg/apis/rbac"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
	rbacregistry "github.com/herd-project/herd/pkg/registry/rbac"
)

// Definition returns the roles resource; guard checks writes for escalation.
func Definition(guard *rbacregistry.Guard) *registry.Definition {
	gr := schema.GroupResource{Group: rbacv1.GroupName, Resource: "roles"}
	return &registry.Definition{
		GroupVersion:   rbacv1.SchemeGroupVersion,
		Resource:       "roles",
		Singular:       "role",
		Kind:           "Role",
		Namespaced:     true,
		New:            func() runtime.Object { return &rbacv1.Role{} },
		NewList:        func() runtime.Object { return &rbacv1.RoleList{} },
		Validate:       registry.Validator(apisrbac.ValidateRole),
		ValidateUpdate: registry.UpdateValidator(apisrbac.ValidateRoleUpdate),
		Table:          printers.For(gr),
		WrapMain: rbacregistry.Wrap(func(ctx context.Context, obj runtime.Object) error {
			r := obj.(*rbacv1.Role)
			ns, _ := genericapirequest.NamespaceFrom(ctx)
			return guard.ConfirmRole(ctx, gr, r.Name, ns, r.Rules)
		}),
	}
}
