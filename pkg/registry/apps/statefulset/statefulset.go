// Package statefulset defines how the API server serves apps/v1
// StatefulSets: validation, the /status and /scale subresources and table
// columns. The StatefulSet controller lives in pkg/controller/statefulset.
package statefulset

import (
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/apps"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the statefulsets resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:         appsv1.SchemeGroupVersion,
		Resource:             "statefulsets",
		Singular:             "statefulset",
		Kind:                 "StatefulSet",
		Namespaced:           true,
		ShortNames:           []string{"sts"},
		Categories:           []string{"all"},
		New:                  func() runtime.Object { return &appsv1.StatefulSet{} },
		NewList:              func() runtime.Object { return &appsv1.StatefulSetList{} },
		HasStatus:            true,
		HasGeneration:        true,
		Validate:             registry.Validator(apps.ValidateStatefulSet),
		ValidateUpdate:       registry.UpdateValidator(apps.ValidateStatefulSetUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(apps.ValidateStatefulSetStatusUpdate),
		Scale: registry.ReplicaFields(func(s *appsv1.StatefulSet) (**int32, int32, *metav1.LabelSelector) {
			return &s.Spec.Replicas, s.Status.Replicas, s.Spec.Selector
		}),
		Table: printers.For(schema.GroupResource{Group: "apps", Resource: "statefulsets"}),
	}
}
