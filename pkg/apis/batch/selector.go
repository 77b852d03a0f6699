package batch

import (
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Legacy (unprefixed) label keys that Kubernetes still sets on Job pod
// templates next to the batch.kubernetes.io/ ones.
const (
	LegacyJobNameLabel       = "job-name"
	LegacyControllerUIDLabel = "controller-uid"
)

// GenerateJobSelector does what Kubernetes' Job strategy does on create: unless
// spec.manualSelector is true, it adds the job-name and controller-uid labels
// (prefixed and legacy) to the pod template, keeping values the user already
// set (conflicts are rejected by validation), and selects the
// batch.kubernetes.io/controller-uid label. The Job's UID must already be set.
func GenerateJobSelector(job *batchv1.Job) {
	if job.Spec.ManualSelector != nil && *job.Spec.ManualSelector {
		return
	}
	if job.Spec.Template.Labels == nil {
		job.Spec.Template.Labels = map[string]string{}
	}
	labels := job.Spec.Template.Labels
	for _, key := range []string{LegacyJobNameLabel, batchv1.JobNameLabel} {
		if _, found := labels[key]; !found {
			labels[key] = job.Name
		}
	}
	for _, key := range []string{LegacyControllerUIDLabel, batchv1.ControllerUidLabel} {
		if _, found := labels[key]; !found {
			labels[key] = string(job.UID)
		}
	}
	if job.Spec.Selector == nil {
		job.Spec.Selector = &metav1.LabelSelector{}
	}
	if job.Spec.Selector.MatchLabels == nil {
		job.Spec.Selector.MatchLabels = map[string]string{}
	}
	if _, found := job.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel]; !found {
		job.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] = string(job.UID)
	}
}
