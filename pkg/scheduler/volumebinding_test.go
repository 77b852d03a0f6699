package scheduler

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/herd-project/herd/pkg/volume"
)

func withClaim(claim string) podOpt {
	return func(p *v1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, v1.Volume{Name: "v-" + claim,
			VolumeSource: v1.VolumeSource{PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
	}
}

func makeClass(name string, mode storagev1.VolumeBindingMode, provisioner string) *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner, VolumeBindingMode: &mode}
}

func makeClaim(name, class, volumeName string) *v1.PersistentVolumeClaim {
	c := &v1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)},
		Spec: v1.PersistentVolumeClaimSpec{
			StorageClassName: &class,
			AccessModes:      []v1.PersistentVolumeAccessMode{v1.ReadWriteOnce},
			Resources:        v1.VolumeResourceRequirements{Requests: v1.ResourceList{v1.ResourceStorage: resource.MustParse("1Gi")}},
			VolumeName:       volumeName,
		},
		Status: v1.PersistentVolumeClaimStatus{Phase: v1.ClaimPending},
	}
	if volumeName != "" {
		c.Annotations = map[string]string{volume.AnnBindCompleted: "yes"}
		c.Status.Phase = v1.ClaimBound
	}
	return c
}

func makeVolume(name, class, node string) *v1.PersistentVolume {
	pv := &v1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1.PersistentVolumeSpec{
			StorageClassName: class,
			AccessModes:      []v1.PersistentVolumeAccessMode{v1.ReadWriteOnce},
			Capacity:         v1.ResourceList{v1.ResourceStorage: resource.MustParse("1Gi")},
		},
		Status: v1.PersistentVolumeStatus{Phase: v1.VolumeAvailable},
	}
	if node != "" {
		pv.Spec.NodeAffinity = volume.HostnameAffinity(makeNode(node, "1", "1Gi"))
	}
	return pv
}

// A pod whose claim is bound to a volume on n2 only goes to n2.
func TestVolumeBindingBoundVolumeNodeAffinity(t *testing.T) {
	env := newTestEnv(t, makeNode("n1", "8", "8Gi"), makeNode("n2", "1", "1Gi"), makeNode("n3", "8", "8Gi"),
		makeClass("local", storagev1.VolumeBindingWaitForFirstConsumer, volume.LocalPathProvisioner),
		makeClaim("data", "local", "pv-1"), makeVolume("pv-1", "local", "n2"))
	env.createPod(makePod("p", "100m", "", withClaim("data")))
	env.drain()
	if got := env.getPod("p").Spec.NodeName; got != "n2" {
		t.Fatalf("pod on %q, its volume is on n2", got)
	}
}

// With the only node of the volume full, the pod stays Pending and the
// message counts the volume node affinity conflicts.
func TestVolumeBindingNodeAffinityConflictMessage(t *testing.T) {
	env := newTestEnv(t, makeNode("n1", "8", "8Gi"), makeNode("n2", "8", "8Gi"),
		makeClass("local", storagev1.VolumeBindingWaitForFirstConsumer, volume.LocalPathProvisioner),
		makeClaim("data", "local", "pv-1"), makeVolume("pv-1", "local", "gone"))
	env.createPod(makePod("p", "100m", "", withClaim("data")))
	env.drain()
	c := podScheduledCondition(env.getPod("p"))
	want := "0/2 nodes are available: 2 " + ReasonVolumeNodeAffinityConflict + "."
	if c == nil || c.Message != want {
		t.Fatalf("PodScheduled %+v, want message %q", c, want)
	}
}

func TestVolumeBindingPreFilterMessages(t *testing.T) {
	for _, tc := range []struct {
		name  string
		objs  []runtimeObject
		claim string
		want  string
	}{
		{"missing claim", nil, "nope", `0/1 nodes are available: persistentvolumeclaim "nope" not found.`},
		{"unbound immediate", []runtimeObject{makeClass("manual", storagev1.VolumeBindingImmediate, volume.NoProvisioner), makeClaim("imm", "manual", "")},
			"imm", "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims."},
		{"no class", []runtimeObject{makeClaim("none", "", "")}, "none", "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, append([]runtimeObject{makeNode("n1", "8", "8Gi")}, tc.objs...)...)
			env.createPod(makePod("p", "100m", "", withClaim(tc.claim)))
			env.drain()
			p := env.getPod("p")
			if p.Spec.NodeName != "" {
				t.Fatalf("pod bound to %q", p.Spec.NodeName)
			}
			if c := podScheduledCondition(p); c == nil || c.Message != tc.want {
				t.Fatalf("PodScheduled %+v, want %q", c, tc.want)
			}
		})
	}
}

// A WaitForFirstConsumer claim gets the chosen node as selected-node, and
// the pod is bound only once the claim is bound.
func TestVolumeBindingSelectedNodeFlow(t *testing.T) {
	env := newTestEnv(t, makeNode("n1", "1", "1Gi"), makeNode("n2", "8", "8Gi"),
		makeClass("local", storagev1.VolumeBindingWaitForFirstConsumer, volume.LocalPathProvisioner),
		makeClaim("data", "local", ""))
	env.createPod(makePod("p", "2", "", withClaim("data")))
	for env.sched.queue.Len() > 0 {
		env.sched.processNextItem(env.ctx)
	}
	var claim *v1.PersistentVolumeClaim
	env.eventually("selected node on the claim", func() bool {
		c, err := env.client.CoreV1().PersistentVolumeClaims("default").Get(env.ctx, "data", metav1.GetOptions{})
		claim = c
		return err == nil && c.Annotations[volume.AnnSelectedNode] != ""
	})
	if got := claim.Annotations[volume.AnnSelectedNode]; got != "n2" {
		t.Fatalf("selected node %q, want n2 (the only node with room)", got)
	}
	if n := env.bindCount(); n != 0 {
		t.Fatalf("pod bound (%d bindings) before its claim", n)
	}
	// The PV controller binds the claim.
	claim.Spec.VolumeName = "pv-1"
	claim.Annotations[volume.AnnBindCompleted] = "yes"
	if _, err := env.client.CoreV1().PersistentVolumeClaims("default").Update(env.ctx, claim, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.sched.binds.Wait()
	if got := env.getPod("p").Spec.NodeName; got != "n2" {
		t.Fatalf("pod on %q after its claim was bound, want n2", got)
	}
}

// Filter: a WaitForFirstConsumer claim of a class without provisioner
// needs a matching available volume on the node.
func TestVolumeBindingStaticDelayedVolume(t *testing.T) {
	env := newTestEnv(t, makeNode("n1", "8", "8Gi"), makeNode("n2", "8", "8Gi"), makeNode("n3", "8", "8Gi"),
		makeClass("local-storage", storagev1.VolumeBindingWaitForFirstConsumer, volume.NoProvisioner),
		makeClaim("data", "local-storage", ""), makeVolume("pv-n3", "local-storage", "n3"))
	env.createPod(makePod("p", "100m", "", withClaim("data")))
	for env.sched.queue.Len() > 0 {
		env.sched.processNextItem(env.ctx)
	}
	env.eventually("selected node", func() bool {
		c, _ := env.client.CoreV1().PersistentVolumeClaims("default").Get(env.ctx, "data", metav1.GetOptions{})
		return c != nil && c.Annotations[volume.AnnSelectedNode] == "n3"
	})

	// Without any volume there is no node.
	env2 := newTestEnv(t, makeNode("n1", "8", "8Gi"),
		makeClass("local-storage", storagev1.VolumeBindingWaitForFirstConsumer, volume.NoProvisioner),
		makeClaim("data", "local-storage", ""))
	env2.createPod(makePod("p", "100m", "", withClaim("data")))
	env2.drain()
	if c := podScheduledCondition(env2.getPod("p")); c == nil || !strings.Contains(c.Message, "1 "+ReasonVolumeBindConflict) {
		t.Fatalf("PodScheduled %+v", c)
	}
}
