package daemon

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
)

// BenchmarkSyncSteady1000: one sync of a settled DaemonSet on 1,000 nodes
// (nothing to create, delete or write).
func BenchmarkSyncSteady1000(b *testing.B) {
	ds := newDS("agent")
	ds.Status.ObservedGeneration = 1
	hash := hashOf(ds)
	objs := []runtime.Object{ds}
	for i := 0; i < 1000; i++ {
		n := fmt.Sprintf("n%04d", i)
		objs = append(objs, newNode(n), newDSPod("p"+n, ds, n, hash, ready(t0.Add(-time.Hour))))
	}
	f := newFixture(b, objs...)
	if err := f.c.syncDaemonSet(context.Background(), "default/agent"); err != nil {
		b.Fatal(err)
	}
	f.observeWrites()
	if err := f.c.syncDaemonSet(context.Background(), "default/agent"); err != nil {
		b.Fatal(err)
	}
	f.observeWrites()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := f.c.syncDaemonSet(context.Background(), "default/agent"); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := len(f.client.Actions()); n > 2*b.N {
		b.Fatalf("%d API calls in %d steady syncs", n, b.N)
	}
}
