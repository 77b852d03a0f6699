package ttlafterfinished

import (
	"context"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	client *fake.Clientset
	clk    *testingclock.FakeClock
	c      *Controller
	idx    cache.Indexer
}

func newFixture(t *testing.T, jobs ...*batchv1.Job) *fixture {
	f := &fixture{clk: testingclock.NewFakeClock(t0)}
	var objs []runtime.Object
	for _, j := range jobs {
		objs = append(objs, j)
	}
	f.client = fake.NewClientset(objs...)
	factory := informers.NewSharedInformerFactory(f.client, 0)
	f.c = New(f.client, factory, f.clk)
	f.idx = factory.Batch().V1().Jobs().Informer().GetIndexer()
	for _, j := range jobs {
		_ = f.idx.Add(j)
	}
	t.Cleanup(f.c.queue.ShutDown)
	return f
}

func finishedJob(name string, ttl *int32, finishedAt time.Time, ct batchv1.JobConditionType) *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: "uid-" + "name", ResourceVersion: "7"},
		Spec:       batchv1.JobSpec{TTLSecondsAfterFinished: ttl},
		Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(finishedAt.Add(-time.Second))},
			{Type: ct, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(finishedAt)},
		}},
	}
}

func (f *fixture) deletes() []clienttesting.DeleteActionImpl {
	var out []clienttesting.DeleteActionImpl
	for _, a := range f.client.Actions() {
		if d, ok := a.(clienttesting.DeleteActionImpl); ok {
			out = append(out, d)
		}
	}
	return out
}

func (f *fixture) queued(key string) bool {
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if f.c.queue.Len() > 0 {
			k, _ := f.c.queue.Get()
			f.c.queue.Done(k)
			if k == key {
				return true
			}
			continue
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

func TestDeletesExpiredJobWithPreconditions(t *testing.T) {
	j := finishedJob("done", ptr.To[int32](3), t0.Add(-5*time.Second), batchv1.JobComplete)
	f := newFixture(t, j)
	if err := f.c.sync(context.Background(), "default/done"); err != nil {
		t.Fatal(err)
	}
	d := f.deletes()
	if len(d) != 1 || d[0].Name != "done" {
		t.Fatalf("deletes = %+v", d)
	}
	opts := d[0].DeleteOptions
	if opts.PropagationPolicy == nil || *opts.PropagationPolicy != metav1.DeletePropagationBackground {
		t.Fatalf("propagation = %v", opts.PropagationPolicy)
	}
	if opts.Preconditions == nil || *opts.Preconditions.UID != j.UID || *opts.Preconditions.ResourceVersion != "7" {
		t.Fatalf("preconditions = %+v", opts.Preconditions)
	}
	if _, err := f.client.BatchV1().Jobs("default").Get(context.Background(), "done", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("job still there: %v", err)
	}
}

func TestFailedJobAndZeroTTL(t *testing.T) {
	f := newFixture(t, finishedJob("f", ptr.To[int32](0), t0, batchv1.JobFailed))
	if err := f.c.sync(context.Background(), "default/f"); err != nil {
		t.Fatal(err)
	}
	if len(f.deletes()) != 1 {
		t.Fatal("ttl 0: not deleted at once")
	}
}

func TestRequeuesUntilExpiry(t *testing.T) {
	f := newFixture(t, finishedJob("later", ptr.To[int32](10), t0.Add(-4*time.Second), batchv1.JobComplete))
	if err := f.c.sync(context.Background(), "default/later"); err != nil {
		t.Fatal(err)
	}
	if len(f.deletes()) != 0 {
		t.Fatal("deleted before expiry")
	}
	f.clk.Step(5 * time.Second)
	if f.queued("default/later") {
		t.Fatal("requeued too early")
	}
	f.clk.Step(time.Second)
	if !f.queued("default/later") {
		t.Fatal("not requeued at expiry (6 s)")
	}
	if err := f.c.sync(context.Background(), "default/later"); err != nil {
		t.Fatal(err)
	}
	if len(f.deletes()) != 1 {
		t.Fatal("not deleted at expiry")
	}
}

func TestRechecksLiveObject(t *testing.T) {
	cached := finishedJob("x", ptr.To[int32](1), t0.Add(-time.Minute), batchv1.JobComplete)
	f := newFixture(t, cached)
	// The live Job got a longer TTL that the cache has not seen.
	live := cached.DeepCopy()
	live.Spec.TTLSecondsAfterFinished = ptr.To[int32](3600)
	if _, err := f.client.BatchV1().Jobs("default").Update(context.Background(), live, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.c.sync(context.Background(), "default/x"); err != nil {
		t.Fatal(err)
	}
	if len(f.deletes()) != 0 {
		t.Fatal("deleted although the live TTL has not expired")
	}
}

func TestIgnoresUnfinishedAndNoTTL(t *testing.T) {
	running := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "run", Namespace: "default"},
		Spec: batchv1.JobSpec{TTLSecondsAfterFinished: ptr.To[int32](0)}}
	noTTL := finishedJob("keep", nil, t0.Add(-time.Hour), batchv1.JobComplete)
	f := newFixture(t, running, noTTL)
	for _, k := range []string{"default/run", "default/keep", "default/missing"} {
		if err := f.c.sync(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.deletes()) != 0 {
		t.Fatal("deleted a Job it should keep")
	}
	f.c.enqueue(running)
	f.c.enqueue(noTTL)
	if f.c.queue.Len() != 0 {
		t.Fatal("enqueued Jobs that need no cleanup")
	}
}

func TestTimeLeft(t *testing.T) {
	j := finishedJob("t", ptr.To[int32](30), t0, batchv1.JobComplete)
	left, err := TimeLeft(j, t0.Add(10*time.Second))
	if err != nil || left != 20*time.Second {
		t.Fatalf("left = %v, %v", left, err)
	}
	j.Status.Conditions[1].LastTransitionTime = metav1.Time{}
	if _, err := TimeLeft(j, t0); err == nil {
		t.Fatal("no error without a finish time")
	}
}

func TestRunDeletesThroughInformers(t *testing.T) {
	j := finishedJob("r", ptr.To[int32](0), t0, batchv1.JobComplete)
	client := fake.NewClientset(j)
	factory := informers.NewSharedInformerFactory(client, 0)
	c := New(client, factory, testingclock.NewFakeClock(t0))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	factory.Start(ctx.Done())
	go c.Run(ctx, 1)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := client.BatchV1().Jobs("default").Get(ctx, "r", metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("Run did not delete the expired Job")
}
