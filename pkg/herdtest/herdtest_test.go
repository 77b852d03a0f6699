package herdtest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/herdtest"
)

func waitFor(t *testing.T, timeout time.Duration, f func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		err := f(ctx)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not within %s: %v", timeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// A Deployment in a herdtest server gets its pods scheduled on the simulated
// nodes and reaches its ready replicas; deleting it garbage-collects them.
func TestDeploymentReachesReadyReplicas(t *testing.T) {
	t.Parallel()
	cfg := herdtest.Start(t, herdtest.WithNodes(2))
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	if _, err := client.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, func(ctx context.Context) error {
		got, err := client.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got.Status.ReadyReplicas != 3 {
			return fmt.Errorf("%d ready replicas", got.Status.ReadyReplicas)
		}
		return nil
	})
	pods, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName == "" {
			t.Errorf("pod %s is ready but not bound", p.Name)
		}
	}
	if err := client.AppsV1().Deployments("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, func(ctx context.Context) error {
		pods, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return err
		}
		if len(pods.Items) != 0 {
			return fmt.Errorf("%d pods left", len(pods.Items))
		}
		return nil
	})
}

// CRDs from a directory are established when Start returns and their custom
// resources are served with defaults applied; a second instance running at
// the same time is a separate cluster.
func TestCRDsFromDirectoryAndParallelInstances(t *testing.T) {
	t.Parallel()
	withCRDs := herdtest.Start(t, herdtest.WithCRDs("testdata/crds"), herdtest.WithNodes(0))
	plain := herdtest.Start(t, herdtest.WithNodes(0))
	if withCRDs.Host == plain.Host {
		t.Fatalf("two instances share %s", withCRDs.Host)
	}
	gvr := schema.GroupVersionResource{Group: "herdtest.example.com", Version: "v1", Resource: "gadgets"}
	ctx := context.Background()
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "herdtest.example.com/v1", "kind": "Gadget",
		"metadata": map[string]any{"name": "g1"}, "spec": map[string]any{},
	}}
	got, err := dynamic.NewForConfigOrDie(withCRDs).Resource(gvr).Namespace("default").Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if size, _, _ := unstructured.NestedString(got.Object, "spec", "size"); size != "small" {
		t.Errorf("spec.size = %q, want the default small", size)
	}
	if _, err := dynamic.NewForConfigOrDie(plain).Resource(gvr).Namespace("default").List(ctx, metav1.ListOptions{}); err == nil {
		t.Errorf("the instance without CRDs serves gadgets")
	}
}
