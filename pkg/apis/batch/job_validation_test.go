package batch

import (
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func pfp(rules ...batchv1.PodFailurePolicyRule) *batchv1.PodFailurePolicy {
	return &batchv1.PodFailurePolicy{Rules: rules}
}

func exitCodes(op batchv1.PodFailurePolicyOnExitCodesOperator, values ...int32) *batchv1.PodFailurePolicyOnExitCodesRequirement {
	return &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: op, Values: values}
}

func TestValidateJob(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(j *batchv1.Job)
		want   []want
	}{
		{name: "valid", mutate: func(j *batchv1.Job) {}},
		{name: "valid indexed", mutate: func(j *batchv1.Job) {
			*j = *validIndexedJob(5)
		}},
		{name: "negative counts", mutate: func(j *batchv1.Job) {
			j.Spec.Parallelism = ptr.To[int32](-1)
			j.Spec.Completions = ptr.To[int32](-1)
			j.Spec.ActiveDeadlineSeconds = ptr.To[int64](-1)
			j.Spec.BackoffLimit = ptr.To[int32](-1)
			j.Spec.TTLSecondsAfterFinished = ptr.To[int32](-1)
		}, want: []want{
			{field.ErrorTypeInvalid, "spec.parallelism"},
			{field.ErrorTypeInvalid, "spec.completions"},
			{field.ErrorTypeInvalid, "spec.activeDeadlineSeconds"},
			{field.ErrorTypeInvalid, "spec.backoffLimit"},
			{field.ErrorTypeInvalid, "spec.ttlSecondsAfterFinished"},
		}},
		{name: "invalid name", mutate: func(j *batchv1.Job) { j.Name = "Bad_Name" },
			want: []want{{field.ErrorTypeInvalid, "metadata.name"}, {field.ErrorTypeInvalid, "spec.template.metadata.labels[job-name]"},
				{field.ErrorTypeInvalid, "spec.template.metadata.labels[batch.kubernetes.io/job-name]"}}},
		{name: "missing selector", mutate: func(j *batchv1.Job) {
			j.Spec.ManualSelector = ptr.To(true)
			j.Spec.Selector = nil
		}, want: []want{{field.ErrorTypeRequired, "spec.selector"}, {field.ErrorTypeInvalid, "spec.template.metadata.labels"}}},
		{name: "manual selector not matching template", mutate: func(j *batchv1.Job) {
			j.Spec.ManualSelector = ptr.To(true)
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "other"}}
		}, want: []want{{field.ErrorTypeInvalid, "spec.template.metadata.labels"}}},
		{name: "manual selector matching template", mutate: func(j *batchv1.Job) {
			j.Spec.ManualSelector = ptr.To(true)
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"job-name": "pi"}}
		}},
		{name: "generated selector without uid", mutate: func(j *batchv1.Job) {
			j.UID = ""
		}, want: []want{
			{field.ErrorTypeRequired, "metadata.uid"},
			{field.ErrorTypeInvalid, "spec.template.metadata.labels[controller-uid]"},
			{field.ErrorTypeInvalid, "spec.template.metadata.labels[batch.kubernetes.io/controller-uid]"},
			{field.ErrorTypeInvalid, "spec.selector"},
		}},
		{name: "generated labels missing", mutate: func(j *batchv1.Job) {
			delete(j.Spec.Template.Labels, "job-name")
			delete(j.Spec.Template.Labels, batchv1.JobNameLabel)
		}, want: []want{
			{field.ErrorTypeRequired, "spec.template.metadata.labels[job-name]"},
			{field.ErrorTypeRequired, "spec.template.metadata.labels[batch.kubernetes.io/job-name]"},
		}},
		{name: "restartPolicy Always", mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways },
			want: []want{{field.ErrorTypeRequired, "spec.template.spec.restartPolicy"}}},
		{name: "restartPolicy empty", mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = "" },
			want: []want{{field.ErrorTypeRequired, "spec.template.spec.restartPolicy"}}},
		{name: "restartPolicy unknown", mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = "Sometimes" },
			want: []want{{field.ErrorTypeNotSupported, "spec.template.spec.restartPolicy"}}},
		{name: "restartPolicy OnFailure ok", mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }},
		{name: "completionMode unknown", mutate: func(j *batchv1.Job) { j.Spec.CompletionMode = ptr.To(batchv1.CompletionMode("Odd")) },
			want: []want{{field.ErrorTypeNotSupported, "spec.completionMode"}}},
		{name: "indexed without completions", mutate: func(j *batchv1.Job) {
			j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
			j.Spec.Completions = nil
		}, want: []want{{field.ErrorTypeRequired, "spec.completions"}}},
		{name: "indexed parallelism above limit", mutate: func(j *batchv1.Job) {
			*j = *validIndexedJob(10)
			j.Spec.Parallelism = ptr.To[int32](100_001)
		}, want: []want{{field.ErrorTypeInvalid, "spec.parallelism"}}},
		{name: "indexed name too long for hostnames", mutate: func(j *batchv1.Job) {
			*j = *validIndexedJob(10)
			j.Name = strings.Repeat("a", 62)
			GenerateJobSelectorFresh(j)
		}, want: []want{{field.ErrorTypeInvalid, "metadata.name"}}},
		{name: "backoffLimitPerIndex requires indexed", mutate: func(j *batchv1.Job) {
			j.Spec.BackoffLimitPerIndex = ptr.To[int32](1)
			j.Spec.MaxFailedIndexes = ptr.To[int32](1)
		}, want: []want{{field.ErrorTypeInvalid, "spec.backoffLimitPerIndex"}, {field.ErrorTypeInvalid, "spec.maxFailedIndexes"}}},
		{name: "maxFailedIndexes needs backoffLimitPerIndex", mutate: func(j *batchv1.Job) {
			*j = *validIndexedJob(5)
			j.Spec.MaxFailedIndexes = ptr.To[int32](1)
		}, want: []want{{field.ErrorTypeRequired, "spec.backoffLimitPerIndex"}}},
		{name: "maxFailedIndexes above completions", mutate: func(j *batchv1.Job) {
			*j = *validIndexedJob(5)
			j.Spec.BackoffLimitPerIndex = ptr.To[int32](1)
			j.Spec.MaxFailedIndexes = ptr.To[int32](6)
		}, want: []want{{field.ErrorTypeInvalid, "spec.maxFailedIndexes"}}},
		{name: "high completions with backoffLimitPerIndex need maxFailedIndexes and low parallelism", mutate: func(j *batchv1.Job) {
			*j = *validIndexedJob(200_000)
			j.Name = "p"
			GenerateJobSelectorFresh(j)
			j.Spec.Parallelism = ptr.To[int32](10_001)
			j.Spec.BackoffLimitPerIndex = ptr.To[int32](1)
		}, want: []want{{field.ErrorTypeRequired, "spec.maxFailedIndexes"}, {field.ErrorTypeInvalid, "spec.parallelism"}}},
		{name: "managedBy invalid and too long", mutate: func(j *batchv1.Job) {
			j.Spec.ManagedBy = ptr.To("example.com/" + strings.Repeat("x", 60))
		}, want: []want{{field.ErrorTypeTooLong, "spec.managedBy"}}},
		{name: "managedBy not domain prefixed", mutate: func(j *batchv1.Job) { j.Spec.ManagedBy = ptr.To("controller") },
			want: []want{{field.ErrorTypeInvalid, "spec.managedBy"}}},
		{name: "managedBy valid", mutate: func(j *batchv1.Job) { j.Spec.ManagedBy = ptr.To("kueue.x-k8s.io/multikueue") }},
		{name: "pod failure policy valid", mutate: func(j *batchv1.Job) {
			j.Spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
			j.Spec.PodFailurePolicy = pfp(
				batchv1.PodFailurePolicyRule{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: exitCodes(batchv1.PodFailurePolicyOnExitCodesOpIn, 1, 2, 42)},
				batchv1.PodFailurePolicyRule{Action: batchv1.PodFailurePolicyActionIgnore,
					OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}},
			)
		}},
		{name: "pod failure policy rule errors", mutate: func(j *batchv1.Job) {
			j.Spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
			j.Spec.PodFailurePolicy = pfp(
				batchv1.PodFailurePolicyRule{Action: "", OnExitCodes: exitCodes(batchv1.PodFailurePolicyOnExitCodesOpIn, 0, 3, 3, 2)},
				batchv1.PodFailurePolicyRule{Action: "Explode", OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: "Maybe", ContainerName: ptr.To("nope")}},
				batchv1.PodFailurePolicyRule{Action: batchv1.PodFailurePolicyActionFailIndex,
					OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: "bad type!", Status: ""}, {Type: "Ok", Status: "Perhaps"}}},
				batchv1.PodFailurePolicyRule{Action: batchv1.PodFailurePolicyActionCount},
				batchv1.PodFailurePolicyRule{Action: batchv1.PodFailurePolicyActionCount, OnExitCodes: exitCodes(batchv1.PodFailurePolicyOnExitCodesOpNotIn, 0),
					OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: "X", Status: corev1.ConditionTrue}}},
			)
		}, want: []want{
			{field.ErrorTypeRequired, "spec.podFailurePolicy.rules[0].action"},
			{field.ErrorTypeInvalid, "spec.podFailurePolicy.rules[0].onExitCodes.values[0]"},
			{field.ErrorTypeDuplicate, "spec.podFailurePolicy.rules[0].onExitCodes.values[2]"},
			{field.ErrorTypeInvalid, "spec.podFailurePolicy.rules[0].onExitCodes.values"},
			{field.ErrorTypeNotSupported, "spec.podFailurePolicy.rules[1].action"},
			{field.ErrorTypeNotSupported, "spec.podFailurePolicy.rules[1].onExitCodes.operator"},
			{field.ErrorTypeInvalid, "spec.podFailurePolicy.rules[1].onExitCodes.containerName"},
			{field.ErrorTypeInvalid, "spec.podFailurePolicy.rules[1].onExitCodes.values"},
			{field.ErrorTypeInvalid, "spec.podFailurePolicy.rules[2].action"},
			{field.ErrorTypeInvalid, "spec.podFailurePolicy.rules[2].onPodConditions[0].type"},
			{field.ErrorTypeRequired, "spec.podFailurePolicy.rules[2].onPodConditions[0].status"},
			{field.ErrorTypeNotSupported, "spec.podFailurePolicy.rules[2].onPodConditions[1].status"},
			{field.ErrorTypeInvalid, "spec.podFailurePolicy.rules[3]"},
			{field.ErrorTypeInvalid, "spec.podFailurePolicy.rules[4]"},
		}},
		{name: "pod failure policy too many rules", mutate: func(j *batchv1.Job) {
			j.Spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
			var rules []batchv1.PodFailurePolicyRule
			for i := 0; i < 21; i++ {
				rules = append(rules, batchv1.PodFailurePolicyRule{Action: batchv1.PodFailurePolicyActionCount, OnExitCodes: exitCodes(batchv1.PodFailurePolicyOnExitCodesOpIn, 1)})
			}
			j.Spec.PodFailurePolicy = pfp(rules...)
		}, want: []want{{field.ErrorTypeTooMany, "spec.podFailurePolicy.rules"}}},
		{name: "pod failure policy requires restartPolicy Never", mutate: func(j *batchv1.Job) {
			j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			j.Spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
			j.Spec.PodFailurePolicy = pfp(batchv1.PodFailurePolicyRule{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: exitCodes(batchv1.PodFailurePolicyOnExitCodesOpIn, 1)})
		}, want: []want{{field.ErrorTypeInvalid, "spec.template.spec.restartPolicy"}}},
		{name: "pod failure policy requires replacement Failed", mutate: func(j *batchv1.Job) {
			j.Spec.PodReplacementPolicy = ptr.To(batchv1.TerminatingOrFailed)
			j.Spec.PodFailurePolicy = pfp(batchv1.PodFailurePolicyRule{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: exitCodes(batchv1.PodFailurePolicyOnExitCodesOpIn, 1)})
		}, want: []want{{field.ErrorTypeNotSupported, "spec.podReplacementPolicy"}}},
		{name: "pod replacement policy unknown", mutate: func(j *batchv1.Job) { j.Spec.PodReplacementPolicy = ptr.To(batchv1.PodReplacementPolicy("Never")) },
			want: []want{{field.ErrorTypeNotSupported, "spec.podReplacementPolicy"}}},
		{name: "FailIndex with backoffLimitPerIndex ok", mutate: func(j *batchv1.Job) {
			*j = *validIndexedJob(5)
			j.Spec.BackoffLimitPerIndex = ptr.To[int32](1)
			j.Spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
			j.Spec.PodFailurePolicy = pfp(batchv1.PodFailurePolicyRule{Action: batchv1.PodFailurePolicyActionFailIndex, OnExitCodes: exitCodes(batchv1.PodFailurePolicyOnExitCodesOpIn, 1)})
		}},
		{name: "success policy requires indexed", mutate: func(j *batchv1.Job) {
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededCount: ptr.To[int32](1)}}}
		}, want: []want{{field.ErrorTypeInvalid, "spec.successPolicy"}}},
		{name: "success policy valid", mutate: func(j *batchv1.Job) {
			*j = *validIndexedJob(10)
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("0,2-4,9"), SucceededCount: ptr.To[int32](5)}}}
		}},
		{name: "success policy rule errors", mutate: func(j *batchv1.Job) {
			*j = *validIndexedJob(10)
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{
				{},
				{SucceededIndexes: ptr.To("3-1")},
				{SucceededIndexes: ptr.To("1,10")},
				{SucceededCount: ptr.To[int32](11)},
				{SucceededIndexes: ptr.To("0-1"), SucceededCount: ptr.To[int32](3)},
				{SucceededCount: ptr.To[int32](-1)},
			}}
		}, want: []want{
			{field.ErrorTypeRequired, "spec.successPolicy.rules[0]"},
			{field.ErrorTypeInvalid, "spec.successPolicy.rules[1].succeededIndexes"},
			{field.ErrorTypeInvalid, "spec.successPolicy.rules[2].succeededIndexes"},
			{field.ErrorTypeInvalid, "spec.successPolicy.rules[3].succeededCount"},
			{field.ErrorTypeInvalid, "spec.successPolicy.rules[4].succeededCount"},
			{field.ErrorTypeInvalid, "spec.successPolicy.rules[5].succeededCount"},
		}},
		{name: "success policy without rules", mutate: func(j *batchv1.Job) {
			*j = *validIndexedJob(10)
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{}
		}, want: []want{{field.ErrorTypeRequired, "spec.successPolicy.rules"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job := validJob()
			tc.mutate(job)
			checkErrors(t, ValidateJob(job), tc.want...)
		})
	}
}

// GenerateJobSelectorFresh regenerates the selector labels after a rename.
func GenerateJobSelectorFresh(j *batchv1.Job) {
	for _, k := range []string{"job-name", batchv1.JobNameLabel} {
		delete(j.Spec.Template.Labels, k)
	}
	GenerateJobSelector(j)
}

func TestValidateJobUpdate(t *testing.T) {
	tests := []struct {
		name   string
		old    func(j *batchv1.Job)
		mutate func(j *batchv1.Job)
		want   []want
	}{
		{name: "parallelism may change", mutate: func(j *batchv1.Job) { j.Spec.Parallelism = ptr.To[int32](4) }},
		{name: "completions immutable", mutate: func(j *batchv1.Job) { j.Spec.Completions = ptr.To[int32](4) },
			want: []want{{field.ErrorTypeInvalid, "spec.completions"}}},
		{name: "elastic indexed: completions with parallelism", old: func(j *batchv1.Job) { *j = *validIndexedJob(5) },
			mutate: func(j *batchv1.Job) { j.Spec.Completions = ptr.To[int32](7); j.Spec.Parallelism = ptr.To[int32](7) }},
		{name: "elastic indexed: completions alone", old: func(j *batchv1.Job) { *j = *validIndexedJob(5) },
			mutate: func(j *batchv1.Job) { j.Spec.Completions = ptr.To[int32](7) },
			want:   []want{{field.ErrorTypeInvalid, "spec.completions"}}},
		{name: "selector immutable", mutate: func(j *batchv1.Job) {
			j.Spec.ManualSelector = ptr.To(true)
			j.Spec.Selector.MatchLabels["job-name"] = "pi"
		}, want: []want{{field.ErrorTypeInvalid, "spec.selector"}}},
		{name: "template immutable", mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "other" },
			want: []want{{field.ErrorTypeInvalid, "spec.template"}}},
		{name: "scheduling directives immutable once started", old: func(j *batchv1.Job) {
			j.Spec.Suspend = ptr.To(true)
			j.Status.StartTime = &metav1.Time{}
		}, mutate: func(j *batchv1.Job) {
			j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"}
		}, want: []want{{field.ErrorTypeInvalid, "spec.template"}}},
		{name: "scheduling directives mutable while suspended and never started", old: func(j *batchv1.Job) {
			j.Spec.Suspend = ptr.To(true)
		}, mutate: func(j *batchv1.Job) {
			j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"}
			j.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}}
			j.Spec.Template.Annotations = map[string]string{"a": "b"}
			j.Spec.Template.Labels["extra"] = "x"
			j.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
					MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}}}}}}
		}},
		{name: "image stays immutable while suspended", old: func(j *batchv1.Job) { j.Spec.Suspend = ptr.To(true) },
			mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "other" },
			want:   []want{{field.ErrorTypeInvalid, "spec.template"}}},
		{name: "completionMode immutable", mutate: func(j *batchv1.Job) {
			j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
		}, want: []want{{field.ErrorTypeInvalid, "spec.completionMode"}}},
		{name: "managedBy immutable", mutate: func(j *batchv1.Job) { j.Spec.ManagedBy = ptr.To("example.com/ctrl") },
			want: []want{{field.ErrorTypeInvalid, "spec.managedBy"}}},
		{name: "podFailurePolicy immutable", mutate: func(j *batchv1.Job) {
			j.Spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
			j.Spec.PodFailurePolicy = pfp(batchv1.PodFailurePolicyRule{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: exitCodes(batchv1.PodFailurePolicyOnExitCodesOpIn, 1)})
		}, want: []want{{field.ErrorTypeInvalid, "spec.podFailurePolicy"}}},
		{name: "old Job without prefixed labels still updatable", old: func(j *batchv1.Job) {
			delete(j.Spec.Template.Labels, batchv1.JobNameLabel)
			delete(j.Spec.Template.Labels, batchv1.ControllerUidLabel)
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"controller-uid": string(testUID)}}
		}, mutate: func(j *batchv1.Job) { j.Spec.Parallelism = ptr.To[int32](2) }},
		{name: "uid immutable", mutate: func(j *batchv1.Job) { j.UID = "other" },
			want: []want{
				{field.ErrorTypeInvalid, "metadata.uid"},
				{field.ErrorTypeInvalid, "spec.template.metadata.labels[controller-uid]"},
				{field.ErrorTypeInvalid, "spec.template.metadata.labels[batch.kubernetes.io/controller-uid]"},
				{field.ErrorTypeInvalid, "spec.selector"},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := validJob()
			if tc.old != nil {
				tc.old(old)
			}
			old.ResourceVersion = "1"
			updated := old.DeepCopy()
			tc.mutate(updated)
			checkErrors(t, ValidateJobUpdate(updated, old), tc.want...)
		})
	}
}

func cond(t batchv1.JobConditionType) batchv1.JobCondition {
	return batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue}
}

func TestValidateJobStatusUpdate(t *testing.T) {
	now := metav1.Now()
	earlier := metav1.NewTime(now.Add(-3600e9))
	tests := []struct {
		name   string
		old    func(j *batchv1.Job)
		mutate func(j *batchv1.Job)
		want   []want
	}{
		{name: "counters grow", mutate: func(j *batchv1.Job) {
			j.Status.Active, j.Status.Ready, j.Status.Succeeded, j.Status.Failed = 1, ptr.To[int32](1), 1, 1
			j.Status.StartTime = &now
		}},
		{name: "negative counters", mutate: func(j *batchv1.Job) {
			j.Status.Active = -1
			j.Status.Ready = ptr.To[int32](-1)
			j.Status.Terminating = ptr.To[int32](-1)
		}, want: []want{{field.ErrorTypeInvalid, "status.active"}, {field.ErrorTypeInvalid, "status.ready"}, {field.ErrorTypeInvalid, "status.terminating"}}},
		{name: "decreasing counters", old: func(j *batchv1.Job) { j.Status.Succeeded, j.Status.Failed = 2, 2 },
			mutate: func(j *batchv1.Job) { j.Status.Succeeded, j.Status.Failed = 1, 1 },
			want:   []want{{field.ErrorTypeInvalid, "status.succeeded"}, {field.ErrorTypeInvalid, "status.failed"}}},
		{name: "more ready than active", mutate: func(j *batchv1.Job) { j.Status.Active = 1; j.Status.Ready = ptr.To[int32](2) },
			want: []want{{field.ErrorTypeInvalid, "status.ready"}}},
		{name: "uncounted pods empty and duplicate", mutate: func(j *batchv1.Job) {
			j.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{Succeeded: []types.UID{"a", ""}, Failed: []types.UID{"a"}}
		}, want: []want{{field.ErrorTypeInvalid, "status.uncountedTerminatedPods.succeeded[1]"}, {field.ErrorTypeDuplicate, "status.uncountedTerminatedPods.failed[0]"}}},
		{name: "complete the proper way", old: func(j *batchv1.Job) { j.Status.StartTime = &earlier; j.Status.Active = 1 },
			mutate: func(j *batchv1.Job) {
				j.Status.Active = 0
				j.Status.Succeeded = 1
				j.Status.CompletionTime = &now
				j.Status.Conditions = []batchv1.JobCondition{cond(batchv1.JobSuccessCriteriaMet), cond(batchv1.JobComplete)}
			}},
		{name: "complete without success criteria, completion time, start time", mutate: func(j *batchv1.Job) {
			j.Status.Active = 1
			j.Status.Conditions = []batchv1.JobCondition{cond(batchv1.JobComplete)}
		}, want: []want{
			{field.ErrorTypeInvalid, "status.conditions"},
			{field.ErrorTypeRequired, "status.completionTime"},
			{field.ErrorTypeRequired, "status.startTime"},
			{field.ErrorTypeInvalid, "status.active"},
		}},
		{name: "failed without failure target", old: func(j *batchv1.Job) { j.Status.StartTime = &earlier },
			mutate: func(j *batchv1.Job) { j.Status.Conditions = []batchv1.JobCondition{cond(batchv1.JobFailed)} },
			want:   []want{{field.ErrorTypeInvalid, "status.conditions"}}},
		{name: "terminal condition cannot be removed", old: func(j *batchv1.Job) {
			j.Status.StartTime = &earlier
			j.Status.Conditions = []batchv1.JobCondition{cond(batchv1.JobFailureTarget), cond(batchv1.JobFailed)}
		}, mutate: func(j *batchv1.Job) { j.Status.Conditions = []batchv1.JobCondition{cond(batchv1.JobFailureTarget)} },
			want: []want{{field.ErrorTypeInvalid, "status.conditions"}}},
		{name: "completion time without Complete", mutate: func(j *batchv1.Job) { j.Status.StartTime = &earlier; j.Status.CompletionTime = &now },
			want: []want{{field.ErrorTypeInvalid, "status.completionTime"}}},
		{name: "completion time before start time", old: func(j *batchv1.Job) {}, mutate: func(j *batchv1.Job) {
			j.Status.StartTime = &now
			j.Status.CompletionTime = &earlier
			j.Status.Conditions = []batchv1.JobCondition{cond(batchv1.JobSuccessCriteriaMet), cond(batchv1.JobComplete)}
		}, want: []want{{field.ErrorTypeInvalid, "status.completionTime"}}},
		{name: "start time removed from unsuspended job", old: func(j *batchv1.Job) { j.Status.StartTime = &earlier },
			mutate: func(j *batchv1.Job) { j.Status.StartTime = nil },
			want:   []want{{field.ErrorTypeRequired, "status.startTime"}}},
		{name: "start time reset of suspended job", old: func(j *batchv1.Job) { j.Status.StartTime = &earlier; j.Spec.Suspend = ptr.To(true) },
			mutate: func(j *batchv1.Job) { j.Status.StartTime = nil }},
		{name: "completed indexes for non-indexed job", mutate: func(j *batchv1.Job) { j.Status.CompletedIndexes = "0" },
			want: []want{{field.ErrorTypeInvalid, "status.completedIndexes"}}},
		{name: "invalid completed indexes", old: func(j *batchv1.Job) { *j = *validIndexedJob(5) },
			mutate: func(j *batchv1.Job) { j.Status.CompletedIndexes = "1,7" },
			want:   []want{{field.ErrorTypeInvalid, "status.completedIndexes"}}},
		{name: "failed indexes need backoffLimitPerIndex", old: func(j *batchv1.Job) { *j = *validIndexedJob(5) },
			mutate: func(j *batchv1.Job) { j.Status.FailedIndexes = ptr.To("1") },
			want:   []want{{field.ErrorTypeInvalid, "status.failedIndexes"}}},
		{name: "failed indexes overlap completed", old: func(j *batchv1.Job) {
			*j = *validIndexedJob(5)
			j.Spec.BackoffLimitPerIndex = ptr.To[int32](1)
		}, mutate: func(j *batchv1.Job) {
			j.Status.CompletedIndexes = "0-2"
			j.Status.FailedIndexes = ptr.To("2,4")
		}, want: []want{{field.ErrorTypeInvalid, "status.failedIndexes"}}},
		{name: "success criteria and failure target together", old: func(j *batchv1.Job) { *j = *validIndexedJob(5) }, mutate: func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{cond(batchv1.JobSuccessCriteriaMet), cond(batchv1.JobFailureTarget)}
		}, want: []want{{field.ErrorTypeInvalid, "status.conditions"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := validJob()
			if tc.old != nil {
				tc.old(old)
			}
			old.ResourceVersion = "1"
			updated := old.DeepCopy()
			tc.mutate(updated)
			checkErrors(t, ValidateJobStatusUpdate(updated, old), tc.want...)
		})
	}
}
