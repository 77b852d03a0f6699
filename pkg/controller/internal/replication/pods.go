package replication

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// PodDeletionCostAnnotation lowers or raises a pod's priority as a scale-down victim.
const PodDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// IsPodActive reports whether the pod is neither finished nor being deleted.
func IsPodActive(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil
}

// IsPodTerminating reports whether the pod is being deleted and has not finished.
func IsPodTerminating(p *corev1.Pod) bool {
	return p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// FilterActivePods returns the active pods.
func FilterActivePods(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if IsPodActive(p) {
			out = append(out, p)
		}
	}
	return out
}

// FilterOwnedTerminatingPods returns the terminating pods controlled by
// ownerUID whose labels match selector.
func FilterOwnedTerminatingPods(pods []*corev1.Pod, ownerUID types.UID, selector labels.Selector) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if !IsPodTerminating(p) || !selector.Matches(labels.Set(p.Labels)) {
			continue
		}
		if ref := metav1.GetControllerOfNoCopy(p); ref != nil && ref.UID == ownerUID {
			out = append(out, p)
		}
	}
	return out
}

// podReadyCondition returns the pod's Ready condition, or nil.
func podReadyCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// IsPodReady reports whether the pod's Ready condition is True.
func IsPodReady(p *corev1.Pod) bool {
	c := podReadyCondition(p)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsPodAvailable reports whether the pod has been ready for at least
// minReadySeconds at now.
func IsPodAvailable(p *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	c := podReadyCondition(p)
	if c == nil || c.Status != corev1.ConditionTrue {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	d := time.Duration(minReadySeconds) * time.Second
	return !c.LastTransitionTime.IsZero() && c.LastTransitionTime.Add(d).Before(now)
}

// PodKey is the namespace/name key of a pod (used by deletion expectations).
func PodKey(p *corev1.Pod) string {
	return p.Namespace + "/" + p.Name
}

// DeletionCost parses the pod-deletion-cost annotation; absent or invalid is 0.
func DeletionCost(p *corev1.Pod) int32 {
	v, ok := p.Annotations[PodDeletionCostAnnotation]
	if !ok {
		return 0
	}
	i, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return int32(i)
}

// SlowStartBatch calls fn count times in batches of initialBatchSize,
// doubling after each fully successful batch, and stops at the first batch
// with an error. It returns the number of successful calls and one error.
func SlowStartBatch(count, initialBatchSize int, fn func() error) (int, error) {
	remaining := count
	successes := 0
	for batchSize := min(remaining, initialBatchSize); batchSize > 0; batchSize = min(2*batchSize, remaining) {
		errCh := make(chan error, batchSize)
		var wg sync.WaitGroup
		wg.Add(batchSize)
		for i := 0; i < batchSize; i++ {
			go func() {
				defer wg.Done()
				if err := fn(); err != nil {
					errCh <- err
				}
			}()
		}
		wg.Wait()
		curSuccesses := batchSize - len(errCh)
		successes += curSuccesses
		if len(errCh) > 0 {
			return successes, <-errCh
		}
		remaining -= batchSize
	}
	return successes, nil
}

// PodFromTemplate builds a pod for the controller from its template: labels,
// annotations, finalizers and spec copied, generateName "<controller>-" and a
// controller ownerReference.
func PodFromTemplate(template *corev1.PodTemplateSpec, namespace, controllerName string, ref *metav1.OwnerReference) *corev1.Pod {
	prefix := controllerName
	if len(apivalidation.NameIsDNSSubdomain(controllerName+"-", true)) == 0 {
		prefix = controllerName + "-"
	}
	t := template.DeepCopy()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Labels:       t.Labels,
			Annotations:  t.Annotations,
			Finalizers:   t.Finalizers,
			GenerateName: prefix,
			Namespace:    namespace,
		},
		Spec: t.Spec,
	}
	if ref != nil {
		pod.OwnerReferences = append(pod.OwnerReferences, *ref)
	}
	return pod
}

// CreatePod creates a pod from the template; it refuses templates without labels.
func CreatePod(ctx context.Context, create func(context.Context, *corev1.Pod) (*corev1.Pod, error), template *corev1.PodTemplateSpec, namespace, controllerName string, ref *metav1.OwnerReference) (*corev1.Pod, error) {
	pod := PodFromTemplate(template, namespace, controllerName, ref)
	if len(labels.Set(pod.Labels)) == 0 {
		return nil, fmt.Errorf("unable to create pods, no labels")
	}
	return create(ctx, pod)
}

// podPhaseToOrdinal orders phases for scale-down: Pending < Unknown < Running.
var podPhaseToOrdinal = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

// ActivePodsWithRanks sorts pods so that the best scale-down victims come
// first, as Kubernetes' ActivePodsWithRanks with PodDeletionCost and
// LogarithmicScaleDown enabled. Rank[i] is the number of related active pods
// on Pods[i]'s node; Now is the reference time for the logarithmic buckets.
type ActivePodsWithRanks struct {
	Pods []*corev1.Pod
	Rank []int
	Now  metav1.Time
}

func (s ActivePodsWithRanks) Len() int { return len(s.Pods) }

func (s ActivePodsWithRanks) Swap(i, j int) {
	s.Pods[i], s.Pods[j] = s.Pods[j], s.Pods[i]
	s.Rank[i], s.Rank[j] = s.Rank[j], s.Rank[i]
}

// Less orders: 1 unassigned < assigned; 2 Pending < Unknown < Running;
// 3 not ready < ready; 4 lower deletion cost; 5 more co-located pods;
// 6 ready more recently (log2 buckets, then UID); 7 more restarts;
// 8 created more recently (log2 buckets, then UID).
func (s ActivePodsWithRanks) Less(i, j int) bool {
	pi, pj := s.Pods[i], s.Pods[j]
	if pi.Spec.NodeName != pj.Spec.NodeName && (pi.Spec.NodeName == "" || pj.Spec.NodeName == "") {
		return pi.Spec.NodeName == ""
	}
	if podPhaseToOrdinal[pi.Status.Phase] != podPhaseToOrdinal[pj.Status.Phase] {
		return podPhaseToOrdinal[pi.Status.Phase] < podPhaseToOrdinal[pj.Status.Phase]
	}
	ri, rj := IsPodReady(pi), IsPodReady(pj)
	if ri != rj {
		return !ri
	}
	if ci, cj := DeletionCost(pi), DeletionCost(pj); ci != cj {
		return ci < cj
	}
	if s.Rank[i] != s.Rank[j] {
		return s.Rank[i] > s.Rank[j]
	}
	if ri && rj {
		t1, t2 := podReadyTime(pi), podReadyTime(pj)
		if !t1.Equal(t2) {
			if s.Now.IsZero() || t1.IsZero() || t2.IsZero() {
				return afterOrZero(t1, t2)
			}
			if d := logarithmicRankDiff(*t1, *t2, s.Now); d != 0 {
				return d < 0
			}
			return pi.UID < pj.UID
		}
	}
	if mi, mj := maxContainerRestarts(pi), maxContainerRestarts(pj); mi != mj {
		return mi > mj
	}
	if !pi.CreationTimestamp.Equal(&pj.CreationTimestamp) {
		if s.Now.IsZero() || pi.CreationTimestamp.IsZero() || pj.CreationTimestamp.IsZero() {
			return afterOrZero(&pi.CreationTimestamp, &pj.CreationTimestamp)
		}
		if d := logarithmicRankDiff(pi.CreationTimestamp, pj.CreationTimestamp, s.Now); d != 0 {
			return d < 0
		}
		return pi.UID < pj.UID
	}
	return false
}

func podReadyTime(p *corev1.Pod) *metav1.Time {
	if c := podReadyCondition(p); c != nil && c.Status == corev1.ConditionTrue {
		return &c.LastTransitionTime
	}
	return &metav1.Time{}
}

// afterOrZero: a zero time sorts first, then the later time.
func afterOrZero(t1, t2 *metav1.Time) bool {
	if t1.Time.IsZero() || t2.Time.IsZero() {
		return t1.Time.IsZero()
	}
	return t1.After(t2.Time)
}

// logarithmicRankDiff compares floor(log2(age)) of two timestamps; a
// negative result means t1 is in a younger bucket.
func logarithmicRankDiff(t1, t2, now metav1.Time) int64 {
	d1, d2 := now.Sub(t1.Time), now.Sub(t2.Time)
	r1, r2 := int64(-1), int64(-1)
	if d1 > 0 {
		r1 = int64(math.Log2(float64(d1)))
	}
	if d2 > 0 {
		r2 = int64(math.Log2(float64(d2)))
	}
	return r1 - r2
}

func maxContainerRestarts(p *corev1.Pod) int32 {
	var m int32
	for _, c := range p.Status.ContainerStatuses {
		m = max(m, c.RestartCount)
	}
	for _, c := range p.Status.InitContainerStatuses {
		m = max(m, c.RestartCount)
	}
	return m
}

// RankPodsByRelatedOnSameNode ranks each pod by the number of active
// related pods on its node (related pods normally include pods itself).
func RankPodsByRelatedOnSameNode(pods, related []*corev1.Pod, now time.Time) ActivePodsWithRanks {
	onNode := map[string]int{}
	for _, p := range related {
		if IsPodActive(p) {
			onNode[p.Spec.NodeName]++
		}
	}
	ranks := make([]int, len(pods))
	for i, p := range pods {
		ranks[i] = onNode[p.Spec.NodeName]
	}
	return ActivePodsWithRanks{Pods: pods, Rank: ranks, Now: metav1.NewTime(now)}
}
