package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// podField reads one jsonpath of a pod.
func podField(t *testing.T, s *Server, ns, pod, path string) string {
	t.Helper()
	out, _ := s.Kubectl(t, "get", "pod", pod, "-n", ns, "-o", "jsonpath="+path)
	return strings.TrimSpace(out)
}

// waitPodStatus waits until the STATUS column of `kubectl get pod` shows want.
func waitPodStatus(t *testing.T, s *Server, ns, pod, want string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, func() error {
		out, err := s.Kubectl(t, "get", "pod", pod, "-n", ns, "--no-headers")
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		if f := strings.Fields(out); len(f) < 3 || f[2] != want {
			return fmt.Errorf("pod %s: %s", pod, out)
		}
		return nil
	})
}

func TestNodeIsReady(t *testing.T) {
	s := shared
	host, _ := os.Hostname()
	out := s.MustKubectl(t, "get", "nodes", "--no-headers")
	if f := strings.Fields(out); len(f) < 2 || f[1] != "Ready" {
		t.Fatalf("get nodes:\n%s", out)
	}
	labels := s.MustKubectl(t, "get", "nodes", "-o", "jsonpath={.items[0].metadata.labels}")
	for _, want := range []string{`"kubernetes.io/os":"linux"`, `"kubernetes.io/arch":"amd64"`, `"kubernetes.io/hostname":"` + strings.ToLower(host) + `"`} {
		if !strings.Contains(labels, want) {
			t.Errorf("node labels lack %s: %s", want, labels)
		}
	}
	desc := s.MustKubectl(t, "describe", "node")
	for _, want := range []string{"Capacity:", "Allocatable:", "Allocated resources:", "pods:", "memory:", "Ready            True"} {
		if !strings.Contains(desc, want) {
			t.Errorf("describe node lacks %q:\n%s", want, desc)
		}
	}
	if lease := s.MustKubectl(t, "get", "lease", "-n", "kube-node-lease", "-o", "name"); !strings.Contains(lease, "lease.coordination.k8s.io/") {
		t.Errorf("no node lease: %q", lease)
	}
}

func TestRunAndLogs(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	s.MustKubectl(t, "run", "hello", "-n", ns, "--image=busybox", "--restart=Never", "--command", "--",
		"sh", "-c", "echo hello from $HOSTNAME; sleep 1")
	waitPodStatus(t, s, ns, "hello", "Completed", 60*time.Second)
	if out := s.MustKubectl(t, "logs", "hello", "-n", ns); strings.TrimSpace(out) != "hello from hello" {
		t.Errorf("logs = %q", out)
	}
	if out := s.MustKubectl(t, "logs", "hello", "-n", ns, "--timestamps"); !strings.Contains(out, "Z hello from hello") {
		t.Errorf("logs --timestamps = %q", out)
	}
	if v := podField(t, s, ns, "hello", "{.status.phase} {.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.exitCode}"); v != "Succeeded Completed 0" {
		t.Errorf("status = %q", v)
	}
	ev := s.MustKubectl(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=hello", "-o", "jsonpath={.items[*].reason}")
	for _, want := range []string{"Scheduled", "Started"} {
		if !strings.Contains(ev, want) {
			t.Errorf("events lack %s: %s", want, ev)
		}
	}
}

func TestFailingPods(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	s.MustKubectl(t, "run", "fail-never", "-n", ns, "--image=busybox", "--restart=Never", "--command", "--", "sh", "-c", "exit 1")
	s.MustKubectl(t, "run", "fail-onfailure", "-n", ns, "--image=busybox", "--restart=OnFailure", "--command", "--", "sh", "-c", "exit 1")
	waitPodStatus(t, s, ns, "fail-never", "Error", 60*time.Second)
	if v := podField(t, s, ns, "fail-never", "{.status.phase} {.status.containerStatuses[0].state.terminated.exitCode}"); v != "Failed 1" {
		t.Errorf("Never pod = %q", v)
	}
	waitPodStatus(t, s, ns, "fail-onfailure", "CrashLoopBackOff", 60*time.Second)
	eventually(t, 60*time.Second, func() error {
		n, _ := strconv.Atoi(podField(t, s, ns, "fail-onfailure", "{.status.containerStatuses[0].restartCount}"))
		if n < 2 {
			return fmt.Errorf("restartCount %d", n)
		}
		return nil
	})
}

func TestOOMKilled(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	manifest := `apiVersion: v1
kind: Pod
metadata:
  name: hog
spec:
  restartPolicy: Never
  containers:
  - name: hog
    image: perl
    command: ["perl", "-e", "my $x = 'x' x (200*1024*1024); sleep 30"]
    resources:
      limits:
        memory: 50Mi
`
	if out, err := s.KubectlIn(t, manifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	waitPodStatus(t, s, ns, "hog", "OOMKilled", 60*time.Second)
	if v := podField(t, s, ns, "hog", "{.status.containerStatuses[0].state.terminated.exitCode}"); v != "137" {
		t.Errorf("exit code %q, want 137", v)
	}
}

func TestReadinessProbe(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	port := freePort(t)
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: perl
    command: ["sh", "-c", "sleep 3; exec perl -MIO::Socket::INET -e '$s=IO::Socket::INET->new(LocalPort=>%d,Listen=>5,ReuseAddr=>1) or die; while($c=$s->accept){<$c>; print $c \"HTTP/1.0 200 OK\\r\\n\\r\\nok\"; close $c}'"]
    readinessProbe:
      httpGet:
        path: /
        port: %d
      periodSeconds: 1
`, port, port)
	if out, err := s.KubectlIn(t, manifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	eventually(t, 30*time.Second, func() error {
		out, _ := s.Kubectl(t, "get", "pod", "web", "-n", ns, "--no-headers")
		if f := strings.Fields(out); len(f) < 3 || f[1] != "0/1" || f[2] != "Running" {
			return fmt.Errorf("want 0/1 Running first: %s", out)
		}
		return nil
	})
	eventually(t, 30*time.Second, func() error {
		out, _ := s.Kubectl(t, "get", "pod", "web", "-n", ns, "--no-headers")
		if f := strings.Fields(out); len(f) < 2 || f[1] != "1/1" {
			return fmt.Errorf("want 1/1: %s", out)
		}
		return nil
	})
	start := time.Now()
	s.MustKubectl(t, "delete", "pod", "web", "-n", ns, "--grace-period=5")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("delete took %s", d)
	}
}

func TestDeleteRunningPod(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	s.MustKubectl(t, "run", "sleeper", "-n", ns, "--image=busybox", "--restart=Never", "--command", "--", "sleep", "1017")
	waitPodStatus(t, s, ns, "sleeper", "Running", 60*time.Second)
	if !processRunning("sleep", "1017") {
		t.Errorf("no process `sleep 1017` for the running pod")
	}
	start := time.Now()
	s.MustKubectl(t, "delete", "pod", "sleeper", "-n", ns, "--grace-period=3")
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("delete took %s, grace was 3s", d)
	}
	if processRunning("sleep", "1017") {
		t.Errorf("`sleep 1017` still runs after the pod was deleted")
	}
}

// processRunning says whether a host process runs with exactly argv.
func processRunning(argv ...string) bool {
	want := strings.Join(argv, "\x00") + "\x00"
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline"); string(cmd) == want {
			return true
		}
	}
	return false
}

func TestUnschedulablePod(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	manifest := `apiVersion: v1
kind: Pod
metadata:
  name: huge
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "10"]
    resources:
      requests:
        memory: 100Ti
`
	if out, err := s.KubectlIn(t, manifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	eventually(t, 30*time.Second, func() error {
		out := s.MustKubectl(t, "get", "events", "-n", ns, "--field-selector", "reason=FailedScheduling", "-o", "jsonpath={.items[*].message}")
		if !strings.Contains(out, "0/1 nodes are available: 1 Insufficient memory.") {
			return fmt.Errorf("FailedScheduling events: %q", out)
		}
		return nil
	})
	if v := podField(t, s, ns, "huge", "{.status.phase} {.status.conditions[?(@.type==\"PodScheduled\")].reason}"); v != "Pending Unschedulable" {
		t.Errorf("pod = %q", v)
	}
	desc := s.MustKubectl(t, "describe", "pod", "huge", "-n", ns)
	if !strings.Contains(desc, "FailedScheduling") {
		t.Errorf("describe pod lacks the FailedScheduling event:\n%s", desc)
	}
}

// TestPodsSurviveServerKill: kill -9 of the server while pods run; after the
// restart every status is truthful and nothing runs twice.
func TestPodsSurviveServerKill(t *testing.T) {
	dir := filepathTemp("podkill")
	defer os.RemoveAll(dir)
	defer killRuns(dir)
	s, err := startServer(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.MustKubectl(t, "run", "long", "--image=busybox", "--restart=Never", "--command", "--", "sleep", "1031")
	s.MustKubectl(t, "run", "ends", "--image=busybox", "--restart=Never", "--command", "--", "sh", "-c", "sleep 3; exit 3")
	s.MustKubectl(t, "run", "done", "--image=busybox", "--restart=Never", "--command", "--", "true")
	waitPodStatus(t, s, "default", "long", "Running", 60*time.Second)
	waitPodStatus(t, s, "default", "ends", "Running", 60*time.Second)
	waitPodStatus(t, s, "default", "done", "Completed", 60*time.Second)
	started := podField(t, s, "default", "long", "{.status.containerStatuses[0].state.running.startedAt}")
	s.Kill()
	time.Sleep(5 * time.Second) // "ends" exits while no server runs
	if !processRunning("sleep", "1031") {
		t.Fatal("the pod's process did not survive the server's kill -9")
	}
	s, err = startServer(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	waitPodStatus(t, s, "default", "ends", "Error", 60*time.Second)
	if v := podField(t, s, "default", "ends", "{.status.phase} {.status.containerStatuses[0].state.terminated.exitCode}"); v != "Failed 3" {
		t.Errorf("pod that ended while the server was down: %q, want Failed 3", v)
	}
	time.Sleep(2 * time.Second)
	if v := podField(t, s, "default", "long", "{.status.phase} {.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].state.running.startedAt}"); v != "Running 0 "+started {
		t.Errorf("long pod after restart: %q, want Running 0 %s", v, started)
	}
	if v := podField(t, s, "default", "done", "{.status.phase} {.status.containerStatuses[0].state.terminated.reason}"); v != "Succeeded Completed" {
		t.Errorf("completed pod after restart: %q", v)
	}
	n := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline"); string(cmd) == "sleep\x001031\x00" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d `sleep 1031` processes after the restart, want exactly 1", n)
	}
	s.MustKubectl(t, "delete", "pod", "long", "--grace-period=1")
	if processRunning("sleep", "1031") {
		t.Error("re-adopted process still runs after its pod was deleted")
	}
}

func TestLogsOptions(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	manifest := `apiVersion: v1
kind: Pod
metadata:
  name: talk
  labels:
    app: talk
spec:
  restartPolicy: OnFailure
  initContainers:
  - name: init
    image: busybox
    command: ["sh", "-c", "echo init done"]
  containers:
  - name: a
    image: busybox
    command: ["sh", "-c", "for i in 1 2 3 4 5; do echo a-$i; done; if [ ! -e /tmp/herd-talk-$(HOSTNAME)-$(POD_UID) ]; then touch /tmp/herd-talk-$(HOSTNAME)-$(POD_UID); exit 1; fi; sleep 2; echo a-late; sleep 300"]
    env:
    - name: HOSTNAME
      value: talk
    - name: POD_UID
      valueFrom:
        fieldRef:
          fieldPath: metadata.uid
  - name: b
    image: busybox
    command: ["sh", "-c", "echo b-1; sleep 300"]
`
	if out, err := s.KubectlIn(t, manifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	eventually(t, 60*time.Second, func() error {
		if n := podField(t, s, ns, "talk", "{.status.containerStatuses[?(@.name==\"a\")].restartCount}"); n != "1" {
			return fmt.Errorf("restartCount %q", n)
		}
		return nil
	})
	// kubectl picks the first container itself; the API asks for one.
	if out := s.MustKubectl(t, "logs", "talk", "-n", ns); !strings.Contains(out, "a-5") {
		t.Errorf("logs without -c: %s", out)
	}
	if out, err := s.Kubectl(t, "get", "--raw", "/api/v1/namespaces/"+ns+"/pods/talk/log"); err == nil || !strings.Contains(out, "a container name must be specified for pod talk, choose one of: [a b] or one of the init containers: [init]") {
		t.Errorf("log API without container: err=%v %s", err, out)
	}
	if out := s.MustKubectl(t, "logs", "talk", "-n", ns, "-c", "init"); strings.TrimSpace(out) != "init done" {
		t.Errorf("init logs = %q", out)
	}
	if out := s.MustKubectl(t, "logs", "talk", "-n", ns, "-c", "a", "--previous"); !strings.Contains(out, "a-5") || strings.Contains(out, "a-late") {
		t.Errorf("--previous = %q", out)
	}
	// -f follows: a-late arrives 2 s after the restart.
	// (the request timeout ends the stream; kubectl then exits non-zero)
	out, _ := s.Kubectl(t, "logs", "talk", "-n", ns, "-c", "a", "--tail=2", "-f", "--request-timeout=6s")
	if !strings.Contains(out, "a-late") {
		t.Errorf("-f did not stream a-late: %q", out)
	}
	if out := s.MustKubectl(t, "logs", "talk", "-n", ns, "-c", "a", "--tail=1"); strings.TrimSpace(out) != "a-late" {
		t.Errorf("--tail=1 = %q", out)
	}
	all := s.MustKubectl(t, "logs", "-n", ns, "-l", "app=talk", "--all-containers", "--prefix")
	for _, want := range []string{"[pod/talk/init] init done", "[pod/talk/b] b-1", "[pod/talk/a] a-1"} {
		if !strings.Contains(all, want) {
			t.Errorf("--all-containers lacks %q:\n%s", want, all)
		}
	}
	if out := s.MustKubectl(t, "logs", "talk", "-n", ns, "-c", "b", "--since=1h", "--timestamps"); !strings.Contains(out, "Z b-1") {
		t.Errorf("--since --timestamps = %q", out)
	}
}
