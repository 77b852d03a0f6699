package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func jobManifest(name, extraSpec, command string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %s
spec:
%s
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 2
      containers:
      - name: main
        image: busybox
        command: ["sh", "-c", %q]
`, name, extraSpec, command)
}

func countPods(t *testing.T, s *Server, ns, selector string) int {
	t.Helper()
	out, err := s.Kubectl(t, "get", "pods", "-n", ns, "-l", selector, "-o", "name")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return len(strings.Fields(out))
}

func TestCascadingDeletion(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	// Background (kubectl's default): the Job's pods go with it.
	if out, err := s.KubectlIn(t, jobManifest("bg", "  parallelism: 2\n  completions: 2", "sleep 300"), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	eventually(t, 30*time.Second, func() error {
		if n := countPods(t, s, ns, "job-name=bg"); n != 2 {
			return fmt.Errorf("%d pods", n)
		}
		return nil
	})
	s.MustKubectl(t, "delete", "job", "bg", "-n", ns)
	eventually(t, 30*time.Second, func() error {
		if n := countPods(t, s, ns, "job-name=bg"); n != 0 {
			return fmt.Errorf("%d pods left", n)
		}
		return nil
	})

	// Orphan: the pods stay, without their ownerReference.
	if out, err := s.KubectlIn(t, jobManifest("orphan", "  parallelism: 1", "sleep 300"), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	eventually(t, 30*time.Second, func() error {
		if n := countPods(t, s, ns, "job-name=orphan"); n != 1 {
			return fmt.Errorf("%d pods", n)
		}
		return nil
	})
	s.MustKubectl(t, "delete", "job", "orphan", "-n", ns, "--cascade=orphan")
	eventually(t, 30*time.Second, func() error {
		refs := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "job-name=orphan", "-o", "jsonpath={.items[*].metadata.ownerReferences}")
		if n := countPods(t, s, ns, "job-name=orphan"); n != 1 || refs != "" {
			return fmt.Errorf("%d pods, ownerReferences %q", n, refs)
		}
		return nil
	})

	// Foreground: the Job waits, with its finalizer, until its pods are gone.
	if out, err := s.KubectlIn(t, jobManifest("fg", "  parallelism: 1", "trap 'sleep 1; exit 0' TERM; sleep 300 & wait"), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	eventually(t, 30*time.Second, func() error {
		if st := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "job-name=fg", "-o", "jsonpath={.items[*].status.phase}"); st != "Running" {
			return fmt.Errorf("pod phase %q", st)
		}
		return nil
	})
	s.MustKubectl(t, "delete", "job", "fg", "-n", ns, "--cascade=foreground", "--wait=false")
	if f := s.MustKubectl(t, "get", "job", "fg", "-n", ns, "-o", "jsonpath={.metadata.finalizers} {.metadata.deletionTimestamp}"); !strings.Contains(f, "foregroundDeletion") {
		t.Errorf("foreground-deleted job: %q", f)
	}
	eventually(t, 60*time.Second, func() error {
		if out, err := s.Kubectl(t, "get", "job", "fg", "-n", ns); err == nil {
			return fmt.Errorf("job still there: %s", out)
		}
		if n := countPods(t, s, ns, "job-name=fg"); n != 0 {
			return fmt.Errorf("%d pods left after the owner went", n)
		}
		return nil
	})

	// Any kind can own: a pod owned by a ConfigMap goes with it.
	s.MustKubectl(t, "create", "configmap", "owner", "-n", ns)
	uid := s.MustKubectl(t, "get", "configmap", "owner", "-n", ns, "-o", "jsonpath={.metadata.uid}")
	pod := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: owned
  ownerReferences:
  - apiVersion: v1
    kind: ConfigMap
    name: owner
    uid: %s
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "300"]
`, uid)
	if out, err := s.KubectlIn(t, pod, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	s.MustKubectl(t, "delete", "configmap", "owner", "-n", ns)
	eventually(t, 30*time.Second, func() error {
		if out, err := s.Kubectl(t, "get", "pod", "owned", "-n", ns); err == nil {
			return fmt.Errorf("pod still there: %s", out)
		}
		return nil
	})
}

func TestNamespaceDeletion(t *testing.T) {
	s := shared
	s.MustKubectl(t, "create", "namespace", "team-a")
	s.MustKubectl(t, "apply", "-n", "team-a", "-f", testdata("nginx-deploy.yaml"))
	s.MustKubectl(t, "create", "configmap", "c1", "-n", "team-a")
	// A pod that takes 5 s to stop keeps the namespace Terminating meanwhile.
	slow := strings.Replace(jobManifest("work", "  parallelism: 1", "trap 'sleep 5; exit 0' TERM; sleep 300 & wait"),
		"terminationGracePeriodSeconds: 2", "terminationGracePeriodSeconds: 20", 1)
	if out, err := s.KubectlIn(t, slow, "apply", "-n", "team-a", "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	eventually(t, 30*time.Second, func() error {
		if st := s.MustKubectl(t, "get", "pods", "-n", "team-a", "-l", "job-name=work", "-o", "jsonpath={.items[*].status.phase}"); st != "Running" {
			return fmt.Errorf("pod phase %q", st)
		}
		return nil
	})
	s.MustKubectl(t, "delete", "namespace", "team-a", "--wait=false")
	phase := s.MustKubectl(t, "get", "namespace", "team-a", "-o", "jsonpath={.status.phase}")
	if phase != "Terminating" {
		t.Errorf("phase = %q", phase)
	}
	if out, err := s.Kubectl(t, "create", "configmap", "late", "-n", "team-a"); err == nil ||
		!strings.Contains(out, "because it is being terminated") {
		t.Errorf("create in terminating namespace: err=%v %s", err, out)
	}
	eventually(t, 90*time.Second, func() error {
		if out, err := s.Kubectl(t, "get", "namespace", "team-a"); err == nil {
			all, _ := s.Kubectl(t, "get", "all,cm", "-n", "team-a")
			return fmt.Errorf("namespace still there: %s\n%s", out, all)
		}
		return nil
	})
}

// TestForegroundDeletionSurvivesKill: kill -9 of the server in the middle of
// a foreground deletion; after the restart the deletion finishes.
func TestForegroundDeletionSurvivesKill(t *testing.T) {
	dir := filepathTemp("fgkill")
	defer os.RemoveAll(dir)
	defer killRuns(dir)
	s, err := startServer(dir)
	if err != nil {
		t.Fatal(err)
	}
	slow := strings.Replace(jobManifest("fg", "  parallelism: 2\n  completions: 2", "trap 'sleep 4; exit 0' TERM; sleep 300 & wait"),
		"terminationGracePeriodSeconds: 2", "terminationGracePeriodSeconds: 30", 1)
	if out, err := s.KubectlIn(t, slow, "apply", "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	eventually(t, 30*time.Second, func() error {
		if st := s.MustKubectl(t, "get", "pods", "-l", "job-name=fg", "-o", "jsonpath={.items[*].status.phase}"); st != "Running Running" {
			return fmt.Errorf("pod phases %q", st)
		}
		return nil
	})
	s.MustKubectl(t, "delete", "job", "fg", "--cascade=foreground", "--wait=false")
	eventually(t, 10*time.Second, func() error {
		if ts := s.MustKubectl(t, "get", "pods", "-l", "job-name=fg", "-o", "jsonpath={.items[*].metadata.deletionTimestamp}"); len(strings.Fields(ts)) != 2 {
			return fmt.Errorf("pods not terminating yet: %q", ts)
		}
		return nil
	})
	s.Kill()
	s, err = startServer(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	eventually(t, 60*time.Second, func() error {
		if out, err := s.Kubectl(t, "get", "job", "fg"); err == nil {
			return fmt.Errorf("job still there: %s", out)
		}
		if n := countPods(t, s, "default", "job-name=fg"); n != 0 {
			return fmt.Errorf("%d pods left", n)
		}
		return nil
	})
}
