package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// poll retries f every second until it returns nil or timeout passes
// (kubectl top and HPAs move on a scale of seconds).
func poll(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("condition not met within %s: %v", timeout, err)
}

// topCPU finds the row of name in kubectl top output and returns its CPU
// in millicores (column col).
func topCPU(out, name string, col int) (int64, bool) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > col && (f[0] == name || (len(f) > 1 && f[1] == name)) {
			v := f[col]
			if strings.HasSuffix(v, "m") {
				n, err := strconv.ParseInt(strings.TrimSuffix(v, "m"), 10, 64)
				return n, err == nil
			}
			n, err := strconv.ParseInt(v, 10, 64)
			return n * 1000, err == nil
		}
	}
	return 0, false
}

// TestMetricsTopProcessRuntime: on the process runtime a pod burning CPU
// (limited to 200m) shows its usage in kubectl top pods, and the node has
// figures in kubectl top nodes.
func TestMetricsTopProcessRuntime(t *testing.T) {
	ns := shared.Namespace(t)
	defer shared.Kubectl(t, "delete", "namespace", ns, "--wait=false")
	shared.MustKubectl(t, "-n", ns, "run", "burn", "--image=busybox", "--restart=Never",
		"--overrides", `{"spec":{"containers":[{"name":"burn","image":"busybox","command":["sh","-c","while :; do :; done"],"resources":{"limits":{"cpu":"200m"}}}]}}`)
	defer shared.Kubectl(t, "-n", ns, "delete", "pod", "burn", "--grace-period=0", "--force")
	poll(t, 60*time.Second, func() error {
		out, err := shared.Kubectl(t, "top", "pods", "-n", ns)
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		if !strings.Contains(out, "CPU(cores)") || !strings.Contains(out, "MEMORY(bytes)") {
			return fmt.Errorf("unexpected columns:\n%s", out)
		}
		cpu, ok := topCPU(out, "burn", 1)
		if !ok || cpu < 20 {
			return fmt.Errorf("burn uses %dm (found %v):\n%s", cpu, ok, out)
		}
		return nil
	})
	out := shared.MustKubectl(t, "top", "pods", "-A", "--containers")
	if !strings.Contains(out, ns) || !strings.Contains(out, "burn") {
		t.Fatalf("kubectl top pods -A --containers lacks %s/burn:\n%s", ns, out)
	}
	out = shared.MustKubectl(t, "top", "nodes")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[0], "CPU(%)") {
		t.Fatalf("kubectl top nodes:\n%s", out)
	}
	if cpu, ok := topCPU(out, strings.Fields(lines[1])[0], 1); !ok || cpu == 0 {
		t.Fatalf("node shows no CPU use:\n%s", out)
	}
}

const hpaDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {simulate.herd.dev/cpu-usage: 200m, simulate.herd.dev/memory-usage: 64Mi}
    spec:
      containers:
      - name: web
        image: nginx
        resources: {requests: {cpu: 100m}}
`

const hpaStatefulSet = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata:
      labels: {app: db}
      annotations: {simulate.herd.dev/cpu-usage: 300m}
    spec:
      containers:
      - name: db
        image: postgres
        resources: {requests: {cpu: 100m}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: db}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: db}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleUp: {stabilizationWindowSeconds: 0}
`

// TestMetricsSimulatedTopAndAutoscale: on the simulated runtime usage comes
// from pod annotations; kubectl autoscale creates an HPA that scales the
// Deployment up while its pods use 200% of their request and back down to
// minReplicas once they use 10%.
func TestMetricsSimulatedTopAndAutoscale(t *testing.T) {
	dir := filepathTemp("hpa")
	s, err := startServer(dir, "--runtime", "simulated", "--node-name", "simnode")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		s.Stop()
		killRuns(dir)
		os.RemoveAll(dir)
	}()
	poll(t, 60*time.Second, func() error {
		_, err := s.Kubectl(t, "wait", "--for=condition=Ready", "node/simnode", "--timeout=1s")
		return err
	})
	if _, err := s.KubectlIn(t, hpaDeployment, "apply", "-f", "-"); err != nil {
		t.Fatal(err)
	}
	poll(t, 60*time.Second, func() error {
		out, err := s.Kubectl(t, "top", "pods", "--containers")
		if err != nil || !strings.Contains(out, "200m") || !strings.Contains(out, "64Mi") {
			return fmt.Errorf("%v:\n%s", err, out)
		}
		return nil
	})
	out := s.MustKubectl(t, "top", "nodes")
	if cpu, ok := topCPU(out, "simnode", 1); !ok || cpu != 200 {
		t.Fatalf("simnode should use the 200m of its one pod:\n%s", out)
	}
	// admin, edit and view may read metrics.k8s.io, as with metrics-server.
	s.MustKubectl(t, "create", "rolebinding", "viewers", "--clusterrole=view", "--group=viewers")
	if out, err := s.Kubectl(t, "top", "pods", "--as=someone", "--as-group=viewers"); err != nil || !strings.Contains(out, "200m") {
		t.Fatalf("a viewer cannot use kubectl top pods: %v\n%s", err, out)
	}

	s.MustKubectl(t, "autoscale", "deployment", "web", "--cpu-percent=50", "--min=1", "--max=5")
	s.MustKubectl(t, "patch", "hpa.v2.autoscaling", "web", "--type=merge", "-p",
		`{"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":5}}}}`)
	poll(t, 90*time.Second, func() error {
		out, err := s.Kubectl(t, "get", "deployment", "web", "-o", "jsonpath={.spec.replicas}")
		if err != nil || out != "5" {
			return fmt.Errorf("replicas %q (want 5): %v", out, err)
		}
		return nil
	})
	out = s.MustKubectl(t, "get", "hpa", "web")
	for _, want := range []string{"NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE", "Deployment/web", "/50%"} {
		if !strings.Contains(out, want) {
			t.Fatalf("kubectl get hpa lacks %q:\n%s", want, out)
		}
	}
	out = s.MustKubectl(t, "get", "events", "--field-selector", "reason=SuccessfulRescale")
	if !strings.Contains(out, "New size:") {
		t.Fatalf("no SuccessfulRescale event:\n%s", out)
	}

	// StatefulSets scale too; this HPA is written as autoscaling/v2.
	if out, err := s.KubectlIn(t, hpaStatefulSet, "apply", "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}

	// The usage drops: the HPA scales back down to minReplicas.
	s.MustKubectl(t, "annotate", "pods", "-l", "app=web", "simulate.herd.dev/cpu-usage=10m", "--overwrite")
	poll(t, 90*time.Second, func() error {
		out, err := s.Kubectl(t, "get", "deployment", "web", "-o", "jsonpath={.spec.replicas}")
		if err != nil || out != "1" {
			return fmt.Errorf("replicas %q (want 1): %v", out, err)
		}
		return nil
	})
	out = s.MustKubectl(t, "get", "hpa", "web", "-o", "jsonpath={.status.conditions[?(@.type==\"ScalingActive\")].reason}")
	if out != "ValidMetricFound" {
		t.Fatalf("ScalingActive reason %q, want ValidMetricFound", out)
	}
	poll(t, 90*time.Second, func() error {
		out, err := s.Kubectl(t, "get", "statefulset", "db", "-o", "jsonpath={.spec.replicas}")
		if err != nil || out != "3" {
			return fmt.Errorf("statefulset replicas %q (want 3): %v", out, err)
		}
		return nil
	})
	// autoscaling/v2 is the preferred version, as in Kubernetes.
	out = s.MustKubectl(t, "get", "--raw", "/apis/autoscaling")
	if !strings.Contains(out, `"preferredVersion":{"groupVersion":"autoscaling/v2"`) {
		t.Fatalf("discovery of autoscaling:\n%s", out)
	}
	// autoscaling/v1 shows the same object.
	out = s.MustKubectl(t, "get", "--raw", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web")
	if !strings.Contains(out, `"targetCPUUtilizationPercentage":50`) {
		t.Fatalf("autoscaling/v1 view:\n%s", out)
	}
	// Bad input: 422 with field paths, nothing stored.
	bad := `{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"bad"},"spec":{"minReplicas":3,"maxReplicas":2,"scaleTargetRef":{"kind":"Deployment"}}}`
	out, err = s.KubectlIn(t, bad, "create", "-f", "-")
	if err == nil || !strings.Contains(out, "spec.maxReplicas") || !strings.Contains(out, "spec.scaleTargetRef.name: Required value") {
		t.Fatalf("invalid HPA accepted or wrong error: %v\n%s", err, out)
	}
}
