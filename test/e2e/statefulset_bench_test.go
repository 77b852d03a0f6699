package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// BenchmarkSimulatedStatefulSet: a Parallel StatefulSet of 500 replicas on
// 10 simulated nodes, create → all ready, then scale to 0 → no pods left;
// "plain" without volumes, "claims" with a volumeClaimTemplate of the
// default class (local-path: each pod waits for its claim to be
// provisioned and bound on the chosen node; scaling down keeps the claims,
// whenScaled Retain).
//
//	go test ./test/e2e -run '^$' -bench SimulatedStatefulSet -benchtime 1x -timeout 30m
func BenchmarkSimulatedStatefulSet(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchStatefulSet(b, false) })
	b.Run("claims", func(b *testing.B) { benchStatefulSet(b, true) })
}

func benchStatefulSet(b *testing.B, claims bool) {
	const replicas = 500
	s, c := startSimulated(b, 10)
	defer s.Stop()
	ctx := context.Background()
	for it := 0; it < b.N; it++ {
		name := fmt.Sprintf("bench-%d", it)
		labels := map[string]string{"app": name}
		set := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](replicas), Selector: &metav1.LabelSelector{MatchLabels: labels},
				ServiceName: name, PodManagementPolicy: appsv1.ParallelPodManagement,
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:latest"}}}}}}
		if claims {
			set.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}}
			set.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}
		cpu0, _ := procStats(s.cmd.Process.Pid)
		start := time.Now()
		if _, err := c.AppsV1().StatefulSets("default").Create(ctx, set, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		for {
			st, err := c.AppsV1().StatefulSets("default").Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if st.Status.ReadyReplicas == replicas {
				break
			}
			if time.Since(start) > 10*time.Minute {
				b.Fatalf("%d of %d ready after 10m", st.Status.ReadyReplicas, replicas)
			}
			time.Sleep(100 * time.Millisecond)
		}
		created := time.Since(start)
		cpu1, _ := procStats(s.cmd.Process.Pid)
		if claims {
			l, err := c.CoreV1().PersistentVolumeClaims("default").List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
			if err != nil {
				b.Fatal(err)
			}
			bound := 0
			for _, pvc := range l.Items {
				if pvc.Status.Phase == corev1.ClaimBound {
					bound++
				}
			}
			if bound != replicas {
				b.Fatalf("%d of %d claims bound with all pods ready", bound, replicas)
			}
		}
		start = time.Now()
		if _, err := c.AppsV1().StatefulSets("default").Patch(ctx, name, types.MergePatchType,
			[]byte(`{"spec":{"replicas":0}}`), metav1.PatchOptions{}); err != nil {
			b.Fatal(err)
		}
		countUntil(b, c, "default", 10*time.Minute, func(p map[string]corev1.PodPhase) bool { return len(p) == 0 })
		scaled := time.Since(start)
		cpu2, _ := procStats(s.cmd.Process.Pid)
		b.ReportMetric(created.Seconds(), "create-ready-s")
		b.ReportMetric(replicas/created.Seconds(), "pods/s")
		b.ReportMetric(cpu1-cpu0, "create-server-cpu-s")
		b.ReportMetric(scaled.Seconds(), "scale-to-0-s")
		b.ReportMetric(cpu2-cpu1, "scale-down-server-cpu-s")
	}
	_, peak := procStats(s.cmd.Process.Pid)
	b.ReportMetric(peak, "peak-RSS-MiB")
}
