// Package node defines how the API server serves core/v1 Nodes: validation,
// the /status subresource the node agents heartbeat through, the
// spec.unschedulable field selector and table columns.
package node

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the nodes resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:         corev1.SchemeGroupVersion,
		Resource:             "nodes",
		Singular:             "node",
		Kind:                 "Node",
		ShortNames:           []string{"no"},
		New:                  func() runtime.Object { return &corev1.Node{} },
		NewList:              func() runtime.Object { return &corev1.NodeList{} },
		HasStatus:            true,
		Validate:             registry.Validator(core.ValidateNode),
		ValidateUpdate:       registry.UpdateValidator(core.ValidateNodeUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(core.ValidateNodeUpdate),
		SelectableFields: func(obj runtime.Object) fields.Set {
			return fields.Set{"spec.unschedulable": strconv.FormatBool(obj.(*corev1.Node).Spec.Unschedulable)}
		},
		FieldLabels: []string{"spec.unschedulable"},
		Table:       printers.For(schema.GroupResource{Resource: "nodes"}),
	}
}
