package job

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func exitCodeRule(action batchv1.PodFailurePolicyAction, op batchv1.PodFailurePolicyOnExitCodesOperator, codes ...int32) batchv1.PodFailurePolicyRule {
	return batchv1.PodFailurePolicyRule{Action: action, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: op, Values: codes}}
}

func TestPodFailurePolicyFailJob(t *testing.T) {
	f := newFixture(t)
	f.gracefulDeletes()
	j := newJob("pfp", ptr.To[int32](3), ptr.To[int32](2))
	j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
		exitCodeRule(batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyOnExitCodesOpIn, 42),
	}}
	f.addJob(j)
	f.mustSync("pfp")
	pods := f.pods()
	f.runPod(pods[1].Name, true)
	f.finishPod(pods[0].Name, corev1.PodFailed, 42)
	f.observe()
	f.mustSync("pfp")
	want := "Container main for pod default/" + pods[0].Name + " failed with exit code 42 matching FailJob rule at index 0"
	got := f.job("pfp")
	if c := cond(got, batchv1.JobFailureTarget); c == nil || c.Reason != "PodFailurePolicy" || c.Message != want {
		t.Fatalf("FailureTarget = %+v", c)
	}
	if f.pods()[1].DeletionTimestamp == nil {
		t.Fatal("other pod not terminated")
	}
	f.killTerminating()
	f.mustSync("pfp")
	f.reapDeleted()
	f.mustSync("pfp")
	got = f.job("pfp")
	if c := cond(got, batchv1.JobFailed); c == nil || c.Reason != "PodFailurePolicy" || c.Message != want {
		t.Fatalf("conditions = %v", condTypes(got))
	}
	f.expectCounts("pfp", counts{failed: 2})
	if !hasEvent(f.events(), "Warning PodFailurePolicy "+want) {
		t.Fatal("no PodFailurePolicy event")
	}
}

func TestPodFailurePolicyIgnoreAndCount(t *testing.T) {
	f := newFixture(t)
	j := newJob("ig", ptr.To[int32](1), ptr.To[int32](1))
	j.Spec.BackoffLimit = ptr.To[int32](0)
	j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
		{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget}}},
		exitCodeRule(batchv1.PodFailurePolicyActionIgnore, batchv1.PodFailurePolicyOnExitCodesOpIn, 3),
		exitCodeRule(batchv1.PodFailurePolicyActionCount, batchv1.PodFailurePolicyOnExitCodesOpNotIn, 3),
	}}
	f.addJob(j)
	f.mustSync("ig")
	first := f.pods()[0].Name
	f.finishPod(first, corev1.PodFailed, 3)
	f.observe()
	f.mustSync("ig")
	f.clk.Step(time.Minute)
	f.mustSync("ig")
	got := f.job("ig")
	if got.Status.Failed != 0 || cond(got, batchv1.JobFailureTarget) != nil {
		t.Fatalf("ignored failure counted: %+v", got.Status)
	}
	if n := len(f.activePods()); n != 1 {
		t.Fatalf("%d active pods, want the replacement", n)
	}
	// Disrupted pod: ignored too.
	second := f.activePods()[0].Name
	f.setPod(second, func(p *corev1.Pod) {
		finish(p, corev1.PodFailed, 137, f.clk.Now())
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}
	})
	f.observe()
	f.mustSync("ig")
	f.clk.Step(time.Minute)
	f.mustSync("ig")
	if got := f.job("ig"); got.Status.Failed != 0 {
		t.Fatalf("disruption counted: failed=%d", got.Status.Failed)
	}
	// Exit 1: Count rule, backoffLimit 0 -> fails.
	third := f.activePods()[0].Name
	f.finishPod(third, corev1.PodFailed, 1)
	f.observe()
	f.mustSync("ig")
	got = f.job("ig")
	if c := cond(got, batchv1.JobFailed); c == nil || c.Reason != "BackoffLimitExceeded" || got.Status.Failed != 1 {
		t.Fatalf("status = %+v conditions %v", got.Status, condTypes(got))
	}
}

func TestPodFailurePolicyConditionMessage(t *testing.T) {
	j := newJob("m", ptr.To[int32](1), ptr.To[int32](1))
	policy := &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
		exitCodeRule(batchv1.PodFailurePolicyActionCount, batchv1.PodFailurePolicyOnExitCodesOpIn, 5),
		{Action: batchv1.PodFailurePolicyActionFailJob, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget}}},
	}}
	p := newPodFor(j, "m-x", unknownIndex)
	finish(p, corev1.PodFailed, 1, t0)
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}
	msg, counted, action := matchPodFailurePolicy(policy, p)
	if msg == nil || *msg != "Pod default/m-x has condition DisruptionTarget matching FailJob rule at index 1" || !counted || *action != batchv1.PodFailurePolicyActionFailJob {
		t.Fatalf("got %v %v %v", ptr.Deref(msg, "<nil>"), counted, action)
	}
	// Container name restriction.
	named := &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionFailJob,
		OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{ContainerName: ptr.To("other"), Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{1}}}}}
	if msg, _, action := matchPodFailurePolicy(named, p); msg != nil || action != nil {
		t.Fatal("matched a rule for another container")
	}
}

func TestBackoffLimitPerIndex(t *testing.T) {
	f := newFixture(t)
	j := indexed(newJob("bpi", ptr.To[int32](3), ptr.To[int32](3)))
	j.Spec.BackoffLimitPerIndex = ptr.To[int32](1)
	j.Spec.BackoffLimit = nil
	f.addJob(j) // defaulting already ran in newJob
	j = f.job("bpi")
	j.Spec.BackoffLimit = ptr.To[int32](1 << 30)
	f.updateJob(j)
	f.mustSync("bpi")
	byIndex := func() map[string]*corev1.Pod {
		m := map[string]*corev1.Pod{}
		for _, p := range f.activePods() {
			m[p.Annotations[batchv1.JobCompletionIndexAnnotation]] = p
		}
		return m
	}
	pods := byIndex()
	if pods["1"] == nil || pods["1"].Annotations[batchv1.JobIndexFailureCountAnnotation] != "0" {
		t.Fatalf("index 1 pod = %+v", pods["1"])
	}
	// Index 1 fails once: retried (after the backoff) with failure count 1.
	f.finishPod(pods["1"].Name, corev1.PodFailed, 1)
	f.observe()
	f.mustSync("bpi")
	if byIndex()["1"] != nil {
		t.Fatal("index 1 re-created before its backoff")
	}
	if !hasFinalizer(mustGetPod(f, pods["1"].Name)) {
		t.Fatal("failed pod released before its replacement exists")
	}
	f.clk.Step(DefaultPodFailureBackoff)
	f.mustSync("bpi")
	repl := byIndex()["1"]
	if repl == nil || repl.Annotations[batchv1.JobIndexFailureCountAnnotation] != "1" {
		t.Fatalf("replacement = %+v", repl)
	}
	f.mustSync("bpi")
	if hasFinalizer(mustGetPod(f, pods["1"].Name)) {
		t.Fatal("failed pod still holds the finalizer after replacement")
	}
	// Second failure of index 1: the index fails; others go on.
	f.finishPod(repl.Name, corev1.PodFailed, 1)
	f.finishPod(pods["0"].Name, corev1.PodSucceeded, 0)
	f.observe()
	f.mustSync("bpi")
	got := f.job("bpi")
	if ptr.Deref(got.Status.FailedIndexes, "") != "1" || got.Status.CompletedIndexes != "0" || got.Status.Failed != 2 {
		t.Fatalf("status = failedIndexes %v completed %q failed %d", got.Status.FailedIndexes, got.Status.CompletedIndexes, got.Status.Failed)
	}
	if byIndex()["1"] != nil {
		t.Fatal("failed index re-created")
	}
	// Index 2 succeeds: all indexes done, one failed -> FailedIndexes.
	f.finishPod(pods["2"].Name, corev1.PodSucceeded, 0)
	f.observe()
	f.mustSync("bpi")
	got = f.job("bpi")
	if c := cond(got, batchv1.JobFailed); c == nil || c.Reason != "FailedIndexes" || c.Message != "Job has failed indexes" {
		t.Fatalf("conditions = %v", condTypes(got))
	}
	if got.Status.CompletedIndexes != "0,2" {
		t.Fatalf("completedIndexes = %q", got.Status.CompletedIndexes)
	}
}

func mustGetPod(f *fixture, name string) *corev1.Pod {
	f.t.Helper()
	for _, p := range f.pods() {
		if p.Name == name {
			return p
		}
	}
	f.t.Fatalf("pod %s not found", name)
	return nil
}

func TestMaxFailedIndexesAndFailIndex(t *testing.T) {
	f := newFixture(t)
	f.gracefulDeletes()
	j := indexed(newJob("mfi", ptr.To[int32](4), ptr.To[int32](4)))
	j.Spec.BackoffLimitPerIndex = ptr.To[int32](3)
	j.Spec.MaxFailedIndexes = ptr.To[int32](1)
	j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
		exitCodeRule(batchv1.PodFailurePolicyActionFailIndex, batchv1.PodFailurePolicyOnExitCodesOpIn, 7),
	}}
	f.addJob(j)
	f.mustSync("mfi")
	pods := f.pods()
	f.finishPod(pods[0].Name, corev1.PodFailed, 7)
	f.observe()
	f.mustSync("mfi")
	got := f.job("mfi")
	if ptr.Deref(got.Status.FailedIndexes, "") != "0" || IsJobFinished(got) || cond(got, batchv1.JobFailureTarget) != nil {
		t.Fatalf("after one FailIndex: failedIndexes=%v conditions %v", got.Status.FailedIndexes, condTypes(got))
	}
	f.finishPod(pods[3].Name, corev1.PodFailed, 7)
	f.observe()
	f.mustSync("mfi")
	got = f.job("mfi")
	if c := cond(got, batchv1.JobFailureTarget); c == nil || c.Reason != "MaxFailedIndexesExceeded" || c.Message != "Job has exceeded the specified maximal number of failed indexes" {
		t.Fatalf("conditions = %v", condTypes(got))
	}
	if ptr.Deref(got.Status.FailedIndexes, "") != "0,3" {
		t.Fatalf("failedIndexes = %v", got.Status.FailedIndexes)
	}
}

func TestSuccessPolicy(t *testing.T) {
	f := newFixture(t)
	f.gracefulDeletes()
	j := indexed(newJob("sp", ptr.To[int32](5), ptr.To[int32](5)))
	j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{
		{SucceededIndexes: ptr.To("0-1"), SucceededCount: ptr.To[int32](2)},
		{SucceededIndexes: ptr.To("3")},
	}}
	f.addJob(j)
	f.mustSync("sp")
	pods := f.pods()
	for _, p := range pods {
		f.runPod(p.Name, true)
	}
	f.finishPod(pods[0].Name, corev1.PodSucceeded, 0)
	f.observe()
	f.mustSync("sp")
	if got := f.job("sp"); cond(got, batchv1.JobSuccessCriteriaMet) != nil {
		t.Fatal("success policy met too early")
	}
	f.finishPod(pods[3].Name, corev1.PodSucceeded, 0)
	f.observe()
	f.mustSync("sp")
	got := f.job("sp")
	c := cond(got, batchv1.JobSuccessCriteriaMet)
	if c == nil || c.Reason != "SuccessPolicy" || c.Message != "Matched rules at index 1" {
		t.Fatalf("SuccessCriteriaMet = %+v", c)
	}
	if cond(got, batchv1.JobComplete) != nil {
		t.Fatal("Complete before lingering pods terminated")
	}
	f.expectCounts("sp", counts{terminating: 3, succeeded: 2})
	f.killTerminating()
	f.mustSync("sp")
	f.reapDeleted()
	f.mustSync("sp")
	got = f.job("sp")
	if c := cond(got, batchv1.JobComplete); c == nil || c.Reason != "SuccessPolicy" || got.Status.CompletionTime == nil {
		t.Fatalf("conditions = %v", condTypes(got))
	}
	// Lingering pods killed after success are not failures.
	f.expectCounts("sp", counts{succeeded: 2})
	if got.Status.CompletedIndexes != "0,3" {
		t.Fatalf("completedIndexes = %q", got.Status.CompletedIndexes)
	}
}

func TestMatchSuccessPolicy(t *testing.T) {
	succeeded := intervals(nil).withIndexes([]int{0, 2, 3})
	cases := []struct {
		rule batchv1.SuccessPolicyRule
		met  bool
	}{
		{batchv1.SuccessPolicyRule{SucceededCount: ptr.To[int32](3)}, true},
		{batchv1.SuccessPolicyRule{SucceededCount: ptr.To[int32](4)}, false},
		{batchv1.SuccessPolicyRule{SucceededIndexes: ptr.To("2-3")}, true},
		{batchv1.SuccessPolicyRule{SucceededIndexes: ptr.To("0-2")}, false},
		{batchv1.SuccessPolicyRule{SucceededIndexes: ptr.To("0-2"), SucceededCount: ptr.To[int32](2)}, true},
	}
	for i, tc := range cases {
		_, met := matchSuccessPolicy(&batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{tc.rule}}, 10, succeeded)
		if met != tc.met {
			t.Errorf("case %d: met=%v, want %v", i, met, tc.met)
		}
	}
}
