// Package deployment defines how the API server serves apps/v1 Deployments:
// validation, the /status and /scale subresources and table columns. The
// Deployment controller lives in pkg/controller/deployment.
package deployment

import (
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/apps"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the deployments resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:         appsv1.SchemeGroupVersion,
		Resource:             "deployments",
		Singular:             "deployment",
		Kind:                 "Deployment",
		Namespaced:           true,
		ShortNames:           []string{"deploy"},
		Categories:           []string{"all"},
		New:                  func() runtime.Object { return &appsv1.Deployment{} },
		NewList:              func() runtime.Object { return &appsv1.DeploymentList{} },
		HasStatus:            true,
		HasGeneration:        true,
		Validate:             registry.Validator(apps.ValidateDeployment),
		ValidateUpdate:       registry.UpdateValidator(apps.ValidateDeploymentUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(apps.ValidateDeploymentStatusUpdate),
		Scale: registry.ReplicaFields(func(d *appsv1.Deployment) (**int32, int32, *metav1.LabelSelector) {
			return &d.Spec.Replicas, d.Status.Replicas, d.Spec.Selector
		}),
		Table: printers.For(schema.GroupResource{Group: "apps", Resource: "deployments"}),
	}
}
