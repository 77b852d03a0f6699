package quota

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apiserver/pkg/admission"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
	"k8s.io/utils/clock"
)

var podObjectCount = generic.ObjectCountQuotaResourceNameFor(schema.GroupResource{Resource: "pods"})

// podResources are the quota resources a pod may use.
var podResources = []corev1.ResourceName{
	podObjectCount,
	corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsEphemeralStorage,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
	corev1.ResourcePods,
}

// podResourcePrefixes are the prefixed resources a pod may use
// (requests.hugepages-2Mi, requests.<extended resource>).
var podResourcePrefixes = []string{corev1.ResourceHugePagesPrefix, corev1.DefaultResourceRequestsPrefix + corev1.ResourceHugePagesPrefix}

// validationSet: when a quota limits any of these, every container must
// state it (Kubernetes' backward-compatible rule).
var validationSet = sets.New(
	corev1.ResourceCPU, corev1.ResourceMemory,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
)

type podEvaluator struct {
	list  generic.ListFuncByNamespace
	clock clock.PassiveClock
}

// NewPodEvaluator returns the evaluator of pods.
func NewPodEvaluator(list generic.ListFuncByNamespace, clk clock.PassiveClock) quota.Evaluator {
	return &podEvaluator{list: list, clock: clk}
}

func toPod(obj runtime.Object) (*corev1.Pod, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, fmt.Errorf("expected a pod, got %T", obj)
	}
	return pod, nil
}

// Constraints requires every container to state the cpu and memory
// requests and limits the quota limits.
func (p *podEvaluator) Constraints(required []corev1.ResourceName, item runtime.Object) error {
	pod, err := toPod(item)
	if err != nil {
		return err
	}
	requiredSet := sets.New(required...).Intersection(validationSet)
	missing := map[corev1.ResourceName]sets.Set[string]{}
	check := func(c *corev1.Container) {
		have := sets.KeySet(computeUsage(c.Resources.Requests, c.Resources.Limits))
		for _, r := range sets.List(requiredSet.Difference(have)) {
			if missing[r] == nil {
				missing[r] = sets.New[string]()
			}
			missing[r].Insert(c.Name)
		}
	}
	for i := range pod.Spec.Containers {
		check(&pod.Spec.Containers[i])
	}
	for i := range pod.Spec.InitContainers {
		check(&pod.Spec.InitContainers[i])
	}
	if len(missing) == 0 {
		return nil
	}
	names := make([]string, 0, len(missing))
	for r := range missing {
		names = append(names, string(r))
	}
	sort.Strings(names)
	msgs := make([]string, 0, len(names))
	for _, r := range names {
		msgs = append(msgs, fmt.Sprintf("%s for: %s", r, strings.Join(sets.List(missing[corev1.ResourceName(r)]), ",")))
	}
	return fmt.Errorf("must specify %s", strings.Join(msgs, "; "))
}

func (p *podEvaluator) GroupResource() schema.GroupResource {
	return corev1.SchemeGroupVersion.WithResource("pods").GroupResource()
}

// Handles: pod creation (resources cannot change afterwards here).
func (p *podEvaluator) Handles(a admission.Attributes) bool {
	return a.GetOperation() == admission.Create && a.GetSubresource() == ""
}

func (p *podEvaluator) Matches(q *corev1.ResourceQuota, item runtime.Object) (bool, error) {
	return generic.Matches(q, item, p.MatchingResources, podMatchesScope)
}

func (p *podEvaluator) MatchingResources(input []corev1.ResourceName) []corev1.ResourceName {
	result := quota.Intersection(input, podResources)
	for _, r := range input {
		extended := strings.HasPrefix(string(r), corev1.DefaultResourceRequestsPrefix) &&
			isExtendedResourceName(corev1.ResourceName(strings.TrimPrefix(string(r), corev1.DefaultResourceRequestsPrefix)))
		if (quota.ContainsPrefix(podResourcePrefixes, r) || extended) && !quota.Contains(result, r) {
			result = append(result, r)
		}
	}
	return result
}

func (p *podEvaluator) MatchingScopes(item runtime.Object, selectors []corev1.ScopedResourceSelectorRequirement) ([]corev1.ScopedResourceSelectorRequirement, error) {
	matched := []corev1.ScopedResourceSelectorRequirement{}
	for _, s := range selectors {
		ok, err := podMatchesScope(s, item)
		if err != nil {
			return nil, fmt.Errorf("error on matching scope %v: %v", s, err)
		}
		if ok {
			matched = append(matched, s)
		}
	}
	return matched, nil
}

func (p *podEvaluator) UncoveredQuotaScopes(limited, matched []corev1.ScopedResourceSelectorRequirement) ([]corev1.ScopedResourceSelectorRequirement, error) {
	uncovered := []corev1.ScopedResourceSelectorRequirement{}
	for _, l := range limited {
		covered := false
		for _, m := range matched {
			if m.ScopeName != l.ScopeName || m.Operator != l.Operator {
				continue
			}
			if l.Operator == corev1.ScopeSelectorOpIn {
				if sets.New(m.Values...).HasAll(l.Values...) {
					covered = true
					break
				}
				continue
			}
			covered = true
			break
		}
		if !covered {
			uncovered = append(uncovered, l)
		}
	}
	return uncovered, nil
}

// Usage: count/pods always; the rest only while the pod is not terminal.
func (p *podEvaluator) Usage(item runtime.Object) (corev1.ResourceList, error) {
	pod, err := toPod(item)
	if err != nil {
		return nil, err
	}
	result := corev1.ResourceList{podObjectCount: *resource.NewQuantity(1, resource.DecimalSI)}
	if !PodCounted(pod, p.clock) {
		return result, nil
	}
	requests, limits := podRequestsAndLimits(pod)
	return quota.Add(result, computeUsage(requests, limits)), nil
}

func (p *podEvaluator) UsageStats(options quota.UsageStatsOptions) (quota.UsageStats, error) {
	if p.list == nil {
		return quota.UsageStats{}, fmt.Errorf("pod usage stats need a lister")
	}
	return generic.CalculateUsageStats(options, p.list, podMatchesScope, p.Usage)
}

// PodCounted reports whether a pod's compute resources count: not Succeeded
// or Failed, and not deleted for longer than its grace period.
func PodCounted(pod *corev1.Pod, clk clock.PassiveClock) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	if pod.DeletionTimestamp != nil && pod.DeletionGracePeriodSeconds != nil {
		grace := time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
		if clk.Now().After(pod.DeletionTimestamp.Time.Add(grace)) {
			return false
		}
	}
	return true
}

// computeUsage turns requests and limits into quota resources.
func computeUsage(requests, limits corev1.ResourceList) corev1.ResourceList {
	result := corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}
	if q, ok := requests[corev1.ResourceCPU]; ok {
		result[corev1.ResourceCPU] = q
		result[corev1.ResourceRequestsCPU] = q
	}
	if q, ok := limits[corev1.ResourceCPU]; ok {
		result[corev1.ResourceLimitsCPU] = q
	}
	if q, ok := requests[corev1.ResourceMemory]; ok {
		result[corev1.ResourceMemory] = q
		result[corev1.ResourceRequestsMemory] = q
	}
	if q, ok := limits[corev1.ResourceMemory]; ok {
		result[corev1.ResourceLimitsMemory] = q
	}
	if q, ok := requests[corev1.ResourceEphemeralStorage]; ok {
		result[corev1.ResourceEphemeralStorage] = q
		result[corev1.ResourceRequestsEphemeralStorage] = q
	}
	if q, ok := limits[corev1.ResourceEphemeralStorage]; ok {
		result[corev1.ResourceLimitsEphemeralStorage] = q
	}
	for name, q := range requests {
		if strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) {
			result[name] = q
			result[corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+string(name))] = q
		}
		if isExtendedResourceName(name) {
			result[corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+string(name))] = q
		}
	}
	return result
}

func isExtendedResourceName(name corev1.ResourceName) bool {
	s := string(name)
	if !strings.Contains(s, "/") || strings.Contains(s, corev1.ResourceDefaultNamespacePrefix) ||
		strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+s)) == 0
}

// podRequestsAndLimits: the sum over app containers and sidecars, at least
// each init container's (with the sidecars started before it), plus the
// pod overhead.
func podRequestsAndLimits(pod *corev1.Pod) (corev1.ResourceList, corev1.ResourceList) {
	return podTotal(pod, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Requests }),
		podTotal(pod, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Limits })
}

func podTotal(pod *corev1.Pod, of func(*corev1.Container) corev1.ResourceList) corev1.ResourceList {
	total := corev1.ResourceList{}
	for i := range pod.Spec.Containers {
		total = quota.Add(total, of(&pod.Spec.Containers[i]))
	}
	sidecars := corev1.ResourceList{}
	initMax := corev1.ResourceList{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars = quota.Add(sidecars, of(c))
			initMax = quota.Max(initMax, sidecars)
			continue
		}
		initMax = quota.Max(initMax, quota.Add(sidecars, of(c)))
	}
	total = quota.Max(quota.Add(total, sidecars), initMax)
	if pod.Spec.Overhead != nil {
		for name, q := range pod.Spec.Overhead {
			if _, ok := total[name]; ok {
				total = quota.Add(total, corev1.ResourceList{name: q})
			}
		}
	}
	return total
}

// podMatchesScope reports whether a pod is in a quota scope.
func podMatchesScope(s corev1.ScopedResourceSelectorRequirement, obj runtime.Object) (bool, error) {
	pod, err := toPod(obj)
	if err != nil {
		return false, err
	}
	switch s.ScopeName {
	case corev1.ResourceQuotaScopeTerminating:
		return isTerminating(pod), nil
	case corev1.ResourceQuotaScopeNotTerminating:
		return !isTerminating(pod), nil
	case corev1.ResourceQuotaScopeBestEffort:
		return isBestEffort(pod), nil
	case corev1.ResourceQuotaScopeNotBestEffort:
		return !isBestEffort(pod), nil
	case corev1.ResourceQuotaScopePriorityClass:
		if s.Operator == corev1.ScopeSelectorOpExists {
			return pod.Spec.PriorityClassName != "", nil
		}
		sel, err := scopeSelectorToLabelSelector(s)
		if err != nil {
			return false, err
		}
		return sel.Matches(labels.Set{string(corev1.ResourceQuotaScopePriorityClass): pod.Spec.PriorityClassName}), nil
	case corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return usesCrossNamespaceAffinity(pod), nil
	}
	return false, nil
}

func scopeSelectorToLabelSelector(s corev1.ScopedResourceSelectorRequirement) (labels.Selector, error) {
	var op = map[corev1.ScopeSelectorOperator]string{
		corev1.ScopeSelectorOpIn: "in", corev1.ScopeSelectorOpNotIn: "notin",
		corev1.ScopeSelectorOpExists: "exists", corev1.ScopeSelectorOpDoesNotExist: "!",
	}[s.Operator]
	if op == "" {
		return nil, fmt.Errorf("%q is not a valid scope selector operator", s.Operator)
	}
	var expr string
	switch s.Operator {
	case corev1.ScopeSelectorOpIn, corev1.ScopeSelectorOpNotIn:
		expr = fmt.Sprintf("%s %s (%s)", s.ScopeName, op, strings.Join(s.Values, ","))
	case corev1.ScopeSelectorOpExists:
		expr = string(s.ScopeName)
	default:
		expr = "!" + string(s.ScopeName)
	}
	return labels.Parse(expr)
}

func isTerminating(pod *corev1.Pod) bool {
	return pod.Spec.ActiveDeadlineSeconds != nil && *pod.Spec.ActiveDeadlineSeconds >= 0
}

// isBestEffort: no container requests or limits cpu or memory.
func isBestEffort(pod *corev1.Pod) bool {
	all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range all {
		for _, list := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
			for name, q := range list {
				if (name == corev1.ResourceCPU || name == corev1.ResourceMemory) && !q.IsZero() {
					return false
				}
			}
		}
	}
	return true
}

func usesCrossNamespaceAffinity(pod *corev1.Pod) bool {
	a := pod.Spec.Affinity
	if a == nil {
		return false
	}
	cross := func(terms []corev1.PodAffinityTerm) bool {
		for _, t := range terms {
			if len(t.Namespaces) > 0 || t.NamespaceSelector != nil {
				return true
			}
		}
		return false
	}
	weighted := func(terms []corev1.WeightedPodAffinityTerm) bool {
		for _, t := range terms {
			if len(t.PodAffinityTerm.Namespaces) > 0 || t.PodAffinityTerm.NamespaceSelector != nil {
				return true
			}
		}
		return false
	}
	if pa := a.PodAffinity; pa != nil && (cross(pa.RequiredDuringSchedulingIgnoredDuringExecution) || weighted(pa.PreferredDuringSchedulingIgnoredDuringExecution)) {
		return true
	}
	if pa := a.PodAntiAffinity; pa != nil && (cross(pa.RequiredDuringSchedulingIgnoredDuringExecution) || weighted(pa.PreferredDuringSchedulingIgnoredDuringExecution)) {
		return true
	}
	return false
}
