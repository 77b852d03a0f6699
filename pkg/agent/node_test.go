package agent

import (
	"context"
	goruntime "runtime"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNodeRegistration(t *testing.T) {
	e := newEnv(t)
	node, err := e.client.CoreV1().Nodes().Get(context.Background(), "node-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"kubernetes.io/hostname": "node-a", "kubernetes.io/os": goruntime.GOOS, "kubernetes.io/arch": goruntime.GOARCH,
	} {
		if node.Labels[k] != v {
			t.Errorf("label %s=%q, want %q", k, node.Labels[k], v)
		}
	}
	for name, want := range map[corev1.ResourceName]string{"cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "1Ti"} {
		q := node.Status.Capacity[name]
		if q.Cmp(resource.MustParse(want)) != 0 {
			t.Errorf("capacity %s = %s, want %s", name, q.String(), want)
		}
		a := node.Status.Allocatable[name]
		if a.Cmp(resource.MustParse(want)) != 0 {
			t.Errorf("allocatable %s = %s", name, a.String())
		}
	}
	info := node.Status.NodeInfo
	if info.KubeletVersion != "v1.36.6+herd" || info.ContainerRuntimeVersion != "simulated://herd" ||
		info.OperatingSystem != goruntime.GOOS || info.Architecture != goruntime.GOARCH || info.MachineID == "" {
		t.Errorf("nodeInfo %+v", info)
	}
	if len(node.Status.Addresses) != 2 || node.Status.Addresses[0] != (corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.5"}) ||
		node.Status.Addresses[1] != (corev1.NodeAddress{Type: corev1.NodeHostName, Address: "node-a"}) {
		t.Errorf("addresses %+v", node.Status.Addresses)
	}
	if node.Status.DaemonEndpoints.KubeletEndpoint.Port != 10250 {
		t.Errorf("kubelet port %d", node.Status.DaemonEndpoints.KubeletEndpoint.Port)
	}
	want := map[corev1.NodeConditionType][2]string{
		corev1.NodeReady:          {"True", "KubeletReady"},
		corev1.NodeMemoryPressure: {"False", "KubeletHasSufficientMemory"},
		corev1.NodeDiskPressure:   {"False", "KubeletHasNoDiskPressure"},
		corev1.NodePIDPressure:    {"False", "KubeletHasSufficientPID"},
	}
	if len(node.Status.Conditions) != len(want) {
		t.Fatalf("conditions %+v", node.Status.Conditions)
	}
	for _, c := range node.Status.Conditions {
		w := want[c.Type]
		if string(c.Status) != w[0] || c.Reason != w[1] || !c.LastHeartbeatTime.Time.Equal(t0) {
			t.Errorf("condition %+v", c)
		}
	}
	if c := node.Status.Conditions[3]; c.Message != "herd agent is posting ready status" {
		t.Errorf("Ready message %q", c.Message)
	}

	lease, err := e.client.CoordinationV1().Leases("kube-node-lease").Get(context.Background(), "node-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *lease.Spec.HolderIdentity != "node-a" || *lease.Spec.LeaseDurationSeconds != 40 || !lease.Spec.RenewTime.Time.Equal(t0) {
		t.Errorf("lease %+v", lease.Spec)
	}
	if len(lease.OwnerReferences) != 1 || lease.OwnerReferences[0].Kind != "Node" || lease.OwnerReferences[0].Name != "node-a" {
		t.Errorf("lease owner %+v", lease.OwnerReferences)
	}
	// renewals every 10 s
	for i := 1; i <= 3; i++ {
		e.step(10 * time.Second)
		wantT := t0.Add(time.Duration(i) * 10 * time.Second)
		e.eventually("lease renewed", func() bool {
			l, err := e.client.CoordinationV1().Leases("kube-node-lease").Get(context.Background(), "node-a", metav1.GetOptions{})
			return err == nil && l.Spec.RenewTime.Time.Equal(wantT)
		})
	}
	// node status: unchanged for under a minute, reported again after one
	n, _ := e.client.CoreV1().Nodes().Get(context.Background(), "node-a", metav1.GetOptions{})
	if !n.Status.Conditions[0].LastHeartbeatTime.Time.Equal(t0) {
		t.Errorf("node status written before a minute passed: %v", n.Status.Conditions[0].LastHeartbeatTime)
	}
	for i := 0; i < 3; i++ {
		e.step(10 * time.Second)
	}
	e.eventually("node status reported after a minute", func() bool {
		n, _ := e.client.CoreV1().Nodes().Get(context.Background(), "node-a", metav1.GetOptions{})
		return n.Status.Conditions[3].LastHeartbeatTime.Time.Equal(t0.Add(time.Minute)) &&
			n.Status.Conditions[3].LastTransitionTime.Time.Equal(t0)
	})
}

func TestManySimulatedNodes(t *testing.T) {
	e := newEnv(t, "sim-0000", "sim-0001", "sim-0002")
	nodes, err := e.client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil || len(nodes.Items) != 3 {
		t.Fatalf("nodes %v %v", len(nodes.Items), err)
	}
	if nodes.Items[0].Status.NodeInfo.MachineID == nodes.Items[1].Status.NodeInfo.MachineID {
		t.Error("simulated nodes share a machine ID")
	}
	e.eventually("leases", func() bool {
		l, _ := e.client.CoordinationV1().Leases("kube-node-lease").List(context.Background(), metav1.ListOptions{})
		return len(l.Items) == 3
	})
	p := newPod("on-1", corev1.RestartPolicyAlways, nil)
	p.Spec.NodeName = "sim-0001"
	e.create(p)
	e.waitPod("on-1", "Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	if !e.hasEvent("Started container main") {
		t.Error("no Started event")
	}
	other := newPod("elsewhere", corev1.RestartPolicyAlways, nil)
	other.Spec.NodeName = "not-ours"
	e.create(other)
	time.Sleep(50 * time.Millisecond)
	if e.get("elsewhere").Status.Phase != corev1.PodPending {
		t.Error("ran a pod of another node")
	}
}

func TestDeletedNodeIsRegisteredAgain(t *testing.T) {
	e := newEnv(t)
	if err := e.client.CoreV1().Nodes().Delete(context.Background(), "node-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ { // the next report, a minute later, finds it gone
		e.step(10 * time.Second)
	}
	e.eventually("node registered again", func() bool {
		n, err := e.client.CoreV1().Nodes().Get(context.Background(), "node-a", metav1.GetOptions{})
		return err == nil && len(n.Status.Conditions) == 4
	})
}
