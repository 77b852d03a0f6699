package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func applyJob(t *testing.T, s *Server, ns, manifest string) {
	t.Helper()
	if out, err := s.KubectlIn(t, manifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
}

func jobCondition(t *testing.T, s *Server, ns, name string) string {
	t.Helper()
	out, _ := s.Kubectl(t, "get", "job", name, "-n", ns, "-o",
		`jsonpath={range .status.conditions[?(@.status=="True")]}{.type}/{.reason} {end}`)
	return strings.TrimSpace(out)
}

func TestPiJob(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	s.MustKubectl(t, "apply", "-n", ns, "-f", testdata("pi-job.yaml"))
	s.MustKubectl(t, "wait", "-n", ns, "--for=condition=complete", "job/pi", "--timeout=120s")
	pods := s.MustKubectl(t, "get", "pods", "-n", ns, "--selector=job-name=pi", "--output=jsonpath={.items[*].metadata.name}")
	if len(strings.Fields(pods)) != 1 {
		t.Fatalf("pods: %q", pods)
	}
	logs := strings.TrimSpace(s.MustKubectl(t, "logs", "-n", ns, pods))
	if !strings.HasPrefix(logs, "3.14159265358979323846") || len(logs) != 2001 {
		t.Errorf("pi logs (%d chars): %.60s…", len(logs), logs)
	}
	if l := strings.TrimSpace(s.MustKubectl(t, "logs", "-n", ns, "job/pi")); l != logs {
		t.Errorf("kubectl logs job/pi differs from the pod's log")
	}
	desc := s.MustKubectl(t, "describe", "job", "pi", "-n", ns)
	for _, want := range []string{"Start Time:", "Completed At:", "Duration:", "Pods Statuses:    0 Active (0 Ready) / 1 Succeeded / 0 Failed",
		"Pod Template:", "SuccessfulCreate", "Created pod: " + pods, "Completed", "Job completed"} {
		if !strings.Contains(desc, want) {
			t.Errorf("describe job lacks %q:\n%s", want, desc)
		}
	}
	out := s.MustKubectl(t, "get", "job", "pi", "-n", ns, "--no-headers")
	if f := strings.Fields(out); len(f) < 3 || f[1] != "Complete" || f[2] != "1/1" {
		t.Errorf("get job: %s", out)
	}
	s.MustKubectl(t, "delete", "jobs/pi", "-n", ns)
	eventually(t, 30*time.Second, func() error {
		if n := countPods(t, s, ns, "job-name=pi"); n != 0 {
			return fmt.Errorf("%d pods left", n)
		}
		return nil
	})
}

func TestParallelJobNeverExceedsParallelism(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	applyJob(t, s, ns, jobManifest("par", "  completions: 10\n  parallelism: 5", "sleep 1"))
	maxActive := 0
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := s.Kubectl(t, "get", "pods", "-n", ns, "-l", "job-name=par", "-o",
			`jsonpath={range .items[*]}{.status.phase}{"\n"}{end}`)
		active := strings.Count(out, "Pending") + strings.Count(out, "Running")
		if active > maxActive {
			maxActive = active
		}
		if jobCondition(t, s, ns, "par") != "" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c := jobCondition(t, s, ns, "par"); !strings.Contains(c, "Complete/CompletionsReached") {
		t.Fatalf("job conditions: %q", c)
	}
	if v := s.MustKubectl(t, "get", "job", "par", "-n", ns, "-o", "jsonpath={.status.succeeded}"); v != "10" {
		t.Errorf("succeeded = %s", v)
	}
	if maxActive > 5 || maxActive < 2 {
		t.Errorf("max active pods seen = %d, want ≤ 5 (and some parallelism)", maxActive)
	}
}

func TestWorkQueueJob(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	dir := t.TempDir()
	queue := filepath.Join(dir, "queue")
	done := filepath.Join(dir, "done")
	os.MkdirAll(queue, 0o755)
	os.MkdirAll(done, 0o755)
	for i := 0; i < 12; i++ {
		os.WriteFile(filepath.Join(queue, fmt.Sprintf("item-%02d", i)), []byte("x"), 0o644)
	}
	// Each worker claims items by an atomic rename until the queue is empty.
	worker := fmt.Sprintf(`for f in %[1]s/*; do [ -e "$f" ] || continue; mv "$f" %[2]s/ 2>/dev/null && echo "$HOSTNAME took $(basename $f)" && sleep 0.2; done; exit 0`, queue, done)
	applyJob(t, s, ns, jobManifest("wq", "  parallelism: 5", worker))
	s.MustKubectl(t, "wait", "-n", ns, "--for=condition=complete", "job/wq", "--timeout=120s")
	left, _ := os.ReadDir(queue)
	taken, _ := os.ReadDir(done)
	if len(left) != 0 || len(taken) != 12 {
		t.Errorf("queue left %d, done %d", len(left), len(taken))
	}
	if v := s.MustKubectl(t, "get", "job", "wq", "-n", ns, "-o", "jsonpath={.status.succeeded}"); v != "5" {
		t.Errorf("succeeded = %s, want 5", v)
	}
}

func TestIndexedJob(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	applyJob(t, s, ns, jobManifest("idx", "  completions: 5\n  parallelism: 5\n  completionMode: Indexed", "echo index=$JOB_COMPLETION_INDEX host=$HOSTNAME"))
	s.MustKubectl(t, "wait", "-n", ns, "--for=condition=complete", "job/idx", "--timeout=120s")
	logs := s.MustKubectl(t, "logs", "-n", ns, "-l", "job-name=idx", "--tail=-1")
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		lines = append(lines, strings.TrimSpace(l))
	}
	sort.Strings(lines)
	var want []string
	for i := 0; i < 5; i++ {
		want = append(want, fmt.Sprintf("index=%d host=idx-%d", i, i))
	}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("indexed logs:\n%s", logs)
	}
	if v := s.MustKubectl(t, "get", "job", "idx", "-n", ns, "-o", "jsonpath={.status.completedIndexes}"); v != "0-4" {
		t.Errorf("completedIndexes = %q", v)
	}
}

func TestBackoffLimit(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	applyJob(t, s, ns, jobManifest("never", "  backoffLimit: 2", "exit 1"))
	s.MustKubectl(t, "wait", "-n", ns, "--for=condition=failed", "job/never", "--timeout=150s")
	if c := jobCondition(t, s, ns, "never"); !strings.Contains(c, "Failed/BackoffLimitExceeded") {
		t.Errorf("conditions: %q", c)
	}
	st := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "job-name=never", "-o", "jsonpath={.items[*].status.phase}")
	if strings.Count(st, "Failed") != 3 {
		t.Errorf("pod phases: %q, want 3 Failed", st)
	}
	// The pods were created with a growing delay: ≥10 s, then ≥20 s.
	times := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "job-name=never", "--sort-by=.metadata.creationTimestamp",
		"-o", "jsonpath={range .items[*]}{.metadata.creationTimestamp} {end}")
	var ts []time.Time
	for _, f := range strings.Fields(times) {
		tm, _ := time.Parse(time.RFC3339, f)
		ts = append(ts, tm)
	}
	if len(ts) == 3 && (ts[1].Sub(ts[0]) < 9*time.Second || ts[2].Sub(ts[1]) < 19*time.Second) {
		t.Errorf("pod creation gaps %s, %s: want ≥10s then ≥20s", ts[1].Sub(ts[0]), ts[2].Sub(ts[1]))
	}

	onf := strings.Replace(jobManifest("onfailure", "  backoffLimit: 2", "exit 1"), "restartPolicy: Never", "restartPolicy: OnFailure", 1)
	applyJob(t, s, ns, onf)
	s.MustKubectl(t, "wait", "-n", ns, "--for=condition=failed", "job/onfailure", "--timeout=150s")
	if c := jobCondition(t, s, ns, "onfailure"); !strings.Contains(c, "Failed/BackoffLimitExceeded") {
		t.Errorf("OnFailure conditions: %q", c)
	}
}

func TestActiveDeadline(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	start := time.Now()
	applyJob(t, s, ns, jobManifest("deadline", "  activeDeadlineSeconds: 5", "sleep 60"))
	s.MustKubectl(t, "wait", "-n", ns, "--for=condition=failed", "job/deadline", "--timeout=60s")
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("failed after %s, deadline was 5s", d)
	}
	if c := jobCondition(t, s, ns, "deadline"); !strings.Contains(c, "Failed/DeadlineExceeded") {
		t.Errorf("conditions: %q", c)
	}
	eventually(t, 30*time.Second, func() error {
		out := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "job-name=deadline", "-o", "jsonpath={.items[*].status.phase}")
		if strings.Contains(out, "Running") || strings.Contains(out, "Pending") {
			return fmt.Errorf("pods still active: %s", out)
		}
		return nil
	})
}

func TestSuspendResume(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	applyJob(t, s, ns, jobManifest("sus", "  completions: 1", "sleep 4"))
	eventually(t, 30*time.Second, func() error {
		if v := s.MustKubectl(t, "get", "job", "sus", "-n", ns, "-o", "jsonpath={.status.active}"); v != "1" {
			return fmt.Errorf("active %q", v)
		}
		return nil
	})
	s.MustKubectl(t, "patch", "job/sus", "-n", ns, "-p", `{"spec":{"suspend":true}}`)
	eventually(t, 30*time.Second, func() error {
		if c := jobCondition(t, s, ns, "sus"); !strings.Contains(c, "Suspended/JobSuspended") {
			return fmt.Errorf("conditions %q", c)
		}
		if n := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "job-name=sus", "-o", "name"); n != "" {
			return fmt.Errorf("pods still there: %s", n)
		}
		return nil
	})
	s.MustKubectl(t, "patch", "job/sus", "-n", ns, "-p", `{"spec":{"suspend":false}}`)
	s.MustKubectl(t, "wait", "-n", ns, "--for=condition=complete", "job/sus", "--timeout=60s")
	if c := jobCondition(t, s, ns, "sus"); strings.Contains(c, "Suspended") {
		t.Errorf("Suspended still true: %q", c)
	}
	ev := s.MustKubectl(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=sus", "-o", "jsonpath={.items[*].reason}")
	for _, want := range []string{"Suspended", "Resumed", "Completed"} {
		if !strings.Contains(ev, want) {
			t.Errorf("events lack %s: %s", want, ev)
		}
	}
}

func TestPodFailurePolicy(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	policy := `  backoffLimit: 6
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes:
        containerName: main
        operator: In
        values: [42]
    - action: Ignore
      onExitCodes:
        operator: In
        values: [7]`
	applyJob(t, s, ns, jobManifest("fail42", policy, "exit 42"))
	s.MustKubectl(t, "wait", "-n", ns, "--for=condition=failed", "job/fail42", "--timeout=60s")
	if c := jobCondition(t, s, ns, "fail42"); !strings.Contains(c, "Failed/PodFailurePolicy") {
		t.Errorf("conditions: %q", c)
	}
	if n := countPods(t, s, ns, "job-name=fail42"); n != 1 {
		t.Errorf("%d pods for a FailJob on the first failure", n)
	}
	// exit 7 is ignored: not counted, the pod is replaced; the marker file
	// makes the second pod succeed.
	marker := filepath.Join(t.TempDir(), "seen")
	applyJob(t, s, ns, jobManifest("ignore7", policy, fmt.Sprintf("if [ -e %s ]; then exit 0; fi; touch %s; exit 7", marker, marker)))
	s.MustKubectl(t, "wait", "-n", ns, "--for=condition=complete", "job/ignore7", "--timeout=90s")
	if v := s.MustKubectl(t, "get", "job", "ignore7", "-n", ns, "-o", "jsonpath={.status.failed}"); v != "" && v != "0" {
		t.Errorf("failed = %q, the ignored failure was counted", v)
	}
}

func TestTTLAfterFinished(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	applyJob(t, s, ns, jobManifest("ttl", "  ttlSecondsAfterFinished: 3", "true"))
	s.MustKubectl(t, "wait", "-n", ns, "--for=condition=complete", "job/ttl", "--timeout=60s")
	eventually(t, 30*time.Second, func() error {
		if out, err := s.Kubectl(t, "get", "job", "ttl", "-n", ns); err == nil {
			return fmt.Errorf("job still there: %s", out)
		}
		if n := countPods(t, s, ns, "job-name=ttl"); n != 0 {
			return fmt.Errorf("%d pods left", n)
		}
		return nil
	})
}
