package pvcprotection

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/herd-project/herd/pkg/volume"
)

func claim(deleting bool, finalizers ...string) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "ns", Finalizers: finalizers}}
	if deleting {
		c.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	}
	return c
}

func pod(name string, phase corev1.PodPhase, claimName string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claimName}}}}},
		Status: corev1.PodStatus{Phase: phase},
	}
}

func run(t *testing.T, objs ...runtime.Object) []string {
	t.Helper()
	client := fake.NewClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	c := New(client, f)
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.PersistentVolumeClaim:
			_ = f.Core().V1().PersistentVolumeClaims().Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			_ = f.Core().V1().Pods().Informer().GetIndexer().Add(o)
		}
	}
	if err := c.sync(context.Background(), "ns/data"); err != nil {
		t.Fatal(err)
	}
	got, err := client.CoreV1().PersistentVolumeClaims("ns").Get(context.Background(), "data", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got.Finalizers
}

func TestPVCProtection(t *testing.T) {
	f := volume.PVCProtectionFinalizer
	for _, tc := range []struct {
		name string
		objs []runtime.Object
		want int
	}{
		{"unused deleted claim loses it", []runtime.Object{claim(true, f, "other.io/keep")}, 1},
		{"running pod keeps it", []runtime.Object{claim(true, f), pod("p", corev1.PodRunning, "data")}, 1},
		{"pending pod keeps it", []runtime.Object{claim(true, f), pod("p", corev1.PodPending, "data")}, 1},
		{"terminated pods do not", []runtime.Object{claim(true, f), pod("a", corev1.PodSucceeded, "data"), pod("b", corev1.PodFailed, "data")}, 0},
		{"pods of other claims do not", []runtime.Object{claim(true, f), pod("p", corev1.PodRunning, "other")}, 0},
		{"live claim gets it", []runtime.Object{claim(false)}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, tc.objs...)
			has := 0
			for _, x := range got {
				if x == f {
					has = 1
				}
			}
			if tc.name == "unused deleted claim loses it" {
				if has != 0 || len(got) != 1 {
					t.Fatalf("finalizers %v", got)
				}
				return
			}
			if has != tc.want {
				t.Fatalf("finalizers %v, want protection %v", got, tc.want == 1)
			}
		})
	}
}

func TestClaimNamesIncludeEphemeral(t *testing.T) {
	p := pod("web", corev1.PodRunning, "data")
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}})
	if got := ClaimNames(p); len(got) != 2 || got[0] != "data" || got[1] != "web-scratch" {
		t.Fatalf("claims %v", got)
	}
}
