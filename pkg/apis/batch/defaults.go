package batch

import (
	"math"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/apis/core"
)

// RegisterDefaults registers the batch/v1 defaulting functions (Job, JobList,
// CronJob, CronJobList) with the scheme.
func RegisterDefaults(s *runtime.Scheme) {
	s.AddTypeDefaultingFunc(&batchv1.Job{}, func(obj interface{}) { SetDefaultsJob(obj.(*batchv1.Job)) })
	s.AddTypeDefaultingFunc(&batchv1.JobList{}, func(obj interface{}) {
		list := obj.(*batchv1.JobList)
		for i := range list.Items {
			SetDefaultsJob(&list.Items[i])
		}
	})
	s.AddTypeDefaultingFunc(&batchv1.CronJob{}, func(obj interface{}) { SetDefaultsCronJob(obj.(*batchv1.CronJob)) })
	s.AddTypeDefaultingFunc(&batchv1.CronJobList{}, func(obj interface{}) {
		list := obj.(*batchv1.CronJobList)
		for i := range list.Items {
			SetDefaultsCronJob(&list.Items[i])
		}
	})
}

// SetDefaultsJob applies Kubernetes' batch/v1 Job defaults, including the
// defaults of the pod template and of pod failure policy patterns.
func SetDefaultsJob(job *batchv1.Job) {
	spec := &job.Spec
	// A non-parallel Job may leave both unset: both become 1.
	if spec.Completions == nil && spec.Parallelism == nil {
		spec.Completions = ptr.To[int32](1)
		spec.Parallelism = ptr.To[int32](1)
	}
	if spec.Parallelism == nil {
		spec.Parallelism = ptr.To[int32](1)
	}
	if spec.BackoffLimit == nil {
		if spec.BackoffLimitPerIndex != nil {
			spec.BackoffLimit = ptr.To[int32](math.MaxInt32)
		} else {
			spec.BackoffLimit = ptr.To[int32](6)
		}
	}
	// The Job inherits the template's labels when it has none of its own.
	if spec.Template.Labels != nil && len(job.Labels) == 0 {
		job.Labels = spec.Template.Labels
	}
	if spec.CompletionMode == nil {
		spec.CompletionMode = ptr.To(batchv1.NonIndexedCompletion)
	}
	if spec.Suspend == nil {
		spec.Suspend = ptr.To(false)
	}
	if spec.PodReplacementPolicy == nil {
		if spec.PodFailurePolicy != nil {
			spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
		} else {
			spec.PodReplacementPolicy = ptr.To(batchv1.TerminatingOrFailed)
		}
	}
	if spec.ManualSelector == nil {
		spec.ManualSelector = ptr.To(false)
	}
	setDefaultsPodFailurePolicy(spec.PodFailurePolicy)
	core.SetDefaultsPodSpec(&spec.Template.Spec)
}

// SetDefaultsCronJob applies Kubernetes' batch/v1 CronJob defaults. Like
// Kubernetes, the job template only receives type-level defaults (pod
// template, pod failure policy patterns), not the Job object defaults.
func SetDefaultsCronJob(cj *batchv1.CronJob) {
	spec := &cj.Spec
	if spec.ConcurrencyPolicy == "" {
		spec.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if spec.Suspend == nil {
		spec.Suspend = ptr.To(false)
	}
	if spec.SuccessfulJobsHistoryLimit == nil {
		spec.SuccessfulJobsHistoryLimit = ptr.To[int32](3)
	}
	if spec.FailedJobsHistoryLimit == nil {
		spec.FailedJobsHistoryLimit = ptr.To[int32](1)
	}
	setDefaultsPodFailurePolicy(spec.JobTemplate.Spec.PodFailurePolicy)
	core.SetDefaultsPodSpec(&spec.JobTemplate.Spec.Template.Spec)
}

// setDefaultsPodFailurePolicy defaults onPodConditions patterns' status to True.
func setDefaultsPodFailurePolicy(p *batchv1.PodFailurePolicy) {
	if p == nil {
		return
	}
	for i := range p.Rules {
		for j := range p.Rules[i].OnPodConditions {
			if p.Rules[i].OnPodConditions[j].Status == "" {
				p.Rules[i].OnPodConditions[j].Status = corev1.ConditionTrue
			}
		}
	}
}
