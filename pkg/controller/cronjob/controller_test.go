package cronjob

import (
	"context"
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/controller/internal/consistency"
)

var (
	t0     = time.Date(2026, 6, 15, 10, 0, 30, 0, time.UTC) // creation time of most CronJobs
	minute = func(m int) time.Time { return time.Date(2026, 6, 15, 10, m, 0, 0, time.UTC) }
	pad    = 100 * time.Millisecond // Kubernetes' nextScheduleDelta
)

func jobNameAt(cj string, t time.Time) string { return fmt.Sprintf("%s-%d", cj, t.Unix()/60) }

func TestJobFromTemplate(t *testing.T) {
	cj := newCronJob("backup", "*/5 * * * *", t0)
	scheduled := minute(5)
	job, err := jobFromTemplate(cj, scheduled)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("backup-%d", scheduled.Unix()/60); job.Name != want || job.Name != "backup-29691965" {
		t.Errorf("name %q, want %q", job.Name, want)
	}
	if job.Namespace != ns || job.Labels["app"] != "backup" || job.Annotations["team"] != "batch" {
		t.Errorf("metadata not copied: %+v", job.ObjectMeta)
	}
	if got := job.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != "2026-06-15T10:05:00Z" {
		t.Errorf("scheduled annotation without timeZone = %q, want UTC", got)
	}
	if len(job.OwnerReferences) != 1 {
		t.Fatalf("ownerReferences %+v", job.OwnerReferences)
	}
	ref := job.OwnerReferences[0]
	if ref.APIVersion != "batch/v1" || ref.Kind != "CronJob" || ref.Name != "backup" || ref.UID != cj.UID ||
		!ptr.Deref(ref.Controller, false) || !ptr.Deref(ref.BlockOwnerDeletion, false) {
		t.Errorf("ownerReference %+v", ref)
	}
	if ptr.Deref(job.Spec.BackoffLimit, 0) != 2 || job.Spec.Template.Spec.Containers[0].Image != "busybox" {
		t.Errorf("spec not copied: %+v", job.Spec)
	}
	// The template is not shared with the Job.
	job.Labels["app"] = "changed"
	job.Spec.Template.Spec.Containers[0].Image = "changed"
	if cj.Spec.JobTemplate.Labels["app"] != "backup" || cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image != "busybox" {
		t.Error("job shares memory with the template")
	}

	cj.Spec.TimeZone = ptr.To("Asia/Shanghai")
	job, _ = jobFromTemplate(cj, scheduled)
	if got := job.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != "2026-06-15T18:05:00+08:00" {
		t.Errorf("scheduled annotation in Asia/Shanghai = %q", got)
	}
}

func TestSyncCreatesJobOnSchedule(t *testing.T) {
	cj := newCronJob("cj", "* * * * *", t0)
	f := newFixture(t, minute(1).Add(pad), cj)
	d := f.sync("cj")

	want := jobNameAt("cj", minute(1))
	expectStrings(t, "writes", f.writes(), []string{"create jobs " + want, "update cronjobs/status cj"})
	expectStrings(t, "events", f.drainEvents(), []string{"Normal SuccessfulCreate Created job " + want})
	got := f.cronJob("cj")
	if len(got.Status.Active) != 1 {
		t.Fatalf("active %+v", got.Status.Active)
	}
	ref := got.Status.Active[0]
	if ref.Kind != "Job" || ref.APIVersion != "batch/v1" || ref.Name != want || ref.Namespace != ns || string(ref.UID) != "uid-"+want {
		t.Errorf("active ref %+v", ref)
	}
	if !got.Status.LastScheduleTime.Time.Equal(minute(1)) {
		t.Errorf("lastScheduleTime %v, want %v", got.Status.LastScheduleTime, minute(1))
	}
	// Next run 10:02:00, padded by 100ms, from 10:01:00.1: exactly one minute.
	expectDelay(t, d, time.Minute)
	job := f.job(want)
	if job.Annotations[batchv1.CronJobScheduledTimestampAnnotation] != "2026-06-15T10:01:00Z" {
		t.Errorf("annotation %v", job.Annotations)
	}

	// Syncing again at the same instant is a no-op: the time is processed.
	d = f.sync("cj")
	expectStrings(t, "writes on resync", f.writes(), nil)
	expectStrings(t, "events on resync", f.drainEvents(), nil)
	expectDelay(t, d, time.Minute)
}

func TestSyncBeforeFirstRun(t *testing.T) {
	cj := newCronJob("cj", "*/5 * * * *", t0)
	f := newFixture(t, t0.Add(10*time.Second), cj)
	d := f.sync("cj")
	expectStrings(t, "writes", f.writes(), nil)
	// 10:00:40 -> 10:05:00.1
	expectDelay(t, d, 4*time.Minute+20*time.Second+pad)
}

func TestMissedRunsWithoutDeadline(t *testing.T) {
	// Created 10:00:30, controller back at 10:05:30: only 10:05 is started.
	cj := newCronJob("cj", "* * * * *", t0)
	f := newFixture(t, minute(5).Add(30*time.Second), cj)
	d := f.sync("cj")
	expectStrings(t, "jobs", f.jobNames(), []string{jobNameAt("cj", minute(5))})
	expectStrings(t, "events", f.drainEvents(), []string{"Normal SuccessfulCreate Created job " + jobNameAt("cj", minute(5))})
	expectDelay(t, d, 30*time.Second+pad)
	if got := f.cronJob("cj").Status.LastScheduleTime.Time; !got.Equal(minute(5)) {
		t.Errorf("lastScheduleTime %v", got)
	}
}

func TestMissedRunsWithStartingDeadline(t *testing.T) {
	t.Run("within deadline", func(t *testing.T) {
		cj := newCronJob("cj", "* * * * *", t0)
		cj.Spec.StartingDeadlineSeconds = ptr.To[int64](30)
		f := newFixture(t, minute(5).Add(20*time.Second), cj)
		d := f.sync("cj")
		expectStrings(t, "jobs", f.jobNames(), []string{jobNameAt("cj", minute(5))})
		expectDelay(t, d, 40*time.Second+pad)
	})
	t.Run("past deadline", func(t *testing.T) {
		cj := newCronJob("cj", "* * * * *", t0)
		cj.Spec.StartingDeadlineSeconds = ptr.To[int64](30)
		f := newFixture(t, minute(5).Add(45*time.Second), cj)
		d := f.sync("cj")
		expectStrings(t, "jobs", f.jobNames(), nil)
		expectStrings(t, "writes", f.writes(), nil)
		expectStrings(t, "events", f.drainEvents(), []string{
			"Warning MissSchedule Missed scheduled time to start a job: Mon, 15 Jun 2026 10:05:00 +0000"})
		expectDelay(t, d, 15*time.Second+pad)
		// Reported once, not at every sync.
		f.sync("cj")
		expectStrings(t, "events on second sync", f.drainEvents(), nil)
		// At the next minute the run starts normally.
		f.clock.SetTime(minute(6).Add(pad))
		d = f.sync("cj")
		expectStrings(t, "jobs", f.jobNames(), []string{jobNameAt("cj", minute(6))})
		expectDelay(t, d, time.Minute)
	})
	t.Run("deadline exactly reached", func(t *testing.T) {
		// The window (now-deadline, now] excludes its start, as in Kubernetes.
		cj := newCronJob("cj", "* * * * *", t0)
		cj.Spec.StartingDeadlineSeconds = ptr.To[int64](30)
		f := newFixture(t, minute(5).Add(30*time.Second), cj)
		f.sync("cj")
		expectStrings(t, "jobs", f.jobNames(), nil)
		f2 := newFixture(t, minute(5).Add(30*time.Second-time.Millisecond), cj)
		f2.sync("cj")
		expectStrings(t, "jobs 1ms earlier", f2.jobNames(), []string{jobNameAt("cj", minute(5))})
	})
}

func TestTooManyMissedTimes(t *testing.T) {
	created := time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)
	now := time.Date(2026, 6, 15, 13, 20, 30, 0, time.UTC) // 200 runs missed: 10:01..13:20
	t.Run("no deadline", func(t *testing.T) {
		f := newFixture(t, now, newCronJob("cj", "* * * * *", created))
		d := f.sync("cj")
		want := jobNameAt("cj", now.Truncate(time.Minute))
		expectStrings(t, "events", f.drainEvents(), []string{
			"Warning TooManyMissedTimes too many missed start times: 200. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
			"Normal SuccessfulCreate Created job " + want,
		})
		expectStrings(t, "jobs", f.jobNames(), []string{want})
		expectDelay(t, d, 30*time.Second+pad)
	})
	t.Run("101 missed", func(t *testing.T) {
		f := newFixture(t, created.Add(101*time.Minute), newCronJob("cj", "* * * * *", created))
		f.sync("cj")
		ev := f.drainEvents()
		if len(ev) != 2 || ev[0] != "Warning TooManyMissedTimes too many missed start times: 101. Set or decrease .spec.startingDeadlineSeconds or check clock skew" {
			t.Errorf("events %q", ev)
		}
	})
	t.Run("100 missed is not too many", func(t *testing.T) {
		f := newFixture(t, created.Add(100*time.Minute), newCronJob("cj", "* * * * *", created))
		f.sync("cj")
		expectStrings(t, "events", f.drainEvents(), []string{"Normal SuccessfulCreate Created job " + jobNameAt("cj", created.Add(100*time.Minute))})
	})
	t.Run("deadline bounds the count", func(t *testing.T) {
		cj := newCronJob("cj", "* * * * *", created)
		cj.Spec.StartingDeadlineSeconds = ptr.To[int64](120)
		f := newFixture(t, now, cj)
		f.sync("cj")
		expectStrings(t, "events", f.drainEvents(), []string{"Normal SuccessfulCreate Created job " + jobNameAt("cj", now.Truncate(time.Minute))})
	})
}

func TestConcurrencyPolicy(t *testing.T) {
	prev := minute(1)
	setup := func(policy batchv1.ConcurrencyPolicy) (*fixture, *batchv1.Job) {
		cj := newCronJob("cj", "* * * * *", t0)
		cj.Spec.ConcurrencyPolicy = policy
		running := ownedJob(cj, prev)
		cj.Status.Active = []corev1.ObjectReference{jobRef(running)}
		cj.Status.LastScheduleTime = ptr.To(metav1.NewTime(prev))
		return newFixture(t, minute(2).Add(pad), cj, running), running
	}

	t.Run("Allow", func(t *testing.T) {
		f, running := setup(batchv1.AllowConcurrent)
		f.sync("cj")
		next := jobNameAt("cj", minute(2))
		expectStrings(t, "jobs", f.jobNames(), []string{running.Name, next})
		if got := activeNames(f.cronJob("cj")); got != running.Name+","+next {
			t.Errorf("active %s", got)
		}
	})

	t.Run("Forbid", func(t *testing.T) {
		f, running := setup(batchv1.ForbidConcurrent)
		d := f.sync("cj")
		expectStrings(t, "events", f.drainEvents(), []string{"Normal JobAlreadyActive Not starting job because prior execution is running and concurrency policy is Forbid"})
		expectStrings(t, "writes", f.writes(), nil)
		expectStrings(t, "jobs", f.jobNames(), []string{running.Name})
		if got := f.cronJob("cj").Status.LastScheduleTime.Time; !got.Equal(prev) {
			t.Errorf("lastScheduleTime moved to %v", got)
		}
		expectDelay(t, d, time.Minute)

		// The running Job completes at 10:02:40: the skipped 10:02 run starts
		// late (no startingDeadlineSeconds).
		f.clock.SetTime(minute(2).Add(40 * time.Second))
		finish(running, batchv1.JobComplete, f.clock.Now())
		if _, err := f.client.BatchV1().Jobs(ns).UpdateStatus(context.Background(), running, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		d = f.sync("cj")
		next := jobNameAt("cj", minute(2))
		expectStrings(t, "events", f.drainEvents(), []string{
			"Normal SawCompletedJob Saw completed job: " + running.Name + ", condition: Complete",
			"Normal SuccessfulCreate Created job " + next,
		})
		got := f.cronJob("cj")
		if activeNames(got) != next || !got.Status.LastScheduleTime.Time.Equal(minute(2)) ||
			got.Status.LastSuccessfulTime == nil || !got.Status.LastSuccessfulTime.Time.Equal(minute(2).Add(40*time.Second)) {
			t.Errorf("status %+v", got.Status)
		}
		expectDelay(t, d, 20*time.Second+pad)
	})

	t.Run("Forbid with deadline passed", func(t *testing.T) {
		f, running := setup(batchv1.ForbidConcurrent)
		f.sync("cj")
		f.drainEvents()
		cj := f.cronJob("cj")
		cj.Spec.StartingDeadlineSeconds = ptr.To[int64](30)
		if _, err := f.client.BatchV1().CronJobs(ns).Update(context.Background(), cj, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		f.clock.SetTime(minute(2).Add(40 * time.Second))
		finish(running, batchv1.JobFailed, f.clock.Now())
		if _, err := f.client.BatchV1().Jobs(ns).UpdateStatus(context.Background(), running, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		f.sync("cj")
		expectStrings(t, "events", f.drainEvents(), []string{
			"Normal SawCompletedJob Saw completed job: " + running.Name + ", condition: Failed",
			"Warning MissSchedule Missed scheduled time to start a job: Mon, 15 Jun 2026 10:02:00 +0000",
		})
		expectStrings(t, "jobs", f.jobNames(), []string{running.Name})
	})

	t.Run("Replace", func(t *testing.T) {
		f, running := setup(batchv1.ReplaceConcurrent)
		d := f.sync("cj")
		next := jobNameAt("cj", minute(2))
		expectStrings(t, "writes", f.writes(), []string{
			"delete jobs " + running.Name, "create jobs " + next, "update cronjobs/status cj"})
		for _, a := range f.client.Actions() {
			if del, ok := a.(k8stesting.DeleteAction); ok {
				if p := del.GetDeleteOptions().PropagationPolicy; p == nil || *p != metav1.DeletePropagationBackground {
					t.Errorf("delete propagation %v, want Background", p)
				}
			}
		}
		expectStrings(t, "events", f.drainEvents(), []string{
			"Normal SuccessfulDelete Deleted job " + running.Name,
			"Normal SuccessfulCreate Created job " + next,
		})
		expectStrings(t, "jobs", f.jobNames(), []string{next})
		if got := activeNames(f.cronJob("cj")); got != next {
			t.Errorf("active %s", got)
		}
		expectDelay(t, d, time.Minute)
	})
}

func TestSuspend(t *testing.T) {
	cj := newCronJob("cj", "* * * * *", t0)
	cj.Spec.Suspend = ptr.To(true)
	running := ownedJob(cj, minute(1))
	cj.Status.Active = []corev1.ObjectReference{jobRef(running)}
	cj.Status.LastScheduleTime = ptr.To(metav1.NewTime(minute(1)))
	f := newFixture(t, minute(7).Add(10*time.Second), cj, running)

	d := f.sync("cj")
	if d != nil {
		t.Errorf("suspended CronJob requeued after %v", *d)
	}
	expectStrings(t, "writes", f.writes(), nil)
	expectStrings(t, "jobs (running one kept)", f.jobNames(), []string{running.Name})

	// Unsuspended without deadline: only the most recent missed run starts.
	cj = f.cronJob("cj")
	cj.Spec.Suspend = ptr.To(false)
	if _, err := f.client.BatchV1().CronJobs(ns).Update(context.Background(), cj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	d = f.sync("cj")
	expectStrings(t, "jobs", f.jobNames(), []string{running.Name, jobNameAt("cj", minute(7))})
	expectDelay(t, d, 50*time.Second+pad)

	// Unsuspended with a deadline the most recent run is past: nothing starts.
	cj2 := newCronJob("cj2", "* * * * *", t0)
	cj2.Spec.Suspend = ptr.To(true)
	cj2.Spec.StartingDeadlineSeconds = ptr.To[int64](5)
	f2 := newFixture(t, minute(7).Add(10*time.Second), cj2)
	f2.sync("cj2")
	cj2 = f2.cronJob("cj2")
	cj2.Spec.Suspend = ptr.To(false)
	if _, err := f2.client.BatchV1().CronJobs(ns).Update(context.Background(), cj2, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	d = f2.sync("cj2")
	expectStrings(t, "jobs", f2.jobNames(), nil)
	expectStrings(t, "events", f2.drainEvents(), []string{"Warning MissSchedule Missed scheduled time to start a job: Mon, 15 Jun 2026 10:07:00 +0000"})
	expectDelay(t, d, 50*time.Second+pad)
}

func TestHistoryLimits(t *testing.T) {
	cj := newCronJob("cj", "0 0 1 1 *", t0) // never due during the test
	cj.Spec.TimeZone = ptr.To("UTC")
	cj.Spec.SuccessfulJobsHistoryLimit = ptr.To[int32](3)
	cj.Spec.FailedJobsHistoryLimit = ptr.To[int32](1)
	cj.Status.LastScheduleTime = ptr.To(metav1.NewTime(t0))
	var objs []runtime.Object
	// Five succeeded (10:01..10:05), three failed (10:11..10:13), one running.
	for m := 1; m <= 5; m++ {
		objs = append(objs, finish(ownedJob(cj, minute(m)), batchv1.JobComplete, minute(m).Add(30*time.Second)))
	}
	for m := 11; m <= 13; m++ {
		objs = append(objs, finish(ownedJob(cj, minute(m)), batchv1.JobFailed, minute(m).Add(30*time.Second)))
	}
	running := ownedJob(cj, minute(20))
	cj.Status.Active = []corev1.ObjectReference{jobRef(running)}
	objs = append(objs, running, cj)
	f := newFixture(t, minute(30), objs...)
	f.sync("cj")

	expectStrings(t, "jobs", f.jobNames(), []string{
		jobNameAt("cj", minute(3)), jobNameAt("cj", minute(4)), jobNameAt("cj", minute(5)),
		jobNameAt("cj", minute(13)), jobNameAt("cj", minute(20)),
	})
	expectStrings(t, "events", f.drainEvents(), []string{
		"Normal SuccessfulDelete Deleted job " + jobNameAt("cj", minute(1)),
		"Normal SuccessfulDelete Deleted job " + jobNameAt("cj", minute(2)),
		"Normal SuccessfulDelete Deleted job " + jobNameAt("cj", minute(11)),
		"Normal SuccessfulDelete Deleted job " + jobNameAt("cj", minute(12)),
	})
	for _, a := range f.client.Actions() {
		if del, ok := a.(k8stesting.DeleteAction); ok {
			if p := del.GetDeleteOptions().PropagationPolicy; p == nil || *p != metav1.DeletePropagationBackground {
				t.Errorf("delete %s propagation %v, want Background", del.GetName(), p)
			}
		}
	}
	got := f.cronJob("cj")
	if got.Status.LastSuccessfulTime == nil || !got.Status.LastSuccessfulTime.Time.Equal(minute(5).Add(30*time.Second)) {
		t.Errorf("lastSuccessfulTime %v", got.Status.LastSuccessfulTime)
	}
	if activeNames(got) != running.Name {
		t.Errorf("active %s", activeNames(got))
	}

	// Limit 0 keeps none; Jobs without startTime are considered newest.
	cj = f.cronJob("cj")
	cj.Spec.SuccessfulJobsHistoryLimit = ptr.To[int32](0)
	if _, err := f.client.BatchV1().CronJobs(ns).Update(context.Background(), cj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.sync("cj")
	expectStrings(t, "jobs with limit 0", f.jobNames(), []string{jobNameAt("cj", minute(13)), jobNameAt("cj", minute(20))})
}

func TestByStartTime(t *testing.T) {
	at := func(name string, m int) *batchv1.Job {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if m >= 0 {
			j.Status.StartTime = ptr.To(metav1.NewTime(minute(m)))
		}
		return j
	}
	jobs := []*batchv1.Job{at("none-b", -1), at("c", 3), at("b", 1), at("a", 1), at("none-a", -1)}
	sortJobs(jobs)
	var names []string
	for _, j := range jobs {
		names = append(names, j.Name)
	}
	expectStrings(t, "order", names, []string{"a", "b", "c", "none-a", "none-b"})
}

func TestActiveListReconciliation(t *testing.T) {
	t.Run("completed job leaves active", func(t *testing.T) {
		cj := newCronJob("cj", "*/10 * * * *", t0)
		done := finish(ownedJob(cj, minute(10)), batchv1.JobComplete, minute(11))
		cj.Status.Active = []corev1.ObjectReference{jobRef(done)}
		cj.Status.LastScheduleTime = ptr.To(metav1.NewTime(minute(10)))
		f := newFixture(t, minute(12), cj, done)
		d := f.sync("cj")
		expectStrings(t, "events", f.drainEvents(), []string{"Normal SawCompletedJob Saw completed job: " + done.Name + ", condition: Complete"})
		got := f.cronJob("cj")
		if len(got.Status.Active) != 0 || !got.Status.LastSuccessfulTime.Time.Equal(minute(11)) {
			t.Errorf("status %+v", got.Status)
		}
		expectDelay(t, d, 8*time.Minute+pad)
	})
	t.Run("unexpected job", func(t *testing.T) {
		cj := newCronJob("cj", "*/10 * * * *", t0)
		stray := ownedJob(cj, minute(3))
		stray.Name = "manual-run"
		stray.UID = "uid-manual"
		f := newFixture(t, minute(5), cj, stray)
		f.sync("cj")
		expectStrings(t, "events", f.drainEvents(), []string{"Warning UnexpectedJob Saw a job that the controller did not create or forgot: manual-run"})
		expectStrings(t, "writes", f.writes(), nil)
	})
	t.Run("stale cache waits for our own status write", func(t *testing.T) {
		cj := newCronJob("cj", "*/10 * * * *", t0)
		job := ownedJob(cj, minute(10))
		f := newFixture(t, minute(12), cj, job)
		f.resync() // the informer has the CronJob without the Job in active
		cjStore := f.factory.Batch().V1().CronJobs().Informer().GetIndexer()
		cjStore.Bookmark("5")
		// Our status write that listed the Job came back at 6.
		f.c.consistency.WroteAt(types.NamespacedName{Namespace: ns, Name: "cj"}, cj.UID, batchv1.Resource("cronjobs"), "6")
		f.client.ClearActions()
		if _, err := f.c.sync(context.Background(), ns+"/cj"); !consistency.IsStale(err) {
			t.Fatalf("sync on a stale cache = %v, want a stale-cache error", err)
		}
		expectStrings(t, "events", f.drainEvents(), nil)
		expectStrings(t, "writes", f.writes(), nil)
		// The informer observes the write.
		fresh := cj.DeepCopy()
		fresh.Status.Active = []corev1.ObjectReference{jobRef(job)}
		fresh.Status.LastScheduleTime = ptr.To(metav1.NewTime(minute(10)))
		if _, err := f.client.BatchV1().CronJobs(ns).UpdateStatus(context.Background(), fresh, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		f.resync()
		cjStore.Bookmark("6")
		f.client.ClearActions()
		d, err := f.c.sync(context.Background(), ns+"/cj")
		if err != nil {
			t.Fatal(err)
		}
		expectStrings(t, "events", f.drainEvents(), nil)
		expectStrings(t, "writes", f.writes(), nil)
		expectStrings(t, "jobs", f.jobNames(), []string{job.Name})
		expectDelay(t, d, 8*time.Minute+pad)
	})
	t.Run("missing job", func(t *testing.T) {
		cj := newCronJob("cj", "*/10 * * * *", t0)
		gone := ownedJob(cj, minute(10))
		cj.Status.Active = []corev1.ObjectReference{jobRef(gone)}
		cj.Status.LastScheduleTime = ptr.To(metav1.NewTime(minute(10)))
		f := newFixture(t, minute(12), cj)
		f.sync("cj")
		expectStrings(t, "events", f.drainEvents(), []string{"Normal MissingJob Active job went missing: " + gone.Name})
		if got := f.cronJob("cj"); len(got.Status.Active) != 0 {
			t.Errorf("active %+v", got.Status.Active)
		}
	})
	t.Run("active job released by its owner leaves active", func(t *testing.T) {
		cj := newCronJob("cj", "*/10 * * * *", t0)
		released := ownedJob(cj, minute(10))
		cj.Status.Active = []corev1.ObjectReference{jobRef(released)}
		cj.Status.LastScheduleTime = ptr.To(metav1.NewTime(minute(10)))
		released.OwnerReferences = nil
		f := newFixture(t, minute(12), cj, released)
		f.sync("cj")
		expectStrings(t, "writes", f.writes(), []string{"update cronjobs/status cj"})
		if got := f.cronJob("cj"); len(got.Status.Active) != 0 {
			t.Errorf("active %+v", got.Status.Active)
		}
		expectStrings(t, "jobs", f.jobNames(), []string{released.Name})
	})
	t.Run("job in API but not yet in cache stays active", func(t *testing.T) {
		cj := newCronJob("cj", "*/10 * * * *", t0)
		job := ownedJob(cj, minute(10))
		cj.Status.Active = []corev1.ObjectReference{jobRef(job)}
		cj.Status.LastScheduleTime = ptr.To(metav1.NewTime(minute(10)))
		f := newFixture(t, minute(12), cj)
		f.resync()
		if _, err := f.client.BatchV1().Jobs(ns).Create(context.Background(), job, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		f.client.ClearActions()
		if _, err := f.c.sync(context.Background(), ns+"/cj"); err != nil {
			t.Fatal(err)
		}
		expectStrings(t, "writes", f.writes(), nil)
		expectStrings(t, "events", f.drainEvents(), nil)
	})
}

func TestJobAlreadyExists(t *testing.T) {
	t.Run("ours, status write lost", func(t *testing.T) {
		cj := newCronJob("cj", "* * * * *", t0)
		f := newFixture(t, minute(1).Add(pad), cj)
		f.resync() // cache without the Job: as if the status write and the Job event were lost
		existing := ownedJob(cj, minute(1))
		if _, err := f.client.BatchV1().Jobs(ns).Create(context.Background(), existing, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		f.client.ClearActions()
		d, err := f.c.sync(context.Background(), ns+"/cj")
		if err != nil {
			t.Fatal(err)
		}
		expectStrings(t, "events", f.drainEvents(), nil)
		got := f.cronJob("cj")
		if activeNames(got) != existing.Name || got.Status.Active[0].UID != existing.UID || !got.Status.LastScheduleTime.Time.Equal(minute(1)) {
			t.Errorf("status %+v", got.Status)
		}
		expectStrings(t, "jobs", f.jobNames(), []string{existing.Name})
		expectDelay(t, d, time.Minute)
	})
	t.Run("someone else's", func(t *testing.T) {
		cj := newCronJob("cj", "* * * * *", t0)
		other := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: jobNameAt("cj", minute(1)), Namespace: ns, UID: "other"}}
		f := newFixture(t, minute(1).Add(pad), cj, other)
		d := f.sync("cj")
		expectStrings(t, "writes", f.writes(), []string{"create jobs " + other.Name})
		expectStrings(t, "events", f.drainEvents(), nil)
		if got := f.cronJob("cj"); len(got.Status.Active) != 0 || got.Status.LastScheduleTime != nil {
			t.Errorf("status %+v", got.Status)
		}
		expectDelay(t, d, time.Minute)
	})
}

func TestScheduleErrors(t *testing.T) {
	for _, tc := range []struct {
		name, schedule string
		tz             *string
		event          string
	}{
		{"unknown time zone", "* * * * *", ptr.To("Mars/Olympus"), `Warning UnknownTimeZone invalid timeZone: "Mars/Olympus": unknown time zone Mars/Olympus`},
		{"unparseable", "61 * * * *", nil, `Warning UnparseableSchedule unparseable schedule: "61 * * * *" : end of range (61) above maximum (59): 61`},
		{"never fires", "0 0 30 2 *", ptr.To("UTC"), "Warning InvalidSchedule invalid schedule: 0 0 30 2 * : time difference between two schedules is less than 1 second"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cj := newCronJob("cj", tc.schedule, t0)
			cj.Spec.TimeZone = tc.tz
			f := newFixture(t, minute(5), cj)
			if d := f.sync("cj"); d != nil {
				t.Errorf("requeued after %v", *d)
			}
			expectStrings(t, "events", f.drainEvents(), []string{tc.event})
			expectStrings(t, "jobs", f.jobNames(), nil)
		})
	}
}

func TestBeingDeleted(t *testing.T) {
	cj := newCronJob("cj", "* * * * *", t0)
	cj.DeletionTimestamp = ptr.To(metav1.NewTime(minute(1)))
	cj.Finalizers = []string{"foregroundDeletion"}
	f := newFixture(t, minute(5), cj)
	if d := f.sync("cj"); d != nil {
		t.Errorf("requeued after %v", *d)
	}
	expectStrings(t, "jobs", f.jobNames(), nil)
}

func TestDeletedCronJob(t *testing.T) {
	f := newFixture(t, minute(5))
	if d := f.sync("gone"); d != nil {
		t.Errorf("requeued after %v", *d)
	}
}
