package agent

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAnnotatedNodeIsServed(t *testing.T) {
	e := newEnv(t)
	e.stop()
	e.annotated = true
	e.start([]string{"node-a"})
	ctx := context.Background()

	plain := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "plain"}}
	if _, err := e.client.CoreV1().Nodes().Create(ctx, plain, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sim := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "sim-extra", Annotations: map[string]string{SimulatedNodeAnnotation: "true"}}}
	if _, err := e.client.CoreV1().Nodes().Create(ctx, sim, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.eventually("annotated node ready with a lease", func() bool {
		n, err := e.client.CoreV1().Nodes().Get(ctx, "sim-extra", metav1.GetOptions{})
		if err != nil || n.Labels[corev1.LabelHostname] != "sim-extra" {
			return false
		}
		_, err = e.client.CoordinationV1().Leases(NodeLeaseNamespace).Get(ctx, "sim-extra", metav1.GetOptions{})
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return err == nil
			}
		}
		return false
	})
	pod := newPod("on-extra", corev1.RestartPolicyAlways, nil)
	pod.Spec.NodeName = "sim-extra"
	e.create(pod)
	e.waitPod("on-extra", "running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })

	// The node without the annotation is left alone.
	n, err := e.client.CoreV1().Nodes().Get(ctx, "plain", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Status.Conditions) != 0 {
		t.Errorf("node without the annotation got a status: %v", n.Status.Conditions)
	}
	if _, err := e.client.CoordinationV1().Leases(NodeLeaseNamespace).Get(ctx, "plain", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("node without the annotation got a lease (err %v)", err)
	}
	if got := e.agent.NodeNames(); len(got) != 2 || got[1] != "sim-extra" {
		t.Errorf("NodeNames = %v, want [node-a sim-extra]", got)
	}

	// Deleted, it is no longer served.
	if err := e.client.CoreV1().Nodes().Delete(ctx, "sim-extra", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.eventually("node dropped", func() bool { return !e.agent.serves("sim-extra") })
}
