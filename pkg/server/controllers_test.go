package server

import (
	"context"
	"net"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestReportUnenforcedLimitsWaitsForNode(t *testing.T) {
	c := fake.NewClientset()
	done := make(chan struct{})
	go func() {
		reportUnenforcedLimits(context.Background(), c, "n1", "not root: limits are not enforced", time.Millisecond)
		close(done)
	}()
	time.Sleep(20 * time.Millisecond)
	if l, _ := c.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{}); len(l.Items) != 0 {
		t.Fatalf("event before the node exists: %v", l.Items)
	}
	c.CoreV1().Nodes().Create(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "u1"}}, metav1.CreateOptions{})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no event after the node was registered")
	}
	l, _ := c.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{})
	if len(l.Items) != 1 {
		t.Fatalf("events: %v", l.Items)
	}
	ev := l.Items[0]
	if ev.Type != corev1.EventTypeWarning || ev.Reason != "ContainerLimitsNotEnforced" || ev.InvolvedObject.Kind != "Node" ||
		ev.InvolvedObject.UID != "u1" || ev.Message != "not root: limits are not enforced" {
		t.Errorf("event = %+v", ev)
	}
}

func TestDefaultNodeIP(t *testing.T) {
	if got := defaultNodeIP(net.ParseIP("127.0.0.1")); got != "127.0.0.1" {
		t.Errorf("loopback API: node IP %s", got)
	}
	if got := defaultNodeIP(net.IPv4zero); net.ParseIP(got) == nil {
		t.Errorf("node IP %q is not an address", got)
	}
}

func TestStartWhenReadyWaitsForEveryGate(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b := make(chan struct{}), make(chan struct{})
	started := make(chan struct{})
	startWhenReady(ctx, "test", func(context.Context) error { close(started); return nil }, a, b)
	close(b)
	select {
	case <-started:
		t.Fatal("started before every gate opened")
	case <-time.After(20 * time.Millisecond):
	}
	close(a)
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("not started once every gate opened")
	}
}

func TestStartWhenReadyNotAfterStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	gate := make(chan struct{})
	started := make(chan struct{})
	startWhenReady(ctx, "test", func(context.Context) error { close(started); return nil }, gate)
	cancel()
	close(gate)
	select {
	case <-started:
		t.Fatal("started after the server stopped")
	case <-time.After(50 * time.Millisecond):
	}
}
