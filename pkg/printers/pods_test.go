package printers

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func running(ready bool) corev1.ContainerStatus {
	return corev1.ContainerStatus{Ready: ready, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
}

func waiting(reason string) corev1.ContainerStatus {
	return corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

func terminated(reason string, exitCode, signal int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: exitCode, Signal: signal}}}
}

// restarted adds restarts and a last termination that finished d ago.
func restarted(st corev1.ContainerStatus, count int32, d time.Duration) corev1.ContainerStatus {
	st.RestartCount = count
	if d >= 0 {
		st.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(d)}
	}
	return st
}

func named(name string, st corev1.ContainerStatus) corev1.ContainerStatus {
	st.Name = name
	return st
}

func started(st corev1.ContainerStatus, s bool) corev1.ContainerStatus {
	st.Started = &s
	return st
}

func containers(names ...string) []corev1.Container {
	out := make([]corev1.Container, len(names))
	for i, n := range names {
		out[i] = corev1.Container{Name: n, Image: "img"}
	}
	return out
}

func sidecar(name string) corev1.Container {
	always := corev1.ContainerRestartPolicyAlways
	return corev1.Container{Name: name, Image: "img", RestartPolicy: &always}
}

func cond(t corev1.PodConditionType, s corev1.ConditionStatus) corev1.PodCondition {
	return corev1.PodCondition{Type: t, Status: s}
}

func TestPodReadyStatusRestarts(t *testing.T) {
	tests := []struct {
		name     string
		pod      corev1.Pod
		ready    string
		status   string
		restarts string
	}{
		{
			name: "running and ready",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a", "b")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{running(true), running(true)}}},
			ready: "2/2", status: "Running", restarts: "0",
		},
		{
			name: "running, one not ready",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a", "b")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{running(true), running(false)}}},
			ready: "1/2", status: "Running", restarts: "0",
		},
		{
			name:  "pending without statuses",
			pod:   corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")}, Status: corev1.PodStatus{Phase: corev1.PodPending}},
			ready: "0/1", status: "Pending", restarts: "0",
		},
		{
			name: "container creating",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{waiting("ContainerCreating")}}},
			ready: "0/1", status: "ContainerCreating", restarts: "0",
		},
		{
			name: "crash loop with restarts",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{restarted(waiting("CrashLoopBackOff"), 5, 3*time.Minute)}}},
			ready: "0/1", status: "CrashLoopBackOff", restarts: "5 (3m ago)",
		},
		{
			name: "restarts without last termination have no suffix",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{restarted(running(true), 4, -1)}}},
			ready: "1/1", status: "Running", restarts: "4",
		},
		{
			name: "restarts take the latest termination",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a", "b")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
					restarted(running(true), 1, 2*time.Hour), restarted(running(true), 2, 40*time.Second)}}},
			ready: "2/2", status: "Running", restarts: "3 (40s ago)",
		},
		{
			name: "completed",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{terminated("Completed", 0, 0)}}},
			ready: "0/1", status: "Completed", restarts: "0",
		},
		{
			name: "terminated with error reason",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{terminated("Error", 1, 0)}}},
			ready: "0/1", status: "Error", restarts: "0",
		},
		{
			name: "terminated without reason: exit code",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{terminated("", 2, 0)}}},
			ready: "0/1", status: "ExitCode:2", restarts: "0",
		},
		{
			name: "terminated without reason: signal",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{terminated("", 137, 9)}}},
			ready: "0/1", status: "Signal:9", restarts: "0",
		},
		{
			name: "the first container's reason wins (statuses read last to first)",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a", "b")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{waiting("ImagePullBackOff"), waiting("ErrImagePull")}}},
			ready: "0/2", status: "ImagePullBackOff", restarts: "0",
		},
		{
			name: "completed container beside a running one, pod ready",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a", "b")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{cond(corev1.PodReady, corev1.ConditionTrue)},
					ContainerStatuses: []corev1.ContainerStatus{terminated("Completed", 0, 0), running(true)}}},
			ready: "1/2", status: "Running", restarts: "0",
		},
		{
			name: "completed container beside a running one, pod not ready",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a", "b")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{cond(corev1.PodReady, corev1.ConditionFalse)},
					ContainerStatuses: []corev1.ContainerStatus{running(true), terminated("Completed", 0, 0)}}},
			ready: "1/2", status: "NotReady", restarts: "0",
		},
		{
			name: "init containers in progress",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: containers("i1", "i2"), Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{named("i1", terminated("Completed", 0, 0)), named("i2", running(false))},
					ContainerStatuses:     []corev1.ContainerStatus{waiting("PodInitializing")}}},
			ready: "0/1", status: "Init:1/2", restarts: "0",
		},
		{
			name: "init container waiting to initialize counts as in progress",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: containers("i1", "i2"), Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{named("i1", waiting("PodInitializing")), named("i2", waiting("PodInitializing"))}}},
			ready: "0/1", status: "Init:0/2", restarts: "0",
		},
		{
			name: "init container crash loop, init restarts counted",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: containers("i1"), Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{named("i1", restarted(waiting("CrashLoopBackOff"), 3, 10*time.Second))},
					ContainerStatuses:     []corev1.ContainerStatus{restarted(waiting("PodInitializing"), 7, time.Hour)}}},
			ready: "0/1", status: "Init:CrashLoopBackOff", restarts: "3 (10s ago)",
		},
		{
			name: "init container failed with reason",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: containers("i1"), Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{named("i1", terminated("Error", 1, 0))}}},
			ready: "0/1", status: "Init:Error", restarts: "0",
		},
		{
			name: "init container failed without reason: exit code",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: containers("i1"), Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{named("i1", terminated("", 3, 0))}}},
			ready: "0/1", status: "Init:ExitCode:3", restarts: "0",
		},
		{
			name: "init container failed without reason: signal",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: containers("i1"), Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{named("i1", terminated("", 143, 15))}}},
			ready: "0/1", status: "Init:Signal:15", restarts: "0",
		},
		{
			name: "init failure but Initialized condition true: app containers decide restarts",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: containers("i1"), Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{cond(corev1.PodInitialized, corev1.ConditionTrue)},
					InitContainerStatuses: []corev1.ContainerStatus{named("i1", restarted(terminated("Error", 1, 0), 2, time.Minute))},
					ContainerStatuses:     []corev1.ContainerStatus{restarted(running(true), 1, -1)}}},
			ready: "1/1", status: "Init:Error", restarts: "1",
		},
		{
			name: "sidecar started and ready, restarts of sidecar and app summed",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: []corev1.Container{sidecar("proxy")}, Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{cond(corev1.PodInitialized, corev1.ConditionTrue)},
					InitContainerStatuses: []corev1.ContainerStatus{named("proxy", started(restarted(running(true), 2, time.Hour), true))},
					ContainerStatuses:     []corev1.ContainerStatus{restarted(running(true), 1, 5*time.Minute)}}},
			ready: "2/2", status: "Running", restarts: "3 (5m ago)",
		},
		{
			name: "sidecar started but not ready",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: []corev1.Container{sidecar("proxy"), {Name: "setup"}}, Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{named("proxy", started(running(false), true)), named("setup", running(false))}}},
			ready: "0/2", status: "Init:1/2", restarts: "0",
		},
		{
			name: "sidecar not started yet",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: []corev1.Container{sidecar("proxy")}, Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{named("proxy", started(running(false), false))}}},
			ready: "0/2", status: "Init:0/1", restarts: "0",
		},
		{
			name: "scheduling gated",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
					{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated}}}},
			ready: "0/1", status: "SchedulingGated", restarts: "0",
		},
		{
			name: "status reason overrides phase",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"}},
			ready: "0/1", status: "Evicted", restarts: "0",
		},
		{
			name: "terminating",
			pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: agoPtr(time.Second)}, Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{running(true)}}},
			ready: "1/1", status: "Terminating", restarts: "0",
		},
		{
			name: "deleted after it completed keeps its status",
			pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: agoPtr(time.Second)}, Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{terminated("Completed", 0, 0)}}},
			ready: "0/1", status: "Completed", restarts: "0",
		},
		{
			name: "node lost",
			pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: agoPtr(time.Second)}, Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, Reason: "NodeLost", ContainerStatuses: []corev1.ContainerStatus{running(true)}}},
			ready: "1/1", status: "Unknown", restarts: "0",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := tc.pod
			pod.Name = "p"
			pod.CreationTimestamp = ago(time.Hour)
			got := cellsOf(t, podsGR, &pod)
			checkCells(t, got[:5], []interface{}{"p", tc.ready, tc.status, tc.restarts, "60m"})
		})
	}
}

func TestPodWideAndConditions(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", CreationTimestamp: ago(26 * time.Hour)},
		Spec: corev1.PodSpec{
			Containers:     containers("a"),
			NodeName:       "node-1",
			ReadinessGates: []corev1.PodReadinessGate{{ConditionType: "example.com/one"}, {ConditionType: "example.com/two"}},
		},
		Status: corev1.PodStatus{
			Phase:             corev1.PodSucceeded,
			PodIP:             "10.0.0.9",
			PodIPs:            []corev1.PodIP{{IP: "10.0.0.9"}, {IP: "fd00::9"}},
			NominatedNodeName: "node-2",
			Conditions: []corev1.PodCondition{
				cond("example.com/one", corev1.ConditionTrue),
				cond("example.com/two", corev1.ConditionFalse),
			},
		},
	}
	table := convert(t, podsGR, pod)
	checkCells(t, table.Rows[0].Cells, []interface{}{"p", "0/1", "Succeeded", "0", "26h", "10.0.0.9", "node-1", "node-2", "1/2"})
	want := []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: "Succeeded", Message: "The pod has completed successfully."}}
	if !reflect.DeepEqual(table.Rows[0].Conditions, want) {
		t.Errorf("conditions: %#v", table.Rows[0].Conditions)
	}

	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "q"}, Status: corev1.PodStatus{Phase: corev1.PodFailed}}
	table = convert(t, podsGR, bare)
	checkCells(t, table.Rows[0].Cells, []interface{}{"q", "0/0", "Failed", "0", "<unknown>", "<none>", "<none>", "<none>", "<none>"})
	if len(table.Rows[0].Conditions) != 1 || table.Rows[0].Conditions[0].Reason != "Failed" {
		t.Errorf("failed pod conditions: %#v", table.Rows[0].Conditions)
	}

	running := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "r"}, Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.1.1.1"}}
	table = convert(t, podsGR, running)
	if table.Rows[0].Conditions != nil {
		t.Errorf("running pod has row conditions %#v", table.Rows[0].Conditions)
	}
	if got := table.Rows[0].Cells[5]; got != "10.1.1.1" {
		t.Errorf("IP from podIP alone: %v", got)
	}
}
