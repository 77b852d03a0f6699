package printers

import (
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
)

func init() {
	batch := func(resource string) schema.GroupResource {
		return schema.GroupResource{Group: batchv1.GroupName, Resource: resource}
	}
	jobSelectorDoc := batchv1.JobSpec{}.SwaggerDoc()["selector"]

	register(batch("jobs"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Status", "string", "Status of the job."),
		column("Completions", "string", batchv1.JobStatus{}.SwaggerDoc()["succeeded"]),
		column("Duration", "string", "Time required to complete the job."),
		ageColumn(),
		containersColumn(),
		imagesColumn(),
		wide(column("Selector", "string", jobSelectorDoc)),
	}, typed(jobRow))

	cronSpecDoc := batchv1beta1.CronJobSpec{}.SwaggerDoc()
	cronStatusDoc := batchv1beta1.CronJobStatus{}.SwaggerDoc()
	register(batch("cronjobs"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Schedule", "string", cronSpecDoc["schedule"]),
		column("Timezone", "string", cronSpecDoc["timeZone"]),
		column("Suspend", "boolean", cronSpecDoc["suspend"]),
		column("Active", "integer", cronStatusDoc["active"]),
		column("Last Schedule", "string", cronStatusDoc["lastScheduleTime"]),
		ageColumn(),
		containersColumn(),
		imagesColumn(),
		wide(column("Selector", "string", jobSelectorDoc)),
	}, typed(cronJobRow))
}

func jobCondition(job *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range job.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// jobStatus is the STATUS cell: terminal conditions first, then deletion,
// then suspension and the interim FailureTarget / SuccessCriteriaMet.
func jobStatus(job *batchv1.Job) string {
	switch {
	case jobCondition(job, batchv1.JobComplete):
		return "Complete"
	case jobCondition(job, batchv1.JobFailed):
		return "Failed"
	case job.DeletionTimestamp != nil:
		return "Terminating"
	case jobCondition(job, batchv1.JobSuspended):
		return "Suspended"
	case jobCondition(job, batchv1.JobFailureTarget):
		return "FailureTarget"
	case jobCondition(job, batchv1.JobSuccessCriteriaMet):
		return "SuccessCriteriaMet"
	}
	return "Running"
}

// jobCompletions is "succeeded/completions"; a work-queue Job (no
// completions) needs one success, and shows its parallelism when above one.
func jobCompletions(job *batchv1.Job) string {
	if job.Spec.Completions != nil {
		return fmt.Sprintf("%d/%d", job.Status.Succeeded, *job.Spec.Completions)
	}
	if p := int32Value(job.Spec.Parallelism); p > 1 {
		return fmt.Sprintf("%d/1 of %d", job.Status.Succeeded, p)
	}
	return fmt.Sprintf("%d/1", job.Status.Succeeded)
}

// jobDuration is empty before the Job starts, the time running so far while
// it has not completed, and start to completion afterwards.
func jobDuration(job *batchv1.Job, now time.Time) string {
	switch {
	case job.Status.StartTime == nil:
		return ""
	case job.Status.CompletionTime == nil:
		return duration.HumanDuration(now.Sub(job.Status.StartTime.Time))
	default:
		return duration.HumanDuration(job.Status.CompletionTime.Sub(job.Status.StartTime.Time))
	}
}

func jobRow(job *batchv1.Job, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
	names, images := containerCells(job.Spec.Template.Spec.Containers)
	return cells(job.Name, jobStatus(job), jobCompletions(job), jobDuration(job, now), since(job.CreationTimestamp, now),
		names, images, metav1.FormatLabelSelector(job.Spec.Selector))
}

func cronJobRow(cj *batchv1.CronJob, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
	lastSchedule := "<none>"
	if cj.Status.LastScheduleTime != nil {
		lastSchedule = since(*cj.Status.LastScheduleTime, now)
	}
	timeZone := "<none>"
	if cj.Spec.TimeZone != nil {
		timeZone = *cj.Spec.TimeZone
	}
	jobSpec := &cj.Spec.JobTemplate.Spec
	names, images := containerCells(jobSpec.Template.Spec.Containers)
	return cells(cj.Name, cj.Spec.Schedule, timeZone, boolPtr(cj.Spec.Suspend), int64(len(cj.Status.Active)),
		lastSchedule, since(cj.CreationTimestamp, now), names, images, metav1.FormatLabelSelector(jobSpec.Selector))
}
