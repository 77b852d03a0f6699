// Package controllerrevision defines how the API server serves apps/v1
// ControllerRevisions, the immutable template snapshots StatefulSets and
// DaemonSets keep for rollouts and rollbacks.
package controllerrevision

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/apps"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the controllerrevisions resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:   appsv1.SchemeGroupVersion,
		Resource:       "controllerrevisions",
		Singular:       "controllerrevision",
		Kind:           "ControllerRevision",
		Namespaced:     true,
		New:            func() runtime.Object { return &appsv1.ControllerRevision{} },
		NewList:        func() runtime.Object { return &appsv1.ControllerRevisionList{} },
		Validate:       registry.Validator(apps.ValidateControllerRevision),
		ValidateUpdate: registry.UpdateValidator(apps.ValidateControllerRevisionUpdate),
		Table:          printers.For(schema.GroupResource{Group: "apps", Resource: "controllerrevisions"}),
	}
}
