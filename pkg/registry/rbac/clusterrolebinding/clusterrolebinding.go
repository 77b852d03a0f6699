// Package clusterrolebinding defines how the API server serves
// rbac.authorization.k8s.io/v1 ClusterRoleBindings: defaulting of API
// groups, validation (roleRef a ClusterRole, immutable), table columns and
// the escalation check on writes.
package clusterrolebinding

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

// Definition returns the clusterrolebindings resource; guard checks writes
// for escalation.
func Definition(guard *rbacregistry.Guard) *registry.Definition {
	gr := schema.GroupResource{Group: rbacv1.GroupName, Resource: "clusterrolebindings"}
	prepare := func(b *rbacv1.ClusterRoleBinding) {
		apisrbac.SetDefaultsRoleRef(&b.RoleRef)
		apisrbac.SetDefaultsSubjects(b.Subjects)
	}
	return &registry.Definition{
		GroupVersion:     rbacv1.SchemeGroupVersion,
		Resource:         "clusterrolebindings",
		Singular:         "clusterrolebinding",
		Kind:             "ClusterRoleBinding",
		New:              func() runtime.Object { return &rbacv1.ClusterRoleBinding{} },
		NewList:          func() runtime.Object { return &rbacv1.ClusterRoleBindingList{} },
		PrepareForCreate: registry.Preparer(prepare),
		PrepareForUpdate: registry.UpdatePreparer(func(b, _ *rbacv1.ClusterRoleBinding) { prepare(b) }),
		Validate:         registry.Validator(apisrbac.ValidateClusterRoleBinding),
		ValidateUpdate:   registry.UpdateValidator(apisrbac.ValidateClusterRoleBindingUpdate),
		Table:            printers.For(gr),
		WrapMain: rbacregistry.Wrap(func(ctx context.Context, obj runtime.Object) error {
			b := obj.(*rbacv1.ClusterRoleBinding)
			return guard.ConfirmBinding(ctx, gr, b.Name, "", b.RoleRef)
		}),
	}
}
