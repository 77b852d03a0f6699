package job

import (
	"context"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

// TestRunWithInformers runs the controller for real (informers, workers,
// expectations against informer lag) with a fake node agent that makes
// every pod succeed.
func TestRunWithInformers(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The fake clientset's watch misses objects created before it starts:
	// wait until both informers watch.
	watching := make(chan struct{}, 2)
	f.client.PrependWatchReactor("*", func(a clienttesting.Action) (bool, watch.Interface, error) {
		w, err := f.client.Tracker().Watch(a.GetResource(), a.GetNamespace())
		watching <- struct{}{}
		return true, w, err
	})
	factory := informers.NewSharedInformerFactory(f.client, 0)
	c, err := NewWithOptions(f.client, factory, record.NewFakeRecorder(1000), f.clk, Options{SyncBatchPeriod: -1})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	<-watching
	<-watching
	go c.Run(ctx, 2)

	j := indexed(newJob("run", ptr.To[int32](6), ptr.To[int32](2)))
	if _, err := f.client.BatchV1().Jobs("default").Create(ctx, j, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	maxActive := 0
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		got := f.job("run")
		if cond(got, batchv1.JobComplete) != nil {
			if got.Status.CompletedIndexes != "0-5" || got.Status.Succeeded != 6 || got.Status.Failed != 0 {
				t.Fatalf("status = %+v", got.Status)
			}
			if n := len(f.pods()); n != 6 {
				t.Fatalf("%d pods created, want 6", n)
			}
			if maxActive > 2 {
				t.Fatalf("%d pods active at once, parallelism 2", maxActive)
			}
			for _, p := range f.pods() {
				if hasFinalizer(p) {
					t.Fatalf("pod %s keeps its finalizer", p.Name)
				}
			}
			return
		}
		active := 0
		for _, p := range f.pods() {
			if isActive(p) {
				active++
				f.finishPod(p.Name, corev1.PodSucceeded, 0)
			}
		}
		maxActive = max(maxActive, active)
		time.Sleep(10 * time.Millisecond)
	}
	for _, p := range f.pods() {
		cached, err := c.podLister.Pods("default").Get(p.Name)
		cp := corev1.PodPhase("missing")
		if err == nil {
			cp = cached.Status.Phase
		}
		t.Logf("pod %s phase %s finalizers %v cached phase %s", p.Name, p.Status.Phase, p.Finalizers, cp)
	}
	t.Logf("expectations satisfied: %v", c.expectations.Satisfied("default/run"))
	t.Fatalf("Job did not complete: %+v", f.job("run").Status)
}
