// Package prioritylevelconfiguration defines how the API server serves
// flowcontrol.apiserver.k8s.io/v1 PriorityLevelConfigurations: defaulting,
// validation, the /status subresource and table columns.
package prioritylevelconfiguration

import (
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/flowcontrol"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the prioritylevelconfigurations resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:  flowcontrolv1.SchemeGroupVersion,
		Resource:      "prioritylevelconfigurations",
		Singular:      "prioritylevelconfiguration",
		Kind:          "PriorityLevelConfiguration",
		New:           func() runtime.Object { return &flowcontrolv1.PriorityLevelConfiguration{} },
		NewList:       func() runtime.Object { return &flowcontrolv1.PriorityLevelConfigurationList{} },
		HasStatus:     true,
		HasGeneration: true,
		PrepareForCreate: registry.Preparer(func(pl *flowcontrolv1.PriorityLevelConfiguration) {
			pl.Status = flowcontrolv1.PriorityLevelConfigurationStatus{}
			flowcontrol.SetDefaultsPriorityLevelConfiguration(pl)
		}),
		PrepareForUpdate: registry.UpdatePreparer(func(pl, _ *flowcontrolv1.PriorityLevelConfiguration) {
			flowcontrol.SetDefaultsPriorityLevelConfiguration(pl)
		}),
		Validate:             registry.Validator(flowcontrol.ValidatePriorityLevelConfiguration),
		ValidateUpdate:       registry.UpdateValidator(flowcontrol.ValidatePriorityLevelConfigurationUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(flowcontrol.ValidatePriorityLevelConfigurationStatusUpdate),
		Table:                printers.For(schema.GroupResource{Group: flowcontrolv1.GroupName, Resource: "prioritylevelconfigurations"}),
	}
}
