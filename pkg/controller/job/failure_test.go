package job

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestBackoffDelays(t *testing.T) {
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 320 * time.Second, 6 * time.Minute, 6 * time.Minute}
	for i, w := range want {
		if got := backoffDelay(int32(i+1), DefaultPodFailureBackoff, MaxPodFailureBackoff); got != w {
			t.Errorf("failures=%d: delay %v, want %v", i+1, got, w)
		}
	}
	if got := backoffDelay(200, DefaultPodFailureBackoff, MaxPodFailureBackoff); got != 6*time.Minute {
		t.Errorf("huge failure count: %v", got)
	}
}

func TestBackoffRecord(t *testing.T) {
	at := func(s int) *corev1.Pod {
		p := &corev1.Pod{}
		finish(p, corev1.PodFailed, 1, t0.Add(time.Duration(s)*time.Second))
		return p
	}
	ok := func(s int) *corev1.Pod {
		p := &corev1.Pod{}
		finish(p, corev1.PodSucceeded, 0, t0.Add(time.Duration(s)*time.Second))
		return p
	}
	r := nextBackoffRecord(backoffRecord{}, nil, []*corev1.Pod{at(5), at(3)})
	if r.failuresAfterLastSuccess != 2 || !r.lastFailureTime.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("record = %+v", r)
	}
	// A success after some failures: only later failures count.
	r = nextBackoffRecord(r, []*corev1.Pod{ok(6)}, []*corev1.Pod{at(4), at(7)})
	if r.failuresAfterLastSuccess != 1 || !r.lastFailureTime.Equal(t0.Add(7*time.Second)) {
		t.Fatalf("record = %+v", r)
	}
	r = nextBackoffRecord(r, []*corev1.Pod{ok(9)}, nil)
	if r.failuresAfterLastSuccess != 0 || r.lastFailureTime != nil {
		t.Fatalf("record after success = %+v", r)
	}
}

func TestBackoffDelaysRecreationAndLimitFailsJob(t *testing.T) {
	f := newFixture(t)
	f.gracefulDeletes()
	j := newJob("b", ptr.To[int32](1), ptr.To[int32](1))
	j.Spec.BackoffLimit = ptr.To[int32](2)
	f.addJob(j)
	f.mustSync("b")
	for attempt := 1; attempt <= 2; attempt++ {
		pod := f.activePods()[0]
		f.finishPod(pod.Name, corev1.PodFailed, 1)
		f.observe()
		f.drainQueue()
		f.mustSync("b")
		if n := len(f.activePods()); n != 0 {
			t.Fatalf("attempt %d: replaced at once", attempt)
		}
		f.expectCounts("b", counts{failed: int32(attempt)})
		delay := backoffDelay(int32(attempt), DefaultPodFailureBackoff, MaxPodFailureBackoff)
		// Requeued for when the backoff ends.
		f.clk.Step(delay - time.Second)
		f.mustSync("b")
		if n := len(f.activePods()); n != 0 {
			t.Fatalf("attempt %d: replaced before the %v backoff", attempt, delay)
		}
		f.clk.Step(time.Second)
		f.mustSync("b")
		if n := len(f.activePods()); n != 1 {
			t.Fatalf("attempt %d: %d active pods after the %v backoff, want 1", attempt, n, delay)
		}
	}
	// Third failure: failed (3) > backoffLimit (2).
	f.events()
	pod := f.activePods()[0]
	f.finishPod(pod.Name, corev1.PodFailed, 1)
	f.observe()
	f.mustSync("b")
	got := f.job("b")
	ft, failed := cond(got, batchv1.JobFailureTarget), cond(got, batchv1.JobFailed)
	if ft == nil || ft.Reason != "BackoffLimitExceeded" || ft.Message != "Job has reached the specified backoff limit" {
		t.Fatalf("FailureTarget = %+v", ft)
	}
	if failed == nil || failed.Reason != "BackoffLimitExceeded" || failed.Message != "Job has reached the specified backoff limit" {
		t.Fatalf("Failed = %+v (conditions %v)", failed, condTypes(got))
	}
	if got.Status.CompletionTime != nil {
		t.Fatal("completionTime set on a failed Job")
	}
	f.expectCounts("b", counts{failed: 3})
	if !hasEvent(f.events(), "Warning BackoffLimitExceeded Job has reached the specified backoff limit") {
		t.Fatal("no BackoffLimitExceeded event")
	}
}

func TestBackoffRequeueUsesClock(t *testing.T) {
	f := newFixture(t)
	f.addJob(newJob("q", ptr.To[int32](1), ptr.To[int32](1)))
	f.mustSync("q")
	f.finishPod(f.pods()[0].Name, corev1.PodFailed, 1)
	f.observe()
	f.drainQueue()
	f.mustSync("q")
	f.drainQueue()
	if f.queueHas("default/q") {
		t.Fatal("requeued before the backoff")
	}
	f.clk.Step(DefaultPodFailureBackoff)
	if !f.queueHas("default/q") {
		t.Fatal("not requeued at the end of the backoff")
	}
}

func TestBackoffLimitFailsJobAndDeletesActivePods(t *testing.T) {
	f := newFixture(t)
	f.gracefulDeletes()
	j := newJob("f", ptr.To[int32](4), ptr.To[int32](3))
	j.Spec.BackoffLimit = ptr.To[int32](0)
	f.addJob(j)
	f.mustSync("f")
	pods := f.pods()
	for _, p := range pods[1:] {
		f.runPod(p.Name, true)
	}
	f.finishPod(pods[0].Name, corev1.PodFailed, 2)
	f.observe()
	f.mustSync("f")
	got := f.job("f")
	if cond(got, batchv1.JobFailureTarget) == nil || cond(got, batchv1.JobFailed) != nil {
		t.Fatalf("conditions = %v, want FailureTarget only while pods terminate", condTypes(got))
	}
	// The running pods were deleted and count as failed.
	f.expectCounts("f", counts{terminating: 2, failed: 3})
	for _, p := range f.pods()[1:] {
		if p.DeletionTimestamp == nil {
			t.Fatalf("active pod %s not deleted", p.Name)
		}
	}
	// Pods go away: now Failed.
	f.reapDeleted()
	f.mustSync("f")
	got = f.job("f")
	if c := cond(got, batchv1.JobFailed); c == nil || c.Reason != "BackoffLimitExceeded" {
		t.Fatalf("conditions = %v", condTypes(got))
	}
	f.expectCounts("f", counts{failed: 3})
}

func TestOnFailureRestartsCountTowardsBackoffLimit(t *testing.T) {
	f := newFixture(t)
	f.gracefulDeletes()
	j := newJob("r", ptr.To[int32](1), ptr.To[int32](1))
	j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	j.Spec.BackoffLimit = ptr.To[int32](3)
	f.addJob(j)
	f.mustSync("r")
	name := f.pods()[0].Name
	setRestarts := func(n int32) {
		f.setPod(name, func(p *corev1.Pod) {
			p.Spec.NodeName = "node-1"
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", RestartCount: n}}
		})
		f.observe()
	}
	setRestarts(2)
	f.mustSync("r")
	if IsJobFinished(f.job("r")) || cond(f.job("r"), batchv1.JobFailureTarget) != nil {
		t.Fatal("failed below the limit")
	}
	setRestarts(3)
	f.mustSync("r")
	if c := cond(f.job("r"), batchv1.JobFailureTarget); c == nil || c.Reason != "BackoffLimitExceeded" {
		t.Fatalf("conditions = %v", condTypes(f.job("r")))
	}
	if f.pods()[0].DeletionTimestamp == nil {
		t.Fatal("restarting pod not deleted")
	}
	f.reapDeleted()
	f.mustSync("r")
	if c := cond(f.job("r"), batchv1.JobFailed); c == nil {
		t.Fatalf("conditions = %v", condTypes(f.job("r")))
	}
}

func TestUserDeletedRunningPodIsReplacedNotCounted(t *testing.T) {
	f := newFixture(t)
	f.addJob(newJob("u", ptr.To[int32](1), ptr.To[int32](1)))
	f.mustSync("u")
	first := f.pods()[0].Name
	f.runPod(first, true)
	f.markDeleted(first)
	f.observe()
	f.mustSync("u")
	if n := len(f.activePods()); n != 1 {
		t.Fatalf("%d active pods, want a replacement", n)
	}
	f.expectCounts("u", counts{active: 1, terminating: 1})
	// It ends Succeeded... no, killed: Failed. Only then it counts.
	f.finishPod(first, corev1.PodFailed, 137)
	f.observe()
	f.mustSync("u")
	f.expectCounts("u", counts{active: 1, failed: 1})
}

func TestUserDeletedPodKilledBeforeRunningIsNotCounted(t *testing.T) {
	f := newFixture(t)
	f.addJob(newJob("u", ptr.To[int32](1), ptr.To[int32](1)))
	f.mustSync("u")
	first := f.pods()[0].Name
	f.markDeleted(first) // never scheduled
	f.observe()
	f.mustSync("u")
	f.expectCounts("u", counts{active: 1, terminating: 1})
	p, _ := f.client.CoreV1().Pods("default").Get(f.ctx, first, metav1.GetOptions{})
	if hasFinalizer(p) {
		t.Fatal("unscheduled deleted pod keeps its finalizer")
	}
	f.reapDeleted()
	f.mustSync("u")
	f.expectCounts("u", counts{active: 1})
}

func TestPodReplacementPolicyFailedWaitsForTermination(t *testing.T) {
	f := newFixture(t)
	j := newJob("p", ptr.To[int32](1), ptr.To[int32](1))
	j.Spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
	f.addJob(j)
	f.mustSync("p")
	first := f.pods()[0].Name
	f.runPod(first, false)
	f.markDeleted(first)
	f.observe()
	f.mustSync("p")
	if n := len(f.activePods()); n != 0 {
		t.Fatal("replaced before the pod terminated")
	}
	f.expectCounts("p", counts{terminating: 1})
	f.finishPod(first, corev1.PodFailed, 137)
	f.observe()
	f.mustSync("p")
	f.clk.Step(DefaultPodFailureBackoff)
	f.mustSync("p")
	if n := len(f.activePods()); n != 1 {
		t.Fatalf("%d active pods after termination, want 1", n)
	}
	f.expectCounts("p", counts{active: 1, failed: 1})
}

func TestActiveDeadline(t *testing.T) {
	f := newFixture(t)
	f.gracefulDeletes()
	j := newJob("d", ptr.To[int32](1), ptr.To[int32](1))
	j.Spec.ActiveDeadlineSeconds = ptr.To[int64](5)
	j.Spec.BackoffLimit = ptr.To[int32](100)
	f.addJob(j)
	f.mustSync("d")
	f.runPod(f.pods()[0].Name, true)
	f.observe()
	f.drainQueue()
	f.mustSync("d")
	f.drainQueue()
	f.clk.Step(4 * time.Second)
	if f.queueHas("default/d") {
		t.Fatal("requeued before the deadline")
	}
	f.clk.Step(time.Second)
	if !f.queueHas("default/d") {
		t.Fatal("not requeued at the deadline")
	}
	f.events()
	f.mustSync("d")
	got := f.job("d")
	if c := cond(got, batchv1.JobFailureTarget); c == nil || c.Reason != "DeadlineExceeded" || c.Message != "Job was active longer than specified deadline" {
		t.Fatalf("conditions = %v", condTypes(got))
	}
	if f.pods()[0].DeletionTimestamp == nil {
		t.Fatal("pod not terminated at the deadline")
	}
	f.reapDeleted()
	f.mustSync("d")
	got = f.job("d")
	if c := cond(got, batchv1.JobFailed); c == nil || c.Reason != "DeadlineExceeded" {
		t.Fatalf("conditions = %v", condTypes(got))
	}
	if !hasEvent(f.events(), "Warning DeadlineExceeded Job was active longer than specified deadline") {
		t.Fatal("no DeadlineExceeded event")
	}
	if n := len(f.pods()); n != 0 {
		t.Fatalf("%d pods left", n)
	}
}

func TestSuspendAndResume(t *testing.T) {
	f := newFixture(t)
	f.gracefulDeletes()
	j := newJob("s", ptr.To[int32](2), ptr.To[int32](2))
	j.Spec.ActiveDeadlineSeconds = ptr.To[int64](100)
	f.addJob(j)
	f.mustSync("s")
	for _, p := range f.pods() {
		f.runPod(p.Name, true)
	}
	f.observe()
	f.mustSync("s")
	f.events()
	j = f.job("s")
	j.Spec.Suspend = ptr.To(true)
	f.updateJob(j)
	f.clk.Step(time.Minute)
	f.mustSync("s")
	for _, p := range f.pods() {
		if p.DeletionTimestamp == nil {
			t.Fatalf("pod %s not terminated on suspend", p.Name)
		}
	}
	got := f.job("s")
	c := cond(got, batchv1.JobSuspended)
	if c == nil || c.Status != corev1.ConditionTrue || c.Reason != "JobSuspended" || c.Message != "Job suspended" {
		t.Fatalf("Suspended = %+v", c)
	}
	f.expectCounts("s", counts{terminating: 2})
	ev := f.events()
	if !hasEvent(ev, "Normal Suspended Job suspended") || countEventsWithPrefix(ev, "Normal SuccessfulDelete") != 2 {
		t.Fatalf("events = %v", ev)
	}
	f.killTerminating()
	f.mustSync("s")
	f.reapDeleted()
	// Suspended longer than the deadline: no failure.
	f.clk.Step(10 * time.Minute)
	f.mustSync("s")
	if cond(f.job("s"), batchv1.JobFailureTarget) != nil || len(f.pods()) != 0 {
		t.Fatalf("suspended Job failed or kept pods: %v, %d pods", condTypes(f.job("s")), len(f.pods()))
	}
	// Pods killed by the suspension are no failures.
	f.expectCounts("s", counts{})
	j = f.job("s")
	j.Spec.Suspend = ptr.To(false)
	f.updateJob(j)
	t.Logf("satisfied=%v exp=%+v", f.c.expectations.Satisfied("default/s"), fmtPending(f.c.expectations, "default/s"))
	f.mustSync("s")
	got = f.job("s")
	c = cond(got, batchv1.JobSuspended)
	if c == nil || c.Status != corev1.ConditionFalse || c.Reason != "JobResumed" || c.Message != "Job resumed" {
		t.Fatalf("Suspended after resume = %+v", c)
	}
	if !got.Status.StartTime.Time.Equal(f.clk.Now()) {
		t.Fatalf("startTime = %v, want reset to %v", got.Status.StartTime, f.clk.Now())
	}
	if !hasEvent(f.events(), "Normal Resumed Job resumed") {
		t.Fatal("no Resumed event")
	}
	if n := len(f.activePods()); n != 2 {
		t.Fatalf("%d pods after resume, want 2", n)
	}
	f.expectCounts("s", counts{active: 2})
}

func TestCreatedSuspended(t *testing.T) {
	f := newFixture(t)
	j := newJob("cs", ptr.To[int32](1), ptr.To[int32](1))
	j.Spec.Suspend = ptr.To(true)
	f.addJob(j)
	f.mustSync("cs")
	got := f.job("cs")
	if len(f.pods()) != 0 || got.Status.StartTime != nil {
		t.Fatalf("suspended Job started: %+v", got.Status)
	}
	if c := cond(got, batchv1.JobSuspended); c == nil || c.Status != corev1.ConditionTrue {
		t.Fatalf("conditions = %v", condTypes(got))
	}
}
