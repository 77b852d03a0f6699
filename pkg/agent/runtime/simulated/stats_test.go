package simulated

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/herd-project/herd/pkg/agent/runtime"
)

func TestContainerStatsFromAnnotationsAndRequests(t *testing.T) {
	r := New(Options{LogDir: t.TempDir()})
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1", Annotations: map[string]string{
			AnnotationPrefix + "cpu-usage": "250m", AnnotationPrefix + "memory-usage.b": "64Mi"}},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways, Containers: []corev1.Container{
			{Name: "a", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}},
			{Name: "b"},
		}},
	}
	ids := map[string]runtime.ContainerID{}
	for i := range pod.Spec.Containers {
		st, err := r.StartContainer(context.Background(), pod, &pod.Spec.Containers[i], runtime.StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids[pod.Spec.Containers[i].Name] = st.ID
	}
	a, err := r.ContainerStats(pod, ids["a"])
	if err != nil || a.CPUNanoCores == nil || *a.CPUNanoCores != 250_000_000 || a.MemoryWorkingSetBytes != 1<<30 {
		t.Fatalf("a: %+v %v", a, err)
	}
	b, err := r.ContainerStats(pod, ids["b"])
	if err != nil || *b.CPUNanoCores != 250_000_000 || b.MemoryWorkingSetBytes != 64<<20 {
		t.Fatalf("b: %+v %v", b, err)
	}
	// The pod as it is now counts: a new annotation changes the usage.
	pod.Annotations[AnnotationPrefix+"cpu-usage"] = "1"
	if a, _ = r.ContainerStats(pod, ids["a"]); *a.CPUNanoCores != 1e9 {
		t.Fatalf("after annotating: %d", *a.CPUNanoCores)
	}
	pod.Annotations[AnnotationPrefix+"cpu-usage"] = "-1"
	if _, err := r.ContainerStats(pod, ids["a"]); err == nil {
		t.Fatal("negative usage accepted")
	}
	pod.Annotations[AnnotationPrefix+"cpu-usage"] = "lots"
	if _, err := r.ContainerStats(pod, ids["a"]); err == nil {
		t.Fatal("invalid quantity accepted")
	}
}
