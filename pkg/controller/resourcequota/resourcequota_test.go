package resourcequota

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"
)

func rl(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func testPod(name string, phase corev1.PodPhase, cpu string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}},
		Status: corev1.PodStatus{Phase: phase}}
	if cpu != "" {
		p.Spec.Containers[0].Resources.Requests = rl("cpu", cpu)
	}
	return p
}

func served(client *fake.Clientset) {
	client.Resources = []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "pods", Namespaced: true, Kind: "Pod"}, {Name: "services", Namespaced: true, Kind: "Service"},
			{Name: "persistentvolumeclaims", Namespaced: true, Kind: "PersistentVolumeClaim"},
			{Name: "configmaps", Namespaced: true, Kind: "ConfigMap"}, {Name: "secrets", Namespaced: true, Kind: "Secret"},
			{Name: "resourcequotas", Namespaced: true, Kind: "ResourceQuota"},
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{{Name: "deployments", Namespaced: true, Kind: "Deployment"}}},
	}
}

func waitFor(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, err)
}

func usedIs(client *fake.Clientset, want corev1.ResourceList) func() error {
	return func() error {
		q, err := client.CoreV1().ResourceQuotas("ns").Get(context.Background(), "q", metav1.GetOptions{})
		if err != nil {
			return err
		}
		for k, v := range want {
			got, ok := q.Status.Used[k]
			if !ok || got.Cmp(v) != 0 {
				return fmt.Errorf("used %v, want %v (hard %v)", q.Status.Used, want, q.Status.Hard)
			}
		}
		if len(q.Status.Used) != len(want) {
			return fmt.Errorf("used %v, want exactly %v", q.Status.Used, want)
		}
		return nil
	}
}

func TestControllerComputesReplenishesAndResyncs(t *testing.T) {
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q", Namespace: "ns"},
		Spec: corev1.ResourceQuotaSpec{Hard: rl("pods", "10", "requests.cpu", "4", "count/deployments.apps", "2", "configmaps", "5")}}
	client := fake.NewSimpleClientset(quota,
		testPod("a", corev1.PodRunning, "1"), testPod("b", corev1.PodPending, "500m"), testPod("done", corev1.PodSucceeded, "1"),
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns"}},
	)
	served(client)
	clk := clocktesting.NewFakeClock(time.Now())
	f := informers.NewSharedInformerFactory(client, 0)
	c := New(client, f, clk, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.Start(ctx.Done())
	go c.Run(ctx, 2)

	waitFor(t, "initial usage", usedIs(client, rl("pods", "2", "requests.cpu", "1500m", "count/deployments.apps", "1", "configmaps", "1")))
	q, _ := client.CoreV1().ResourceQuotas("ns").Get(ctx, "q", metav1.GetOptions{})
	if len(q.Status.Hard) != 4 || q.Status.Hard.Pods().String() != "10" {
		t.Errorf("status.hard = %v, want spec.hard", q.Status.Hard)
	}

	// A deletion is given back.
	if err := client.CoreV1().Pods("ns").Delete(ctx, "b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "after deletion", usedIs(client, rl("pods", "1", "requests.cpu", "1", "count/deployments.apps", "1", "configmaps", "1")))

	// A pod ending frees its compute resources.
	p, _ := client.CoreV1().Pods("ns").Get(ctx, "a", metav1.GetOptions{})
	p.Status.Phase = corev1.PodFailed
	if _, err := client.CoreV1().Pods("ns").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "after pod ended", usedIs(client, rl("pods", "0", "requests.cpu", "0", "count/deployments.apps", "1", "configmaps", "1")))

	// Creations are charged by admission, not here: a new configmap is
	// picked up by the periodic resync only.
	if _, err := client.CoreV1().ConfigMaps("ns").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm2", Namespace: "ns"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := usedIs(client, rl("pods", "0", "requests.cpu", "0", "count/deployments.apps", "1", "configmaps", "1"))(); err != nil {
		t.Fatalf("recalculated before the resync: %v", err)
	}
	waitFor(t, "ticker armed", func() error {
		if !clk.HasWaiters() {
			return fmt.Errorf("no ticker yet")
		}
		return nil
	})
	clk.Step(DefaultResyncPeriod)
	waitFor(t, "after resync", usedIs(client, rl("pods", "0", "requests.cpu", "0", "count/deployments.apps", "1", "configmaps", "2")))

	// Raising a limit is reflected in status.hard.
	q, _ = client.CoreV1().ResourceQuotas("ns").Get(ctx, "q", metav1.GetOptions{})
	q.Spec.Hard["pods"] = resource.MustParse("20")
	if _, err := client.CoreV1().ResourceQuotas("ns").Update(ctx, q, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "new hard", func() error {
		q, _ := client.CoreV1().ResourceQuotas("ns").Get(ctx, "q", metav1.GetOptions{})
		if q.Status.Hard.Pods().String() != "20" {
			return fmt.Errorf("status.hard.pods = %s", q.Status.Hard.Pods().String())
		}
		return nil
	})
}

// TestScopedQuota: a BestEffort quota counts only best-effort pods.
func TestScopedQuota(t *testing.T) {
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q", Namespace: "ns"},
		Spec: corev1.ResourceQuotaSpec{Hard: rl("pods", "10"), Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}}}
	client := fake.NewSimpleClientset(quota, testPod("best", corev1.PodRunning, ""), testPod("burst", corev1.PodRunning, "1"))
	served(client)
	f := informers.NewSharedInformerFactory(client, 0)
	c := New(client, f, clocktesting.NewFakeClock(time.Now()), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.Start(ctx.Done())
	go c.Run(ctx, 1)
	waitFor(t, "best-effort usage", usedIs(client, rl("pods", "1")))
}
