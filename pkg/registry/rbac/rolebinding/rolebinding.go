// Package rolebinding defines how the API server serves
// rbac.authorization.k8s.io/v1 RoleBindings: defaulting of API groups,
// validation (roleRef immutable), table columns and the escalation check on
// writes.
package rolebinding

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

// Definition returns the rolebindings resource; guard checks writes for
// escalation.
func Definition(guard *rbacregistry.Guard) *registry.Definition {
	gr := schema.GroupResource{Group: rbacv1.GroupName, Resource: "rolebindings"}
	prepare := func(b *rbacv1.RoleBinding) {
		apisrbac.SetDefaultsRoleRef(&b.RoleRef)
		apisrbac.SetDefaultsSubjects(b.Subjects)
	}
	return &registry.Definition{
		GroupVersion:     rbacv1.SchemeGroupVersion,
		Resource:         "rolebindings",
		Singular:         "rolebinding",
		Kind:             "RoleBinding",
		Namespaced:       true,
		New:              func() runtime.Object { return &rbacv1.RoleBinding{} },
		NewList:          func() runtime.Object { return &rbacv1.RoleBindingList{} },
		PrepareForCreate: registry.Preparer(prepare),
		PrepareForUpdate: registry.UpdatePreparer(func(b, _ *rbacv1.RoleBinding) { prepare(b) }),
		Validate:         registry.Validator(apisrbac.ValidateRoleBinding),
		ValidateUpdate:   registry.UpdateValidator(apisrbac.ValidateRoleBindingUpdate),
		Table:            printers.For(gr),
		WrapMain: rbacregistry.Wrap(func(ctx context.Context, obj runtime.Object) error {
			b := obj.(*rbacv1.RoleBinding)
			ns, _ := genericapirequest.NamespaceFrom(ctx)
			return guard.ConfirmBinding(ctx, gr, b.Name, ns, b.RoleRef)
		}),
	}
}
