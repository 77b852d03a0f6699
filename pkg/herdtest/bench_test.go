package herdtest_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/herd-project/herd/pkg/herdtest"
)

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// BenchmarkStart reports the time from Start to a ready server with one
// simulated node, cold (the first in the process) and warm, and the heap one
// running instance holds.
func BenchmarkStart(b *testing.B) {
	for i := 0; i < b.N; i++ {
		start := time.Now()
		herdtest.Start(b)
		cold := time.Since(start)
		before := heapInUse()
		start = time.Now()
		herdtest.Start(b)
		warm := time.Since(start)
		time.Sleep(2 * time.Second) // let the second instance settle
		after := heapInUse()
		b.ReportMetric(cold.Seconds()*1000, "cold-ms")
		b.ReportMetric(warm.Seconds()*1000, "warm-ms")
		b.ReportMetric(float64(after-before)/(1<<20), "MiB/instance")
	}
}

// BenchmarkCustomResources creates 10,000 custom resources with 16 clients
// and reports the create rate and the latency of listing them all.
func BenchmarkCustomResources(b *testing.B) {
	const n, workers = 10000, 16
	for i := 0; i < b.N; i++ {
		cfg := herdtest.Start(b, herdtest.WithCRDs("testdata/crds"), herdtest.WithNodes(0))
		client := dynamic.NewForConfigOrDie(cfg).Resource(schema.GroupVersionResource{Group: "herdtest.example.com", Version: "v1", Resource: "gadgets"}).Namespace("default")
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		start := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for j := w; j < n; j += workers {
					obj := &unstructured.Unstructured{Object: map[string]any{
						"apiVersion": "herdtest.example.com/v1", "kind": "Gadget",
						"metadata": map[string]any{"name": fmt.Sprintf("g-%05d", j)}, "spec": map[string]any{},
					}}
					if _, err := client.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
						errs <- err
						return
					}
				}
			}(w)
		}
		wg.Wait()
		created := time.Since(start)
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		start = time.Now()
		list, err := client.List(ctx, metav1.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		listed := time.Since(start)
		if len(list.Items) != n {
			b.Fatalf("listed %d of %d", len(list.Items), n)
		}
		b.ReportMetric(n/created.Seconds(), "creates/s")
		b.ReportMetric(listed.Seconds()*1000, "list-ms")
	}
}
