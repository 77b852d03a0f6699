package defaultstorageclass

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

func class(name string, def string, created time.Time) *storagev1.StorageClass {
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)}, Provisioner: "x.io/y"}
	if def != "" {
		sc.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": def}
	}
	return sc
}

func admit(t *testing.T, pvc *corev1.PersistentVolumeClaim, classes ...*storagev1.StorageClass) *corev1.PersistentVolumeClaim {
	t.Helper()
	client := fake.NewClientset()
	f := informers.NewSharedInformerFactory(client, 0)
	p := New(f)
	for _, sc := range classes {
		if err := f.Storage().V1().StorageClasses().Informer().GetIndexer().Add(sc); err != nil {
			t.Fatal(err)
		}
	}
	p.SetReadyFunc(func() bool { return true })
	attrs := admission.NewAttributesRecord(pvc, nil, corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim"), "ns", pvc.Name,
		corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims"), "", admission.Create, &metav1.CreateOptions{}, false, nil)
	if err := p.Admit(context.Background(), attrs, nil); err != nil {
		t.Fatal(err)
	}
	return pvc
}

func TestDefaultStorageClass(t *testing.T) {
	now := time.Now()
	str := func(s string) *string { return &s }
	classes := []*storagev1.StorageClass{class("old-default", "true", now.Add(-time.Hour)), class("new-default", "true", now), class("not", "false", now.Add(time.Hour)), class("plain", "", now)}
	for _, tc := range []struct {
		name  string
		class *string
		ann   bool
		want  *string
	}{
		{"unset gets the newest default", nil, false, str("new-default")},
		{"empty stays empty", str(""), false, str("")},
		{"named stays", str("plain"), false, str("plain")},
		{"beta annotation wins", nil, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"}, Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: tc.class}}
			if tc.ann {
				pvc.Annotations = map[string]string{corev1.BetaStorageClassAnnotation: "plain"}
			}
			got := admit(t, pvc, classes...).Spec.StorageClassName
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Fatalf("storageClassName %v, want %v", got, tc.want)
			}
		})
	}
	// No default class: nothing set.
	pvc := admit(t, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"}}, class("plain", "", now))
	if pvc.Spec.StorageClassName != nil {
		t.Fatalf("class %q set without a default", *pvc.Spec.StorageClassName)
	}
}
