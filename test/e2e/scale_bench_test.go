package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// procStats reads a process's CPU seconds (user+system) and peak RSS.
func procStats(pid int) (cpu float64, peakMiB float64) {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(b)
		f := strings.Fields(s[strings.LastIndex(s, ")")+2:])
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		cpu = (ut + st) / 100 // USER_HZ
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				n, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
				peakMiB = n / 1024
			}
		}
	}
	return cpu, peakMiB
}

func startSimulated(b *testing.B, nodes int) (*Server, kubernetes.Interface) {
	b.Helper()
	dir := filepathTemp("sim")
	b.Cleanup(func() { os.RemoveAll(dir) })
	s, err := startServer(dir, "--runtime", "simulated", "--simulated-nodes", strconv.Itoa(nodes))
	if err != nil {
		b.Fatal(err)
	}
	c := clientFor(b, s)
	// Wait until every node is registered and Ready.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		l, err := c.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
		if err == nil && len(l.Items) == nodes {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return s, c
}

// countUntil watches pods in ns and returns when done says so.
func countUntil(b *testing.B, c kubernetes.Interface, ns string, timeout time.Duration, done func(map[string]corev1.PodPhase) bool) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// The server may end a watch early (a watcher too slow for a burst of
	// events): list and watch again until done or the timeout.
	for ctx.Err() == nil {
		phases := map[string]corev1.PodPhase{}
		l, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			b.Fatal(err)
		}
		for _, p := range l.Items {
			phases[p.Name] = p.Status.Phase
		}
		if done(phases) {
			return
		}
		w, err := c.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: l.ResourceVersion})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			b.Fatal(err)
		}
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			if ev.Type == watch.Deleted {
				delete(phases, p.Name)
			} else {
				phases[p.Name] = p.Status.Phase
			}
			if done(phases) {
				w.Stop()
				return
			}
		}
		w.Stop()
	}
	b.Fatalf("timed out after %s", timeout)
}

// BenchmarkSimulatedPods: 10,000 pods on 100 simulated nodes, created by a
// client loop with 32 workers, until all are Running.
//
//	go test ./test/e2e -run '^$' -bench SimulatedPods -benchtime 1x -timeout 30m
func BenchmarkSimulatedPods(b *testing.B) {
	const pods, workers = 10000, 32
	s, c := startSimulated(b, 100)
	defer s.Stop()
	ctx := context.Background()
	for it := 0; it < b.N; it++ {
		ns := fmt.Sprintf("sim-%d", it)
		c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		start := time.Now()
		var next, failed atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1); i <= pods; i = next.Add(1) {
					p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%05d", i)},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox", Command: []string{"sleep", "inf"}}}}}
					if _, err := c.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		created := time.Since(start)
		if failed.Load() > 0 {
			b.Fatalf("%d creates failed", failed.Load())
		}
		countUntil(b, c, ns, 20*time.Minute, func(m map[string]corev1.PodPhase) bool {
			n := 0
			for _, ph := range m {
				if ph == corev1.PodRunning {
					n++
				}
			}
			return n == pods
		})
		all := time.Since(start)
		b.ReportMetric(created.Seconds(), "create-s")
		b.ReportMetric(all.Seconds(), "all-running-s")
		b.ReportMetric(pods/all.Seconds(), "running-pods/s")
	}
	cpu, peak := procStats(s.cmd.Process.Pid)
	b.ReportMetric(cpu, "server-cpu-s")
	b.ReportMetric(peak, "peak-RSS-MiB")
}

// BenchmarkSimulatedJob: a Job of 10,000 completions at parallelism 500 on
// 100 simulated nodes, from create to Complete; then its deletion with
// all its pods (background propagation).
//
//	go test ./test/e2e -run '^$' -bench SimulatedJob -benchtime 1x -timeout 30m
func BenchmarkSimulatedJob(b *testing.B) {
	for _, indexed := range []bool{false, true} {
		b.Run(fmt.Sprintf("indexed=%v", indexed), func(b *testing.B) {
			const completions, parallelism = 10000, 500
			s, c := startSimulated(b, 100)
			defer s.Stop()
			ctx := context.Background()
			for it := 0; it < b.N; it++ {
				mode := batchv1.NonIndexedCompletion
				if indexed {
					mode = batchv1.IndexedCompletion
				}
				job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-%d", it)},
					Spec: batchv1.JobSpec{Completions: ptr.To[int32](completions), Parallelism: ptr.To[int32](parallelism),
						CompletionMode: &mode, BackoffLimit: ptr.To[int32](0),
						Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
							Containers: []corev1.Container{{Name: "c", Image: "busybox", Command: []string{"true"}}}}}}}
				cpu0, _ := procStats(s.cmd.Process.Pid)
				start := time.Now()
				if _, err := c.BatchV1().Jobs("default").Create(ctx, job, metav1.CreateOptions{}); err != nil {
					b.Fatal(err)
				}
				for {
					j, err := c.BatchV1().Jobs("default").Get(ctx, job.Name, metav1.GetOptions{})
					if err != nil {
						b.Fatal(err)
					}
					finished := false
					for _, cond := range j.Status.Conditions {
						if cond.Status == corev1.ConditionTrue && (cond.Type == batchv1.JobComplete || cond.Type == batchv1.JobFailed) {
							if cond.Type == batchv1.JobFailed {
								b.Fatalf("job failed: %s", cond.Message)
							}
							finished = true
						}
					}
					if finished {
						break
					}
					if time.Since(start) > 20*time.Minute {
						b.Fatalf("job not complete after 20m: %+v", j.Status)
					}
					time.Sleep(200 * time.Millisecond)
				}
				took := time.Since(start)
				cpu1, _ := procStats(s.cmd.Process.Pid)
				b.ReportMetric(took.Seconds(), "complete-s")
				b.ReportMetric(completions/took.Seconds(), "pods/s")
				b.ReportMetric(cpu1-cpu0, "server-cpu-s")

				delStart := time.Now()
				bg := metav1.DeletePropagationBackground
				if err := c.BatchV1().Jobs("default").Delete(ctx, job.Name, metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil {
					b.Fatal(err)
				}
				countUntil(b, c, "default", 20*time.Minute, func(m map[string]corev1.PodPhase) bool { return len(m) == 0 })
				b.ReportMetric(time.Since(delStart).Seconds(), "delete-s")
			}
			_, peak := procStats(s.cmd.Process.Pid)
			b.ReportMetric(peak, "peak-RSS-MiB")
		})
	}
}
