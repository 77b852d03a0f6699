package cronjob

import (
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// controllerKind is the kind the Jobs' ownerReferences name.
var controllerKind = batchv1.SchemeGroupVersion.WithKind("CronJob")

// jobName is `<cronjob>-<scheduled time in minutes since the epoch>`: the
// same scheduled time always gives the same name, so a run is created at
// most once even across restarts.
func jobName(cj *batchv1.CronJob, scheduled time.Time) string {
	return fmt.Sprintf("%s-%d", cj.Name, scheduled.Unix()/60)
}

// jobFromTemplate builds the Job for one scheduled time: labels, annotations
// and spec from the jobTemplate, the scheduled-timestamp annotation in the
// CronJob's time zone (UTC without spec.timeZone, as Kubernetes does), and a
// controller ownerReference.
func jobFromTemplate(cj *batchv1.CronJob, scheduled time.Time) (*batchv1.Job, error) {
	loc, err := loadLocation(ptr.Deref(cj.Spec.TimeZone, ""))
	if err != nil {
		return nil, err
	}
	labels := make(map[string]string, len(cj.Spec.JobTemplate.Labels))
	for k, v := range cj.Spec.JobTemplate.Labels {
		labels[k] = v
	}
	annotations := make(map[string]string, len(cj.Spec.JobTemplate.Annotations)+1)
	for k, v := range cj.Spec.JobTemplate.Annotations {
		annotations[k] = v
	}
	annotations[batchv1.CronJobScheduledTimestampAnnotation] = scheduled.In(loc).Format(time.RFC3339)

	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:            jobName(cj, scheduled),
			Namespace:       cj.Namespace,
			Labels:          labels,
			Annotations:     annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, controllerKind)},
		},
	}
	cj.Spec.JobTemplate.Spec.DeepCopyInto(&job.Spec)
	return job, nil
}

// jobRef is the status.active entry for a Job.
func jobRef(job *batchv1.Job) corev1.ObjectReference {
	return corev1.ObjectReference{
		Kind:            "Job",
		APIVersion:      batchv1.SchemeGroupVersion.String(),
		Namespace:       job.Namespace,
		Name:            job.Name,
		UID:             job.UID,
		ResourceVersion: job.ResourceVersion,
	}
}

// finishedCondition returns Complete or Failed once the Job has that
// condition true, else "".
func finishedCondition(job *batchv1.Job) batchv1.JobConditionType {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type
		}
	}
	return ""
}

func isJobFinished(job *batchv1.Job) bool { return finishedCondition(job) != "" }

func isJobSucceeded(job *batchv1.Job) bool { return finishedCondition(job) == batchv1.JobComplete }

func inActiveList(cj *batchv1.CronJob, uid types.UID) bool {
	for _, r := range cj.Status.Active {
		if r.UID == uid {
			return true
		}
	}
	return false
}

func inActiveListByName(cj *batchv1.CronJob, name string) bool {
	for _, r := range cj.Status.Active {
		if r.Name == name && r.Namespace == cj.Namespace {
			return true
		}
	}
	return false
}

func deleteFromActiveList(cj *batchv1.CronJob, uid types.UID) {
	var active []corev1.ObjectReference
	for _, r := range cj.Status.Active {
		if r.UID != uid {
			active = append(active, r)
		}
	}
	cj.Status.Active = active
}

// byStartTime orders Jobs oldest first: by status.startTime, Jobs without
// one last, ties broken by name (as Kubernetes' history cleanup does).
type byStartTime []*batchv1.Job

func (o byStartTime) Len() int      { return len(o) }
func (o byStartTime) Swap(i, j int) { o[i], o[j] = o[j], o[i] }
func (o byStartTime) Less(i, j int) bool {
	a, b := o[i].Status.StartTime, o[j].Status.StartTime
	switch {
	case a == nil && b != nil:
		return false
	case a != nil && b == nil:
		return true
	case a.Equal(b):
		return o[i].Name < o[j].Name
	}
	return a.Before(b)
}

func sortJobs(jobs []*batchv1.Job) { sort.Sort(byStartTime(jobs)) }
