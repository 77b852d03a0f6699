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

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// clientFor returns a client-go clientset for s without client-side rate
// limits, as a load generator should.
func clientFor(tb testing.TB, s *Server) kubernetes.Interface {
	tb.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.QPS, cfg.Burst = -1, 0
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// rssKiB reads a process's resident set size from /proc.
func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkCreatePods creates 5,000 pods per iteration through client-go
// with 32 workers against a fresh `herd server` (agent disabled, so only
// the API path is measured) and reports pods/s and the server's RSS.
//
//	go test ./test/e2e -run '^$' -bench CreatePods -benchtime 1x
func BenchmarkCreatePods(b *testing.B) {
	const pods, workers = 5000, 32
	dir := filepathTemp("bench")
	defer os.RemoveAll(dir)
	s, err := startServer(dir, benchServerFlags...)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	time.Sleep(time.Second)
	idle := rssKiB(s.cmd.Process.Pid)
	c := clientFor(b, s)
	ctx := context.Background()
	b.ResetTimer()
	var total time.Duration
	for it := 0; it < b.N; it++ {
		ns := fmt.Sprintf("bench-%d", it)
		if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		var next atomic.Int64
		var failed atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > pods {
						return
					}
					p := &corev1.Pod{
						ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%05d", i), Labels: map[string]string{"app": "bench"}},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox",
							Command: []string{"sleep", "3600"}}}},
					}
					if _, err := c.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		total += time.Since(start)
		if failed.Load() > 0 {
			b.Fatalf("%d pod creates failed", failed.Load())
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(pods*b.N)/total.Seconds(), "pods/s")
	b.ReportMetric(float64(idle)/1024, "idle-RSS-MiB")
	b.ReportMetric(float64(rssKiB(s.cmd.Process.Pid))/1024, "RSS-MiB")
}

// benchServerFlags start a server that serves the API only.
var benchServerFlags = []string{"--disable-agent"}
