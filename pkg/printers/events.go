package printers

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func init() {
	// events.k8s.io/v1 Events share storage with core/v1 Events and print the
	// same columns.
	register(schema.GroupResource{Group: eventsv1.GroupName, Resource: "events"}, eventColumns(), eventRowFunc)
}

func eventColumns() []metav1.TableColumnDefinition {
	doc := corev1.Event{}.SwaggerDoc()
	name := nameColumn()
	name.Priority = 1
	return []metav1.TableColumnDefinition{
		column("Last Seen", "string", doc["lastTimestamp"]),
		column("Type", "string", doc["type"]),
		column("Reason", "string", doc["reason"]),
		column("Object", "string", doc["involvedObject"]),
		wide(column("Subobject", "string", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"])),
		wide(column("Source", "string", doc["source"])),
		column("Message", "string", doc["message"]),
		wide(column("First Seen", "string", doc["firstTimestamp"])),
		wide(column("Count", "string", doc["count"])),
		name,
	}
}

// eventRowFunc prints core/v1 Events and events.k8s.io/v1 Events (seen
// through their core/v1 form).
func eventRowFunc(obj runtime.Object, now time.Time) (metav1.TableRow, error) {
	var e *corev1.Event
	switch t := obj.(type) {
	case *corev1.Event:
		e = t
	case *eventsv1.Event:
		e = coreEvent(t)
	default:
		return metav1.TableRow{}, fmt.Errorf("no table handler registered for this type %T", obj)
	}
	return metav1.TableRow{Cells: eventCells(e, now), Object: runtime.RawExtension{Object: obj}}, nil
}

// coreEvent is the core/v1 view of an events.k8s.io/v1 Event (the fields the
// table reads).
func coreEvent(in *eventsv1.Event) *corev1.Event {
	out := &corev1.Event{
		ObjectMeta:          in.ObjectMeta,
		InvolvedObject:      in.Regarding,
		Reason:              in.Reason,
		Message:             in.Note,
		Source:              in.DeprecatedSource,
		FirstTimestamp:      in.DeprecatedFirstTimestamp,
		LastTimestamp:       in.DeprecatedLastTimestamp,
		Count:               in.DeprecatedCount,
		Type:                in.Type,
		EventTime:           in.EventTime,
		Action:              in.Action,
		Related:             in.Related,
		ReportingController: in.ReportingController,
		ReportingInstance:   in.ReportingInstance,
	}
	if in.Series != nil {
		out.Series = &corev1.EventSeries{Count: in.Series.Count, LastObservedTime: in.Series.LastObservedTime}
	}
	return out
}

func eventCells(e *corev1.Event, now time.Time) []interface{} {
	firstSeen := since(e.FirstTimestamp, now)
	if e.FirstTimestamp.IsZero() {
		firstSeen = sinceMicro(e.EventTime, now)
	}
	lastSeen := since(e.LastTimestamp, now)
	if e.LastTimestamp.IsZero() {
		lastSeen = firstSeen
	}
	count := e.Count
	if e.Series != nil {
		lastSeen = sinceMicro(e.Series.LastObservedTime, now)
		count = e.Series.Count
	} else if count == 0 {
		// Singleton events of the new API carry no count.
		count = 1
	}

	object := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		object += "/" + e.InvolvedObject.Name
	}
	return []interface{}{
		lastSeen,
		e.Type,
		e.Reason,
		object,
		e.InvolvedObject.FieldPath,
		eventSource(e),
		strings.TrimSpace(e.Message),
		firstSeen,
		int64(count),
		e.Name,
	}
}

// eventSource is "component, host", falling back to the reporting
// controller and instance; without a host it is just the component.
func eventSource(e *corev1.Event) string {
	component := e.Source.Component
	if component == "" {
		component = e.ReportingController
	}
	host := e.Source.Host
	if host == "" {
		host = e.ReportingInstance
	}
	if host == "" {
		return component
	}
	return component + ", " + host
}
