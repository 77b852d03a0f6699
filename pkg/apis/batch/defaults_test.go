package batch

import (
	"math"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

func TestSetDefaultsJob(t *testing.T) {
	tests := []struct {
		name   string
		in     batchv1.JobSpec
		labels map[string]string
		check  func(t *testing.T, job *batchv1.Job)
	}{
		{
			name: "all unset",
			check: func(t *testing.T, job *batchv1.Job) {
				s := job.Spec
				expectInt32(t, "completions", s.Completions, 1)
				expectInt32(t, "parallelism", s.Parallelism, 1)
				expectInt32(t, "backoffLimit", s.BackoffLimit, 6)
				if *s.CompletionMode != batchv1.NonIndexedCompletion {
					t.Errorf("completionMode = %s", *s.CompletionMode)
				}
				if *s.Suspend != false || *s.ManualSelector != false {
					t.Errorf("suspend/manualSelector = %v/%v", *s.Suspend, *s.ManualSelector)
				}
				if *s.PodReplacementPolicy != batchv1.TerminatingOrFailed {
					t.Errorf("podReplacementPolicy = %s", *s.PodReplacementPolicy)
				}
			},
		},
		{
			name: "parallelism set, completions stay unset",
			in:   batchv1.JobSpec{Parallelism: ptr.To[int32](3)},
			check: func(t *testing.T, job *batchv1.Job) {
				if job.Spec.Completions != nil {
					t.Errorf("completions = %d, want nil", *job.Spec.Completions)
				}
				expectInt32(t, "parallelism", job.Spec.Parallelism, 3)
			},
		},
		{
			name: "completions set, parallelism 1",
			in:   batchv1.JobSpec{Completions: ptr.To[int32](5)},
			check: func(t *testing.T, job *batchv1.Job) {
				expectInt32(t, "completions", job.Spec.Completions, 5)
				expectInt32(t, "parallelism", job.Spec.Parallelism, 1)
			},
		},
		{
			name: "backoffLimitPerIndex makes backoffLimit MaxInt32",
			in:   batchv1.JobSpec{BackoffLimitPerIndex: ptr.To[int32](1)},
			check: func(t *testing.T, job *batchv1.Job) {
				expectInt32(t, "backoffLimit", job.Spec.BackoffLimit, math.MaxInt32)
			},
		},
		{
			name: "explicit values kept",
			in: batchv1.JobSpec{BackoffLimit: ptr.To[int32](0), Suspend: ptr.To(true), ManualSelector: ptr.To(true),
				CompletionMode: ptr.To(batchv1.IndexedCompletion), PodReplacementPolicy: ptr.To(batchv1.Failed)},
			check: func(t *testing.T, job *batchv1.Job) {
				expectInt32(t, "backoffLimit", job.Spec.BackoffLimit, 0)
				if !*job.Spec.Suspend || !*job.Spec.ManualSelector || *job.Spec.CompletionMode != batchv1.IndexedCompletion ||
					*job.Spec.PodReplacementPolicy != batchv1.Failed {
					t.Errorf("explicit values overwritten: %+v", job.Spec)
				}
			},
		},
		{
			name: "pod failure policy: Failed replacement and condition status True",
			in: batchv1.JobSpec{PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action:          batchv1.PodFailurePolicyActionIgnore,
				OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget}, {Type: "X", Status: corev1.ConditionFalse}},
			}}}},
			check: func(t *testing.T, job *batchv1.Job) {
				if *job.Spec.PodReplacementPolicy != batchv1.Failed {
					t.Errorf("podReplacementPolicy = %s, want Failed", *job.Spec.PodReplacementPolicy)
				}
				conds := job.Spec.PodFailurePolicy.Rules[0].OnPodConditions
				if conds[0].Status != corev1.ConditionTrue || conds[1].Status != corev1.ConditionFalse {
					t.Errorf("statuses = %s, %s", conds[0].Status, conds[1].Status)
				}
			},
		},
		{
			name: "template labels copied to empty Job labels",
			in:   batchv1.JobSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}}}},
			check: func(t *testing.T, job *batchv1.Job) {
				if job.Labels["app"] != "x" {
					t.Errorf("labels = %v", job.Labels)
				}
			},
		},
		{
			name:   "own Job labels kept",
			in:     batchv1.JobSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}}}},
			labels: map[string]string{"team": "a"},
			check: func(t *testing.T, job *batchv1.Job) {
				if len(job.Labels) != 1 || job.Labels["team"] != "a" {
					t.Errorf("labels = %v", job.Labels)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Labels: tc.labels}, Spec: tc.in}
			SetDefaultsJob(job)
			tc.check(t, job)
		})
	}
}

func TestSetDefaultsCronJob(t *testing.T) {
	cj := &batchv1.CronJob{Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
		PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
			OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget}}}}},
	}}}}
	SetDefaultsCronJob(cj)
	if cj.Spec.ConcurrencyPolicy != batchv1.AllowConcurrent {
		t.Errorf("concurrencyPolicy = %s", cj.Spec.ConcurrencyPolicy)
	}
	if *cj.Spec.Suspend {
		t.Errorf("suspend = true")
	}
	expectInt32(t, "successfulJobsHistoryLimit", cj.Spec.SuccessfulJobsHistoryLimit, 3)
	expectInt32(t, "failedJobsHistoryLimit", cj.Spec.FailedJobsHistoryLimit, 1)
	if got := cj.Spec.JobTemplate.Spec.PodFailurePolicy.Rules[0].OnPodConditions[0].Status; got != corev1.ConditionTrue {
		t.Errorf("pattern status = %s", got)
	}
	// Job object defaults are not applied to the template (as in Kubernetes).
	if cj.Spec.JobTemplate.Spec.BackoffLimit != nil || cj.Spec.JobTemplate.Spec.Completions != nil {
		t.Errorf("job template got Job defaults: %+v", cj.Spec.JobTemplate.Spec)
	}

	kept := &batchv1.CronJob{Spec: batchv1.CronJobSpec{ConcurrencyPolicy: batchv1.ForbidConcurrent,
		SuccessfulJobsHistoryLimit: ptr.To[int32](0), FailedJobsHistoryLimit: ptr.To[int32](0), Suspend: ptr.To(true)}}
	SetDefaultsCronJob(kept)
	if kept.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent || *kept.Spec.SuccessfulJobsHistoryLimit != 0 ||
		*kept.Spec.FailedJobsHistoryLimit != 0 || !*kept.Spec.Suspend {
		t.Errorf("explicit values overwritten: %+v", kept.Spec)
	}
}

func TestRegisterDefaults(t *testing.T) {
	s := runtime.NewScheme()
	if err := batchv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	RegisterDefaults(s)
	list := &batchv1.JobList{Items: []batchv1.Job{{}, {}}}
	s.Default(list)
	for i := range list.Items {
		expectInt32(t, "backoffLimit", list.Items[i].Spec.BackoffLimit, 6)
	}
	cj := &batchv1.CronJob{}
	s.Default(cj)
	if cj.Spec.ConcurrencyPolicy != batchv1.AllowConcurrent {
		t.Errorf("CronJob not defaulted through the scheme")
	}
	cjl := &batchv1.CronJobList{Items: []batchv1.CronJob{{}}}
	s.Default(cjl)
	expectInt32(t, "successfulJobsHistoryLimit", cjl.Items[0].Spec.SuccessfulJobsHistoryLimit, 3)
	job := &batchv1.Job{}
	s.Default(job)
	expectInt32(t, "parallelism", job.Spec.Parallelism, 1)
}

func TestGenerateJobSelector(t *testing.T) {
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "pi", UID: testUID}}
	job.Spec.Template.Labels = map[string]string{"job-name": "custom"}
	GenerateJobSelector(job)
	wantLabels := map[string]string{
		"job-name":                 "custom", // user value kept
		batchv1.JobNameLabel:       "pi",
		"controller-uid":           string(testUID),
		batchv1.ControllerUidLabel: string(testUID),
	}
	if !apiequality.Semantic.DeepEqual(job.Spec.Template.Labels, wantLabels) {
		t.Errorf("template labels = %v, want %v", job.Spec.Template.Labels, wantLabels)
	}
	wantSel := &metav1.LabelSelector{MatchLabels: map[string]string{batchv1.ControllerUidLabel: string(testUID)}}
	if !apiequality.Semantic.DeepEqual(job.Spec.Selector, wantSel) {
		t.Errorf("selector = %v", job.Spec.Selector)
	}

	manual := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "pi", UID: testUID}}
	manual.Spec.ManualSelector = ptr.To(true)
	GenerateJobSelector(manual)
	if manual.Spec.Selector != nil || manual.Spec.Template.Labels != nil {
		t.Errorf("manual selector Job was changed: %+v", manual.Spec)
	}
}

func expectInt32(t *testing.T, name string, got *int32, want int32) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %d", name, want)
	} else if *got != want {
		t.Errorf("%s = %d, want %d", name, *got, want)
	}
}
