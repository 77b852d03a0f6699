package e2e

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// BenchmarkSimulatedDaemonSet: a DaemonSet on 1,000 simulated nodes,
// create → all available, then a full rolling update at maxUnavailable 10%.
//
//	go test ./test/e2e -run '^$' -bench SimulatedDaemonSet -benchtime 1x -timeout 30m
func BenchmarkSimulatedDaemonSet(b *testing.B) {
	const nodes = 1000
	s, c := startSimulatedServer(b, nodes)
	ctx := context.Background()
	waitRolledOut := func(name string, gen int64) {
		for start := time.Now(); time.Since(start) < 20*time.Minute; time.Sleep(200 * time.Millisecond) {
			ds, err := c.AppsV1().DaemonSets("default").Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				b.Fatal(err)
			}
			st := ds.Status
			if st.ObservedGeneration >= gen && st.DesiredNumberScheduled == nodes && st.UpdatedNumberScheduled == nodes &&
				st.NumberAvailable == nodes && st.CurrentNumberScheduled == nodes {
				return
			}
		}
		b.Fatalf("daemonset %s not rolled out in 20m", name)
	}
	for it := 0; it < b.N; it++ {
		name := "bench-ds"
		if it > 0 {
			name += string(rune('a' + it))
		}
		labels := map[string]string{"app": name}
		ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
				UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromString("10%"))}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1", Command: []string{"sleep", "inf"}}}}}}}
		cpu0, _ := procStats(s.cmd.Process.Pid)
		start := time.Now()
		if _, err := c.AppsV1().DaemonSets("default").Create(ctx, ds, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		waitRolledOut(name, 1)
		created := time.Since(start)
		cpu1, _ := procStats(s.cmd.Process.Pid)
		start = time.Now()
		patch := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}}}`)
		if _, err := c.AppsV1().DaemonSets("default").Patch(ctx, name, "application/strategic-merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
			b.Fatal(err)
		}
		waitRolledOut(name, 2)
		rolled := time.Since(start)
		cpu2, _ := procStats(s.cmd.Process.Pid)
		b.ReportMetric(created.Seconds(), "create-available-s")
		b.ReportMetric(cpu1-cpu0, "create-server-cpu-s")
		b.ReportMetric(rolled.Seconds(), "rolling-update-s")
		b.ReportMetric(cpu2-cpu1, "update-server-cpu-s")
	}
	_, peak := procStats(s.cmd.Process.Pid)
	b.ReportMetric(peak, "peak-RSS-MiB")
}
