package e2e

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
)

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := int(float64(len(d)-1) * p)
	return d[i]
}

// BenchmarkPodStartLatency: 200 pods (`sleep 1`) on the process runtime,
// one after another; latency from the create call to the first watch event
// showing the pod Running. (Under load the latency grows with the queue:
// each container start re-executes the herd binary as its shim.)
//
//	go test ./test/e2e -run '^$' -bench PodStartLatency -benchtime 1x
func BenchmarkPodStartLatency(b *testing.B) {
	const pods = 200
	dir := filepathTemp("latency")
	defer os.RemoveAll(dir)
	s, err := startServer(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer killRuns(dir)
	defer s.Stop()
	c := clientFor(b, s)
	ctx := context.Background()
	for it := 0; it < b.N; it++ {
		ns := fmt.Sprintf("lat-%d", it)
		c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		w, err := c.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		var lat []time.Duration
		for i := 0; i < pods; i++ {
			name := fmt.Sprintf("p-%03d", i)
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: corev1.PodSpec{TerminationGracePeriodSeconds: ptr.To[int64](1), RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{Name: "c", Image: "busybox", Command: []string{"sleep", "1"}}}}}
			start := time.Now()
			if _, err := c.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
			timeout := time.After(time.Minute)
		wait:
			for {
				select {
				case ev := <-w.ResultChan():
					if po, ok := ev.Object.(*corev1.Pod); ok && po.Name == name && po.Status.Phase == corev1.PodRunning {
						lat = append(lat, time.Since(start))
						break wait
					}
				case <-timeout:
					b.Fatalf("pod %s not Running after 1m", name)
				}
			}
		}
		w.Stop()
		b.ReportMetric(float64(percentile(lat, 0.5).Milliseconds()), "p50-ms")
		b.ReportMetric(float64(percentile(lat, 0.99).Milliseconds()), "p99-ms")
	}
}

// BenchmarkPodStartLatencyLoaded: 200 pods (`sleep 2`) on the process
// runtime created at a steady 20 per second (so about 40 run at once);
// latency from each create call to the watch event showing it Running.
//
//	go test ./test/e2e -run '^$' -bench PodStartLatencyLoaded -benchtime 1x
func BenchmarkPodStartLatencyLoaded(b *testing.B) {
	const pods, perSecond = 200, 20
	dir := filepathTemp("latency-load")
	defer os.RemoveAll(dir)
	s, err := startServer(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer killRuns(dir)
	defer s.Stop()
	c := clientFor(b, s)
	ctx := context.Background()
	for it := 0; it < b.N; it++ {
		ns := fmt.Sprintf("load-%d", it)
		c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		w, err := c.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		var mu sync.Mutex
		created := map[string]time.Time{}
		go func() {
			tick := time.NewTicker(time.Second / perSecond)
			defer tick.Stop()
			for i := 0; i < pods; i++ {
				<-tick.C
				name := fmt.Sprintf("p-%03d", i)
				p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
					Spec: corev1.PodSpec{TerminationGracePeriodSeconds: ptr.To[int64](1), RestartPolicy: corev1.RestartPolicyNever,
						Containers: []corev1.Container{{Name: "c", Image: "busybox", Command: []string{"sleep", "2"}}}}}
				mu.Lock()
				created[name] = time.Now()
				mu.Unlock()
				if _, err := c.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
		var lat []time.Duration
		seen := map[string]bool{}
		timeout := time.After(3 * time.Minute)
		for len(lat) < pods {
			select {
			case ev := <-w.ResultChan():
				po, ok := ev.Object.(*corev1.Pod)
				if !ok || seen[po.Name] || po.Status.Phase != corev1.PodRunning {
					continue
				}
				seen[po.Name] = true
				mu.Lock()
				lat = append(lat, time.Since(created[po.Name]))
				mu.Unlock()
			case <-timeout:
				b.Fatalf("only %d of %d pods Running after 3m", len(lat), pods)
			}
		}
		w.Stop()
		b.ReportMetric(float64(percentile(lat, 0.5).Milliseconds()), "p50-ms")
		b.ReportMetric(float64(percentile(lat, 0.99).Milliseconds()), "p99-ms")
	}
}

// BenchmarkSimulatedDeployment: a Deployment of 5,000 replicas on 100
// simulated nodes, create → all available, then a full rolling update at
// maxSurge 25%.
//
//	go test ./test/e2e -run '^$' -bench SimulatedDeployment -benchtime 1x -timeout 30m
func BenchmarkSimulatedDeployment(b *testing.B) {
	const replicas = 5000
	s, c := startSimulated(b, 100)
	defer s.Stop()
	ctx := context.Background()
	waitAvailable := func(name string, gen int64) {
		for start := time.Now(); time.Since(start) < 20*time.Minute; time.Sleep(200 * time.Millisecond) {
			d, err := c.AppsV1().Deployments("default").Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				b.Fatal(err)
			}
			st := d.Status
			if st.ObservedGeneration >= gen && st.UpdatedReplicas == replicas && st.AvailableReplicas == replicas && st.Replicas == replicas {
				return
			}
		}
		b.Fatalf("deployment %s not available in 20m", name)
	}
	for it := 0; it < b.N; it++ {
		name := fmt.Sprintf("bench-%d", it)
		labels := map[string]string{"app": name}
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](replicas), Selector: &metav1.LabelSelector{MatchLabels: labels},
				Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: ptr.To(intstr.FromString("25%")), MaxUnavailable: ptr.To(intstr.FromString("25%"))}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1", Command: []string{"sleep", "inf"}}}}}}}
		cpu0, _ := procStats(s.cmd.Process.Pid)
		start := time.Now()
		if _, err := c.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		waitAvailable(name, 1)
		created := time.Since(start)
		start = time.Now()
		patch := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}}}`)
		if _, err := c.AppsV1().Deployments("default").Patch(ctx, name, "application/strategic-merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
			b.Fatal(err)
		}
		waitAvailable(name, 2)
		rolled := time.Since(start)
		cpu1, _ := procStats(s.cmd.Process.Pid)
		b.ReportMetric(created.Seconds(), "create-available-s")
		b.ReportMetric(replicas/created.Seconds(), "pods/s")
		b.ReportMetric(rolled.Seconds(), "rolling-update-s")
		b.ReportMetric(cpu1-cpu0, "server-cpu-s")
	}
	_, peak := procStats(s.cmd.Process.Pid)
	b.ReportMetric(peak, "peak-RSS-MiB")
}

// BenchmarkSimulatedCronJobs: 10,000 CronJobs `* * * * *` on the simulated
// runtime, created just after a minute begins so that none fires before
// the measurement: the server's CPU while idle between minutes, then how
// late after the next minute each Job is created (watch events) and when
// the last one is.
//
//	go test ./test/e2e -run '^$' -bench SimulatedCronJobs -benchtime 1x -timeout 30m
func BenchmarkSimulatedCronJobs(b *testing.B) {
	const count = 10000
	s, c := startSimulated(b, 100)
	defer s.Stop()
	ctx := context.Background()
	// Start creating at second 1 of a minute.
	now := time.Now()
	time.Sleep(now.Truncate(time.Minute).Add(time.Minute + time.Second).Sub(now))
	minute := time.Now().Truncate(time.Minute).Add(time.Minute)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := 0; i < count; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cj-%05d", i)},
				Spec: batchv1.CronJobSpec{Schedule: "* * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
					Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
						Containers: []corev1.Container{{Name: "c", Image: "busybox", Command: []string{"true"}}}}}}}}}
			if _, err := c.BatchV1().CronJobs("default").Create(ctx, cj, metav1.CreateOptions{}); err != nil {
				b.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if time.Until(minute) < 30*time.Second {
		b.Fatalf("creating %d CronJobs took too long to measure before the minute", count)
	}
	// Idle CPU: 20 s ending 5 s before the minute.
	time.Sleep(time.Until(minute.Add(-25 * time.Second)))
	cpu0, _ := procStats(s.cmd.Process.Pid)
	time.Sleep(20 * time.Second)
	cpu1, _ := procStats(s.cmd.Process.Pid)
	list, err := c.BatchV1().Jobs("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if len(list.Items) != 0 {
		b.Fatalf("%d jobs before the minute", len(list.Items))
	}
	rv := list.ResourceVersion
	w, err := c.BatchV1().Jobs("default").Watch(ctx, metav1.ListOptions{ResourceVersion: rv})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { w.Stop() }()
	var late []time.Duration
	seen := map[string]bool{}
	timeout := time.After(time.Until(minute) + 5*time.Minute)
	for len(late) < count {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				// A watcher that falls behind is closed by the server, as
				// Kubernetes' watch cache does: resume from the last event.
				if w, err = c.BatchV1().Jobs("default").Watch(ctx, metav1.ListOptions{ResourceVersion: rv}); err != nil {
					b.Fatal(err)
				}
				continue
			}
			j, isJob := ev.Object.(*batchv1.Job)
			if !isJob {
				continue
			}
			rv = j.ResourceVersion
			if ev.Type == watch.Added && !seen[j.Name] {
				seen[j.Name] = true
				late = append(late, time.Since(minute))
			}
		case <-timeout:
			b.Fatalf("only %d of %d jobs seen", len(late), count)
		}
	}
	b.ReportMetric(cpu1-cpu0, "idle-cpu-s/20s")
	b.ReportMetric(percentile(late, 0.5).Seconds(), "p50-late-s")
	b.ReportMetric(percentile(late, 0.99).Seconds(), "p99-late-s")
	b.ReportMetric(percentile(late, 1).Seconds(), "last-late-s")
	b.ReportMetric(float64(count)/percentile(late, 1).Seconds(), "jobs/s")
}
