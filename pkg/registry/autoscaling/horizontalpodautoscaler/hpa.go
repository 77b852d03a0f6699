// Package horizontalpodautoscaler defines how the API server serves
// autoscaling/v2 HorizontalPodAutoscalers (and autoscaling/v1 as a
// converted view of the same objects): defaulting, validation, the /status
// subresource and table columns. pkg/controller/podautoscaler acts on them.
package horizontalpodautoscaler

import (
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/autoscaling"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the horizontalpodautoscalers resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:         autoscalingv2.SchemeGroupVersion,
		AlsoServedAs:         []schema.GroupVersion{autoscalingv1.SchemeGroupVersion},
		Resource:             "horizontalpodautoscalers",
		Singular:             "horizontalpodautoscaler",
		Kind:                 "HorizontalPodAutoscaler",
		Namespaced:           true,
		ShortNames:           []string{"hpa"},
		Categories:           []string{"all"},
		New:                  func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscaler{} },
		NewList:              func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscalerList{} },
		HasStatus:            true,
		HasGeneration:        true,
		Validate:             autoscaling.ValidateHorizontalPodAutoscaler,
		ValidateUpdate:       autoscaling.ValidateHorizontalPodAutoscalerUpdate,
		ValidateStatusUpdate: autoscaling.ValidateHorizontalPodAutoscalerStatusUpdate,
		Table:                printers.For(schema.GroupResource{Group: autoscalingv2.GroupName, Resource: "horizontalpodautoscalers"}),
	}
}
