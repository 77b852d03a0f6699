package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// A command that does not exist on the host ends the container with
// StartError (exit 128): a Job with backoffLimit 1 fails after two pods,
// and a restartPolicy Always pod restarts with back-off.
func TestStartErrorFailsJobAndBacksOff(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	applyJob(t, s, ns, `apiVersion: batch/v1
kind: Job
metadata:
  name: kuard
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: kuard
        image: gcr.io/kuar-demo/kuard-amd64:blue
        command: ["/kuard"]
`)
	s.MustKubectl(t, "wait", "-n", ns, "--for=condition=failed", "job/kuard", "--timeout=120s")
	if c := jobCondition(t, s, ns, "kuard"); !strings.Contains(c, "Failed/BackoffLimitExceeded") {
		t.Errorf("conditions: %s", c)
	}
	out := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "job-name=kuard", "-o",
		`jsonpath={range .items[*]}{.status.phase} {.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.exitCode} {.status.containerStatuses[0].state.terminated.message}{"\n"}{end}`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("pods:\n%s", out)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, `Failed StartError 128 unable to start container process: exec: "/kuard": stat /kuard: no such file or directory`) {
			t.Errorf("pod: %s", l)
		}
	}
	ev := s.MustKubectl(t, "get", "events", "-n", ns, "--field-selector=reason=Failed", "-o", "jsonpath={.items[*].message}")
	if !strings.Contains(ev, `Error: unable to start container process: exec: "/kuard"`) {
		t.Errorf("events: %s", ev)
	}

	s.MustKubectl(t, "run", "-n", ns, "typo", "--image=busybox", "--command", "--", "/no-such-binary-herd")
	eventually(t, 60*time.Second, func() error {
		out, _ := s.Kubectl(t, "get", "pod", "typo", "-n", ns, "-o",
			`jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].lastState.terminated.reason} {.status.containerStatuses[0].lastState.terminated.exitCode}`)
		f := strings.Fields(out)
		if len(f) != 4 || f[0] == "0" || f[1] != "CrashLoopBackOff" || f[2] != "StartError" || f[3] != "128" {
			return fmt.Errorf("pod typo: %q", out)
		}
		return nil
	})
}

// Two consecutive indexes are written "0,1", as Kubernetes does; failed
// indexes likewise.
func TestIndexListsTwoConsecutive(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	applyJob(t, s, ns, jobManifest("two", "  completions: 4\n  parallelism: 4\n  completionMode: Indexed\n  backoffLimitPerIndex: 0",
		`[ "$JOB_COMPLETION_INDEX" -lt 2 ] || exit 3`))
	s.MustKubectl(t, "wait", "-n", ns, "--for=condition=failed", "job/two", "--timeout=120s")
	out := s.MustKubectl(t, "get", "job", "two", "-n", ns, "-o", "jsonpath={.status.completedIndexes}/{.status.failedIndexes}")
	if out != "0,1/2,3" {
		t.Errorf("completedIndexes/failedIndexes = %q, want 0,1/2,3", out)
	}
}

// On the process runtime pods share the node's network: two replicas
// declaring the same containerPort are not put on one node; the second
// waits with the scheduler's NodePorts message.
func TestProcessRuntimeContainerPortsAreHostPorts(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	if out, err := s.KubectlIn(t, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: busybox
        command: ["sleep", "3600"]
        ports:
        - containerPort: 39517
`, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	n := len(strings.Fields(s.MustKubectl(t, "get", "nodes", "-o", "name")))
	want := fmt.Sprintf("0/%d nodes are available: %d node(s) didn't have free ports for the requested pod ports.", n, n)
	eventually(t, 60*time.Second, func() error {
		out, _ := s.Kubectl(t, "get", "pods", "-n", ns, "-l", "app=web", "-o",
			`jsonpath={range .items[*]}{.status.phase}|{.status.conditions[?(@.type=="PodScheduled")].message}{"\n"}{end}`)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		sort.Strings(lines)
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "Pending|"+want) || lines[1] != "Running|" {
			return fmt.Errorf("pods:\n%s", out)
		}
		return nil
	})
	ev := s.MustKubectl(t, "get", "events", "-n", ns, "--field-selector=reason=FailedScheduling", "-o", "jsonpath={.items[*].message}")
	if !strings.Contains(ev, want) {
		t.Errorf("FailedScheduling events: %s", ev)
	}
}

// kubectl port-forward to a port nobody in the pod listens on: the agent
// must not connect to kubectl's own listener on the node's loopback (same
// port, same machine): the connection fails at once with kubectl's error,
// and kubectl handles exactly the one connection made.
func TestPortForwardToUnansweredPort(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	s.MustKubectl(t, "run", "-n", ns, "idle", "--image=busybox", "--command", "--", "sleep", "3600")
	s.MustKubectl(t, "wait", "-n", ns, "--for=condition=Ready", "pod/idle", "--timeout=60s")
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, "port-forward", "-n", ns, "pod/idle", fmt.Sprintf("%d:%d", port, port))
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.Kubeconfig)
	stdout, _ := cmd.StdoutPipe()
	var errb lockedBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), fmt.Sprintf("Forwarding from 127.0.0.1:%d -> %d", port, port)) {
		t.Fatalf("port-forward said %q (stderr %q)", lines.Text(), errb.String())
	}
	var handled strings.Builder
	handledDone := make(chan struct{})
	go func() {
		defer close(handledDone)
		for lines.Scan() {
			handled.WriteString(lines.Text() + "\n")
		}
	}()
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the connection stayed open (read %d, %v): it was forwarded somewhere; stderr %q", n, err, errb.String())
	}
	eventually(t, 20*time.Second, func() error {
		if !strings.Contains(errb.String(), fmt.Sprintf("no process of the pod listens on port %d", port)) {
			return fmt.Errorf("kubectl stderr: %q", errb.String())
		}
		return nil
	})
	cancel()
	_ = cmd.Wait()
	<-handledDone
	if n := strings.Count(handled.String(), "Handling connection for"); n != 1 {
		t.Errorf("kubectl handled %d connections, want 1", n)
	}
}

// lockedBuffer is a strings.Builder safe for a writer and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The simulated runtime: running containers survive kill -9 of the server
// (same container, no restart), an image marked missing gives
// ErrImagePull/ImagePullBackOff, and a bad annotation value is reported,
// not wrapped around.
func TestSimulatedRuntimeFidelity(t *testing.T) {
	dir := filepathTemp("simfidelity")
	defer os.RemoveAll(dir)
	flags := []string{"--runtime", "simulated", "--simulated-missing-images", "registry.example/missing:1"}
	s, err := startServer(dir, flags...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Stop() }()
	if out, err := s.KubectlIn(t, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
`, "apply", "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	s.MustKubectl(t, "rollout", "status", "deployment/web", "--timeout=60s")
	containers := func() string {
		return s.MustKubectl(t, "get", "pods", "-l", "app=web", "--sort-by=.metadata.name", "-o",
			`jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].containerID}{"\n"}{end}`)
	}
	before := containers()

	s.Kill()
	s, err = startServer(dir, flags...)
	if err != nil {
		t.Fatal(err)
	}
	// Give the agent time to act on the pods it found.
	time.Sleep(3 * time.Second)
	if after := containers(); after != before || strings.Count(after, " Running 0 simulated://") != 3 {
		t.Errorf("pods before kill -9:\n%s\nafter:\n%s", before, after)
	}

	s.MustKubectl(t, "set", "image", "deployment/web", "web=registry.example/missing:1")
	eventually(t, 60*time.Second, func() error {
		out := s.MustKubectl(t, "get", "pods", "-l", "app=web", "--no-headers")
		if !strings.Contains(out, "ImagePullBackOff") {
			return fmt.Errorf("pods:\n%s", out)
		}
		return nil
	})
	ev := s.MustKubectl(t, "get", "events", "--field-selector=reason=Failed", "-o", "jsonpath={.items[*].message}")
	if !strings.Contains(ev, `Failed to pull image "registry.example/missing:1"`) || !strings.Contains(ev, "Error: ImagePullBackOff") {
		t.Errorf("events: %s", ev)
	}
	if n := strings.Count(containers(), " Running "); n != 3 {
		t.Errorf("the old replicas must keep running during the stuck rollout:\n%s", containers())
	}

	s.MustKubectl(t, "run", "wrap", "--image=busybox", "--restart=Never", "--annotations=simulate.herd.dev/exit-code=99999999999")
	eventually(t, 30*time.Second, func() error {
		out := s.MustKubectl(t, "get", "pod", "wrap", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}: {.status.containerStatuses[0].state.waiting.message}")
		if out != `CreateContainerConfigError: annotation simulate.herd.dev/exit-code: "99999999999" is out of range: must be between 0 and 255` {
			return fmt.Errorf("pod wrap: %q", out)
		}
		return nil
	})
}

// One suspension, one Suspended event; the process runtime does not claim
// to have found an image it never uses.
func TestEventsSuspendedOnceNoPulled(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	applyJob(t, s, ns, jobManifest("sus", "  parallelism: 2\n  completions: 4", "sleep 60"))
	eventually(t, 60*time.Second, func() error {
		if out, _ := s.Kubectl(t, "get", "job", "sus", "-n", ns, "-o", "jsonpath={.status.ready}"); out != "2" {
			return fmt.Errorf("ready %q", out)
		}
		return nil
	})
	s.MustKubectl(t, "patch", "job", "sus", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":true}}`)
	s.MustKubectl(t, "wait", "-n", ns, "--for=condition=suspended", "job/sus", "--timeout=60s")
	eventually(t, 60*time.Second, func() error {
		if n := countPods(t, s, ns, "job-name=sus"); n != 0 {
			return fmt.Errorf("%d pods left", n)
		}
		return nil
	})
	time.Sleep(2 * time.Second)
	out := s.MustKubectl(t, "get", "events", "-n", ns, "--field-selector=involvedObject.kind=Job,reason=Suspended", "-o", `jsonpath={range .items[*]}{.count}{"\n"}{end}`)
	if strings.TrimSpace(out) != "1" {
		t.Errorf("Suspended events (counts): %q, want one event once", out)
	}
	// Created suspended.
	applyJob(t, s, ns, jobManifest("sus2", "  suspend: true", "true"))
	s.MustKubectl(t, "wait", "-n", ns, "--for=condition=suspended", "job/sus2", "--timeout=60s")
	time.Sleep(2 * time.Second)
	out = s.MustKubectl(t, "get", "events", "-n", ns, "--field-selector=involvedObject.name=sus2,reason=Suspended", "-o", `jsonpath={range .items[*]}{.count}{"\n"}{end}`)
	if strings.TrimSpace(out) != "1" {
		t.Errorf("Suspended events of a Job created suspended (counts): %q, want one event once", out)
	}
	reasons := s.MustKubectl(t, "get", "events", "-n", ns, "--field-selector=involvedObject.kind=Pod", "-o", "jsonpath={.items[*].reason}")
	if strings.Contains(reasons, "Pulled") || !strings.Contains(reasons, "Started") {
		t.Errorf("pod event reasons: %s", reasons)
	}
}

// `herd version` names herd, the Kubernetes API it serves and Go.
func TestHerdVersion(t *testing.T) {
	out, err := exec.Command(herdBin, "version").CombinedOutput()
	if err != nil {
		t.Fatal(err, string(out))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "herd ") || !strings.HasPrefix(lines[1], "Kubernetes API v1.36.") || !strings.HasPrefix(lines[2], "Go go1.") {
		t.Errorf("herd version:\n%s", out)
	}
	server := shared.MustKubectl(t, "get", "--raw", "/version")
	if !strings.Contains(server, `"gitVersion": "`+strings.TrimPrefix(lines[1], "Kubernetes API ")+`+herd"`) {
		t.Errorf("herd version says %q, the server %q", lines[1], server)
	}
}

const rcManifest = `apiVersion: v1
kind: ReplicationController
metadata:
  name: legacy
spec:
  replicas: 2
  template:
    metadata:
      labels: {app: legacy}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox
        command: ["sleep", "3600"]
`

// ReplicationController is served (defaults, validation, columns, /scale),
// so kubectl apply --prune and cluster-info dump work.
func TestReplicationControllerAPI(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	if out, err := s.KubectlIn(t, rcManifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	if out := s.MustKubectl(t, "get", "rc", "legacy", "-n", ns, "-o", "jsonpath={.spec.selector.app} {.metadata.labels.app} {.spec.template.spec.restartPolicy}"); out != "legacy legacy Always" {
		t.Errorf("defaults: %q", out)
	}
	if out := s.MustKubectl(t, "get", "rc", "-n", ns, "-o", "wide"); !strings.Contains(out, "DESIRED") || !strings.Contains(out, "SELECTOR") || !strings.Contains(out, "app=legacy") {
		t.Errorf("get rc -o wide:\n%s", out)
	}
	bad := strings.Replace(strings.Replace(rcManifest, "name: legacy\n", "name: bad\n", 1), "labels: {app: legacy}", "labels: {app: other}", 1)
	bad = strings.Replace(bad, "  replicas: 2\n", "  replicas: 2\n  selector: {app: legacy}\n", 1)
	if out, err := s.KubectlIn(t, bad, "apply", "-n", ns, "-f", "-"); err == nil || !strings.Contains(out, "spec.template.metadata.labels: Invalid value") {
		t.Errorf("selector not matching the template: %v %s", err, out)
	}
	s.MustKubectl(t, "scale", "rc", "legacy", "-n", ns, "--replicas=1")
	if out := s.MustKubectl(t, "get", "rc", "legacy", "-n", ns, "-o", "jsonpath={.spec.replicas}"); out != "1" {
		t.Errorf("after scale: %q", out)
	}
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pruned\n  labels: {prune: me}\n"
	// kubectl's default prune list also names Ingress, which herd does not
	// serve yet: ReplicationController must no longer be what fails.
	if out, err := s.KubectlIn(t, cm, "apply", "-n", ns, "-l", "prune=me", "--prune", "-f", "-"); err != nil && strings.Contains(out, "ReplicationController") {
		t.Errorf("apply --prune: %v %s", err, out)
	}
	if out, err := s.KubectlIn(t, cm, "apply", "-n", ns, "-l", "prune=me", "--prune", "--prune-allowlist=core/v1/ConfigMap",
		"--prune-allowlist=core/v1/ReplicationController", "-f", "-"); err != nil {
		t.Errorf("apply --prune with ReplicationController: %v %s", err, out)
	}
	if out, err := s.Kubectl(t, "cluster-info", "dump", "--namespaces", ns, "--output-directory", t.TempDir()); err != nil {
		t.Errorf("cluster-info dump: %v %s", err, out)
	}
}

// The ReplicationController controller (the ReplicaSet logic through
// adapters): pods owned by the RC, status, scaling, events on the RC, and
// cascading deletion.
func TestReplicationControllerRunsPods(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	if out, err := s.KubectlIn(t, rcManifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	eventually(t, 60*time.Second, func() error {
		out, _ := s.Kubectl(t, "get", "rc", "legacy", "-n", ns, "-o", "jsonpath={.status.replicas}/{.status.readyReplicas}/{.status.availableReplicas}/{.status.observedGeneration}")
		if out != "2/2/2/1" {
			return fmt.Errorf("rc status %q", out)
		}
		return nil
	})
	owners := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "app=legacy", "-o", `jsonpath={range .items[*]}{.metadata.ownerReferences[0].apiVersion}/{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {end}`)
	if strings.TrimSpace(owners) != "v1/ReplicationController/legacy v1/ReplicationController/legacy" {
		t.Errorf("pod owners: %q", owners)
	}
	if out := s.MustKubectl(t, "get", "rc", "legacy", "-n", ns, "--no-headers"); !strings.HasPrefix(strings.Join(strings.Fields(out), " "), "legacy 2 2 2 ") {
		t.Errorf("get rc: %s", out)
	}
	ev := s.MustKubectl(t, "get", "events", "-n", ns, "--field-selector=involvedObject.kind=ReplicationController,reason=SuccessfulCreate", "-o", "name")
	if len(strings.Fields(ev)) == 0 {
		t.Error("no SuccessfulCreate event on the ReplicationController")
	}
	s.MustKubectl(t, "scale", "rc", "legacy", "-n", ns, "--replicas=1")
	eventually(t, 60*time.Second, func() error {
		if n := strings.Count(s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "app=legacy", "--no-headers"), "Running"); n != 1 {
			return fmt.Errorf("%d running pods", n)
		}
		return nil
	})
	s.MustKubectl(t, "delete", "rc", "legacy", "-n", ns)
	eventually(t, 60*time.Second, func() error {
		if n := countPods(t, s, ns, "app=legacy"); n != 0 {
			return fmt.Errorf("%d pods left", n)
		}
		return nil
	})
}
