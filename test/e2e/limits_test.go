package e2e

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bigJob is a Job of the given parallelism whose simulated pods run for an
// hour.
func bigJob(name string, parallelism int) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %s
spec:
  parallelism: %d
  completions: %d
  backoffLimit: 0
  template:
    metadata:
      annotations:
        simulate.herd.dev/duration: 1h
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 0
      containers:
      - name: c
        image: busybox
        command: ["sleep", "3600"]
`, name, parallelism, parallelism)
}

// forbiddenPodCreates reads apiserver_request_total for POST pods answered 403.
func forbiddenPodCreates(t *testing.T, s *Server) int {
	t.Helper()
	out := s.MustKubectl(t, "get", "--raw", "/metrics")
	total := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") || !strings.Contains(line, `code="403"`) ||
			!strings.Contains(line, `resource="pods"`) || !strings.Contains(line, `verb="POST"`) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			total += int(v)
		}
	}
	return total
}

// TestQuotaCapsJob: a ResourceQuota of pods: 100 caps a Job of parallelism
// 20,000 at 100 pods; the Job's events carry the quota's message; kubectl
// describe quota shows 100/100; the Job controller backs off instead of
// retrying in a loop.
func TestQuotaCapsJob(t *testing.T) {
	dir := filepathTemp("quota")
	defer os.RemoveAll(dir)
	s, err := startServer(dir, "--runtime", "simulated", "--simulated-nodes", "10")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	ns := s.Namespace(t)
	s.MustKubectl(t, "-n", ns, "create", "quota", "q", "--hard=pods=100")
	eventually(t, 30*time.Second, func() error {
		out, _ := s.Kubectl(t, "-n", ns, "get", "quota", "q", "-o", "jsonpath={.status.hard.pods}/{.status.used.pods}")
		if out != "100/0" {
			return fmt.Errorf("quota status %q, want 100/0", out)
		}
		return nil
	})
	if out, err := s.KubectlIn(t, bigJob("big", 20000), "-n", ns, "apply", "-f", "-"); err != nil {
		t.Fatalf("creating job: %v\n%s", err, out)
	}
	const msg = "exceeded quota: q, requested: pods=1, used: pods=100, limited: pods=100"
	eventually(t, 3*time.Minute, func() error {
		out, _ := s.Kubectl(t, "-n", ns, "get", "events", "--field-selector", "involvedObject.name=big,reason=FailedCreate",
			"-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}")
		if !strings.Contains(out, msg) {
			return fmt.Errorf("no FailedCreate event with %q yet: %q", msg, out)
		}
		return nil
	})
	eventually(t, time.Minute, func() error {
		out, _ := s.Kubectl(t, "-n", ns, "get", "job", "big", "-o", "jsonpath={.status.active}")
		if out != "100" {
			return fmt.Errorf("job active %q, want 100", out)
		}
		return nil
	})
	before := forbiddenPodCreates(t, s)
	time.Sleep(10 * time.Second)
	after := forbiddenPodCreates(t, s)
	t.Logf("pod creations refused by quota in 10 s once capped: %d", after-before)
	// A retry loop without back-off makes thousands in 10 s; the
	// controllers' rate limiter makes a handful.
	if after-before > 100 {
		t.Errorf("%d pod creations refused in 10 s: the Job controller retries without back-off", after-before)
	}
	out := s.MustKubectl(t, "-n", ns, "get", "pods", "--no-headers")
	if n := len(strings.Split(strings.TrimSpace(out), "\n")); n != 100 {
		t.Errorf("%d pods in the namespace, want 100", n)
	}
	desc := s.MustKubectl(t, "-n", ns, "describe", "quota", "q")
	if !regexp.MustCompile(`(?m)^pods\s+100\s+100\s*$`).MatchString(desc) {
		t.Errorf("kubectl describe quota does not show pods 100/100:\n%s", desc)
	}
	get := s.MustKubectl(t, "-n", ns, "get", "quota", "q")
	if !strings.Contains(get, "REQUEST") || !strings.Contains(get, "pods: 100/100") {
		t.Errorf("kubectl get quota:\n%s", get)
	}
	jobDesc := s.MustKubectl(t, "-n", ns, "describe", "job", "big")
	if !strings.Contains(jobDesc, "FailedCreate") || !strings.Contains(jobDesc, msg) {
		t.Errorf("kubectl describe job does not show the quota's message:\n%s", jobDesc)
	}
}

// TestQuotaForbidsOverLimit: a plain pod over a quota gets 403 with
// Kubernetes' message and is not stored; deleting a pod frees the quota.
func TestQuotaForbidsOverLimit(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	// Every namespace holds the kube-root-ca.crt ConfigMap, which counts
	// (as in Kubernetes): the quota leaves room for one more.
	eventually(t, 30*time.Second, func() error {
		_, err := s.Kubectl(t, "-n", ns, "get", "configmap", "kube-root-ca.crt")
		return err
	})
	s.MustKubectl(t, "-n", ns, "create", "quota", "q", "--hard=pods=1,count/configmaps=2")
	eventually(t, 30*time.Second, func() error {
		out, _ := s.Kubectl(t, "-n", ns, "get", "quota", "q", "-o", "jsonpath={.status.used.pods} {.status.used.count/configmaps}")
		if out != "0 1" {
			return fmt.Errorf("quota used %q", out)
		}
		return nil
	})
	s.MustKubectl(t, "-n", ns, "create", "configmap", "a")
	out, err := s.Kubectl(t, "-n", ns, "create", "configmap", "b")
	if err == nil || !strings.Contains(out, `configmaps "b" is forbidden: exceeded quota: q, requested: count/configmaps=1, used: count/configmaps=2, limited: count/configmaps=2`) {
		t.Fatalf("second configmap: err=%v\n%s", err, out)
	}
	if out, err := s.Kubectl(t, "-n", ns, "get", "configmap", "b"); err == nil || !strings.Contains(out, "NotFound") {
		t.Errorf("refused configmap was stored: %s", out)
	}
	// A deletion is given back by the controller.
	s.MustKubectl(t, "-n", ns, "delete", "configmap", "a")
	eventually(t, 30*time.Second, func() error {
		_, err := s.Kubectl(t, "-n", ns, "create", "configmap", "b")
		return err
	})
}

const limitRange = `apiVersion: v1
kind: LimitRange
metadata:
  name: lr
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 128Mi}
    defaultRequest: {cpu: 200m}
    max: {cpu: "1"}
  - type: PersistentVolumeClaim
    max: {storage: 1Gi}
`

// TestLimitRange: Container defaults land in a created pod; a pod over the
// max and a claim over the max are refused with 403 and not stored.
func TestLimitRange(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	if out, err := s.KubectlIn(t, limitRange, "-n", ns, "apply", "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out := s.MustKubectl(t, "-n", ns, "get", "limitrange"); !strings.Contains(out, "CREATED AT") || !strings.Contains(out, "lr") {
		t.Errorf("kubectl get limitrange:\n%s", out)
	}
	// Defaulted on the stored object: defaultRequest memory comes from default.
	if out := s.MustKubectl(t, "-n", ns, "get", "limitrange", "lr", "-o", "jsonpath={.spec.limits[0].defaultRequest.memory}"); out != "128Mi" {
		t.Errorf("defaultRequest.memory = %q, want 128Mi (from default)", out)
	}
	s.MustKubectl(t, "-n", ns, "run", "p1", "--image=busybox", "--restart=Never", "--command", "--", "sleep", "1")
	out := s.MustKubectl(t, "-n", ns, "get", "pod", "p1", "-o", "jsonpath={.spec.containers[0].resources}")
	for _, want := range []string{`"limits":{"cpu":"500m","memory":"128Mi"}`, `"requests":{"cpu":"200m","memory":"128Mi"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("pod resources %s, want %s", out, want)
		}
	}
	ann := s.MustKubectl(t, "-n", ns, "get", "pod", "p1", "-o", `jsonpath={.metadata.annotations.kubernetes\.io/limit-ranger}`)
	if ann != "LimitRanger plugin set: cpu, memory request for container p1; cpu, memory limit for container p1" {
		t.Errorf("limit-ranger annotation %q", ann)
	}

	over := `{"spec":{"containers":[{"name":"p2","image":"busybox","command":["sleep","1"],"resources":{"limits":{"cpu":"2"}}}]}}`
	out, err := s.Kubectl(t, "-n", ns, "run", "p2", "--image=busybox", "--restart=Never", "--overrides="+over)
	if err == nil || !strings.Contains(out, `Error from server (Forbidden): pods "p2" is forbidden: maximum cpu usage per Container is 1, but limit is 2`) {
		t.Fatalf("over-max pod: err=%v\n%s", err, out)
	}
	if out, err := s.Kubectl(t, "-n", ns, "get", "pod", "p2"); err == nil || !strings.Contains(out, "NotFound") {
		t.Errorf("refused pod was stored: %s", out)
	}

	pvc := `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: big
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 2Gi
`
	out, err = s.KubectlIn(t, pvc, "-n", ns, "apply", "-f", "-")
	if err == nil || !strings.Contains(out, "maximum storage usage per PersistentVolumeClaim is 1Gi, but request is 2Gi") {
		t.Fatalf("over-max claim: err=%v\n%s", err, out)
	}
	if out, err := s.Kubectl(t, "-n", ns, "get", "pvc", "big"); err == nil || !strings.Contains(out, "NotFound") {
		t.Errorf("refused claim was stored: %s", out)
	}

	bad := `apiVersion: v1
kind: LimitRange
metadata:
  name: bad
spec:
  limits:
  - type: Container
    min: {cpu: "2"}
    max: {cpu: "1"}
`
	out, err = s.KubectlIn(t, bad, "-n", ns, "apply", "-f", "-")
	if err == nil || !strings.Contains(out, "spec.limits[0].min[cpu]: Invalid value") || !strings.Contains(out, "min value 2 is greater than max value 1") {
		t.Fatalf("invalid limit range: err=%v\n%s", err, out)
	}
}

// TestFlowControl: the bootstrap FlowSchemas and PriorityLevelConfigurations
// are served with kubectl's columns, and responses carry the APF headers.
func TestFlowControl(t *testing.T) {
	s := shared
	var out string
	eventually(t, 30*time.Second, func() error {
		out, _ = s.Kubectl(t, "get", "flowschemas,prioritylevelconfigurations")
		for _, want := range []string{"PRIORITYLEVEL", "MATCHINGPRECEDENCE", "DISTINGUISHERMETHOD", "MISSINGPL",
			"flowschema.flowcontrol.apiserver.k8s.io/exempt", "flowschema.flowcontrol.apiserver.k8s.io/catch-all",
			"flowschema.flowcontrol.apiserver.k8s.io/kube-system-service-accounts",
			"NOMINALCONCURRENCYSHARES", "QUEUELENGTHLIMIT",
			"prioritylevelconfiguration.flowcontrol.apiserver.k8s.io/workload-low",
			"prioritylevelconfiguration.flowcontrol.apiserver.k8s.io/exempt"} {
			if !strings.Contains(out, want) {
				return fmt.Errorf("missing %q", want)
			}
		}
		return nil
	})
	if !regexp.MustCompile(`prioritylevelconfiguration.flowcontrol.apiserver.k8s.io/workload-low\s+Limited\s+100\s+128\s+6\s+50\s`).MatchString(out) {
		t.Errorf("workload-low row:\n%s", out)
	}
	verbose, _ := s.Kubectl(t, "get", "ns", "default", "-v=8")
	for _, h := range []string{"X-Kubernetes-Pf-Flowschema-Uid", "X-Kubernetes-Pf-Prioritylevel-Uid"} {
		if !strings.Contains(verbose, h) {
			t.Errorf("response header %s missing:\n%s", h, verbose)
		}
	}
	// Bad input gets 422 with field paths and nothing is stored.
	bad := `apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata:
  name: bad
spec:
  type: Limited
  limited:
    limitResponse:
      type: Queue
      queuing: {queues: 4, handSize: 8}
`
	out, err := s.KubectlIn(t, bad, "apply", "-f", "-")
	if err == nil || !strings.Contains(out, "spec.limited.limitResponse.queuing.handSize: Invalid value: 8: should not be greater than queues (4)") {
		t.Fatalf("invalid priority level: err=%v\n%s", err, out)
	}
}

// TestQuotaReplicaSet: a ReplicaSet refused by quota records FailedCreate
// with the quota's message, and stops at the quota.
func TestQuotaReplicaSet(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	s.MustKubectl(t, "-n", ns, "create", "quota", "q", "--hard=pods=2")
	eventually(t, 30*time.Second, func() error {
		out, _ := s.Kubectl(t, "-n", ns, "get", "quota", "q", "-o", "jsonpath={.status.used.pods}")
		if out != "0" {
			return fmt.Errorf("quota used %q", out)
		}
		return nil
	})
	s.MustKubectl(t, "-n", ns, "create", "deployment", "d", "--image=busybox", "--replicas=3", "--", "sleep", "3600")
	const msg = "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"
	eventually(t, 2*time.Minute, func() error {
		out, _ := s.Kubectl(t, "-n", ns, "get", "events", "--field-selector", "reason=FailedCreate,involvedObject.kind=ReplicaSet",
			"-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}")
		if !strings.Contains(out, msg) {
			return fmt.Errorf("no FailedCreate event with %q yet: %q", msg, out)
		}
		return nil
	})
	out := s.MustKubectl(t, "-n", ns, "get", "pods", "--no-headers")
	if n := len(strings.Split(strings.TrimSpace(out), "\n")); n != 2 {
		t.Errorf("%d pods, want 2:\n%s", n, out)
	}
	s.MustKubectl(t, "-n", ns, "delete", "deployment", "d", "--wait=false")
}

// TestLimitsAPIResources: the resources are discoverable as in Kubernetes,
// with their status subresources.
func TestLimitsAPIResources(t *testing.T) {
	s := shared
	out := s.MustKubectl(t, "api-resources", "--no-headers")
	for _, want := range []string{
		"resourcequotas +quota +v1 +true +ResourceQuota", "limitranges +limits +v1 +true +LimitRange",
		"flowschemas +flowcontrol.apiserver.k8s.io/v1 +false +FlowSchema",
		"prioritylevelconfigurations +flowcontrol.apiserver.k8s.io/v1 +false +PriorityLevelConfiguration",
	} {
		if !regexp.MustCompile(`(?m)^` + want + `$`).MatchString(out) {
			t.Errorf("api-resources lacks %q:\n%s", want, out)
		}
	}
	out = s.MustKubectl(t, "get", "--raw", "/api/v1")
	if !strings.Contains(out, `"name":"resourcequotas/status"`) {
		t.Errorf("/api/v1 lacks resourcequotas/status")
	}
	out = s.MustKubectl(t, "get", "--raw", "/apis/flowcontrol.apiserver.k8s.io/v1")
	for _, sub := range []string{"flowschemas/status", "prioritylevelconfigurations/status"} {
		if !strings.Contains(out, `"name":"`+sub+`"`) {
			t.Errorf("flowcontrol lacks %s", sub)
		}
	}
}
