// Package event defines how the API server serves core/v1 Events: validation,
// the field selectors `kubectl describe` uses to find an object's events,
// table columns, and a time to live (one hour by default) so that a busy
// cluster's events do not grow without bound. events.k8s.io/v1 serves the
// same objects (pkg/registry/events/event).
package event

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// DefaultTTL is how long an event is kept after its last update.
const DefaultTTL = time.Hour

// FieldLabels are the selectable fields of events.
var FieldLabels = []string{"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
	"involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
	"involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"}

// SelectableFields returns the event's selectable fields.
func SelectableFields(obj runtime.Object) fields.Set {
	e := obj.(*corev1.Event)
	source := e.Source.Component
	if source == "" {
		source = e.ReportingController
	}
	return fields.Set{
		"involvedObject.kind":            e.InvolvedObject.Kind,
		"involvedObject.namespace":       e.InvolvedObject.Namespace,
		"involvedObject.name":            e.InvolvedObject.Name,
		"involvedObject.uid":             string(e.InvolvedObject.UID),
		"involvedObject.apiVersion":      e.InvolvedObject.APIVersion,
		"involvedObject.resourceVersion": e.InvolvedObject.ResourceVersion,
		"involvedObject.fieldPath":       e.InvolvedObject.FieldPath,
		"reason":                         e.Reason,
		"reportingComponent":             e.ReportingController,
		"source":                         source,
		"type":                           e.Type,
	}
}

// Definition returns the core/v1 events resource with the given TTL.
func Definition(ttl time.Duration) *registry.Definition {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &registry.Definition{
		GroupVersion:        corev1.SchemeGroupVersion,
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
		SelectableFields: SelectableFields,
		FieldLabels:      FieldLabels,
		TTLSeconds:       func(runtime.Object) uint64 { return uint64(ttl.Seconds()) },
		Table:            printers.For(schema.GroupResource{Resource: "events"}),
	}
}
