// Package replicaset defines how the API server serves apps/v1 ReplicaSets:
// validation, the /status and /scale subresources and table columns. The
// ReplicaSet controller lives in pkg/controller/replicaset.
package replicaset

import (
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/apps"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the replicasets resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:         appsv1.SchemeGroupVersion,
		Resource:             "replicasets",
		Singular:             "replicaset",
		Kind:                 "ReplicaSet",
		Namespaced:           true,
		ShortNames:           []string{"rs"},
		Categories:           []string{"all"},
		New:                  func() runtime.Object { return &appsv1.ReplicaSet{} },
		NewList:              func() runtime.Object { return &appsv1.ReplicaSetList{} },
		HasStatus:            true,
		HasGeneration:        true,
		Validate:             registry.Validator(apps.ValidateReplicaSet),
		ValidateUpdate:       registry.UpdateValidator(apps.ValidateReplicaSetUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(apps.ValidateReplicaSetStatusUpdate),
		Scale: registry.ReplicaFields(func(rs *appsv1.ReplicaSet) (**int32, int32, *metav1.LabelSelector) {
			return &rs.Spec.Replicas, rs.Status.Replicas, rs.Spec.Selector
		}),
		Table: printers.For(schema.GroupResource{Group: "apps", Resource: "replicasets"}),
	}
}
