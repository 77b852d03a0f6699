package job

import (
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

// BenchmarkSyncJobSteadyState: one syncJob of a Job with 10,000
// completions and parallelism 500, half done: 5,000 counted pods in the
// cache and 500 running, so the sync reads and computes but writes nothing.
func BenchmarkSyncJobSteadyState(b *testing.B) {
	for _, mode := range []string{"NonIndexed", "Indexed"} {
		b.Run(mode, func(b *testing.B) {
			f := newFixture(b)
			f.c.recorder = &record.FakeRecorder{}
			j := newJob("big", ptr.To[int32](10000), ptr.To[int32](500))
			if mode == "Indexed" {
				indexed(j)
				j.Status.CompletedIndexes = "0-4999"
			}
			j.Status.Succeeded = 5000
			j.Status.Active = 500
			j.Status.Ready = ptr.To[int32](500)
			j.Status.Terminating = ptr.To[int32](0)
			j.Status.StartTime = ptr.To(metav1.NewTime(t0))
			j.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
			if err := f.jobIdx.Add(j); err != nil {
				b.Fatal(err)
			}
			if _, err := f.client.BatchV1().Jobs("default").Create(f.ctx, j, metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < 5500; i++ {
				ix := unknownIndex
				if mode == "Indexed" {
					ix = i
				}
				p := newPod(j, &j.Spec.Template, ix, nil)
				p.Name = fmt.Sprintf("big-%d", i)
				p.UID = types.UID(p.Name)
				if i < 5000 {
					finish(p, corev1.PodSucceeded, 0, t0)
				} else {
					p.Finalizers = []string{batchv1.JobTrackingFinalizer}
					p.Spec.NodeName = "node-1"
					p.Status.Phase = corev1.PodRunning
					p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
				}
				if err := f.podIdx.Add(p); err != nil {
					b.Fatal(err)
				}
			}
			before := len(f.client.Actions())
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := f.c.syncJob(f.ctx, "default/big"); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if n := len(f.client.Actions()) - before; n != 0 {
				b.Fatalf("steady-state sync made %d API calls", n)
			}
		})
	}
}

// BenchmarkJobToCompletion drives a whole Job of 10,000 completions and
// parallelism 500 to Complete through syncJob, with a simulated node agent
// that makes every active pod succeed between syncs and informer caches
// refreshed from the fake API (which dominates the cost: the fake clientset
// deep-copies and the cache refresh compares every pod). It reports pods/s
// and syncs per Job, and sync-pods/s counting only the time spent in
// syncJob (with its fake API calls).
const runCompletions = 10000

func BenchmarkJobToCompletion(b *testing.B) {
	for _, mode := range []string{"NonIndexed", "Indexed"} {
		b.Run(mode, func(b *testing.B) {
			syncs := 0
			var inSync time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				// The field-managing fake clientset rebuilds a REST mapper
				// on every write; the simple one is ~10x cheaper.
				f := newFixtureWith(b, fake.NewSimpleClientset()) //nolint:staticcheck // speed

				f.c.recorder = &record.FakeRecorder{}
				j := newJob("big", ptr.To[int32](runCompletions), ptr.To[int32](500))
				if mode == "Indexed" {
					indexed(j)
				}
				f.addJob(j)
				b.StartTimer()
				for n := 0; ; n++ {
					if n > 200 {
						b.Fatalf("not complete after %d syncs: %+v", n, f.job("big").Status)
					}
					start := time.Now()
					if err := f.c.syncJob(f.ctx, "default/big"); err != nil {
						b.Fatal(err)
					}
					inSync += time.Since(start)
					f.observe()
					syncs++
					if IsJobFinished(f.job("big")) {
						break
					}
					for _, p := range f.activePods() {
						f.finishPod(p.Name, corev1.PodSucceeded, 0)
					}
					f.observe()
				}
				b.StopTimer()
				got := f.job("big")
				if cond(got, batchv1.JobComplete) == nil || got.Status.Succeeded != runCompletions || len(f.pods()) != runCompletions {
					b.Fatalf("status = %+v pods %d", got.Status.Succeeded, len(f.pods()))
				}
			}
			b.ReportMetric(float64(runCompletions*b.N)/b.Elapsed().Seconds(), "pods/s")
			b.ReportMetric(float64(syncs)/float64(b.N), "syncs/job")
			// Time inside syncJob only (its fake API calls included).
			b.ReportMetric(float64(runCompletions*b.N)/inSync.Seconds(), "sync-pods/s")
		})
	}
}
