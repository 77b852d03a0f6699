package job

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/controller/internal/consistency"
	"github.com/herd-project/herd/pkg/controller/internal/podcontrol"
)

func TestCreatesPodsUpToParallelism(t *testing.T) {
	f := newFixture(t)
	j := f.addJob(newJob("pi", ptr.To[int32](5), ptr.To[int32](2)))
	f.mustSync("pi")
	pods := f.pods()
	if len(pods) != 2 {
		t.Fatalf("created %d pods, want 2", len(pods))
	}
	for _, p := range pods {
		if p.GenerateName != "pi-" {
			t.Errorf("generateName = %q, want pi-", p.GenerateName)
		}
		ref := metav1.GetControllerOf(p)
		if ref == nil || ref.UID != j.UID || ref.Kind != "Job" || ref.APIVersion != "batch/v1" || !ptr.Deref(ref.BlockOwnerDeletion, false) {
			t.Errorf("controller ref = %+v", ref)
		}
		if !hasFinalizer(p) {
			t.Errorf("pod %s has no tracking finalizer", p.Name)
		}
		if p.Labels[batchv1.JobNameLabel] != "pi" || p.Labels[batchv1.ControllerUidLabel] != string(j.UID) {
			t.Errorf("labels = %v", p.Labels)
		}
		if _, ok := p.Annotations[batchv1.JobCompletionIndexAnnotation]; ok {
			t.Errorf("NonIndexed pod has a completion index")
		}
	}
	ev := f.events()
	for _, p := range pods {
		if !hasEvent(ev, "Normal SuccessfulCreate Created pod: "+p.Name) {
			t.Errorf("missing SuccessfulCreate event for %s in %v", p.Name, ev)
		}
	}
	got := f.job("pi")
	if got.Status.StartTime == nil || !got.Status.StartTime.Time.Equal(t0) {
		t.Errorf("startTime = %v, want %v", got.Status.StartTime, t0)
	}
	f.expectCounts("pi", counts{active: 2})
	// Nothing more while the two run.
	f.mustSync("pi")
	if n := len(f.pods()); n != 2 {
		t.Fatalf("after resync %d pods, want 2", n)
	}
}

func TestExpectationsPreventDoubleCreation(t *testing.T) {
	f := newFixture(t)
	f.addJob(newJob("x", ptr.To[int32](3), ptr.To[int32](3)))
	// Sync without letting the informer see the new pods.
	if err := f.c.syncJob(f.ctx, "default/x"); err != nil {
		t.Fatal(err)
	}
	// Only the expectations stand between the lagging pod cache and a
	// second round of creations: forget the status write.
	f.c.consistency.Clear(types.NamespacedName{Namespace: "default", Name: "x"}, "")
	if err := f.c.syncJob(f.ctx, "default/x"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.pods()); n != 3 {
		t.Fatalf("%d pods with a lagging cache, want 3", n)
	}
	if f.c.expectations.Satisfied("default/x") {
		t.Fatal("expectations satisfied before the pods were observed")
	}
	f.observe()
	if !f.c.expectations.Satisfied("default/x") {
		t.Fatal("expectations not satisfied after the pods were observed")
	}
	// A deletion in flight blocks management too.
	f.c.expectations.ExpectDeletions("default/x", []string{"some-uid"})
	f.setPod(f.pods()[0].Name, func(p *corev1.Pod) { finish(p, corev1.PodSucceeded, 0, f.clk.Now()) })
	f.mustSync("x")
	if n := len(f.pods()); n != 3 {
		t.Fatalf("created a pod while a deletion was in flight: %d pods", n)
	}
	// ...until it times out.
	f.clk.Step(podcontrol.ExpectationsTimeout + time.Second)
	if !f.c.expectations.Satisfied("default/x") {
		t.Fatal("expectations did not expire")
	}
}

func TestSlowStartBatchesStopOnFailure(t *testing.T) {
	f := newFixture(t)
	var calls int32
	f.client.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if atomic.AddInt32(&calls, 1) == 3 {
			return true, nil, errors.New("quota exceeded")
		}
		return false, nil, nil
	})
	f.addJob(newJob("s", ptr.To[int32](10), ptr.To[int32](10)))
	err := f.sync("s")
	if err == nil || !strings.Contains(err.Error(), "quota exceeded") {
		t.Fatalf("err = %v, want quota exceeded", err)
	}
	// Batches 1 then 2 (one of which fails): 3 attempts, 2 pods, rest skipped.
	if calls != 3 {
		t.Fatalf("%d create calls, want 3 (batch 1 + batch 2)", calls)
	}
	if n := len(f.pods()); n != 2 {
		t.Fatalf("%d pods, want 2", n)
	}
	if !f.c.expectations.Satisfied("default/s") {
		t.Fatal("expectations of failed/skipped creations still pending")
	}
	if c := countEventsWithPrefix(f.events(), "Warning FailedCreate Error creating: quota exceeded"); c != 1 {
		t.Fatalf("FailedCreate events = %d, want 1", c)
	}
	f.expectCounts("s", counts{active: 2})
	// Next sync: batches 1, 2, 4, 1 = 8 more.
	calls = 100
	f.mustSync("s")
	if n := len(f.pods()); n != 10 {
		t.Fatalf("%d pods, want 10", n)
	}
}

func TestSlowStartBatchSizes(t *testing.T) {
	f := newFixture(t)
	var inFlight, maxSeen int32
	f.client.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		n := atomic.AddInt32(&inFlight, 1)
		for {
			m := atomic.LoadInt32(&maxSeen)
			if n <= m || atomic.CompareAndSwapInt32(&maxSeen, m, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		atomic.AddInt32(&inFlight, -1)
		return false, nil, nil
	})
	f.addJob(newJob("b", ptr.To[int32](7), ptr.To[int32](7)))
	f.mustSync("b")
	if n := len(f.pods()); n != 7 {
		t.Fatalf("%d pods, want 7", n)
	}
	// 7 = 1 + 2 + 4: never more than 4 at once.
	if maxSeen > 4 {
		t.Fatalf("%d concurrent creates, want at most 4", maxSeen)
	}
}

func TestCompletionFlowWithFinalizers(t *testing.T) {
	f := newFixture(t)
	f.addJob(newJob("pi", nil, nil)) // defaults: 1 and 1
	f.mustSync("pi")
	pods := f.pods()
	if len(pods) != 1 {
		t.Fatalf("%d pods, want 1", len(pods))
	}
	f.runPod(pods[0].Name, true)
	f.observe()
	f.mustSync("pi")
	f.expectCounts("pi", counts{active: 1, ready: 1})
	f.clk.Step(5 * time.Second)
	f.finishPod(pods[0].Name, corev1.PodSucceeded, 0)
	f.observe()

	var statusWrites []batchv1.JobStatus
	f.client.PrependReactor("update", "jobs", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "status" {
			statusWrites = append(statusWrites, *a.(clienttesting.UpdateAction).GetObject().(*batchv1.Job).Status.DeepCopy())
		}
		return false, nil, nil
	})
	f.mustSync("pi")
	// First write: pod uid in uncountedTerminatedPods, finalizer still on.
	if len(statusWrites) != 2 {
		t.Fatalf("%d status writes, want 2", len(statusWrites))
	}
	if u := statusWrites[0].UncountedTerminatedPods; len(u.Succeeded) != 1 || u.Succeeded[0] != pods[0].UID || statusWrites[0].Succeeded != 0 {
		t.Fatalf("first write uncounted = %+v succeeded=%d", u, statusWrites[0].Succeeded)
	}
	j := f.job("pi")
	if len(j.Status.UncountedTerminatedPods.Succeeded) != 0 || j.Status.Succeeded != 1 {
		t.Fatalf("final status uncounted=%+v succeeded=%d", j.Status.UncountedTerminatedPods, j.Status.Succeeded)
	}
	if hasFinalizer(f.pods()[0]) {
		t.Fatal("finalizer not removed from the succeeded pod")
	}
	sc, comp := cond(j, batchv1.JobSuccessCriteriaMet), cond(j, batchv1.JobComplete)
	if sc == nil || sc.Status != corev1.ConditionTrue || sc.Reason != "CompletionsReached" || sc.Message != "Reached expected number of succeeded pods" {
		t.Fatalf("SuccessCriteriaMet = %+v", sc)
	}
	if comp == nil || comp.Status != corev1.ConditionTrue || comp.Reason != "CompletionsReached" {
		t.Fatalf("Complete = %+v", comp)
	}
	if got := fmt.Sprint(condTypes(j)); got != "[SuccessCriteriaMet=True Complete=True]" {
		t.Fatalf("conditions = %s", got)
	}
	if j.Status.CompletionTime == nil || !j.Status.CompletionTime.Time.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("completionTime = %v", j.Status.CompletionTime)
	}
	f.expectCounts("pi", counts{succeeded: 1})
	if !hasEvent(f.events(), "Normal Completed Job completed") {
		t.Fatal("no Completed event")
	}
	// The finished Job keeps its pod and does nothing more.
	f.mustSync("pi")
	if n := len(f.pods()); n != 1 {
		t.Fatalf("%d pods after completion, want 1", n)
	}
}

func TestUncountedPodsSurviveFinalizerRemovalFailure(t *testing.T) {
	f := newFixture(t)
	f.addJob(newJob("u", ptr.To[int32](2), ptr.To[int32](2)))
	f.mustSync("u")
	for _, p := range f.pods() {
		f.finishPod(p.Name, corev1.PodSucceeded, 0)
	}
	f.observe()
	fail := true
	f.client.PrependReactor("patch", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if fail {
			return true, nil, errors.New("boom")
		}
		return false, nil, nil
	})
	if err := f.sync("u"); err == nil {
		t.Fatal("want an error when finalizers cannot be removed")
	}
	j := f.job("u")
	if len(j.Status.UncountedTerminatedPods.Succeeded) != 2 || j.Status.Succeeded != 0 || IsJobFinished(j) {
		t.Fatalf("status after failed removal: %+v", j.Status)
	}
	fail = false
	f.mustSync("u")
	j = f.job("u")
	if len(j.Status.UncountedTerminatedPods.Succeeded) != 0 || j.Status.Succeeded != 2 || cond(j, batchv1.JobComplete) == nil {
		t.Fatalf("status after retry: %+v", j.Status)
	}
}

func TestActiveNeverExceedsRemainingCompletions(t *testing.T) {
	f := newFixture(t)
	f.addJob(newJob("c", ptr.To[int32](3), ptr.To[int32](5)))
	f.mustSync("c")
	pods := f.pods()
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3 (remaining completions)", len(pods))
	}
	f.finishPod(pods[0].Name, corev1.PodSucceeded, 0)
	f.finishPod(pods[1].Name, corev1.PodSucceeded, 0)
	f.observe()
	f.mustSync("c")
	f.mustSync("c")
	if n := len(f.pods()); n != 3 {
		t.Fatalf("%d pods, want 3", n)
	}
	f.expectCounts("c", counts{active: 1, succeeded: 2})
}

func TestTooManyActivePodsAreDeleted(t *testing.T) {
	f := newFixture(t)
	j := f.addJob(newJob("d", ptr.To[int32](10), ptr.To[int32](4)))
	f.mustSync("d")
	f.runPod(f.pods()[0].Name, true)
	f.observe()
	j = f.job("d")
	j.Spec.Parallelism = ptr.To[int32](1)
	f.updateJob(j)
	f.mustSync("d")
	pods := f.pods()
	if len(pods) != 1 || !isReady(pods[0]) {
		t.Fatalf("kept %d pods (want the ready one)", len(pods))
	}
	if n := countEventsWithPrefix(f.events(), "Normal SuccessfulDelete Deleted pod: d-"); n != 3 {
		t.Fatalf("%d SuccessfulDelete events, want 3", n)
	}
	f.expectCounts("d", counts{active: 1, ready: 1, terminating: 3})
}

func TestScaleDownDeletionsAreNotCounted(t *testing.T) {
	f := newFixture(t)
	f.gracefulDeletes()
	f.addJob(newJob("sd", ptr.To[int32](10), ptr.To[int32](3)))
	f.mustSync("sd")
	for _, p := range f.pods() {
		f.runPod(p.Name, false)
	}
	f.observe()
	j := f.job("sd")
	j.Spec.Parallelism = ptr.To[int32](1)
	f.updateJob(j)
	// Patch the finalizer-removal patches: a pod deleted while it still
	// has the finalizer would linger here (graceful delete reactor).
	var patched []string
	f.client.PrependReactor("patch", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		patched = append(patched, a.(clienttesting.PatchAction).GetName())
		return false, nil, nil
	})
	f.mustSync("sd")
	if len(patched) != 2 || len(f.pods()) != 1 {
		t.Fatalf("finalizer patches %v, %d pods left; want 2 patches and 1 pod", patched, len(f.pods()))
	}
	f.mustSync("sd")
	f.expectCounts("sd", counts{active: 1})
}

func TestWaitsForCacheToCatchUpWithStatusWrites(t *testing.T) {
	f := newFixture(t)
	j := f.addJob(newJob("w", ptr.To[int32](2), ptr.To[int32](2)))
	cached, _, _ := f.jobIdx.Get(j)
	var rv uint64
	fmt.Sscan(cached.(*batchv1.Job).ResourceVersion, &rv)
	// Our last status write is newer than anything the Job informer saw.
	written := cached.(*batchv1.Job).DeepCopy()
	written.ResourceVersion = fmt.Sprint(rv + 1)
	f.c.recordWrite(written)
	err := f.c.syncJob(f.ctx, "default/w")
	if !consistency.IsStale(err) {
		t.Fatalf("syncJob on a stale cache = %v, want a stale-cache error", err)
	}
	if n := len(f.pods()); n != 0 {
		t.Fatalf("acted on a Job older than its last status write: %d pods", n)
	}
	// The worker requeues it quietly with the rate limiter.
	f.c.queue.Add("default/w")
	f.c.processNext(f.ctx)
	if n := f.c.queue.NumRequeues("default/w"); n != 1 {
		t.Fatalf("stale sync requeued %d times, want 1", n)
	}
	// The informer observes the write.
	f.jobIdx.Bookmark(fmt.Sprint(rv + 1))
	f.mustSync("w")
	if n := len(f.pods()); n != 2 {
		t.Fatalf("%d pods, want 2", n)
	}
}

func TestParallelismZeroCreatesNothing(t *testing.T) {
	f := newFixture(t)
	j := f.addJob(newJob("z", ptr.To[int32](2), ptr.To[int32](0)))
	f.mustSync("z")
	if n := len(f.pods()); n != 0 {
		t.Fatalf("%d pods, want 0", n)
	}
	j = f.job("z")
	j.Spec.Parallelism = ptr.To[int32](2)
	f.updateJob(j)
	f.mustSync("z")
	if n := len(f.pods()); n != 2 {
		t.Fatalf("%d pods after raising parallelism, want 2", n)
	}
}

func TestWorkQueueJob(t *testing.T) {
	f := newFixture(t)
	f.addJob(newJob("wq", nil, ptr.To[int32](3)))
	f.mustSync("wq")
	pods := f.pods()
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3", len(pods))
	}
	f.finishPod(pods[0].Name, corev1.PodSucceeded, 0)
	f.observe()
	f.mustSync("wq")
	if n := len(f.pods()); n != 3 {
		t.Fatalf("created pods after a success: %d", n)
	}
	j := f.job("wq")
	if IsJobFinished(j) {
		t.Fatal("finished while pods still run")
	}
	// One of the others fails: not replaced (a success was seen).
	f.finishPod(pods[1].Name, corev1.PodFailed, 1)
	f.observe()
	f.mustSync("wq")
	if n := len(f.pods()); n != 3 {
		t.Fatalf("replaced a failed pod after a success: %d pods", n)
	}
	f.finishPod(pods[2].Name, corev1.PodSucceeded, 0)
	f.observe()
	f.mustSync("wq")
	j = f.job("wq")
	if cond(j, batchv1.JobComplete) == nil {
		t.Fatalf("not complete: %v", condTypes(j))
	}
	f.expectCounts("wq", counts{succeeded: 2, failed: 1})
}

func TestIndexedJob(t *testing.T) {
	f := newFixture(t)
	j := indexed(newJob("ix", ptr.To[int32](3), ptr.To[int32](3)))
	j.Spec.Template.Spec.Subdomain = "svc"
	f.addJob(j)
	f.mustSync("ix")
	pods := f.pods()
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3", len(pods))
	}
	for i, p := range pods {
		want := fmt.Sprint(i)
		if p.Annotations[batchv1.JobCompletionIndexAnnotation] != want || p.Labels[batchv1.JobCompletionIndexAnnotation] != want {
			t.Errorf("pod %s index annotation/label = %q/%q", p.Name, p.Annotations[batchv1.JobCompletionIndexAnnotation], p.Labels[batchv1.JobCompletionIndexAnnotation])
		}
		if p.GenerateName != "ix-"+want+"-" {
			t.Errorf("generateName = %q", p.GenerateName)
		}
		if p.Spec.Hostname != "ix-"+want || p.Spec.Subdomain != "svc" {
			t.Errorf("hostname/subdomain = %q/%q", p.Spec.Hostname, p.Spec.Subdomain)
		}
		env := p.Spec.Containers[0].Env
		if len(env) != 1 || env[0].Name != "JOB_COMPLETION_INDEX" || env[0].ValueFrom == nil ||
			env[0].ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
			t.Errorf("env = %+v", env)
		}
	}
	f.finishPod(pods[0].Name, corev1.PodSucceeded, 0)
	f.finishPod(pods[2].Name, corev1.PodSucceeded, 0)
	f.observe()
	f.mustSync("ix")
	j = f.job("ix")
	if j.Status.CompletedIndexes != "0,2" || j.Status.Succeeded != 2 {
		t.Fatalf("completedIndexes = %q succeeded = %d", j.Status.CompletedIndexes, j.Status.Succeeded)
	}
	// Index 1 fails: replaced after the backoff with the same index.
	f.finishPod(pods[1].Name, corev1.PodFailed, 1)
	f.observe()
	f.mustSync("ix")
	f.clk.Step(DefaultPodFailureBackoff)
	f.mustSync("ix")
	var repl *corev1.Pod
	for _, p := range f.activePods() {
		repl = p
	}
	if repl == nil || repl.Annotations[batchv1.JobCompletionIndexAnnotation] != "1" {
		t.Fatalf("replacement = %v", repl)
	}
	// A duplicate success for index 0 does not count twice.
	dup := newPodFor(j, "ix-0-dup", 0)
	finish(dup, corev1.PodSucceeded, 0, f.clk.Now())
	f.addPod(dup)
	f.finishPod(repl.Name, corev1.PodSucceeded, 0)
	f.observe()
	f.mustSync("ix")
	j = f.job("ix")
	if j.Status.CompletedIndexes != "0-2" || j.Status.Succeeded != 3 || j.Status.Failed != 1 || cond(j, batchv1.JobComplete) == nil {
		t.Fatalf("status = %+v", j.Status)
	}
}

// newPodFor builds a pod the Job owns (with the finalizer), as if created earlier.
func newPodFor(j *batchv1.Job, name string, ix int) *corev1.Pod {
	p := newPod(j, &j.Spec.Template, ix, nil)
	p.Name = name
	p.Finalizers = []string{batchv1.JobTrackingFinalizer}
	p.UID = types.UID("uid-" + name)
	return p
}

func TestIntervals(t *testing.T) {
	a := intervals(nil).withIndexes([]int{5, 0, 1, 2, 3, 7, 8})
	if a.String() != "0-3,5,7,8" || a.total() != 7 || !a.has(5) || a.has(4) || a.has(9) {
		t.Fatalf("intervals = %s total %d", a, a.total())
	}
	b := parseIntervals("0-3,5,7-8,12", 10)
	if b.String() != "0-3,5,7,8" {
		t.Fatalf("parse = %s", b)
	}
	// Kubernetes writes a range only for three or more consecutive indexes.
	for in, want := range map[string]string{"0,1": "0,1", "0-1": "0,1", "0,1,2": "0-2", "0,1,3,4": "0,1,3,4", "3,4,6-8": "3,4,6-8", "9": "9"} {
		if got := parseIntervals(in, 10).String(); got != want {
			t.Errorf("parse(%q).String() = %q, want %q", in, got, want)
		}
	}
	if got := parseIntervals("1,2,3", 10).String(); got != "1-3" {
		t.Fatalf("merge adjacent = %s", got)
	}
	if got := generateNamePrefix(strings.Repeat("a", 60), 12); len(got)+5 > 63 || !strings.HasSuffix(got, "-12-") {
		t.Fatalf("long prefix = %q", got)
	}
}

func TestManagedByOtherControllerIsSkipped(t *testing.T) {
	f := newFixture(t)
	j := newJob("m", ptr.To[int32](1), ptr.To[int32](1))
	j.Spec.ManagedBy = ptr.To("kueue.x-k8s.io/multikueue")
	f.addJob(j)
	f.mustSync("m")
	if n := len(f.pods()); n != 0 {
		t.Fatalf("%d pods for a Job managed elsewhere", n)
	}
	if st := f.job("m").Status; st.StartTime != nil || st.Ready != nil {
		t.Fatalf("status written: %+v", st)
	}
	j2 := newJob("m2", ptr.To[int32](1), ptr.To[int32](1))
	j2.Spec.ManagedBy = ptr.To(batchv1.JobControllerName)
	f.addJob(j2)
	f.mustSync("m2")
	if n := len(f.pods()); n != 1 {
		t.Fatalf("%d pods for a Job managed by the job controller, want 1", n)
	}
}

func TestAdoptAndRelease(t *testing.T) {
	f := newFixture(t)
	j := f.addJob(newJob("a", ptr.To[int32](2), ptr.To[int32](2)))
	orphan := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: "default", UID: "orphan-uid",
		Labels: copyMap(j.Spec.Template.Labels)}, Spec: j.Spec.Template.Spec}
	stranger := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "stranger", Namespace: "default", UID: "stranger-uid",
		Labels: map[string]string{"app": "other"}}, Spec: j.Spec.Template.Spec}
	f.addPod(orphan)
	f.addPod(stranger)
	f.mustSync("a")
	pods := f.pods()
	if len(pods) != 3 {
		t.Fatalf("%d pods, want orphan + stranger + 1 new", len(pods))
	}
	for _, p := range pods {
		switch p.Name {
		case "orphan":
			if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != j.UID || !hasFinalizer(p) {
				t.Fatalf("orphan not adopted: refs %v finalizers %v", p.OwnerReferences, p.Finalizers)
			}
		case "stranger":
			if len(p.OwnerReferences) != 0 {
				t.Fatal("adopted a non-matching pod")
			}
		}
	}
	f.expectCounts("a", counts{active: 2})
	// Relabel the orphan: it is released (owner ref and finalizer gone).
	f.setPod("orphan", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "gone"} })
	f.observe()
	f.mustSync("a")
	p, _ := f.client.CoreV1().Pods("default").Get(f.ctx, "orphan", metav1.GetOptions{})
	if len(p.OwnerReferences) != 0 || hasFinalizer(p) {
		t.Fatalf("not released: refs %v finalizers %v", p.OwnerReferences, p.Finalizers)
	}
}

func TestDeletedJobReleasesPodFinalizers(t *testing.T) {
	f := newFixture(t)
	f.addJob(newJob("g", ptr.To[int32](2), ptr.To[int32](2)))
	f.mustSync("g")
	if err := f.client.BatchV1().Jobs("default").Delete(f.ctx, "g", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.observe()
	f.mustSync("g")
	for _, p := range f.pods() {
		if hasFinalizer(p) {
			t.Fatalf("pod %s keeps the finalizer after its Job is gone", p.Name)
		}
	}
}

func TestOrphanPodFinalizerReleased(t *testing.T) {
	f := newFixture(t)
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "lost", Namespace: "default", UID: "lost-uid",
		Finalizers: []string{batchv1.JobTrackingFinalizer}}}
	f.addPod(p)
	if err := f.c.sync(f.ctx, orphanPrefix+"default/lost"); err != nil {
		t.Fatal(err)
	}
	got, _ := f.client.CoreV1().Pods("default").Get(f.ctx, "lost", metav1.GetOptions{})
	if hasFinalizer(got) {
		t.Fatal("orphan keeps the tracking finalizer")
	}
}

// A pod lookup that fails must fail the sync and requeue the Job; read as
// "no pods" it would create pods on every sync without end.
func TestFailedPodLookupRequeuesAndCreatesNothing(t *testing.T) {
	f := newFixture(t)
	f.addJob(newJob("x", ptr.To[int32](3), ptr.To[int32](3)))
	// An indexer without the owner index: every lookup fails.
	f.c.podIndex = cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	for i := 1; i <= 3; i++ {
		f.c.queue.Add("default/x")
		if !f.c.processNext(f.ctx) {
			t.Fatal("queue shut down")
		}
		if n := f.c.queue.NumRequeues("default/x"); n != i {
			t.Fatalf("after failed sync %d the Job was requeued %d times, want %d", i, n, i)
		}
	}
	if err := f.c.syncJob(f.ctx, "default/x"); err == nil || !strings.Contains(err.Error(), podcontrol.PodControllerUIDIndex) {
		t.Fatalf("syncJob error = %v, want the failed lookup of index %q", err, podcontrol.PodControllerUIDIndex)
	}
	if n := len(f.pods()); n != 0 {
		t.Fatalf("%d pods created although the pods could not be listed", n)
	}
}
