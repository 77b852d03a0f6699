package batch

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// jobStatusOptions says which status transition rules apply. As in
// Kubernetes (JobManagedBy on), most rules only run when the fields they
// look at changed, so that unrelated status updates keep working.
type jobStatusOptions struct {
	rejectDecreasingSucceededCounter             bool
	rejectDecreasingFailedCounter                bool
	rejectDisablingTerminalCondition             bool
	rejectInvalidCompletedIndexes                bool
	rejectInvalidFailedIndexes                   bool
	rejectFailedIndexesOverlappingCompleted      bool
	rejectCompletedIndexesForNonIndexedJob       bool
	rejectFailedIndexesForNoBackoffLimitPerIndex bool
	rejectFinishedJobWithActivePods              bool
	rejectFinishedJobWithoutStartTime            bool
	rejectFinishedJobWithUncountedTerminatedPods bool
	rejectStartTimeUpdateForUnsuspendedJob       bool
	rejectCompletionTimeBeforeStartTime          bool
	rejectMutatingCompletionTime                 bool
	rejectCompleteJobWithoutCompletionTime       bool
	rejectNotCompleteJobWithCompletionTime       bool
	rejectCompleteJobWithFailedCondition         bool
	rejectCompleteJobWithFailureTargetCondition  bool
	rejectMoreReadyThanActivePods                bool
	rejectFinishedJobWithTerminatingPods         bool
	rejectFailedJobWithoutFailureTarget          bool
	rejectCompleteJobWithoutSuccessCriteriaMet   bool
}

func jobStatusOptionsFor(newJob, oldJob *batchv1.Job) jobStatusOptions {
	isIndexed := ptr.Deref(newJob.Spec.CompletionMode, batchv1.NonIndexedCompletion) == batchv1.IndexedCompletion
	finishedChanged := isJobFinished(oldJob) != isJobFinished(newJob)
	completeChanged := isJobComplete(oldJob) != isJobComplete(newJob)
	failedChanged := isJobFailed(oldJob) != isJobFailed(newJob)
	failureTargetChanged := isConditionTrue(oldJob.Status.Conditions, batchv1.JobFailureTarget) != isConditionTrue(newJob.Status.Conditions, batchv1.JobFailureTarget)
	completedIndexesChanged := oldJob.Status.CompletedIndexes != newJob.Status.CompletedIndexes
	failedIndexesChanged := !ptr.Equal(oldJob.Status.FailedIndexes, newJob.Status.FailedIndexes)
	activeChanged := oldJob.Status.Active != newJob.Status.Active
	readyChanged := !ptr.Equal(oldJob.Status.Ready, newJob.Status.Ready)
	terminatingChanged := !ptr.Equal(oldJob.Status.Terminating, newJob.Status.Terminating)
	startTimeChanged := !timeEqual(oldJob.Status.StartTime, newJob.Status.StartTime)
	completionTimeChanged := !timeEqual(oldJob.Status.CompletionTime, newJob.Status.CompletionTime)
	successCriteriaMetChanged := isSuccessCriteriaMet(oldJob) != isSuccessCriteriaMet(newJob)
	uncountedChanged := !apiequality.Semantic.DeepEqual(oldJob.Status.UncountedTerminatedPods, newJob.Status.UncountedTerminatedPods)
	return jobStatusOptions{
		// Elastic Indexed Jobs (completions == parallelism) may scale down.
		rejectDecreasingSucceededCounter:             !isIndexed || !ptr.Equal(newJob.Spec.Completions, newJob.Spec.Parallelism),
		rejectDecreasingFailedCounter:                true,
		rejectDisablingTerminalCondition:             true,
		rejectInvalidCompletedIndexes:                completedIndexesChanged,
		rejectInvalidFailedIndexes:                   failedIndexesChanged,
		rejectCompletedIndexesForNonIndexedJob:       completedIndexesChanged,
		rejectFailedIndexesForNoBackoffLimitPerIndex: failedIndexesChanged,
		rejectFailedIndexesOverlappingCompleted:      failedIndexesChanged || completedIndexesChanged,
		rejectFinishedJobWithActivePods:              finishedChanged || activeChanged,
		rejectFinishedJobWithoutStartTime:            finishedChanged || startTimeChanged,
		rejectFinishedJobWithUncountedTerminatedPods: finishedChanged || uncountedChanged,
		rejectStartTimeUpdateForUnsuspendedJob:       startTimeChanged,
		rejectCompletionTimeBeforeStartTime:          startTimeChanged || completionTimeChanged,
		rejectMutatingCompletionTime:                 true,
		rejectNotCompleteJobWithCompletionTime:       completeChanged || completionTimeChanged,
		rejectCompleteJobWithoutCompletionTime:       completeChanged || completionTimeChanged,
		rejectCompleteJobWithFailedCondition:         completeChanged || failedChanged,
		rejectCompleteJobWithFailureTargetCondition:  completeChanged || failureTargetChanged,
		rejectMoreReadyThanActivePods:                readyChanged || activeChanged,
		rejectFinishedJobWithTerminatingPods:         finishedChanged || terminatingChanged,
		rejectFailedJobWithoutFailureTarget:          failedChanged || failureTargetChanged,
		rejectCompleteJobWithoutSuccessCriteriaMet:   completeChanged || successCriteriaMetChanged,
	}
}

// ValidateJobStatusUpdate validates an update of a Job's status subresource.
func ValidateJobStatusUpdate(newJob, oldJob *batchv1.Job) field.ErrorList {
	opts := jobStatusOptionsFor(newJob, oldJob)
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newJob.ObjectMeta, &oldJob.ObjectMeta, field.NewPath("metadata"))
	statusPath := field.NewPath("status")
	allErrs = append(allErrs, validateJobStatus(newJob, statusPath, opts)...)

	if opts.rejectDisablingTerminalCondition {
		for _, t := range []batchv1.JobConditionType{batchv1.JobFailed, batchv1.JobComplete, batchv1.JobFailureTarget} {
			if isConditionTrue(oldJob.Status.Conditions, t) && !isConditionTrue(newJob.Status.Conditions, t) {
				allErrs = append(allErrs, field.Invalid(statusPath.Child("conditions"), field.OmitValueType{}, fmt.Sprintf("cannot disable the terminal %s=True condition", string(t))))
			}
		}
	}
	if opts.rejectDecreasingFailedCounter && newJob.Status.Failed < oldJob.Status.Failed {
		allErrs = append(allErrs, field.Invalid(statusPath.Child("failed"), newJob.Status.Failed, "cannot decrease the failed counter"))
	}
	if opts.rejectDecreasingSucceededCounter && newJob.Status.Succeeded < oldJob.Status.Succeeded {
		allErrs = append(allErrs, field.Invalid(statusPath.Child("succeeded"), newJob.Status.Succeeded, "cannot decrease the succeeded counter"))
	}
	if opts.rejectMutatingCompletionTime && newJob.Status.CompletionTime != nil && oldJob.Status.CompletionTime != nil &&
		!timeEqual(newJob.Status.CompletionTime, oldJob.Status.CompletionTime) {
		allErrs = append(allErrs, field.Invalid(statusPath.Child("completionTime"), newJob.Status.CompletionTime, "completionTime cannot be mutated"))
	}
	if opts.rejectStartTimeUpdateForUnsuspendedJob && oldJob.Status.StartTime != nil &&
		!timeEqual(oldJob.Status.StartTime, newJob.Status.StartTime) && !ptr.Deref(newJob.Spec.Suspend, false) {
		allErrs = append(allErrs, field.Required(statusPath.Child("startTime"), "startTime cannot be removed for unsuspended job"))
	}
	if isSuccessCriteriaMet(oldJob) && !isSuccessCriteriaMet(newJob) {
		allErrs = append(allErrs, field.Invalid(statusPath.Child("conditions"), field.OmitValueType{}, "cannot disable the SuccessCriteriaMet=True condition"))
	}
	if isJobComplete(oldJob) && !isSuccessCriteriaMet(oldJob) && isSuccessCriteriaMet(newJob) {
		allErrs = append(allErrs, field.Invalid(statusPath.Child("conditions"), field.OmitValueType{}, "cannot set SuccessCriteriaMet=True for Job already has Complete=true conditions"))
	}
	return allErrs
}

func validateJobStatus(job *batchv1.Job, fldPath *field.Path, opts jobStatusOptions) field.ErrorList {
	var allErrs field.ErrorList
	status := job.Status
	allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(status.Active), fldPath.Child("active"))...)
	allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(status.Succeeded), fldPath.Child("succeeded"))...)
	allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(status.Failed), fldPath.Child("failed"))...)
	if status.Ready != nil {
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(*status.Ready), fldPath.Child("ready"))...)
	}
	if status.Terminating != nil {
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(*status.Terminating), fldPath.Child("terminating"))...)
	}
	if u := status.UncountedTerminatedPods; u != nil {
		path := fldPath.Child("uncountedTerminatedPods")
		seen := sets.New[types.UID]()
		check := func(uids []types.UID, p *field.Path) {
			for i, uid := range uids {
				switch {
				case uid == "":
					allErrs = append(allErrs, field.Invalid(p.Index(i), uid, "must not be empty"))
				case seen.Has(uid):
					allErrs = append(allErrs, field.Duplicate(p.Index(i), uid))
				default:
					seen.Insert(uid)
				}
			}
		}
		check(u.Succeeded, path.Child("succeeded"))
		check(u.Failed, path.Child("failed"))
	}
	complete := isJobComplete(job)
	failed := isJobFailed(job)
	finished := isJobFinished(job)
	successCriteriaMet := isSuccessCriteriaMet(job)
	failureTarget := isConditionTrue(status.Conditions, batchv1.JobFailureTarget)
	conditionsPath := fldPath.Child("conditions")

	if opts.rejectCompleteJobWithFailedCondition && complete && failed {
		allErrs = append(allErrs, field.Invalid(conditionsPath, field.OmitValueType{}, "cannot set Complete=True and Failed=true conditions"))
	}
	if opts.rejectCompleteJobWithFailureTargetCondition && complete && failureTarget {
		allErrs = append(allErrs, field.Invalid(conditionsPath, field.OmitValueType{}, "cannot set Complete=True and FailureTarget=true conditions"))
	}
	if opts.rejectNotCompleteJobWithCompletionTime && status.CompletionTime != nil && !complete {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("completionTime"), status.CompletionTime, "cannot set completionTime when there is no Complete=True condition"))
	}
	if opts.rejectCompleteJobWithoutCompletionTime && status.CompletionTime == nil && complete {
		allErrs = append(allErrs, field.Required(fldPath.Child("completionTime"), "completionTime is required for Complete jobs"))
	}
	if opts.rejectCompletionTimeBeforeStartTime && status.StartTime != nil && status.CompletionTime != nil && status.CompletionTime.Before(status.StartTime) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("completionTime"), status.CompletionTime, "completionTime cannot be set before startTime"))
	}
	if opts.rejectFailedJobWithoutFailureTarget && failed && !failureTarget {
		allErrs = append(allErrs, field.Invalid(conditionsPath, field.OmitValueType{}, "cannot set Failed=True condition without the FailureTarget=true condition"))
	}
	if opts.rejectCompleteJobWithoutSuccessCriteriaMet && complete && !successCriteriaMet {
		allErrs = append(allErrs, field.Invalid(conditionsPath, field.OmitValueType{}, "cannot set Complete=True condition without the SuccessCriteriaMet=true condition"))
	}
	if opts.rejectFinishedJobWithActivePods && status.Active > 0 && finished {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("active"), status.Active, "active>0 is invalid for finished job"))
	}
	if opts.rejectFinishedJobWithoutStartTime && status.StartTime == nil && finished {
		allErrs = append(allErrs, field.Required(fldPath.Child("startTime"), "startTime is required for finished job"))
	}
	if opts.rejectFinishedJobWithUncountedTerminatedPods && finished && status.UncountedTerminatedPods != nil &&
		len(status.UncountedTerminatedPods.Failed)+len(status.UncountedTerminatedPods.Succeeded) > 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("uncountedTerminatedPods"), status.UncountedTerminatedPods, "uncountedTerminatedPods needs to be empty for finished job"))
	}
	if opts.rejectInvalidCompletedIndexes && job.Spec.Completions != nil {
		if _, err := validateIndexesFormat(status.CompletedIndexes, *job.Spec.Completions); err != nil {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("completedIndexes"), status.CompletedIndexes, fmt.Sprintf("error parsing completedIndexes: %s", err.Error())))
		}
	}
	if opts.rejectInvalidFailedIndexes && job.Spec.Completions != nil && job.Spec.BackoffLimitPerIndex != nil && status.FailedIndexes != nil {
		if _, err := validateIndexesFormat(*status.FailedIndexes, *job.Spec.Completions); err != nil {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("failedIndexes"), status.FailedIndexes, fmt.Sprintf("error parsing failedIndexes: %s", err.Error())))
		}
	}
	isIndexed := ptr.Deref(job.Spec.CompletionMode, batchv1.NonIndexedCompletion) == batchv1.IndexedCompletion
	if opts.rejectCompletedIndexesForNonIndexedJob && len(status.CompletedIndexes) != 0 && !isIndexed {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("completedIndexes"), status.CompletedIndexes, "cannot set non-empty completedIndexes when non-indexed completion mode"))
	}
	if opts.rejectFailedIndexesForNoBackoffLimitPerIndex && job.Spec.BackoffLimitPerIndex == nil && status.FailedIndexes != nil {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("failedIndexes"), *status.FailedIndexes, "cannot set non-null failedIndexes when backoffLimitPerIndex is null"))
	}
	if opts.rejectFailedIndexesOverlappingCompleted && job.Spec.Completions != nil && status.FailedIndexes != nil {
		if err := validateFailedIndexesNotOverlapCompleted(status.CompletedIndexes, *status.FailedIndexes, *job.Spec.Completions); err != nil {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("failedIndexes"), *status.FailedIndexes, err.Error()))
		}
	}
	if opts.rejectFinishedJobWithTerminatingPods && status.Terminating != nil && *status.Terminating > 0 && finished {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("terminating"), status.Terminating, "terminating>0 is invalid for finished job"))
	}
	if opts.rejectMoreReadyThanActivePods && status.Ready != nil && *status.Ready > status.Active {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("ready"), *status.Ready, "cannot set more ready pods than active"))
	}
	if successCriteriaMet && failed {
		allErrs = append(allErrs, field.Invalid(conditionsPath, field.OmitValueType{}, "cannot set SuccessCriteriaMet=True and Failed=true conditions"))
	}
	if successCriteriaMet && failureTarget {
		allErrs = append(allErrs, field.Invalid(conditionsPath, field.OmitValueType{}, "cannot set SuccessCriteriaMet=True and FailureTarget=true conditions"))
	}
	if job.Spec.SuccessPolicy != nil && !successCriteriaMet && complete {
		allErrs = append(allErrs, field.Invalid(conditionsPath, field.OmitValueType{}, "cannot set Complete=True for Job with SuccessPolicy unless SuccessCriteriaMet=True"))
	}
	return allErrs
}

func timeEqual(a, b *metav1.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(b)
}

func isConditionTrue(list []batchv1.JobCondition, t batchv1.JobConditionType) bool {
	for _, c := range list {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func isJobComplete(job *batchv1.Job) bool {
	return isConditionTrue(job.Status.Conditions, batchv1.JobComplete)
}
func isJobFailed(job *batchv1.Job) bool {
	return isConditionTrue(job.Status.Conditions, batchv1.JobFailed)
}
func isJobFinished(job *batchv1.Job) bool { return isJobComplete(job) || isJobFailed(job) }
func isSuccessCriteriaMet(job *batchv1.Job) bool {
	return isConditionTrue(job.Status.Conditions, batchv1.JobSuccessCriteriaMet)
}
