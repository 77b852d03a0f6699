package cronjob

import (
	"context"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// waitQueueLen polls the queue (its delaying loop runs in a goroutine).
func waitQueueLen(t *testing.T, f *fixture, want int) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		return f.c.queue.Len() == want, nil
	})
	if err != nil {
		t.Fatalf("queue length %d, want %d", f.c.queue.Len(), want)
	}
}

// expectQueueStaysEmpty checks that nothing shows up for a little while.
func expectQueueStaysEmpty(t *testing.T, f *fixture) {
	t.Helper()
	time.Sleep(50 * time.Millisecond)
	if n := f.c.queue.Len(); n != 0 {
		t.Fatalf("queue length %d, want 0", n)
	}
}

func TestRequeueAtNextScheduleOnFakeClock(t *testing.T) {
	cj := newCronJob("cj", "* * * * *", t0)
	f := newFixture(t, minute(1).Add(pad), cj)
	defer f.c.queue.ShutDown()
	f.resync()
	f.c.queue.Add(ns + "/cj")
	if !f.c.processNextWorkItem(context.Background()) {
		t.Fatal("queue shut down")
	}
	expectStrings(t, "jobs", f.jobNames(), []string{jobNameAt("cj", minute(1))})
	// Requeued for 10:02:00.1, exactly one minute later on the fake clock.
	expectQueueStaysEmpty(t, f)
	f.clock.Step(time.Minute - time.Millisecond)
	expectQueueStaysEmpty(t, f)
	f.clock.Step(time.Millisecond)
	waitQueueLen(t, f, 1)
}

func TestEventHandlers(t *testing.T) {
	cj := newCronJob("cj", "*/5 * * * *", t0)
	cj.Spec.TimeZone = ptr.To("UTC")
	other := newCronJob("other", "* * * * *", t0)
	f := newFixture(t, minute(1), cj, other)
	defer f.c.queue.ShutDown()
	f.resync()
	key := ns + "/cj"

	drain := func() []string {
		var keys []string
		for f.c.queue.Len() > 0 {
			k, _ := f.c.queue.Get()
			keys = append(keys, k)
			f.c.queue.Done(k)
			f.c.queue.Forget(k)
		}
		return keys
	}

	job := ownedJob(cj, minute(0))
	f.c.addJob(job)
	expectStrings(t, "add owned job", drain(), []string{key})

	orphan := job.DeepCopy()
	orphan.OwnerReferences = nil
	f.c.addJob(orphan)
	expectStrings(t, "add orphan", drain(), nil)

	wrongUID := job.DeepCopy()
	wrongUID.OwnerReferences[0].UID = "someone-else"
	f.c.addJob(wrongUID)
	expectStrings(t, "add job of a CronJob with the same name but another UID", drain(), nil)

	newer := job.DeepCopy()
	newer.ResourceVersion = "2"
	job.ResourceVersion = "1"
	f.c.updateJob(job, newer)
	expectStrings(t, "update job", drain(), []string{key})
	f.c.updateJob(job, job)
	expectStrings(t, "resync of unchanged job", drain(), nil)

	moved := newer.DeepCopy()
	moved.ResourceVersion = "3"
	moved.OwnerReferences[0].Name, moved.OwnerReferences[0].UID = "other", other.UID
	f.c.updateJob(newer, moved)
	expectStrings(t, "owner changed: both", drain(), []string{key, ns + "/other"})

	f.c.deleteJob(cache.DeletedFinalStateUnknown{Key: ns + "/" + job.Name, Obj: job})
	expectStrings(t, "delete via tombstone", drain(), []string{key})

	// A change other than the schedule: right away.
	changed := cj.DeepCopy()
	changed.Spec.Suspend = ptr.To(true)
	f.c.updateCronJob(cj, changed)
	expectStrings(t, "spec change", drain(), []string{key})

	// A schedule change: at the new schedule's next time (10:02:00.1 from 10:01).
	rescheduled := cj.DeepCopy()
	rescheduled.Spec.Schedule = "*/2 * * * *"
	f.c.updateCronJob(cj, rescheduled)
	expectQueueStaysEmpty(t, f)
	f.clock.Step(time.Minute + pad - time.Millisecond)
	expectQueueStaysEmpty(t, f)
	f.clock.Step(time.Millisecond)
	waitQueueLen(t, f, 1)
	expectStrings(t, "schedule change", drain(), []string{key})

	bad := cj.DeepCopy()
	bad.Spec.Schedule = "not a schedule"
	f.c.updateCronJob(cj, bad)
	expectStrings(t, "unparseable schedule change", drain(), nil)
	expectStrings(t, "events", f.drainEvents(), []string{"Warning UnParseableCronJobSchedule unparseable schedule for cronjob: not a schedule"})
}

// TestRun wires the controller to running informers on the fake clientset
// and checks that a Job appears once the fake clock reaches the schedule.
func TestRun(t *testing.T) {
	cj := newCronJob("cj", "* * * * *", t0)
	f := newFixture(t, t0.Add(10*time.Second), cj)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() {
		f.c.Run(ctx, 2)
		close(done)
	}()
	// The first sync finds nothing due and waits for 10:01:00.1.
	if err := wait.PollUntilContextTimeout(ctx, time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		return len(f.client.Actions()) > 0 && f.c.queue.Len() == 0, nil
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if names := f.jobNames(); len(names) != 0 {
		t.Fatalf("jobs before schedule: %v", names)
	}
	f.clock.Step(20*time.Second + pad)
	want := jobNameAt("cj", minute(1))
	if err := wait.PollUntilContextTimeout(ctx, time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		got, err := f.client.BatchV1().CronJobs(ns).Get(ctx, "cj", metav1.GetOptions{})
		return err == nil && activeNames(got) == want, nil
	}); err != nil {
		t.Fatalf("no job %s in active: jobs %v", want, f.jobNames())
	}
	job := f.job(want)
	if job.Annotations[batchv1.CronJobScheduledTimestampAnnotation] != "2026-06-15T10:01:00Z" {
		t.Errorf("annotation %v", job.Annotations)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}
