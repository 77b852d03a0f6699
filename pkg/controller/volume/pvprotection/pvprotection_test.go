package pvprotection

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/herd-project/herd/pkg/volume"
)

func TestPVProtection(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deleting bool
		phase    corev1.PersistentVolumePhase
		has      bool
		want     bool
	}{
		{"bound volume keeps it", true, corev1.VolumeBound, true, true},
		{"released volume loses it", true, corev1.VolumeReleased, true, false},
		{"available volume loses it", true, corev1.VolumeAvailable, true, false},
		{"live volume gets it", false, corev1.VolumeAvailable, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "v", Finalizers: []string{"other.io/keep"}},
				Status: corev1.PersistentVolumeStatus{Phase: tc.phase}}
			if tc.has {
				pv.Finalizers = append(pv.Finalizers, volume.PVProtectionFinalizer)
			}
			if tc.deleting {
				pv.DeletionTimestamp = &metav1.Time{Time: time.Now()}
			}
			client := fake.NewClientset(pv)
			f := informers.NewSharedInformerFactory(client, 0)
			c := New(client, f)
			_ = f.Core().V1().PersistentVolumes().Informer().GetIndexer().Add(pv)
			if err := c.sync(context.Background(), "v"); err != nil {
				t.Fatal(err)
			}
			got, _ := client.CoreV1().PersistentVolumes().Get(context.Background(), "v", metav1.GetOptions{})
			has := false
			for _, f := range got.Finalizers {
				if f == volume.PVProtectionFinalizer {
					has = true
				}
			}
			if has != tc.want || got.Finalizers[0] != "other.io/keep" {
				t.Fatalf("finalizers %v", got.Finalizers)
			}
		})
	}
}
