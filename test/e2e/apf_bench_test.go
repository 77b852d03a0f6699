package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkGetNamespacesDuringJob: while a Job of parallelism 20,000 (no
// quota) is being created on 200 simulated nodes, `kubectl get ns` is run
// again and again from another client; reports its latency p50/p99 (the
// whole kubectl run, as a user sees it) and how many pods the Job had by
// the end of the window (3 minutes at most, or until all 20,000 exist); and,
// for comparison, the same latencies on the idle server just before.
//
//	go test ./test/e2e -run '^$' -bench GetNamespacesDuringJob -benchtime 1x -timeout 30m
func BenchmarkGetNamespacesDuringJob(b *testing.B) {
	const (
		parallelism = 20000
		window      = 3 * time.Minute
	)
	s, c := startSimulated(b, 200)
	defer s.Stop()
	ctx := context.Background()
	for it := 0; it < b.N; it++ {
		ns := fmt.Sprintf("apf-%d", it)
		if out, err := s.Kubectl(b, "create", "namespace", ns); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
		// The same command on the idle server, for comparison.
		var idle []time.Duration
		for i := 0; i < 20; i++ {
			t0 := time.Now()
			if out, err := s.Kubectl(b, "get", "ns"); err != nil {
				b.Fatalf("kubectl get ns: %v\n%s", err, out)
			}
			idle = append(idle, time.Since(t0))
		}
		b.ReportMetric(float64(percentile(idle, 0.5).Milliseconds()), "idle-p50-ms")
		b.ReportMetric(float64(percentile(idle, 0.99).Milliseconds()), "idle-p99-ms")
		if out, err := s.KubectlIn(b, bigJob("runaway", parallelism), "-n", ns, "apply", "-f", "-"); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
		var lat []time.Duration
		start := time.Now()
		pods := 0
		for time.Since(start) < window {
			t0 := time.Now()
			cmd := exec.Command(kubectl, "get", "ns")
			cmd.Env = append(os.Environ(), "KUBECONFIG="+s.Kubeconfig)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("kubectl get ns: %v\n%s", err, out)
			}
			lat = append(lat, time.Since(t0))
			if len(lat)%20 == 0 {
				l, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
				if err == nil {
					pods = len(l.Items)
				}
				if pods >= parallelism {
					break
				}
			}
		}
		if l, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"}); err == nil {
			pods = len(l.Items)
		}
		b.ReportMetric(float64(percentile(lat, 0.5).Milliseconds()), "p50-ms")
		b.ReportMetric(float64(percentile(lat, 0.99).Milliseconds()), "p99-ms")
		b.ReportMetric(float64(len(lat)), "requests")
		b.ReportMetric(float64(pods), "pods-created")
		b.ReportMetric(time.Since(start).Seconds(), "window-s")
	}
}
