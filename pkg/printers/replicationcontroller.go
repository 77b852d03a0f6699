package printers

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ReplicationController columns, as kube-apiserver prints them.
func init() {
	specDoc := corev1.ReplicationControllerSpec{}.SwaggerDoc()
	statusDoc := corev1.ReplicationControllerStatus{}.SwaggerDoc()
	register(schema.GroupResource{Resource: "replicationcontrollers"}, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Desired", "integer", specDoc["replicas"]),
		column("Current", "integer", statusDoc["replicas"]),
		column("Ready", "integer", statusDoc["readyReplicas"]),
		ageColumn(),
		containersColumn(),
		imagesColumn(),
		wide(column("Selector", "string", specDoc["selector"])),
	}, typed(func(rc *corev1.ReplicationController, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		var names, images string
		if rc.Spec.Template != nil {
			names, images = containerCells(rc.Spec.Template.Spec.Containers)
		}
		return cells(rc.Name, int64(int32Value(rc.Spec.Replicas)), int64(rc.Status.Replicas), int64(rc.Status.ReadyReplicas),
			since(rc.CreationTimestamp, now), names, images, labels.FormatLabels(rc.Spec.Selector))
	}))
}
