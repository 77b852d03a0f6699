package resourcequota

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clocktesting "k8s.io/utils/clock/testing"
)

func widget(name string) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: "example.com/v1", Kind: "Widget"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
	}
}

// A count/<resource>.<group> quota of a custom resource is computed from a
// metadata informer in the group's preferred version, and deletions are
// given back.
func TestCustomResourceCount(t *testing.T) {
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q", Namespace: "ns"},
		Spec: corev1.ResourceQuotaSpec{Hard: rl("count/widgets.example.com", "5")}}
	client := fake.NewSimpleClientset(quota)
	served(client)
	client.Resources = append(client.Resources, &metav1.APIResourceList{GroupVersion: "example.com/v1",
		APIResources: []metav1.APIResource{{Name: "widgets", Namespaced: true, Kind: "Widget"}}})
	scheme := runtime.NewScheme()
	metav1.AddMetaToScheme(scheme)
	md := metadatafake.NewSimpleMetadataClient(scheme, widget("a"), widget("b"))
	clk := clocktesting.NewFakeClock(time.Now())
	f := informers.NewSharedInformerFactory(client, 0)
	c := New(client, f, clk, Options{Metadata: md})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.Start(ctx.Done())
	go c.Run(ctx, 1)

	waitFor(t, "initial usage", usedIs(client, rl("count/widgets.example.com", "2")))
	gvr := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	if err := md.Resource(gvr).Namespace("ns").Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "after deletion", usedIs(client, rl("count/widgets.example.com", "1")))
}

// Without a metadata client, a custom resource count is left alone as
// before (no informer, no retry loop).
func TestCustomResourceCountNeedsMetadata(t *testing.T) {
	client := fake.NewSimpleClientset()
	served(client)
	c := New(client, informers.NewSharedInformerFactory(client, 0), clocktesting.NewFakeClock(time.Now()), Options{})
	_, _, unresolved := c.ensureObjectCountEvaluators(rl("count/widgets.example.com", "5"))
	if unresolved {
		t.Fatal("unresolved without a metadata client")
	}
	c = New(client, informers.NewSharedInformerFactory(client, 0), clocktesting.NewFakeClock(time.Now()), Options{Metadata: metadatafake.NewSimpleMetadataClient(runtime.NewScheme())})
	if _, _, unresolved := c.ensureObjectCountEvaluators(rl("count/widgets.example.com", "5")); !unresolved {
		t.Fatal("an unserved custom resource is not retried")
	}
}
