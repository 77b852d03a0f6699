package cronjob

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

// BenchmarkSync10000CronJobsAtMinute measures one minute boundary for 10,000
// `* * * * *` CronJobs: each sync creates its Job and writes its status, on
// the fake clientset (one op = all 10,000 syncs, run by a single worker).
func BenchmarkSync10000CronJobsAtMinute(b *testing.B) {
	const n = 10000
	ctx := context.Background()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s/cj-%05d", ns, i)
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		objs := make([]runtime.Object, n)
		for j := range objs {
			objs[j] = newCronJob(fmt.Sprintf("cj-%05d", j), "* * * * *", t0)
		}
		// The field-managed fake (NewClientset) builds a REST mapper on
		// every write, which would dwarf the controller; the simple tracker
		// does not.
		f := newFixtureWithClient(b, fake.NewSimpleClientset(objs...), minute(1).Add(pad)) //nolint:staticcheck // see above
		cjIndexer := f.factory.Batch().V1().CronJobs().Informer().GetIndexer()
		for _, o := range objs {
			if err := cjIndexer.Add(o); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		for _, key := range keys {
			d, err := f.c.sync(ctx, key)
			if err != nil || d == nil || *d != time.Minute {
				b.Fatalf("sync %s: %v %v", key, d, err)
			}
		}
		b.StopTimer()
		if got := len(f.client.Actions()); got != 2*n {
			b.Fatalf("%d writes, want %d", got, 2*n)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/cronjob")
}
