package localpath

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"

	provisioner "github.com/herd-project/herd/pkg/controller/volume/localpath"
	"github.com/herd-project/herd/pkg/volume"
)

func deletedVolume(t *testing.T, dir, node string) *corev1.PersistentVolume {
	t.Helper()
	class := volume.LocalPathClass
	c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", UID: "u1"},
		Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &class, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}}}
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node, Labels: map[string]string{corev1.LabelHostname: node},
		Annotations: map[string]string{volume.AnnLocalPathDir: dir}}}
	pv, err := provisioner.BuildVolume(c, provisioner.DefaultStorageClass(), n)
	if err != nil {
		t.Fatal(err)
	}
	pv.Finalizers = append(pv.Finalizers, volume.PVProtectionFinalizer)
	pv.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	return pv
}

func TestCleanerRemovesDirectoryThenFinalizer(t *testing.T) {
	dir := t.TempDir()
	pv := deletedVolume(t, dir, "n1")
	if err := os.MkdirAll(filepath.Join(pv.Spec.HostPath.Path, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset(pv)
	c := startedCleaner(t, client, Options{Dir: dir, Nodes: []string{"n1"}, RemoveDirs: true})
	if err := c.sync(context.Background(), pv.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pv.Spec.HostPath.Path); !os.IsNotExist(err) {
		t.Fatalf("directory still there: %v", err)
	}
	got, _ := client.CoreV1().PersistentVolumes().Get(context.Background(), pv.Name, metav1.GetOptions{})
	if len(got.Finalizers) != 1 || got.Finalizers[0] != volume.PVProtectionFinalizer {
		t.Fatalf("finalizers %v", got.Finalizers)
	}
}

func startedCleaner(t *testing.T, client *fake.Clientset, opts Options) *Cleaner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := New(client, opts)
	c.start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		t.Fatal("cache not synced")
	}
	return c
}

// Volumes of other nodes, and paths outside the storage dir, are left alone.
func TestCleanerLeavesOthersAlone(t *testing.T) {
	dir := t.TempDir()
	other := deletedVolume(t, dir, "n2")
	if err := os.MkdirAll(other.Spec.HostPath.Path, 0o755); err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset(other)
	c := startedCleaner(t, client, Options{Dir: dir, Nodes: []string{"n1"}, RemoveDirs: true})
	if err := c.sync(context.Background(), other.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other.Spec.HostPath.Path); err != nil {
		t.Fatalf("another node's directory was removed: %v", err)
	}

	outside := t.TempDir()
	pv := deletedVolume(t, dir, "n1")
	pv.Spec.HostPath.Path = outside
	if err := RemoveDir(dir, pv); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatalf("a path outside the storage dir was removed: %v", err)
	}
}

// Simulated nodes drop the finalizer without touching the filesystem.
func TestCleanerSimulated(t *testing.T) {
	dir := t.TempDir()
	pv := deletedVolume(t, dir, "sim-0000")
	if err := os.MkdirAll(pv.Spec.HostPath.Path, 0o755); err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset(pv)
	c := startedCleaner(t, client, Options{Dir: dir, Nodes: []string{"sim-0000"}})
	if err := c.sync(context.Background(), pv.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pv.Spec.HostPath.Path); err != nil {
		t.Fatalf("simulated node removed a directory: %v", err)
	}
	got, _ := client.CoreV1().PersistentVolumes().Get(context.Background(), pv.Name, metav1.GetOptions{})
	if len(got.Finalizers) != 1 {
		t.Fatalf("finalizers %v", got.Finalizers)
	}
}
