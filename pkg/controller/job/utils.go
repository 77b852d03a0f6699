// Small predicates on pods and Jobs shared by the files of this package.

package job

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func errorf(format string, args ...interface{}) error { return fmt.Errorf(format, args...) }

func managedByUs(job *batchv1.Job) bool {
	return job.Spec.ManagedBy == nil || *job.Spec.ManagedBy == batchv1.JobControllerName
}

func conditionTrue(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range job.Status.Conditions {
		if c := &job.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// IsJobFinished reports whether the Job has a Complete or Failed condition
// that is True.
func IsJobFinished(job *batchv1.Job) bool {
	return conditionTrue(job, batchv1.JobComplete) != nil || conditionTrue(job, batchv1.JobFailed) != nil
}

func suspended(job *batchv1.Job) bool { return ptr.Deref(job.Spec.Suspend, false) }

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func isTerminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// isActive: neither terminal nor being deleted.
func isActive(p *corev1.Pod) bool { return !isTerminal(p) && p.DeletionTimestamp == nil }

// isTerminating: being deleted but not yet in a terminal phase.
func isTerminating(p *corev1.Pod) bool { return p.DeletionTimestamp != nil && !isTerminal(p) }

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// isPodFailed says whether a pod counts as a failure. herd's rule (see the
// package doc): only a pod that reached phase Failed is a failure; a pod
// deleted while running is a replacement case, not a failure.
func isPodFailed(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed }

// isLostTerminating: a pod being deleted that never reached a node; nothing
// will ever give it a terminal phase, so its finalizer is released without
// counting it.
func isLostTerminating(p *corev1.Pod) bool { return isTerminating(p) && p.Spec.NodeName == "" }

func onlyReplaceFailedPods(job *batchv1.Job) bool {
	if job.Spec.PodReplacementPolicy != nil {
		return *job.Spec.PodReplacementPolicy == batchv1.Failed
	}
	return job.Spec.PodFailurePolicy != nil
}
