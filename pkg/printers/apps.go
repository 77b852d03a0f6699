package printers

import (
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	appsv1beta1 "k8s.io/api/apps/v1beta1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The column descriptions come from the same (older) API versions'
// documentation Kubernetes' printers use, so that they match exactly.

func init() {
	apps := func(resource string) schema.GroupResource {
		return schema.GroupResource{Group: appsv1.GroupName, Resource: resource}
	}

	deploymentStatusDoc := extensionsv1beta1.DeploymentStatus{}.SwaggerDoc()
	register(apps("deployments"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Ready", "string", "Number of the pod with ready state"),
		column("Up-to-date", "string", deploymentStatusDoc["updatedReplicas"]),
		column("Available", "string", deploymentStatusDoc["availableReplicas"]),
		ageColumn(),
		containersColumn(),
		imagesColumn(),
		wide(column("Selector", "string", extensionsv1beta1.DeploymentSpec{}.SwaggerDoc()["selector"])),
	}, typed(deploymentRow))

	register(apps("replicasets"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Desired", "integer", extensionsv1beta1.ReplicaSetSpec{}.SwaggerDoc()["replicas"]),
		column("Current", "integer", extensionsv1beta1.ReplicaSetStatus{}.SwaggerDoc()["replicas"]),
		column("Ready", "integer", extensionsv1beta1.ReplicaSetStatus{}.SwaggerDoc()["readyReplicas"]),
		ageColumn(),
		containersColumn(),
		imagesColumn(),
		wide(column("Selector", "string", extensionsv1beta1.ReplicaSetSpec{}.SwaggerDoc()["selector"])),
	}, typed(func(rs *appsv1.ReplicaSet, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		names, images := containerCells(rs.Spec.Template.Spec.Containers)
		return cells(rs.Name, int64(int32Value(rs.Spec.Replicas)), int64(rs.Status.Replicas), int64(rs.Status.ReadyReplicas),
			since(rs.CreationTimestamp, now), names, images, metav1.FormatLabelSelector(rs.Spec.Selector))
	}))

	register(apps("statefulsets"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Ready", "string", "Number of the pod with ready state"),
		ageColumn(),
		containersColumn(),
		imagesColumn(),
	}, typed(func(ss *appsv1.StatefulSet, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		names, images := containerCells(ss.Spec.Template.Spec.Containers)
		return cells(ss.Name, fmt.Sprintf("%d/%d", ss.Status.ReadyReplicas, int32Value(ss.Spec.Replicas)),
			since(ss.CreationTimestamp, now), names, images)
	}))

	dsStatusDoc := extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()
	register(apps("daemonsets"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Desired", "integer", dsStatusDoc["desiredNumberScheduled"]),
		column("Current", "integer", dsStatusDoc["currentNumberScheduled"]),
		column("Ready", "integer", dsStatusDoc["numberReady"]),
		column("Up-to-date", "integer", dsStatusDoc["updatedNumberScheduled"]),
		column("Available", "integer", dsStatusDoc["numberAvailable"]),
		column("Node Selector", "string", podSpecDoc()["nodeSelector"]),
		ageColumn(),
		containersColumn(),
		imagesColumn(),
		wide(column("Selector", "string", extensionsv1beta1.DaemonSetSpec{}.SwaggerDoc()["selector"])),
	}, typed(func(ds *appsv1.DaemonSet, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		names, images := containerCells(ds.Spec.Template.Spec.Containers)
		s := ds.Status
		return cells(ds.Name, int64(s.DesiredNumberScheduled), int64(s.CurrentNumberScheduled), int64(s.NumberReady),
			int64(s.UpdatedNumberScheduled), int64(s.NumberAvailable), labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector),
			since(ds.CreationTimestamp, now), names, images, metav1.FormatLabelSelector(ds.Spec.Selector))
	}))

	register(apps("controllerrevisions"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Controller", "string", "Controller of the object"),
		column("Revision", "string", appsv1beta1.ControllerRevision{}.SwaggerDoc()["revision"]),
		ageColumn(),
	}, controllerRevisionRow)
}

func deploymentRow(d *appsv1.Deployment, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
	selector := "<invalid>"
	if s, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err == nil {
		selector = s.String()
	}
	names, images := containerCells(d.Spec.Template.Spec.Containers)
	return cells(d.Name,
		fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, int32Value(d.Spec.Replicas)),
		int64(d.Status.UpdatedReplicas),
		int64(d.Status.AvailableReplicas),
		since(d.CreationTimestamp, now),
		names, images, selector)
}

// controllerRevisionRow names the controller as "kind.group/name" in lower
// case; a controller reference with an unparsable apiVersion is an error, as
// in Kubernetes.
func controllerRevisionRow(obj runtime.Object, now time.Time) (metav1.TableRow, error) {
	cr, ok := obj.(*appsv1.ControllerRevision)
	if !ok {
		return metav1.TableRow{}, fmt.Errorf("no table handler registered for this type %T", obj)
	}
	controller := "<none>"
	if ref := metav1.GetControllerOf(cr); ref != nil {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil {
			return metav1.TableRow{}, err
		}
		gk := gv.WithKind(ref.Kind).GroupKind()
		controller = ref.Name
		if !gk.Empty() {
			controller = strings.ToLower(gk.String()) + "/" + ref.Name
		}
	}
	return metav1.TableRow{
		Cells:  []interface{}{cr.Name, controller, cr.Revision, since(cr.CreationTimestamp, now)},
		Object: runtime.RawExtension{Object: obj},
	}, nil
}
