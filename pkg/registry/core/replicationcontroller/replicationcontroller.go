// Package replicationcontroller defines how the API server serves core/v1
// ReplicationControllers: validation, the /status and /scale subresources
// and table columns. They are run by pkg/controller/replicationcontroller,
// which shares the ReplicaSet controller.
package replicationcontroller

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/apps"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the replicationcontrollers resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:         corev1.SchemeGroupVersion,
		Resource:             "replicationcontrollers",
		Singular:             "replicationcontroller",
		Kind:                 "ReplicationController",
		Namespaced:           true,
		ShortNames:           []string{"rc"},
		Categories:           []string{"all"},
		New:                  func() runtime.Object { return &corev1.ReplicationController{} },
		NewList:              func() runtime.Object { return &corev1.ReplicationControllerList{} },
		HasStatus:            true,
		HasGeneration:        true,
		Validate:             registry.Validator(apps.ValidateReplicationController),
		ValidateUpdate:       registry.UpdateValidator(apps.ValidateReplicationControllerUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(apps.ValidateReplicationControllerStatusUpdate),
		Scale: registry.ReplicaFields(func(rc *corev1.ReplicationController) (**int32, int32, *metav1.LabelSelector) {
			return &rc.Spec.Replicas, rc.Status.Replicas, &metav1.LabelSelector{MatchLabels: rc.Spec.Selector}
		}),
		Table: printers.For(schema.GroupResource{Resource: "replicationcontrollers"}),
	}
}
