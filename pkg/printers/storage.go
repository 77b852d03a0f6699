package printers

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

const isDefaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"
const betaIsDefaultClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"

func init() {
	register(schema.GroupResource{Group: storagev1.GroupName, Resource: "storageclasses"}, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Provisioner", "string", "Indicates the type of the provisioner."),
		column("ReclaimPolicy", "string", "Indicates the type of the reclaim policy."),
		column("VolumeBindingMode", "string", "Indicates the binding mode of the volume."),
		column("AllowVolumeExpansion", "string", "Indicates whether the storage class allow volume expand."),
		ageColumn(),
	}, typed(storageClassRow))
}

func storageClassRow(sc *storagev1.StorageClass, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
	name := sc.Name
	if sc.Annotations[isDefaultClassAnnotation] == "true" || sc.Annotations[betaIsDefaultClassAnnotation] == "true" {
		name += " (default)"
	}
	reclaim := string(corev1.PersistentVolumeReclaimDelete)
	if sc.ReclaimPolicy != nil {
		reclaim = string(*sc.ReclaimPolicy)
	}
	mode := string(storagev1.VolumeBindingImmediate)
	if sc.VolumeBindingMode != nil {
		mode = string(*sc.VolumeBindingMode)
	}
	expand := false
	if sc.AllowVolumeExpansion != nil {
		expand = *sc.AllowVolumeExpansion
	}
	return cells(name, sc.Provisioner, reclaim, mode, expand, since(sc.CreationTimestamp, now))
}
