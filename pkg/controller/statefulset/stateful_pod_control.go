package statefulset

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
)

// Event reasons, as Kubernetes' StatefulSet controller writes them.
const (
	EventSuccessfulCreate    = "SuccessfulCreate"
	EventFailedCreate        = "FailedCreate"
	EventSuccessfulDelete    = "SuccessfulDelete"
	EventFailedDelete        = "FailedDelete"
	EventSuccessfulUpdate    = "SuccessfulUpdate"
	EventFailedUpdate        = "FailedUpdate"
	EventRecreatingFailedPod = "RecreatingFailedPod"
)

// podControl creates, updates and deletes a StatefulSet's pods and claims,
// recording an event for each.
type podControl struct {
	client    kubernetes.Interface
	podLister corelisters.PodLister
	pvcLister corelisters.PersistentVolumeClaimLister
	recorder  record.EventRecorder
}

// createStatefulPod creates the pod's missing claims, then the pod.
func (pc *podControl) createStatefulPod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	if err := pc.createMissingPersistentVolumeClaims(ctx, set, pod); err != nil {
		pc.recordPodEvent("create", set, pod, err)
		return err
	}
	_, err := pc.client.CoreV1().Pods(set.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return err
	}
	pc.recordPodEvent("create", set, pod, err)
	return err
}

// createMissingPersistentVolumeClaims creates the claims of the pod that
// do not exist yet, with the references the retention policy wants; a claim
// being deleted is an error (the pod waits for it to go).
func (pc *podControl) createMissingPersistentVolumeClaims(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	var errs []error
	for _, claim := range getPersistentVolumeClaims(set, pod) {
		existing, err := pc.pvcLister.PersistentVolumeClaims(claim.Namespace).Get(claim.Name)
		switch {
		case apierrors.IsNotFound(err):
			updateClaimOwnerRefForSetAndPod(&claim, set, pod)
			_, err := pc.client.CoreV1().PersistentVolumeClaims(claim.Namespace).Create(ctx, &claim, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				errs = append(errs, fmt.Errorf("failed to create PVC %s: %w", claim.Name, err))
			}
			if err == nil || !apierrors.IsAlreadyExists(err) {
				pc.recordClaimEvent("create", set, pod, &claim, err)
			}
		case err != nil:
			errs = append(errs, fmt.Errorf("failed to retrieve PVC %s: %w", claim.Name, err))
			pc.recordClaimEvent("create", set, pod, &claim, err)
		case existing.DeletionTimestamp != nil:
			errs = append(errs, fmt.Errorf("pvc %s is being deleted", claim.Name))
		}
	}
	return utilerrors.NewAggregate(errs)
}

// podClaimIsStale: a claim of the pod is being deleted, so the pod must not
// be created on it yet.
func (pc *podControl) podClaimIsStale(set *appsv1.StatefulSet, pod *corev1.Pod) (bool, error) {
	for _, claim := range getPersistentVolumeClaims(set, pod) {
		existing, err := pc.pvcLister.PersistentVolumeClaims(claim.Namespace).Get(claim.Name)
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return false, err
		case existing.DeletionTimestamp != nil:
			return true, nil
		}
	}
	return false, nil
}

// updateStatefulPod restores the pod's identity and storage and the
// ownerReferences of its claims.
func (pc *podControl) updateStatefulPod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	attempt := pod.DeepCopy()
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		consistent := true
		if !identityMatches(set, attempt) {
			updateIdentity(set, attempt)
			consistent = false
		}
		if !storageMatches(set, attempt) {
			updateStorage(set, attempt)
			consistent = false
			if err := pc.createMissingPersistentVolumeClaims(ctx, set, attempt); err != nil {
				return err
			}
		}
		if match, err := pc.claimsMatchRetentionPolicy(set, attempt); err == nil && !match {
			if err := pc.updatePodClaimForRetentionPolicy(ctx, set, attempt); err != nil {
				return err
			}
		}
		if consistent {
			return nil
		}
		_, err := pc.client.CoreV1().Pods(set.Namespace).Update(ctx, attempt, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			if fresh, gerr := pc.client.CoreV1().Pods(set.Namespace).Get(ctx, attempt.Name, metav1.GetOptions{}); gerr == nil {
				attempt = fresh
			}
		}
		return err
	})
	pc.recordPodEvent("update", set, pod, err)
	return err
}

// claimsMatchRetentionPolicy: every existing claim of the pod carries the
// references the policy wants.
func (pc *podControl) claimsMatchRetentionPolicy(set *appsv1.StatefulSet, pod *corev1.Pod) (bool, error) {
	for _, claim := range getPersistentVolumeClaims(set, pod) {
		existing, err := pc.pvcLister.PersistentVolumeClaims(claim.Namespace).Get(claim.Name)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return false, err
		}
		if !claimOwnerMatchesSetAndPod(existing, set, pod) {
			return false, nil
		}
	}
	return true, nil
}

// updatePodClaimForRetentionPolicy rewrites the references of the pod's
// claims as the policy wants.
func (pc *podControl) updatePodClaimForRetentionPolicy(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	var errs []error
	for _, claim := range getPersistentVolumeClaims(set, pod) {
		existing, err := pc.pvcLister.PersistentVolumeClaims(claim.Namespace).Get(claim.Name)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if claimOwnerMatchesSetAndPod(existing, set, pod) {
			continue
		}
		c := existing.DeepCopy()
		updateClaimOwnerRefForSetAndPod(c, set, pod)
		if _, err := pc.client.CoreV1().PersistentVolumeClaims(c.Namespace).Update(ctx, c, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("could not update claim %s for retention policy: %w", c.Name, err))
		}
	}
	return utilerrors.NewAggregate(errs)
}

// deleteStatefulPod deletes the pod; one already gone counts as deleted.
func (pc *podControl) deleteStatefulPod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	err := pc.client.CoreV1().Pods(set.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &pod.UID}})
	if apierrors.IsNotFound(err) {
		return nil
	}
	pc.recordPodEvent("delete", set, pod, err)
	return err
}

func (pc *podControl) recordPodEvent(verb string, set *appsv1.StatefulSet, pod *corev1.Pod, err error) {
	if err == nil {
		reason := "Successful" + strings.ToUpper(verb[:1]) + verb[1:]
		pc.recorder.Event(set, corev1.EventTypeNormal, reason,
			fmt.Sprintf("%s Pod %s in StatefulSet %s successful", verb, pod.Name, set.Name))
		return
	}
	reason := "Failed" + strings.ToUpper(verb[:1]) + verb[1:]
	pc.recorder.Event(set, corev1.EventTypeWarning, reason,
		fmt.Sprintf("%s Pod %s in StatefulSet %s failed error: %s", verb, pod.Name, set.Name, err))
}

func (pc *podControl) recordClaimEvent(verb string, set *appsv1.StatefulSet, pod *corev1.Pod, claim *corev1.PersistentVolumeClaim, err error) {
	if err == nil {
		reason := "Successful" + strings.ToUpper(verb[:1]) + verb[1:]
		pc.recorder.Event(set, corev1.EventTypeNormal, reason,
			fmt.Sprintf("%s Claim %s Pod %s in StatefulSet %s success", verb, claim.Name, pod.Name, set.Name))
		return
	}
	reason := "Failed" + strings.ToUpper(verb[:1]) + verb[1:]
	pc.recorder.Event(set, corev1.EventTypeWarning, reason,
		fmt.Sprintf("%s Claim %s for Pod %s in StatefulSet %s failed error: %s", verb, claim.Name, pod.Name, set.Name, err))
}
