package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// claimAndPod is a claim of the default class and a pod that runs cmd with
// the claim mounted at /data.
func claimManifest(claim string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: %s
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`, claim)
}

func claimPodManifest(pod, claim, restart, cmd string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  restartPolicy: %s
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", %q]
    volumeMounts:
    - name: data
      mountPath: /data
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: %s
`, pod, restart, cmd, claim)
}

// TestStorageLocalPathProcess: on the process runtime a pod writes into its
// claim, a second pod on the same claim reads it on the same node, the
// columns of sc/pvc/pv are Kubernetes', and deleting the claim after its
// pods removes the volume and its directory.
func TestStorageLocalPathProcess(t *testing.T) {
	s := shared
	ns := s.Namespace(t)

	sc := s.MustKubectl(t, "get", "sc")
	for _, want := range []string{"NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE",
		"local-path (default)", "herd.dev/local-path", "Delete", "WaitForFirstConsumer", "false"} {
		if !strings.Contains(sc, want) {
			t.Errorf("kubectl get sc lacks %q:\n%s", want, sc)
		}
	}

	if out, err := s.KubectlIn(t, claimManifest("data"), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// No consumer yet: the claim waits, and says why.
	eventually(t, 20*time.Second, func() error {
		out, _ := s.Kubectl(t, "describe", "pvc", "data", "-n", ns)
		if !strings.Contains(out, "Pending") || !strings.Contains(out, "waiting for first consumer to be created before binding") {
			return fmt.Errorf("describe pvc:\n%s", out)
		}
		return nil
	})
	if class := s.MustKubectl(t, "get", "pvc", "data", "-n", ns, "-o", "jsonpath={.spec.storageClassName} {.metadata.finalizers}"); class != `local-path ["kubernetes.io/pvc-protection"]` {
		t.Errorf("claim class and finalizers: %q", class)
	}

	if out, err := s.KubectlIn(t, claimPodManifest("writer", "data", "Never", "echo kept > /data/file"), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	waitPodStatus(t, s, ns, "writer", "Completed", 60*time.Second)
	node1 := podField(t, s, ns, "writer", "{.spec.nodeName}")
	pvName := s.MustKubectl(t, "get", "pvc", "data", "-n", ns, "-o", "jsonpath={.spec.volumeName}")
	if !strings.HasPrefix(pvName, "pvc-") {
		t.Fatalf("claim not bound to a provisioned volume: %q", pvName)
	}
	dir := s.MustKubectl(t, "get", "pv", pvName, "-o", "jsonpath={.spec.hostPath.path}")
	if want := filepath.Join(s.DataDir, "storage", pvName); dir != want {
		t.Errorf("volume directory %q, want %q", dir, want)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "file")); err != nil || string(b) != "kept\n" {
		t.Errorf("file in the volume directory: %q, %v", b, err)
	}
	affinity := s.MustKubectl(t, "get", "pv", pvName, "-o", "jsonpath={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}")
	if affinity != node1 {
		t.Errorf("volume node affinity %q, pod ran on %q", affinity, node1)
	}

	pvc := s.MustKubectl(t, "get", "pvc", "-n", ns)
	for _, want := range []string{"STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "data", "Bound", pvName, "1Gi", "RWO", "local-path"} {
		if !strings.Contains(pvc, want) {
			t.Errorf("kubectl get pvc lacks %q:\n%s", want, pvc)
		}
	}
	pv := s.MustKubectl(t, "get", "pv", pvName)
	for _, want := range []string{"CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "1Gi", "RWO", "Delete", "Bound", ns + "/data", "local-path"} {
		if !strings.Contains(pv, want) {
			t.Errorf("kubectl get pv lacks %q:\n%s", want, pv)
		}
	}
	all := s.MustKubectl(t, "get", "sc,pvc,pv", "-n", ns)
	for _, want := range []string{"storageclass.storage.k8s.io/local-path (default)", "persistentvolumeclaim/data", "persistentvolume/" + pvName,
		"RECLAIMPOLICY", "VOLUMEBINDINGMODE", "RECLAIM POLICY", "ACCESS MODES"} {
		if !strings.Contains(all, want) {
			t.Errorf("kubectl get sc,pvc,pv lacks %q:\n%s", want, all)
		}
	}
	ev := s.MustKubectl(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=data")
	for _, want := range []string{"WaitForFirstConsumer", "ProvisioningSucceeded"} {
		if !strings.Contains(ev, want) {
			t.Errorf("claim events lack %s:\n%s", want, ev)
		}
	}

	// The first pod goes; a second one on the same claim reads the file,
	// on the same node, and cannot write through a read-only claim mount.
	s.MustKubectl(t, "delete", "pod", "writer", "-n", ns)
	if out, err := s.KubectlIn(t, claimPodManifest("reader", "data", "Never", "cat /data/file; touch /data/other && echo writable || echo read-only"), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	waitPodStatus(t, s, ns, "reader", "Completed", 60*time.Second)
	if got := s.MustKubectl(t, "logs", "reader", "-n", ns); !strings.HasPrefix(got, "kept\n") {
		t.Errorf("reader logs: %q", got)
	}
	if node2 := podField(t, s, ns, "reader", "{.spec.nodeName}"); node2 != node1 {
		t.Errorf("reader on %q, writer on %q", node2, node1)
	}

	// The claim is protected while a pod uses it.
	if out, err := s.KubectlIn(t, claimPodManifest("user", "data", "Always", "sleep 3600"), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	waitPodStatus(t, s, ns, "user", "Running", 60*time.Second)
	s.MustKubectl(t, "delete", "pvc", "data", "-n", ns, "--wait=false")
	time.Sleep(time.Second)
	if out := s.MustKubectl(t, "get", "pvc", "data", "-n", ns, "--no-headers"); !strings.Contains(out, "Terminating") {
		t.Errorf("claim in use should stay Terminating: %s", out)
	}
	s.MustKubectl(t, "delete", "pod", "user", "reader", "-n", ns)
	eventually(t, 30*time.Second, func() error {
		if out, _ := s.Kubectl(t, "get", "pvc,pv", "-n", ns, "-o", "name"); strings.Contains(out, "data") || strings.Contains(out, pvName) {
			return fmt.Errorf("still there: %s", out)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			return fmt.Errorf("volume directory %s still exists: %v", dir, err)
		}
		return nil
	})
}

// TestStorageLocalPathSimulated: with three simulated nodes, a pod with a
// WaitForFirstConsumer claim is scheduled, its volume gets node affinity to
// that node, and a re-created pod lands there again. Unbound Immediate
// claims and missing claims keep pods Pending with Kubernetes' messages.
func TestStorageLocalPathSimulated(t *testing.T) {
	dir := filepathTemp("storage-sim")
	defer os.RemoveAll(dir)
	s, err := startServer(dir, "--runtime", "simulated", "--simulated-nodes", "3")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	eventually(t, 30*time.Second, func() error {
		out, _ := s.Kubectl(t, "get", "sc", "local-path", "-o", "name")
		if !strings.Contains(out, "local-path") {
			return fmt.Errorf("no default class: %s", out)
		}
		return nil
	})
	ns := s.Namespace(t)
	if out, err := s.KubectlIn(t, claimManifest("data")+"---\n"+claimPodManifest("p", "data", "Always", "true"), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	waitPodStatus(t, s, ns, "p", "Running", 60*time.Second)
	node := podField(t, s, ns, "p", "{.spec.nodeName}")
	pvName := s.MustKubectl(t, "get", "pvc", "data", "-n", ns, "-o", "jsonpath={.spec.volumeName}")
	if sel := s.MustKubectl(t, "get", "pvc", "data", "-n", ns, "-o", `jsonpath={.metadata.annotations.volume\.kubernetes\.io/selected-node}`); sel != node {
		t.Errorf("selected node %q, pod on %q", sel, node)
	}
	if aff := s.MustKubectl(t, "get", "pv", pvName, "-o", "jsonpath={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}"); aff != node {
		t.Errorf("volume affinity %q, pod on %q", aff, node)
	}
	for i := 0; i < 3; i++ {
		s.MustKubectl(t, "delete", "pod", "p", "-n", ns)
		if out, err := s.KubectlIn(t, claimPodManifest("p", "data", "Always", "true"), "apply", "-n", ns, "-f", "-"); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		waitPodStatus(t, s, ns, "p", "Running", 60*time.Second)
		if again := podField(t, s, ns, "p", "{.spec.nodeName}"); again != node {
			t.Fatalf("re-created pod on %q, its volume is on %q", again, node)
		}
	}

	// An Immediate class without a provisioner and no volume: Pending.
	manual := `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: manual
provisioner: kubernetes.io/no-provisioner
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: imm
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`
	if out, err := s.KubectlIn(t, manual+"---\n"+claimPodManifest("imm", "imm", "Always", "true")+"---\n"+claimPodManifest("missing", "nope", "Always", "true"), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for pod, want := range map[string]string{
		"imm":     "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.",
		"missing": `0/3 nodes are available: persistentvolumeclaim "nope" not found.`,
	} {
		eventually(t, 30*time.Second, func() error {
			if got := podField(t, s, ns, pod, `{.status.conditions[?(@.type=="PodScheduled")].message}`); got != want {
				return fmt.Errorf("pod %s: %q", pod, got)
			}
			return nil
		})
	}
	// A matching volume made by hand binds the Immediate claim, and the pod runs.
	pv := `apiVersion: v1
kind: PersistentVolume
metadata:
  name: manual-1
spec:
  storageClassName: manual
  capacity:
    storage: 2Gi
  accessModes: [ReadWriteOnce]
  hostPath:
    path: /tmp/herd-e2e-manual-1
`
	if out, err := s.KubectlIn(t, pv, "apply", "-f", "-"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	waitPodStatus(t, s, ns, "imm", "Running", 60*time.Second)
	if out := s.MustKubectl(t, "get", "pv", "manual-1", "--no-headers"); !strings.Contains(out, "Bound") || !strings.Contains(out, ns+"/imm") || !strings.Contains(out, "Retain") {
		t.Errorf("manual volume: %s", out)
	}

	// Deleting the claim after its pod deletes the provisioned volume.
	s.MustKubectl(t, "delete", "pod", "p", "-n", ns)
	s.MustKubectl(t, "delete", "pvc", "data", "-n", ns)
	eventually(t, 30*time.Second, func() error {
		if out, _ := s.Kubectl(t, "get", "pv", "-o", "name"); strings.Contains(out, pvName) {
			return fmt.Errorf("volume still there: %s", out)
		}
		return nil
	})
	// The hand-made volume of a deleted claim is Released and kept.
	s.MustKubectl(t, "delete", "pod", "imm", "-n", ns)
	s.MustKubectl(t, "delete", "pvc", "imm", "-n", ns)
	eventually(t, 30*time.Second, func() error {
		if out := s.MustKubectl(t, "get", "pv", "manual-1", "--no-headers"); !strings.Contains(out, "Released") {
			return fmt.Errorf("manual volume: %s", out)
		}
		return nil
	})
}
