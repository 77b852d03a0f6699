package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// BenchmarkRestartWithPods: a Deployment of 10,000 replicas runs on 100
// simulated nodes; each iteration kills the server with SIGKILL and starts
// it again on the same data dir, and reports:
//
//   - ready-s: from the start of the new process to the admin kubeconfig
//     (written once /readyz answers ok);
//   - new-pod-running-s: until a pod created right after ready is Running
//     (the scheduler and the node agent have caught up);
//   - scaled-pod-running-s: until the pod added by scaling the Deployment
//     by one is Running (the Deployment and ReplicaSet controllers too);
//   - gc-s: until an object whose owner does not exist, created right after
//     ready, is collected (the garbage collector's graph is synced);
//   - pods-written / events-written: pods (other than the new ones) and
//     events written after the restart, from their resourceVersions;
//   - restart-cpu-s: the new server's CPU seconds until then.
//
// HERD_RESTART_PODS sets another number of pods (for quick profiling).
//
//	go test ./test/e2e -run '^$' -bench RestartWithPods -benchtime 1x -timeout 60m
func BenchmarkRestartWithPods(b *testing.B) {
	pods, nodes := 10000, 100
	if v := os.Getenv("HERD_RESTART_PODS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("HERD_RESTART_PODS=%q: want a positive number", v)
		}
		pods = n
		nodes = n/100 + 1
	}
	args := []string{"--runtime", "simulated", "--simulated-nodes", strconv.Itoa(nodes)}
	dir := filepathTemp("restart")
	defer os.RemoveAll(dir)
	s, err := startServer(dir, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { s.Stop() }()
	c := clientFor(b, s)
	ctx := context.Background()
	const ns = "restart"
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	labels := map[string]string{"app": "restart"}
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "many"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(pods)), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox", Command: []string{"sleep", "inf"}}}}}}}
	if _, err := c.AppsV1().Deployments(ns).Create(ctx, deploy, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := waitRunning(ctx, c, ns, pods, 30*time.Minute); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d pods Running after %s", pods, time.Since(start).Round(time.Millisecond))

	for it := 0; it < b.N; it++ {
		// Let the last writes of the previous run settle, then note the
		// revision: everything written later has a greater one.
		time.Sleep(2 * time.Second)
		l, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		before, _ := strconv.ParseUint(l.ResourceVersion, 10, 64)
		old := map[string]bool{}
		for _, p := range l.Items {
			old[p.Name] = true
		}

		s.Kill()
		t0 := time.Now()
		s, err = startServer(dir, args...)
		if err != nil {
			b.Fatal(err)
		}
		ready := time.Since(t0)
		c = clientFor(b, s)

		probe := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("probe-%d", it)},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox", Command: []string{"sleep", "inf"}}}}}
		if err := createRetrying(func() error {
			_, err := c.CoreV1().Pods(ns).Create(ctx, probe, metav1.CreateOptions{})
			return err
		}); err != nil {
			b.Fatal(err)
		}
		orphan := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("orphan-%d", it),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "gone",
				UID: types.UID(fmt.Sprintf("00000000-0000-0000-0000-%012d", it+1))}}}}
		if err := createRetrying(func() error {
			_, err := c.CoreV1().ConfigMaps(ns).Create(ctx, orphan, metav1.CreateOptions{})
			return err
		}); err != nil {
			b.Fatal(err)
		}
		want := int32(pods + it + 1)
		if err := createRetrying(func() error {
			_, err := c.AppsV1().Deployments(ns).Patch(ctx, "many", types.MergePatchType,
				[]byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, want)), metav1.PatchOptions{})
			return err
		}); err != nil {
			b.Fatal(err)
		}

		var probeRunning, scaledRunning, collected time.Duration
		deadline := time.Now().Add(10 * time.Minute)
		for (probeRunning == 0 || scaledRunning == 0 || collected == 0) && time.Now().Before(deadline) {
			if probeRunning == 0 {
				if p, err := c.CoreV1().Pods(ns).Get(ctx, probe.Name, metav1.GetOptions{}); err == nil && p.Status.Phase == corev1.PodRunning {
					probeRunning = time.Since(t0)
				}
			}
			if scaledRunning == 0 {
				if d, err := c.AppsV1().Deployments(ns).Get(ctx, "many", metav1.GetOptions{}); err == nil &&
					d.Status.ObservedGeneration == d.Generation && d.Status.AvailableReplicas == want {
					scaledRunning = time.Since(t0)
				}
			}
			if collected == 0 {
				if _, err := c.CoreV1().ConfigMaps(ns).Get(ctx, orphan.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
					collected = time.Since(t0)
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		if probeRunning == 0 || scaledRunning == 0 || collected == 0 {
			b.Fatalf("not caught up 10 minutes after the restart: probe pod %s, scaled pod %s, orphan collected %s",
				probeRunning, scaledRunning, collected)
		}
		cpu, _ := procStats(s.cmd.Process.Pid)
		// Writes the restart caused: give stragglers a moment, then count
		// the objects written since the kill.
		time.Sleep(5 * time.Second)
		written, err := writtenSince(ctx, c, ns, before, old)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(ready.Seconds(), "ready-s")
		b.ReportMetric(probeRunning.Seconds(), "new-pod-running-s")
		b.ReportMetric(scaledRunning.Seconds(), "scaled-pod-running-s")
		b.ReportMetric(collected.Seconds(), "gc-s")
		b.ReportMetric(float64(written.pods), "pods-written")
		b.ReportMetric(float64(written.events), "events-written")
		b.ReportMetric(cpu, "restart-cpu-s")
	}
}

type restartWrites struct{ pods, events int }

// writtenSince counts the pods of ns that existed before the restart (old)
// and were written since revision rv, and the events about them recorded
// since then.
func writtenSince(ctx context.Context, c kubernetes.Interface, ns string, rv uint64, old map[string]bool) (restartWrites, error) {
	var w restartWrites
	after := func(v string) bool {
		n, _ := strconv.ParseUint(v, 10, 64)
		return n > rv
	}
	pl, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return w, err
	}
	for _, p := range pl.Items {
		if old[p.Name] && after(p.ResourceVersion) {
			w.pods++
		}
	}
	el, err := c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return w, err
	}
	for _, e := range el.Items {
		if e.InvolvedObject.Kind == "Pod" && old[e.InvolvedObject.Name] && after(e.ResourceVersion) {
			w.events++
		}
	}
	return w, nil
}

// waitRunning waits until at least want pods of ns are Running: a list,
// then a watch from it, listed again whenever the watch ends.
func waitRunning(ctx context.Context, c kubernetes.Interface, ns string, want int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for ctx.Err() == nil {
		l, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		phases := map[string]corev1.PodPhase{}
		running := func() int {
			n := 0
			for _, ph := range phases {
				if ph == corev1.PodRunning {
					n++
				}
			}
			return n
		}
		for _, p := range l.Items {
			phases[p.Name] = p.Status.Phase
		}
		if running() >= want {
			return nil
		}
		w, err := c.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: l.ResourceVersion})
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				break // an error (e.g. 410): list again
			}
			if ev.Type == watch.Deleted {
				delete(phases, p.Name)
			} else {
				phases[p.Name] = p.Status.Phase
			}
			if running() >= want {
				w.Stop()
				return nil
			}
		}
		w.Stop()
	}
	return fmt.Errorf("fewer than %d pods of %s Running after %s", want, ns, timeout)
}

// createRetrying retries a write the just-started server refuses (e.g. 429
// or 503 while a cache initialises) for up to a minute.
func createRetrying(write func() error) error {
	var err error
	for i := 0; i < 600; i++ {
		if err = write(); err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
		if !apierrors.IsTooManyRequests(err) && !apierrors.IsServiceUnavailable(err) && !apierrors.IsTimeout(err) &&
			!apierrors.IsServerTimeout(err) && !apierrors.IsInternalError(err) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}
