// Package event serves events.k8s.io/v1 Events. They are the core/v1 Events
// (same storage, same objects) seen through the newer API; pkg/scheme
// converts between the two forms.
package event

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
	coreevent "github.com/herd-project/herd/pkg/registry/core/event"
)

// Definition returns the events.k8s.io/v1 events resource.
func Definition(ttl time.Duration) *registry.Definition {
	if ttl <= 0 {
		ttl = coreevent.DefaultTTL
	}
	return &registry.Definition{
		GroupVersion:        eventsv1.SchemeGroupVersion,
		Resource:            "events",
		Singular:            "event",
		Kind:                "Event",
		Namespaced:          true,
		ShortNames:          []string{"ev"},
		New:                 func() runtime.Object { return &corev1.Event{} },
		NewList:             func() runtime.Object { return &corev1.EventList{} },
		AllowCreateOnUpdate: true,
		Validate:            registry.Validator(core.ValidateEvent),
		ValidateUpdate: registry.UpdateValidator(func(e, _ *corev1.Event) field.ErrorList {
			return core.ValidateEvent(e)
		}),
		SelectableFields: coreevent.SelectableFields,
		FieldLabels:      coreevent.FieldLabels,
		TTLSeconds:       func(runtime.Object) uint64 { return uint64(ttl.Seconds()) },
		Table:            printers.For(schema.GroupResource{Resource: "events"}), // rows come from the stored core/v1 form,
	}
}
