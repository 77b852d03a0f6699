// Package serviceaccount defines how the API server serves core/v1 ServiceAccounts. The controller that gives every namespace its default ServiceAccount lives in pkg/controller/serviceaccount.
package serviceaccount

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the serviceaccounts resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:   corev1.SchemeGroupVersion,
		Resource:       "serviceaccounts",
		Singular:       "serviceaccount",
		Kind:           "ServiceAccount",
		Namespaced:     true,
		ShortNames:     []string{"sa"},
		New:            func() runtime.Object { return &corev1.ServiceAccount{} },
		NewList:        func() runtime.Object { return &corev1.ServiceAccountList{} },
		Validate:       registry.Validator(core.ValidateServiceAccount),
		ValidateUpdate: registry.UpdateValidator(core.ValidateServiceAccountUpdate),
		Table:          printers.For(schema.GroupResource{Group: corev1.GroupName, Resource: "serviceaccounts"}),
	}
}
