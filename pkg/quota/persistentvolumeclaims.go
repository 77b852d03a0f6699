package quota

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
)

// storageClassSuffix names per-class resources:
// <class>.storageclass.storage.k8s.io/requests.storage.
const storageClassSuffix = ".storageclass.storage.k8s.io/"

var pvcObjectCount = generic.ObjectCountQuotaResourceNameFor(schema.GroupResource{Resource: "persistentvolumeclaims"})

var pvcResources = []corev1.ResourceName{
	pvcObjectCount, corev1.ResourcePersistentVolumeClaims, corev1.ResourceRequestsStorage,
}

// NewPersistentVolumeClaimEvaluator returns the evaluator of claims: count
// and requested storage, in total and per storage class.
func NewPersistentVolumeClaimEvaluator(list generic.ListFuncByNamespace) quota.Evaluator {
	return &pvcEvaluator{list: list}
}

type pvcEvaluator struct {
	list generic.ListFuncByNamespace
}

func (p *pvcEvaluator) Constraints([]corev1.ResourceName, runtime.Object) error { return nil }

func (p *pvcEvaluator) GroupResource() schema.GroupResource {
	return schema.GroupResource{Resource: "persistentvolumeclaims"}
}

// Handles: creation, and updates (a claim may grow).
func (p *pvcEvaluator) Handles(a admission.Attributes) bool {
	op := a.GetOperation()
	return a.GetSubresource() == "" && (op == admission.Create || op == admission.Update)
}

func (p *pvcEvaluator) Matches(q *corev1.ResourceQuota, item runtime.Object) (bool, error) {
	return generic.Matches(q, item, p.MatchingResources, generic.MatchesNoScopeFunc)
}

func (p *pvcEvaluator) MatchingResources(input []corev1.ResourceName) []corev1.ResourceName {
	result := []corev1.ResourceName{}
	for _, r := range input {
		if quota.Contains(pvcResources, r) {
			result = append(result, r)
			continue
		}
		if i := strings.Index(string(r), storageClassSuffix); i > 0 {
			switch corev1.ResourceName(string(r)[i+len(storageClassSuffix):]) {
			case corev1.ResourcePersistentVolumeClaims, corev1.ResourceRequestsStorage:
				result = append(result, r)
			}
		}
	}
	return result
}

func (p *pvcEvaluator) MatchingScopes(runtime.Object, []corev1.ScopedResourceSelectorRequirement) ([]corev1.ScopedResourceSelectorRequirement, error) {
	return []corev1.ScopedResourceSelectorRequirement{}, nil
}

func (p *pvcEvaluator) UncoveredQuotaScopes(_, _ []corev1.ScopedResourceSelectorRequirement) ([]corev1.ScopedResourceSelectorRequirement, error) {
	return []corev1.ScopedResourceSelectorRequirement{}, nil
}

func storageClassResource(class string, r corev1.ResourceName) corev1.ResourceName {
	return corev1.ResourceName(class + storageClassSuffix + string(r))
}

// Usage counts the claim and its storage request (the larger of the
// request and what was allocated), also under its storage class.
func (p *pvcEvaluator) Usage(item runtime.Object) (corev1.ResourceList, error) {
	pvc, ok := item.(*corev1.PersistentVolumeClaim)
	if !ok {
		return nil, fmt.Errorf("expected a persistentvolumeclaim, got %T", item)
	}
	one := *resource.NewQuantity(1, resource.DecimalSI)
	result := corev1.ResourceList{corev1.ResourcePersistentVolumeClaims: one, pvcObjectCount: one}
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	} else if c, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		class = c
	}
	if class != "" {
		result[storageClassResource(class, corev1.ResourcePersistentVolumeClaims)] = one
	}
	storage, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if allocated, found := pvc.Status.AllocatedResources[corev1.ResourceStorage]; found && (!ok || allocated.Cmp(storage) > 0) {
		storage, ok = allocated, true
	}
	if ok {
		result[corev1.ResourceRequestsStorage] = storage
		if class != "" {
			result[storageClassResource(class, corev1.ResourceRequestsStorage)] = storage
		}
	}
	return result, nil
}

func (p *pvcEvaluator) UsageStats(options quota.UsageStatsOptions) (quota.UsageStats, error) {
	if p.list == nil {
		return quota.UsageStats{}, fmt.Errorf("persistentvolumeclaim usage stats need a lister")
	}
	return generic.CalculateUsageStats(options, p.list, generic.MatchesNoScopeFunc, p.Usage)
}
