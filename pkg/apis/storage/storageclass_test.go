package storage

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func validClass() *storagev1.StorageClass {
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "fast"}, Provisioner: "example.com/disk",
		Parameters: map[string]string{"type": "ssd"}}
	SetDefaultsStorageClass(sc)
	return sc
}

func TestDefaults(t *testing.T) {
	sc := validClass()
	if *sc.ReclaimPolicy != corev1.PersistentVolumeReclaimDelete || *sc.VolumeBindingMode != storagev1.VolumeBindingImmediate {
		t.Fatalf("defaults: %v %v", *sc.ReclaimPolicy, *sc.VolumeBindingMode)
	}
}

func TestValidateStorageClass(t *testing.T) {
	if errs := ValidateStorageClass(validClass()); len(errs) != 0 {
		t.Fatalf("valid class: %v", errs)
	}
	recycle := corev1.PersistentVolumeReclaimRecycle
	later := storagev1.VolumeBindingMode("Later")
	for _, tc := range []struct {
		name   string
		mutate func(*storagev1.StorageClass)
		want   string
	}{
		{"no provisioner", func(sc *storagev1.StorageClass) { sc.Provisioner = "" }, "provisioner: Required value"},
		{"bad provisioner", func(sc *storagev1.StorageClass) { sc.Provisioner = "a/b/c" }, "provisioner: Invalid value"},
		{"recycle", func(sc *storagev1.StorageClass) { sc.ReclaimPolicy = &recycle }, `reclaimPolicy: Unsupported value: "Recycle"`},
		{"binding mode", func(sc *storagev1.StorageClass) { sc.VolumeBindingMode = &later }, `volumeBindingMode: Unsupported value: "Later"`},
		{"no binding mode", func(sc *storagev1.StorageClass) { sc.VolumeBindingMode = nil }, "volumeBindingMode: Required value"},
		{"empty parameter key", func(sc *storagev1.StorageClass) { sc.Parameters[""] = "x" }, "parameters: Invalid value"},
		{"bad name", func(sc *storagev1.StorageClass) { sc.Name = "Fast_" }, "metadata.name: Invalid value"},
		{"empty topology term", func(sc *storagev1.StorageClass) { sc.AllowedTopologies = []corev1.TopologySelectorTerm{{}} }, "allowedTopologies[0]: Required value"},
		{"topology without values", func(sc *storagev1.StorageClass) {
			sc.AllowedTopologies = []corev1.TopologySelectorTerm{{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{{Key: "zone"}}}}
		}, "allowedTopologies[0].matchLabelExpressions[0].values: Required value"},
		{"duplicate topology", func(sc *storagev1.StorageClass) {
			term := corev1.TopologySelectorTerm{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{{Key: "zone", Values: []string{"a"}}}}
			sc.AllowedTopologies = []corev1.TopologySelectorTerm{term, term}
		}, "allowedTopologies[1]: Duplicate value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := validClass()
			tc.mutate(sc)
			errs := ValidateStorageClass(sc)
			if !strings.Contains(errs.ToAggregate().Error(), tc.want) {
				t.Fatalf("errors %v, want %q", errs, tc.want)
			}
		})
	}
}

func TestValidateStorageClassUpdate(t *testing.T) {
	old := validClass()
	old.ResourceVersion = "1"
	retain := corev1.PersistentVolumeReclaimRetain
	wffc := storagev1.VolumeBindingWaitForFirstConsumer
	for _, tc := range []struct {
		mutate func(*storagev1.StorageClass)
		want   string
	}{
		{func(sc *storagev1.StorageClass) { sc.Parameters = nil }, "parameters: Forbidden: updates to parameters are forbidden."},
		{func(sc *storagev1.StorageClass) { sc.Provisioner = "other.io/x" }, "provisioner: Forbidden: updates to provisioner are forbidden."},
		{func(sc *storagev1.StorageClass) { sc.ReclaimPolicy = &retain }, "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden."},
		{func(sc *storagev1.StorageClass) { sc.VolumeBindingMode = &wffc }, "volumeBindingMode: Invalid value"},
	} {
		sc := old.DeepCopy()
		tc.mutate(sc)
		if errs := ValidateStorageClassUpdate(sc, old); !strings.Contains(errs.ToAggregate().Error(), tc.want) {
			t.Errorf("errors %v, want %q", errs, tc.want)
		}
	}
	// Labels, annotations and allowVolumeExpansion may change.
	sc := old.DeepCopy()
	sc.Annotations = map[string]string{IsDefaultClassAnnotation: "true"}
	yes := true
	sc.AllowVolumeExpansion = &yes
	if errs := ValidateStorageClassUpdate(sc, old); len(errs) != 0 {
		t.Errorf("allowed update rejected: %v", errs)
	}
	if !IsDefaultClass(sc) || IsDefaultClass(old) {
		t.Error("IsDefaultClass")
	}
}
