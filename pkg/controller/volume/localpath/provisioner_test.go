package localpath

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"

	"github.com/herd-project/herd/pkg/volume"
)

func newProvisioner(t *testing.T, objs ...runtime.Object) (*Provisioner, *fake.Clientset, *record.FakeRecorder) {
	client := fake.NewClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	rec := record.NewFakeRecorder(100)
	p := New(client, f, rec)
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.PersistentVolume:
			err = f.Core().V1().PersistentVolumes().Informer().GetIndexer().Add(o)
		case *corev1.PersistentVolumeClaim:
			err = f.Core().V1().PersistentVolumeClaims().Informer().GetIndexer().Add(o)
		case *storagev1.StorageClass:
			err = f.Storage().V1().StorageClasses().Informer().GetIndexer().Add(o)
		case *corev1.Node:
			err = f.Core().V1().Nodes().Informer().GetIndexer().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return p, client, rec
}

func node(name, dir string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	if dir != "" {
		n.Annotations = map[string]string{volume.AnnLocalPathDir: dir}
	}
	return n
}

func waitingClaim(selected string) *corev1.PersistentVolumeClaim {
	class := volume.LocalPathClass
	c := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "ns", UID: types.UID("1234"), ResourceVersion: "7",
			Annotations: map[string]string{volume.AnnStorageProvisioner: volume.LocalPathProvisioner}},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: &class,
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("3Gi")}},
		},
	}
	if selected != "" {
		c.Annotations[volume.AnnSelectedNode] = selected
	}
	return c
}

func TestProvisionsOnSelectedNode(t *testing.T) {
	p, client, rec := newProvisioner(t, DefaultStorageClass(), waitingClaim("n2"), node("n1", "/d1/storage"), node("n2", "/d2/storage"))
	if err := p.syncClaim(context.Background(), "ns/data"); err != nil {
		t.Fatal(err)
	}
	pv, err := client.CoreV1().PersistentVolumes().Get(context.Background(), "pvc-1234", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pv.Spec.HostPath == nil || pv.Spec.HostPath.Path != "/d2/storage/pvc-1234" || *pv.Spec.HostPath.Type != corev1.HostPathDirectoryOrCreate {
		t.Errorf("hostPath %+v", pv.Spec.HostPath)
	}
	if NodeOf(pv) != "n2" {
		t.Errorf("node affinity %+v", pv.Spec.NodeAffinity)
	}
	size := pv.Spec.Capacity[corev1.ResourceStorage]
	if size.String() != "3Gi" || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete || pv.Spec.StorageClassName != volume.LocalPathClass {
		t.Errorf("capacity %s policy %s class %s", size.String(), pv.Spec.PersistentVolumeReclaimPolicy, pv.Spec.StorageClassName)
	}
	if ref := pv.Spec.ClaimRef; ref == nil || ref.Namespace != "ns" || ref.Name != "data" || ref.UID != "1234" {
		t.Errorf("claimRef %+v", ref)
	}
	if pv.Annotations[volume.AnnDynamicallyProvisioned] != volume.LocalPathProvisioner || len(pv.Finalizers) != 1 || pv.Finalizers[0] != volume.LocalPathCleanupFinalizer {
		t.Errorf("annotations %v finalizers %v", pv.Annotations, pv.Finalizers)
	}
	close(rec.Events)
	var evs []string
	for e := range rec.Events {
		evs = append(evs, e)
	}
	if got := strings.Join(evs, "\n"); !strings.Contains(got, "Normal Provisioning External provisioner is provisioning volume for claim \"ns/data\"") ||
		!strings.Contains(got, "Normal ProvisioningSucceeded Successfully provisioned volume pvc-1234") {
		t.Errorf("events:\n%s", got)
	}
}

func TestWaitsForSelectedNode(t *testing.T) {
	p, client, _ := newProvisioner(t, DefaultStorageClass(), waitingClaim(""), node("n1", "/d1/storage"))
	if err := p.syncClaim(context.Background(), "ns/data"); err != nil {
		t.Fatal(err)
	}
	if l, _ := client.CoreV1().PersistentVolumes().List(context.Background(), metav1.ListOptions{}); len(l.Items) != 0 {
		t.Fatalf("provisioned before a node was selected: %v", l.Items)
	}
}

func TestNodeWithoutStorageDir(t *testing.T) {
	p, _, rec := newProvisioner(t, DefaultStorageClass(), waitingClaim("n1"), node("n1", ""))
	if err := p.syncClaim(context.Background(), "ns/data"); err == nil {
		t.Fatal("no error for a node without local-path dir")
	}
	if e := <-rec.Events; !strings.Contains(e, "Warning ProvisioningFailed") || !strings.Contains(e, volume.AnnLocalPathDir) {
		t.Errorf("event %q", e)
	}
}

func TestImmediateClassPicksReadyNode(t *testing.T) {
	sc := DefaultStorageClass()
	mode := storagev1.VolumeBindingImmediate
	sc.VolumeBindingMode = &mode
	notReady := node("a", "/a")
	notReady.Status.Conditions = nil
	p, client, _ := newProvisioner(t, sc, waitingClaim(""), notReady, node("b", "/b"))
	if err := p.syncClaim(context.Background(), "ns/data"); err != nil {
		t.Fatal(err)
	}
	pv, err := client.CoreV1().PersistentVolumes().Get(context.Background(), "pvc-1234", metav1.GetOptions{})
	if err != nil || NodeOf(pv) != "b" {
		t.Fatalf("pv %v on %q, err %v", pv, NodeOf(pv), err)
	}
}

func provisioned(phase corev1.PersistentVolumePhase, policy corev1.PersistentVolumeReclaimPolicy) *corev1.PersistentVolume {
	c := waitingClaim("n1")
	pv, _ := BuildVolume(c, DefaultStorageClass(), node("n1", "/d"))
	pv.Status.Phase = phase
	pv.Spec.PersistentVolumeReclaimPolicy = policy
	return pv
}

func TestDeletesReleasedVolumes(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		phase   corev1.PersistentVolumePhase
		policy  corev1.PersistentVolumeReclaimPolicy
		deleted bool
	}{
		{corev1.VolumeReleased, corev1.PersistentVolumeReclaimDelete, true},
		{corev1.VolumeReleased, corev1.PersistentVolumeReclaimRetain, false},
		{corev1.VolumeBound, corev1.PersistentVolumeReclaimDelete, false},
	} {
		pv := provisioned(tc.phase, tc.policy)
		p, client, _ := newProvisioner(t, pv, node("n1", "/d"))
		if err := p.syncVolume(ctx, pv.Name); err != nil {
			t.Fatal(err)
		}
		deleted := false
		for _, a := range client.Actions() {
			if a.GetVerb() == "delete" && a.GetResource().Resource == "persistentvolumes" {
				deleted = true
			}
		}
		if deleted != tc.deleted {
			t.Errorf("%s %s: deleted %v, want %v", tc.phase, tc.policy, deleted, tc.deleted)
		}
	}
}

func TestNodeGoneFreesFinalizer(t *testing.T) {
	ctx := context.Background()
	pv := provisioned(corev1.VolumeReleased, corev1.PersistentVolumeReclaimDelete)
	pv.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	pv.Finalizers = append(pv.Finalizers, volume.PVProtectionFinalizer)
	p, client, _ := newProvisioner(t, pv) // no node n1
	if err := p.syncVolume(ctx, pv.Name); err != nil {
		t.Fatal(err)
	}
	got, err := client.CoreV1().PersistentVolumes().Get(ctx, pv.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Finalizers) != 1 || got.Finalizers[0] != volume.PVProtectionFinalizer {
		t.Errorf("finalizers %v", got.Finalizers)
	}

	// With its node present, the provisioner leaves the finalizer to the node's agent.
	p, client, _ = newProvisioner(t, pv, node("n1", "/d"))
	if err := p.syncVolume(ctx, pv.Name); err != nil {
		t.Fatal(err)
	}
	for _, a := range client.Actions() {
		if a.GetVerb() == "update" {
			t.Errorf("unexpected %s", a)
		}
	}
}

func TestBlockModeRefused(t *testing.T) {
	c := waitingClaim("n1")
	block := corev1.PersistentVolumeBlock
	c.Spec.VolumeMode = &block
	if _, err := BuildVolume(c, DefaultStorageClass(), node("n1", "/d")); err == nil {
		t.Fatal("block volume provisioned")
	}
}
