// Package flowschema defines how the API server serves
// flowcontrol.apiserver.k8s.io/v1 FlowSchemas: defaulting, validation, the
// /status subresource (written by the API Priority and Fairness controller)
// and table columns.
package flowschema

import (
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/flowcontrol"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the flowschemas resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:  flowcontrolv1.SchemeGroupVersion,
		Resource:      "flowschemas",
		Singular:      "flowschema",
		Kind:          "FlowSchema",
		New:           func() runtime.Object { return &flowcontrolv1.FlowSchema{} },
		NewList:       func() runtime.Object { return &flowcontrolv1.FlowSchemaList{} },
		HasStatus:     true,
		HasGeneration: true,
		PrepareForCreate: registry.Preparer(func(fs *flowcontrolv1.FlowSchema) {
			fs.Status = flowcontrolv1.FlowSchemaStatus{}
			flowcontrol.SetDefaultsFlowSchema(fs)
		}),
		PrepareForUpdate:     registry.UpdatePreparer(func(fs, _ *flowcontrolv1.FlowSchema) { flowcontrol.SetDefaultsFlowSchema(fs) }),
		Validate:             registry.Validator(flowcontrol.ValidateFlowSchema),
		ValidateUpdate:       registry.UpdateValidator(flowcontrol.ValidateFlowSchemaUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(flowcontrol.ValidateFlowSchemaStatusUpdate),
		Table:                printers.For(schema.GroupResource{Group: flowcontrolv1.GroupName, Resource: "flowschemas"}),
	}
}
