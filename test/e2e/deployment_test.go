package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func deployManifest(name string, replicas int, strategy, image, command string, extraContainer string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: %[2]d
  selector:
    matchLabels:
      app: %[1]s
%[3]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: %[4]s
        command: ["sh", "-c", %[5]q]
%[6]s
`, name, replicas, strategy, image, command, extraContainer)
}

func TestDeploymentRollout(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	applyJob(t, s, ns, deployManifest("web", 2, "  strategy:\n    rollingUpdate:\n      maxSurge: 1\n      maxUnavailable: 0", "busybox:1.36", "sleep 3600", ""))
	s.MustKubectl(t, "rollout", "status", "deployment/web", "-n", ns, "--timeout=60s")
	pods := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}")
	rs := s.MustKubectl(t, "get", "rs", "-n", ns, "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}")
	if len(strings.Fields(rs)) != 1 || !strings.HasPrefix(rs, "web-") {
		t.Fatalf("replicasets: %q", rs)
	}
	for _, p := range strings.Fields(pods) {
		if !strings.HasPrefix(p, rs+"-") || len(p) != len(rs)+6 {
			t.Errorf("pod name %s does not follow %s-<5 chars>", p, rs)
		}
	}
	// As on a real cluster, the change cause annotates the current revision.
	s.MustKubectl(t, "set", "image", "deployment/web", "-n", ns, "main=busybox:1.37")
	s.MustKubectl(t, "annotate", "deployment/web", "-n", ns, "kubernetes.io/change-cause=image 1.37")
	s.MustKubectl(t, "rollout", "status", "deployment/web", "-n", ns, "--timeout=90s")
	if img := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "app=web", "-o", "jsonpath={.items[*].spec.containers[0].image}"); img != "busybox:1.37 busybox:1.37" {
		t.Errorf("images after rollout: %q", img)
	}
	hist := s.MustKubectl(t, "rollout", "history", "deployment/web", "-n", ns)
	if !strings.Contains(hist, "1         <none>") || !strings.Contains(hist, "2         image 1.37") {
		t.Errorf("rollout history:\n%s", hist)
	}
	s.MustKubectl(t, "rollout", "undo", "deployment/web", "-n", ns, "--to-revision=1")
	s.MustKubectl(t, "rollout", "status", "deployment/web", "-n", ns, "--timeout=90s")
	if img := s.MustKubectl(t, "get", "deploy", "web", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}"); img != "busybox:1.36" {
		t.Errorf("image after undo: %q", img)
	}
	if n := len(strings.Fields(s.MustKubectl(t, "get", "rs", "-n", ns, "-l", "app=web", "-o", "name"))); n != 2 {
		t.Errorf("%d replicasets after undo, want 2 (the old one reused)", n)
	}
	// Pause: template changes wait; resume rolls them out.
	s.MustKubectl(t, "rollout", "pause", "deployment/web", "-n", ns)
	s.MustKubectl(t, "set", "env", "deployment/web", "-n", ns, "A=1")
	time.Sleep(2 * time.Second)
	if n := len(strings.Fields(s.MustKubectl(t, "get", "rs", "-n", ns, "-l", "app=web", "-o", "name"))); n != 2 {
		t.Errorf("paused deployment created a replicaset (%d)", n)
	}
	s.MustKubectl(t, "rollout", "resume", "deployment/web", "-n", ns)
	s.MustKubectl(t, "rollout", "status", "deployment/web", "-n", ns, "--timeout=90s")
	s.MustKubectl(t, "rollout", "restart", "deployment/web", "-n", ns)
	s.MustKubectl(t, "rollout", "status", "deployment/web", "-n", ns, "--timeout=90s")
	s.MustKubectl(t, "scale", "deployment/web", "-n", ns, "--replicas=5")
	s.MustKubectl(t, "rollout", "status", "deployment/web", "-n", ns, "--timeout=60s")
	if v := s.MustKubectl(t, "get", "deploy", "web", "-n", ns, "-o", "jsonpath={.status.availableReplicas}/{.status.updatedReplicas}"); v != "5/5" {
		t.Errorf("after scale: %s", v)
	}
	// A deleted pod is replaced.
	victim := strings.Fields(s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"))[0]
	s.MustKubectl(t, "delete", "pod", victim, "-n", ns)
	s.MustKubectl(t, "rollout", "status", "deployment/web", "-n", ns, "--timeout=60s")
	eventually(t, 30*time.Second, func() error {
		out := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "app=web", "--field-selector=status.phase=Running", "-o", "name")
		if n := len(strings.Fields(out)); n != 5 {
			return fmt.Errorf("%d running pods", n)
		}
		return nil
	})
	s.MustKubectl(t, "delete", "deployment", "web", "-n", ns)
	eventually(t, 60*time.Second, func() error {
		if out := s.MustKubectl(t, "get", "rs,pods", "-n", ns, "-o", "name"); out != "" {
			return fmt.Errorf("left: %s", out)
		}
		return nil
	})
}

// TestRollingUpdateKeepsCapacity samples pods every 100 ms during a rolling
// update with readiness probes: never fewer than 4 ready, never more than 5.
func TestRollingUpdateKeepsCapacity(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	probe := `        readinessProbe:
          exec:
            command: ["sh", "-c", "test -e /tmp/herd-ready-$HOSTNAME"]
          periodSeconds: 1`
	cmd := "sleep 1; touch /tmp/herd-ready-$HOSTNAME; trap 'rm -f /tmp/herd-ready-$HOSTNAME; exit 0' TERM; sleep 3600 & wait"
	applyJob(t, s, ns, deployManifest("cap", 4, "  strategy:\n    rollingUpdate:\n      maxSurge: 1\n      maxUnavailable: 0", "busybox:1.36", cmd, probe))
	s.MustKubectl(t, "rollout", "status", "deployment/cap", "-n", ns, "--timeout=90s")
	var (
		mu                 sync.Mutex
		minReady, maxTotal = 100, 0
		stop               = make(chan struct{})
		done               = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			out, err := s.Kubectl(t, "get", "pods", "-n", ns, "-l", "app=cap", "-o",
				`jsonpath={range .items[*]}{.metadata.deletionTimestamp}|{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
			if err != nil {
				continue
			}
			ready, total := 0, 0
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				// Terminating pods are on their way out and not counted, as
				// the Deployment controller does not count them.
				if l == "" || !strings.HasPrefix(l, "|") {
					continue
				}
				total++
				if strings.HasSuffix(l, "True") {
					ready++
				}
			}
			mu.Lock()
			if ready < minReady {
				minReady = ready
			}
			if total > maxTotal {
				maxTotal = total
			}
			mu.Unlock()
		}
	}()
	s.MustKubectl(t, "set", "image", "deployment/cap", "-n", ns, "main=busybox:1.37")
	s.MustKubectl(t, "rollout", "status", "deployment/cap", "-n", ns, "--timeout=120s")
	close(stop)
	<-done
	if minReady < 4 {
		t.Errorf("ready pods fell to %d during the rollout, want ≥ 4", minReady)
	}
	if maxTotal > 5 {
		t.Errorf("%d pods at once during the rollout, want ≤ 5", maxTotal)
	}
}

func TestRecreateAndProgressDeadline(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	applyJob(t, s, ns, deployManifest("rec", 2, "  strategy:\n    type: Recreate", "busybox:1.36", "sleep 3600", ""))
	s.MustKubectl(t, "rollout", "status", "deployment/rec", "-n", ns, "--timeout=60s")
	stop := make(chan struct{})
	mixed := make(chan string, 1)
	go func() {
		for {
			select {
			case <-stop:
				close(mixed)
				return
			case <-time.After(100 * time.Millisecond):
			}
			out, _ := s.Kubectl(t, "get", "pods", "-n", ns, "-l", "app=rec", "--field-selector=status.phase=Running", "-o", "jsonpath={.items[*].spec.containers[0].image}")
			if strings.Contains(out, "1.36") && strings.Contains(out, "1.37") {
				select {
				case mixed <- out:
				default:
				}
			}
		}
	}()
	s.MustKubectl(t, "set", "image", "deployment/rec", "-n", ns, "main=busybox:1.37")
	s.MustKubectl(t, "rollout", "status", "deployment/rec", "-n", ns, "--timeout=90s")
	close(stop)
	if m, ok := <-mixed; ok && m != "" {
		t.Errorf("Recreate ran old and new pods together: %s", m)
	}

	// New pods never become ready: ProgressDeadlineExceeded after 10 s.
	never := `        readinessProbe:
          exec:
            command: ["false"]
          periodSeconds: 1`
	applyJob(t, s, ns, deployManifest("stuck", 1, "  progressDeadlineSeconds: 10", "busybox", "sleep 3600", never))
	out, err := s.Kubectl(t, "rollout", "status", "deployment/stuck", "-n", ns, "--timeout=60s")
	if err == nil || !strings.Contains(out, "exceeded its progress deadline") {
		t.Errorf("rollout status of a stuck deployment: err=%v %s", err, out)
	}
	if c := s.MustKubectl(t, "get", "deploy", "stuck", "-n", ns, "-o", `jsonpath={.status.conditions[?(@.type=="Progressing")].reason}`); c != "ProgressDeadlineExceeded" {
		t.Errorf("Progressing reason = %q", c)
	}
}

func TestReplicaSetDeletionCost(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	rs := `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: costly
spec:
  replicas: 3
  selector:
    matchLabels:
      app: costly
  template:
    metadata:
      labels:
        app: costly
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox
        command: ["sleep", "3600"]
`
	applyJob(t, s, ns, rs)
	var pods []string
	eventually(t, 60*time.Second, func() error {
		out := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "app=costly", "--field-selector=status.phase=Running", "-o", "jsonpath={.items[*].metadata.name}")
		pods = strings.Fields(out)
		if len(pods) != 3 {
			return fmt.Errorf("%d running", len(pods))
		}
		return nil
	})
	for i, p := range pods {
		cost := strconv.Itoa(100 * (i + 1))
		if i == 1 {
			cost = "-5"
		}
		s.MustKubectl(t, "annotate", "pod", p, "-n", ns, "controller.kubernetes.io/pod-deletion-cost="+cost)
	}
	s.MustKubectl(t, "scale", "rs/costly", "-n", ns, "--replicas=2")
	eventually(t, 30*time.Second, func() error {
		out := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "app=costly", "-o", "jsonpath={.items[*].metadata.name}")
		if strings.Contains(out, pods[1]) {
			return fmt.Errorf("lowest-cost pod %s still there: %s", pods[1], out)
		}
		if n := len(strings.Fields(out)); n != 2 {
			return fmt.Errorf("%d pods", n)
		}
		return nil
	})
}
