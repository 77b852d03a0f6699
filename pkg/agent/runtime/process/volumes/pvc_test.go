package volumes

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func pvcPod(readOnly bool) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "c", VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "claim", ReadOnly: readOnly}}}},
		},
	}
}

func boundClaim(volumeName string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "claim", Namespace: "ns"},
		Spec:   corev1.PersistentVolumeClaimSpec{VolumeName: volumeName},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound}}
}

func TestPrepareClaimVolume(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "storage", "pvc-1")
	doc := corev1.HostPathDirectoryOrCreate
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pvc-1",
		Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": "herd.dev/local-path"}},
		Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: corev1.PersistentVolumeSource{
			HostPath: &corev1.HostPathVolumeSource{Path: target, Type: &doc}}}}
	client := fake.NewClientset(boundClaim("pvc-1"), pv)
	volDir := filepath.Join(base, "pod", "volumes")
	pod := pvcPod(true)
	if err := Prepare(context.Background(), pod, volDir, Options{Client: client}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(target); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o777 {
		t.Fatalf("volume directory not created writable for all: %v %v", fi, err)
	}
	if err := os.WriteFile(filepath.Join(target, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The pod's volume dir leads to the volume.
	if b, err := os.ReadFile(filepath.Join(Dir(volDir, "data"), "f")); err != nil || string(b) != "x" {
		t.Fatalf("through the pod's volume dir: %q %v", b, err)
	}
	mounts, err := Resolve(pod, &pod.Spec.Containers[0], volDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 1 || mounts[0].Target != "/data" || !mounts[0].ReadOnly {
		t.Fatalf("mounts %+v (the claim is mounted readOnly)", mounts)
	}
	// Preparing again (a restarted container) keeps the link.
	if err := Prepare(context.Background(), pod, volDir, Options{Client: client}); err != nil {
		t.Fatal(err)
	}
	if dest, _ := os.Readlink(Dir(volDir, "data")); dest != target {
		t.Fatalf("link to %q, want %q", dest, target)
	}
	// Removing the pod's directory leaves the volume's data.
	if err := os.RemoveAll(filepath.Join(base, "pod")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(target, "f")); err != nil {
		t.Fatalf("volume data lost with the pod: %v", err)
	}
}

func TestPrepareClaimVolumeErrors(t *testing.T) {
	gce := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "disk"},
		Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: corev1.PersistentVolumeSource{
			GCEPersistentDisk: &corev1.GCEPersistentDiskVolumeSource{PDName: "d"}}}}
	pending := boundClaim("")
	pending.Status.Phase = corev1.ClaimPending
	for _, tc := range []struct {
		name string
		objs []interface{}
		want string
	}{
		{"missing claim", nil, `persistentvolumeclaim "claim" not found`},
		{"unbound claim", []interface{}{pending}, `PVC ns/claim has non-bound phase ("Pending")`},
		{"missing volume", []interface{}{boundClaim("gone")}, `persistentvolume "gone" not found`},
		{"unsupported volume", []interface{}{boundClaim("disk"), gce}, "neither a hostPath nor a local volume"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset()
			for _, o := range tc.objs {
				switch o := o.(type) {
				case *corev1.PersistentVolumeClaim:
					_, _ = client.CoreV1().PersistentVolumeClaims("ns").Create(context.Background(), o, metav1.CreateOptions{})
				case *corev1.PersistentVolume:
					_, _ = client.CoreV1().PersistentVolumes().Create(context.Background(), o, metav1.CreateOptions{})
				}
			}
			err := Prepare(context.Background(), pvcPod(false), t.TempDir(), Options{Client: client})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `MountVolume.SetUp failed for volume "data"`) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
