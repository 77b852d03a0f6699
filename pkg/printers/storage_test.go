package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestStorageClasses(t *testing.T) {
	gr := schema.GroupResource{Group: "storage.k8s.io", Resource: "storageclasses"}
	table := convert(t, gr, &storagev1.StorageClass{})
	var names []string
	for _, c := range table.ColumnDefinitions {
		names = append(names, c.Name)
	}
	if want := []string{"Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode", "AllowVolumeExpansion", "Age"}; len(names) != len(want) {
		t.Fatalf("columns %v, want %v", names, want)
	} else {
		for i := range want {
			if names[i] != want[i] {
				t.Fatalf("columns %v, want %v", names, want)
			}
		}
	}
	retain := corev1.PersistentVolumeReclaimRetain
	wffc := storagev1.VolumeBindingWaitForFirstConsumer
	yes := true
	def := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{Name: "local-path", CreationTimestamp: ago(time.Hour),
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner: "herd.dev/local-path", ReclaimPolicy: &retain, VolumeBindingMode: &wffc, AllowVolumeExpansion: &yes,
	}
	checkCells(t, cellsOf(t, gr, def), []interface{}{"local-path (default)", "herd.dev/local-path", "Retain", "WaitForFirstConsumer", true, "60m"})
	plain := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "slow", CreationTimestamp: ago(time.Minute),
		Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "false"}}, Provisioner: "x.io/y"}
	checkCells(t, cellsOf(t, gr, plain), []interface{}{"slow", "x.io/y", "Delete", "Immediate", false, "60s"})
}
