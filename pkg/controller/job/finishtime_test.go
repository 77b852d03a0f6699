package job

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// finishTime follows Kubernetes' getFinishedTime: containers (regular and
// sidecar only, all terminated), then Ready=False, then deletionTimestamp
// minus the grace period, then creation.
func TestFinishTime(t *testing.T) {
	at := func(s int) metav1.Time { return metav1.NewTime(t0.Add(time.Duration(s) * time.Second)) }
	term := func(name string, s int) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: at(s)}}}
	}
	running := func(name string) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: at(0)}}}
	}
	readyFalse := []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: at(50)}}
	sidecar := corev1.Container{Name: "side", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}
	plainInit := corev1.Container{Name: "init"}
	tests := []struct {
		name string
		pod  corev1.Pod
		want int
	}{
		{"latest regular container", corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{term("a", 10), term("b", 20)}}}, 20},
		{"plain init container ignored", corev1.Pod{
			Spec:   corev1.PodSpec{InitContainers: []corev1.Container{plainInit}},
			Status: corev1.PodStatus{InitContainerStatuses: []corev1.ContainerStatus{term("init", 90)}, ContainerStatuses: []corev1.ContainerStatus{term("a", 10)}},
		}, 10},
		{"sidecar counted", corev1.Pod{
			Spec:   corev1.PodSpec{InitContainers: []corev1.Container{sidecar}},
			Status: corev1.PodStatus{InitContainerStatuses: []corev1.ContainerStatus{term("side", 30)}, ContainerStatuses: []corev1.ContainerStatus{term("a", 10)}},
		}, 30},
		{"sidecar still running: Ready=False", corev1.Pod{
			Spec: corev1.PodSpec{InitContainers: []corev1.Container{sidecar}},
			Status: corev1.PodStatus{Conditions: readyFalse, InitContainerStatuses: []corev1.ContainerStatus{running("side")},
				ContainerStatuses: []corev1.ContainerStatus{term("a", 10)}},
		}, 50},
		{"a container not terminated: Ready=False", corev1.Pod{Status: corev1.PodStatus{Conditions: readyFalse,
			ContainerStatuses: []corev1.ContainerStatus{term("a", 10), running("b")}}}, 50},
		{"deleted: deletionTimestamp minus grace", corev1.Pod{ObjectMeta: metav1.ObjectMeta{
			DeletionTimestamp: ptr.To(at(100)), DeletionGracePeriodSeconds: ptr.To[int64](30), CreationTimestamp: at(1)}}, 70},
		{"deleted without grace", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: ptr.To(at(100)), CreationTimestamp: at(1)}}, 100},
		{"creation", corev1.Pod{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: at(1)}}, 1},
	}
	for _, tc := range tests {
		if got := finishTime(&tc.pod); !got.Equal(t0.Add(time.Duration(tc.want) * time.Second)) {
			t.Errorf("%s: finishTime = %v, want t0+%ds", tc.name, got.Sub(t0), tc.want)
		}
	}
}
