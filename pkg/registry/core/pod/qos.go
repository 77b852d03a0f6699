package pod

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// QOSClass computes a pod's quality of service class the way Kubernetes
// does: Guaranteed when every container sets equal cpu and memory requests
// and limits, BestEffort when none sets any, Burstable otherwise. Pod-level
// resources, when set, decide alone.
func QOSClass(spec *corev1.PodSpec) corev1.PodQOSClass {
	if spec.Resources != nil && (len(spec.Resources.Requests) > 0 || len(spec.Resources.Limits) > 0) {
		return classify(spec.Resources.Requests, spec.Resources.Limits, true)
	}
	requests := corev1.ResourceList{}
	limits := corev1.ResourceList{}
	guaranteed := true
	all := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	for _, c := range all {
		for name, q := range c.Resources.Requests {
			if !supported(name) || q.IsZero() {
				continue
			}
			addTo(requests, name, q)
		}
		seen := 0
		for name, q := range c.Resources.Limits {
			if !supported(name) || q.IsZero() {
				continue
			}
			seen++
			addTo(limits, name, q)
		}
		if seen != 2 {
			guaranteed = false
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed && equalLists(requests, limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

func classify(requests, limits corev1.ResourceList, _ bool) corev1.PodQOSClass {
	r, l := corev1.ResourceList{}, corev1.ResourceList{}
	for n, q := range requests {
		if supported(n) && !q.IsZero() {
			r[n] = q
		}
	}
	for n, q := range limits {
		if supported(n) && !q.IsZero() {
			l[n] = q
		}
	}
	if len(r) == 0 && len(l) == 0 {
		return corev1.PodQOSBestEffort
	}
	if len(l) == 2 && equalLists(r, l) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

func supported(n corev1.ResourceName) bool {
	return n == corev1.ResourceCPU || n == corev1.ResourceMemory
}

func addTo(list corev1.ResourceList, n corev1.ResourceName, q resource.Quantity) {
	if cur, ok := list[n]; ok {
		cur.Add(q)
		list[n] = cur
		return
	}
	list[n] = q.DeepCopy()
}

// equalLists: every limit has an equal request (requests default to limits).
func equalLists(requests, limits corev1.ResourceList) bool {
	for n, l := range limits {
		r, ok := requests[n]
		if !ok {
			continue
		}
		if r.Cmp(l) != 0 {
			return false
		}
	}
	for n := range requests {
		if _, ok := limits[n]; !ok {
			return false
		}
	}
	return true
}
