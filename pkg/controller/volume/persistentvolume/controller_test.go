package persistentvolume

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
	testingclock "k8s.io/utils/clock/testing"

	"github.com/herd-project/herd/pkg/volume"
)

type env struct {
	t        *testing.T
	ctx      context.Context
	client   *fake.Clientset
	ctrl     *Controller
	recorder *record.FakeRecorder
	factory  informers.SharedInformerFactory
}

// newEnv builds a controller whose listers hold objs (informers are not
// started: each test calls a sync function and reads the results from the
// fake clientset).
func newEnv(t *testing.T, objs ...runtime.Object) *env {
	client := fake.NewClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	rec := record.NewFakeRecorder(100)
	c := New(client, f, rec, testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
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
	return &env{t: t, ctx: context.Background(), client: client, ctrl: c, recorder: rec, factory: f}
}

func (e *env) claim(name string) *corev1.PersistentVolumeClaim {
	e.t.Helper()
	c, err := e.client.CoreV1().PersistentVolumeClaims("ns").Get(e.ctx, name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) volume(name string) *corev1.PersistentVolume {
	e.t.Helper()
	v, err := e.client.CoreV1().PersistentVolumes().Get(e.ctx, name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func (e *env) syncClaim(name string) {
	e.t.Helper()
	if err := e.ctrl.syncClaim(e.ctx, e.claim(name)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) syncVolume(name string) {
	e.t.Helper()
	if err := e.ctrl.syncVolume(e.ctx, e.volume(name)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) events() string {
	var out []string
	for {
		select {
		case ev := <-e.recorder.Events:
			out = append(out, ev)
		default:
			return strings.Join(out, "\n")
		}
	}
}

func claim(name, class, size string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), ResourceVersion: "1"},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: &class,
			AccessModes:      modes,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
		},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
	}
}

func pv(name, class, size string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolume {
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: "1"},
		Spec: corev1.PersistentVolumeSpec{
			StorageClassName:              class,
			AccessModes:                   modes,
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/" + name}},
		},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeAvailable},
	}
}

func class(name string, mode storagev1.VolumeBindingMode, provisioner string) *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner, VolumeBindingMode: &mode}
}

func node(name string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}}}
}

func onNode(v *corev1.PersistentVolume, n string) *corev1.PersistentVolume {
	v.Spec.NodeAffinity = volume.HostnameAffinity(node(n))
	return v
}

func assertBound(t *testing.T, e *env, claimName, volName string) {
	t.Helper()
	c, v := e.claim(claimName), e.volume(volName)
	if c.Spec.VolumeName != volName || c.Status.Phase != corev1.ClaimBound || c.Annotations[volume.AnnBindCompleted] != "yes" {
		t.Fatalf("claim not bound to %s: volumeName %q phase %q annotations %v", volName, c.Spec.VolumeName, c.Status.Phase, c.Annotations)
	}
	capacity := c.Status.Capacity[corev1.ResourceStorage]
	want := v.Spec.Capacity[corev1.ResourceStorage]
	if capacity.Cmp(want) != 0 || len(c.Status.AccessModes) == 0 {
		t.Errorf("claim status capacity %s access modes %v, want the volume's %s", capacity.String(), c.Status.AccessModes, want.String())
	}
	if v.Spec.ClaimRef == nil || v.Spec.ClaimRef.Name != claimName || v.Spec.ClaimRef.UID != c.UID || v.Status.Phase != corev1.VolumeBound {
		t.Fatalf("volume not bound to %s: claimRef %+v phase %q", claimName, v.Spec.ClaimRef, v.Status.Phase)
	}
}

func TestBindsSmallestMatchingVolume(t *testing.T) {
	sel := pv("selected-out", "manual", "1Gi")
	sel.Labels = map[string]string{"tier": "slow"}
	c := claim("data", "manual", "1Gi")
	c.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "fast"}}
	fast := func(v *corev1.PersistentVolume) *corev1.PersistentVolume {
		v.Labels = map[string]string{"tier": "fast"}
		return v
	}
	e := newEnv(t, class("manual", storagev1.VolumeBindingImmediate, volume.NoProvisioner), c,
		fast(pv("big", "manual", "10Gi")),
		fast(pv("right", "manual", "2Gi")),
		fast(pv("too-small", "manual", "500Mi")),
		fast(pv("other-class", "fast", "1Gi")),
		fast(pv("rox-only", "manual", "1Gi", corev1.ReadOnlyMany)),
		sel)
	e.syncClaim("data")
	assertBound(t, e, "data", "right")
	if got := e.volume("right").Annotations[volume.AnnBoundByController]; got != "yes" {
		t.Errorf("volume bound-by-controller annotation %q", got)
	}
	if got := e.claim("data").Annotations[volume.AnnBoundByController]; got != "yes" {
		t.Errorf("claim bound-by-controller annotation %q", got)
	}
	if e.volume("big").Spec.ClaimRef != nil {
		t.Error("a second volume was bound")
	}
}

func TestPreBinding(t *testing.T) {
	// spec.volumeName names the volume.
	c := claim("data", "manual", "1Gi")
	c.Spec.VolumeName = "wanted"
	e := newEnv(t, c, pv("wanted", "manual", "5Gi"), pv("other", "manual", "1Gi"))
	e.syncClaim("data")
	assertBound(t, e, "data", "wanted")
	if _, ok := e.claim("data").Annotations[volume.AnnBoundByController]; ok {
		t.Error("a claim pre-bound by the user is not bound-by-controller")
	}

	// claimRef of a volume names the claim (without UID).
	v := pv("reserved", "manual", "5Gi")
	v.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "ns", Name: "data"}
	e = newEnv(t, claim("data", "manual", "1Gi"), v, pv("better", "manual", "1Gi"))
	e.syncClaim("data")
	assertBound(t, e, "data", "reserved")

	// A volume reserved for another claim is not taken.
	v = pv("reserved", "manual", "5Gi")
	v.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "ns", Name: "someone-else"}
	e = newEnv(t, claim("data", "manual", "1Gi"), v)
	e.syncClaim("data")
	if c := e.claim("data"); c.Spec.VolumeName != "" || c.Status.Phase != corev1.ClaimPending {
		t.Fatalf("claim took a volume reserved for another claim: %+v", c.Spec)
	}
}

func TestWaitForFirstConsumer(t *testing.T) {
	e := newEnv(t, class("local", storagev1.VolumeBindingWaitForFirstConsumer, volume.NoProvisioner),
		claim("data", "local", "1Gi"), onNode(pv("on-n1", "local", "1Gi"), "n1"), onNode(pv("on-n2", "local", "1Gi"), "n2"), node("n1"), node("n2"))
	e.syncClaim("data")
	if c := e.claim("data"); c.Spec.VolumeName != "" || c.Status.Phase != corev1.ClaimPending {
		t.Fatalf("delayed claim bound before a consumer: %+v", c.Spec)
	}
	if ev := e.events(); !strings.Contains(ev, "Normal WaitForFirstConsumer waiting for first consumer to be created before binding") {
		t.Errorf("events: %s", ev)
	}

	c := claim("data", "local", "1Gi")
	c.Annotations = map[string]string{volume.AnnSelectedNode: "n2"}
	e = newEnv(t, class("local", storagev1.VolumeBindingWaitForFirstConsumer, volume.NoProvisioner),
		c, onNode(pv("on-n1", "local", "1Gi"), "n1"), onNode(pv("on-n2", "local", "1Gi"), "n2"), node("n1"), node("n2"))
	e.syncClaim("data")
	assertBound(t, e, "data", "on-n2")
}

func TestHandsClaimToProvisioner(t *testing.T) {
	c := claim("data", "local-path", "1Gi")
	c.Annotations = map[string]string{volume.AnnSelectedNode: "n1"}
	e := newEnv(t, class("local-path", storagev1.VolumeBindingWaitForFirstConsumer, volume.LocalPathProvisioner), c, node("n1"))
	e.syncClaim("data")
	got := e.claim("data")
	if got.Annotations[volume.AnnStorageProvisioner] != volume.LocalPathProvisioner || got.Annotations[volume.AnnBetaStorageProvisioner] != volume.LocalPathProvisioner {
		t.Fatalf("claim annotations %v", got.Annotations)
	}
	if ev := e.events(); !strings.Contains(ev, "Normal ExternalProvisioning Waiting for a volume to be created either by the external provisioner 'herd.dev/local-path'") {
		t.Errorf("events: %s", ev)
	}
	// A missing class is reported.
	e = newEnv(t, claim("data", "gold", "1Gi"))
	e.syncClaim("data")
	if ev := e.events(); !strings.Contains(ev, `Warning ProvisioningFailed storageclass.storage.k8s.io "gold" not found`) {
		t.Errorf("events: %s", ev)
	}
}

func TestLostClaim(t *testing.T) {
	c := claim("data", "manual", "1Gi")
	c.Spec.VolumeName = "gone"
	c.Annotations = map[string]string{volume.AnnBindCompleted: "yes"}
	c.Status.Phase = corev1.ClaimBound
	e := newEnv(t, c)
	e.syncClaim("data")
	if got := e.claim("data").Status.Phase; got != corev1.ClaimLost {
		t.Fatalf("phase %q, want Lost", got)
	}
	if ev := e.events(); !strings.Contains(ev, "Warning ClaimLost") {
		t.Errorf("events: %s", ev)
	}
}

func boundVolume(name string, policy corev1.PersistentVolumeReclaimPolicy, provisionedBy string) *corev1.PersistentVolume {
	v := pv(name, "manual", "1Gi")
	v.Spec.PersistentVolumeReclaimPolicy = policy
	v.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "ns", Name: "deleted", UID: "uid-deleted"}
	v.Status.Phase = corev1.VolumeBound
	if provisionedBy != "" {
		v.Annotations = map[string]string{volume.AnnDynamicallyProvisioned: provisionedBy}
	}
	return v
}

func TestReclaim(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pv     *corev1.PersistentVolume
		phase  corev1.PersistentVolumePhase
		events string
	}{
		{"retain", boundVolume("v", corev1.PersistentVolumeReclaimRetain, ""), corev1.VolumeReleased, ""},
		{"delete by provisioner", boundVolume("v", corev1.PersistentVolumeReclaimDelete, volume.LocalPathProvisioner), corev1.VolumeReleased, ""},
		{"delete without plugin", boundVolume("v", corev1.PersistentVolumeReclaimDelete, ""), corev1.VolumeFailed, "Warning VolumeFailedDelete"},
		{"recycle", boundVolume("v", corev1.PersistentVolumeReclaimRecycle, ""), corev1.VolumeFailed, "Warning VolumeFailedRecycle No recycler plugin found for the volume!"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.pv)
			e.syncVolume("v")
			if got := e.volume("v").Status.Phase; got != tc.phase {
				t.Fatalf("phase %q, want %q", got, tc.phase)
			}
			ev := e.events()
			if tc.events == "" && ev != "" || !strings.Contains(ev, tc.events) {
				t.Errorf("events %q, want %q", ev, tc.events)
			}
		})
	}
}

func TestVolumePhases(t *testing.T) {
	// No claimRef: Available.
	v := pv("free", "manual", "1Gi")
	v.Status.Phase = corev1.VolumePending
	c := claim("data", "manual", "1Gi")
	c.Spec.VolumeName = "used"
	used := pv("used", "manual", "1Gi")
	used.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "ns", Name: "data", UID: c.UID}
	used.Status.Phase = corev1.VolumeReleased
	e := newEnv(t, v, c, used)
	e.syncVolume("free")
	if got := e.volume("free").Status.Phase; got != corev1.VolumeAvailable {
		t.Errorf("free volume phase %q", got)
	}
	// Its claim exists and names it: Bound.
	e.syncVolume("used")
	if got := e.volume("used").Status.Phase; got != corev1.VolumeBound {
		t.Errorf("used volume phase %q", got)
	}
}

func TestFindMatchingVolumeSkipsDeletedAndBound(t *testing.T) {
	c := claim("data", "manual", "1Gi")
	deleting := pv("deleting", "manual", "1Gi")
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	taken := pv("taken", "manual", "1Gi")
	taken.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "ns", Name: "x", UID: "uid-x"}
	if got := volume.FindMatchingVolume(c, []*corev1.PersistentVolume{deleting, taken}, false, nil); got != nil {
		t.Fatalf("matched %s", got.Name)
	}
	free := pv("free", "manual", "1Gi")
	if got := volume.FindMatchingVolume(c, []*corev1.PersistentVolume{deleting, taken, free}, false, nil); got == nil || got.Name != "free" {
		t.Fatalf("matched %v", got)
	}
	// A delayed claim without a node takes nothing but a pre-bound volume.
	if got := volume.FindMatchingVolume(c, []*corev1.PersistentVolume{free}, true, nil); got != nil {
		t.Fatalf("delayed claim matched %s", got.Name)
	}
}

func TestRetroactiveDefaultClass(t *testing.T) {
	c := claim("data", "", "1Gi")
	c.Spec.StorageClassName = nil
	def := class("standard", storagev1.VolumeBindingImmediate, volume.NoProvisioner)
	def.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
	e := newEnv(t, c, def)
	e.syncClaim("data")
	if got := e.claim("data").Spec.StorageClassName; got == nil || *got != "standard" {
		t.Fatalf("storageClassName %v, want the default", got)
	}
	// An explicit "" stays.
	e = newEnv(t, claim("data", "", "1Gi"), def)
	e.syncClaim("data")
	if got := e.claim("data").Spec.StorageClassName; got == nil || *got != "" {
		t.Fatalf("storageClassName %v, want \"\"", got)
	}
}

func TestPreBoundToTakenVolume(t *testing.T) {
	c := claim("data", "manual", "1Gi")
	c.Spec.VolumeName = "taken"
	v := pv("taken", "manual", "1Gi")
	v.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "ns", Name: "other", UID: "uid-other"}
	e := newEnv(t, c, v)
	e.syncClaim("data")
	if got := e.claim("data").Status.Phase; got != corev1.ClaimPending {
		t.Fatalf("phase %q", got)
	}
	if ev := e.events(); !strings.Contains(ev, `Warning FailedBinding volume "taken" already bound to a different claim.`) {
		t.Errorf("events: %s", ev)
	}
	if ref := e.volume("taken").Spec.ClaimRef; ref.Name != "other" {
		t.Errorf("volume taken over: %+v", ref)
	}
}
