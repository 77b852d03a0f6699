// Package daemonset defines how the API server serves apps/v1 DaemonSets:
// validation, the /status subresource and table columns. The DaemonSet
// controller lives in pkg/controller/daemon.
package daemonset

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/apps"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the daemonsets resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:  appsv1.SchemeGroupVersion,
		Resource:      "daemonsets",
		Singular:      "daemonset",
		Kind:          "DaemonSet",
		Namespaced:    true,
		ShortNames:    []string{"ds"},
		Categories:    []string{"all"},
		New:           func() runtime.Object { return &appsv1.DaemonSet{} },
		NewList:       func() runtime.Object { return &appsv1.DaemonSetList{} },
		HasStatus:     true,
		HasGeneration: true,
		// apps/v1 keeps the template generation in an annotation.
		PrepareForCreate:     registry.Preparer(func(ds *appsv1.DaemonSet) { apps.SetDaemonSetTemplateGeneration(ds, nil) }),
		PrepareForUpdate:     registry.UpdatePreparer(apps.SetDaemonSetTemplateGeneration),
		Validate:             registry.Validator(apps.ValidateDaemonSet),
		ValidateUpdate:       registry.UpdateValidator(apps.ValidateDaemonSetUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(apps.ValidateDaemonSetStatusUpdate),
		Table:                printers.For(schema.GroupResource{Group: "apps", Resource: "daemonsets"}),
	}
}
