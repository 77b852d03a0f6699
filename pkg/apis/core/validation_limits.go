package core

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validation of ResourceQuota and LimitRange with Kubernetes' rules and
// messages.

var standardQuotaResources = sets.New[corev1.ResourceName](
	corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsStorage,
	corev1.ResourceRequestsEphemeralStorage,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
	corev1.ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices, corev1.ResourceReplicationControllers,
	corev1.ResourceSecrets, corev1.ResourcePersistentVolumeClaims, corev1.ResourceConfigMaps,
	corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers,
)

// podScopedQuotaResources are what the pod scopes (Terminating, NotTerminating,
// NotBestEffort, PriorityClass, CrossNamespacePodAffinity) may limit.
var podScopedQuotaResources = sets.New[corev1.ResourceName](
	corev1.ResourcePods, corev1.ResourceCPU, corev1.ResourceMemory,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory,
)

var standardQuotaScopes = sets.New(
	corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
	corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort,
	corev1.ResourceQuotaScopePriorityClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity,
	corev1.ResourceQuotaScopeVolumeAttributesClass,
)

func isStandardQuotaResourceName(name corev1.ResourceName) bool {
	s := string(name)
	return standardQuotaResources.Has(name) || strings.HasPrefix(s, "requests."+hugePagesPrefix)
}

func scopeValidForResource(scope corev1.ResourceQuotaScope, name corev1.ResourceName) bool {
	switch scope {
	case corev1.ResourceQuotaScopeBestEffort:
		return name == corev1.ResourcePods
	case corev1.ResourceQuotaScopeVolumeAttributesClass:
		return name == corev1.ResourcePersistentVolumeClaims || name == corev1.ResourceRequestsStorage
	default:
		return podScopedQuotaResources.Has(name)
	}
}

// validateResourceName: a qualified name, and a standard one when not
// fully qualified.
func validateResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	allErrs := validateQualifiedName(string(name), fldPath)
	if len(allErrs) != 0 {
		return allErrs
	}
	if !strings.Contains(string(name), "/") && !isStandardResourceName(name) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, "must be a standard resource type or fully qualified"))
	}
	return allErrs
}

func validateQuotaResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	allErrs := validateResourceName(name, fldPath)
	if !strings.Contains(string(name), "/") && !isStandardQuotaResourceName(name) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, "must be a standard resource for quota"))
	}
	return allErrs
}

func validateQuotaResourceList(list corev1.ResourceList, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, k := range sortedResourceNames(list) {
		p := fldPath.Key(string(k))
		allErrs = append(allErrs, validateQuotaResourceName(k, p)...)
		allErrs = append(allErrs, validateResourceQuantityValue(k, list[k], p)...)
	}
	return allErrs
}

func sortedResourceNames(list corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(list))
	for k := range list {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names
}

// ValidateResourceQuota validates a new ResourceQuota.
func ValidateResourceQuota(q *corev1.ResourceQuota) field.ErrorList {
	allErrs := validateObjectMeta(&q.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateResourceQuotaSpec(&q.Spec, field.NewPath("spec"))...)
	allErrs = append(allErrs, validateQuotaResourceList(q.Status.Hard, field.NewPath("status", "hard"))...)
	allErrs = append(allErrs, validateQuotaResourceList(q.Status.Used, field.NewPath("status", "used"))...)
	return allErrs
}

func validateResourceQuotaSpec(spec *corev1.ResourceQuotaSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateQuotaResourceList(spec.Hard, fldPath.Child("hard"))
	allErrs = append(allErrs, validateQuotaScopes(spec, fldPath)...)
	allErrs = append(allErrs, validateScopeSelector(spec, fldPath)...)
	return allErrs
}

func validateQuotaScopes(spec *corev1.ResourceQuotaSpec, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(spec.Scopes) == 0 {
		return nil
	}
	fldPath := fld.Child("scopes")
	scopes := sets.New[corev1.ResourceQuotaScope]()
	for _, scope := range spec.Scopes {
		if !standardQuotaScopes.Has(scope) {
			allErrs = append(allErrs, field.Invalid(fldPath, spec.Scopes, "unsupported scope"))
		}
		for _, k := range sortedResourceNames(spec.Hard) {
			if isStandardQuotaResourceName(k) && !scopeValidForResource(scope, k) {
				allErrs = append(allErrs, field.Invalid(fldPath, spec.Scopes, "unsupported scope applied to resource"))
			}
		}
		scopes.Insert(scope)
	}
	for _, pair := range [][2]corev1.ResourceQuotaScope{
		{corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort},
		{corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating},
	} {
		if scopes.Has(pair[0]) && scopes.Has(pair[1]) {
			allErrs = append(allErrs, field.Invalid(fldPath, spec.Scopes, "conflicting scopes"))
		}
	}
	return allErrs
}

func validateScopeSelector(spec *corev1.ResourceQuotaSpec, fld *field.Path) field.ErrorList {
	if spec.ScopeSelector == nil {
		return nil
	}
	var allErrs field.ErrorList
	fldPath := fld.Child("scopeSelector", "matchExpressions")
	scopes := sets.New[corev1.ResourceQuotaScope]()
	for i, req := range spec.ScopeSelector.MatchExpressions {
		p := fldPath.Index(i)
		if !standardQuotaScopes.Has(req.ScopeName) {
			allErrs = append(allErrs, field.Invalid(p.Child("scopeName"), req.ScopeName, "unsupported scope"))
		}
		for _, k := range sortedResourceNames(spec.Hard) {
			if isStandardQuotaResourceName(k) && !scopeValidForResource(req.ScopeName, k) {
				allErrs = append(allErrs, field.Invalid(fldPath, spec.ScopeSelector, "unsupported scope applied to resource"))
			}
		}
		switch req.ScopeName {
		case corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort,
			corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
			corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
			if req.Operator != corev1.ScopeSelectorOpExists {
				allErrs = append(allErrs, field.Invalid(p.Child("operator"), req.Operator,
					"must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"))
			}
		}
		switch req.Operator {
		case corev1.ScopeSelectorOpIn, corev1.ScopeSelectorOpNotIn:
			if len(req.Values) == 0 {
				allErrs = append(allErrs, field.Required(p.Child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"))
			}
		case corev1.ScopeSelectorOpExists, corev1.ScopeSelectorOpDoesNotExist:
			if len(req.Values) != 0 {
				allErrs = append(allErrs, field.Invalid(p.Child("values"), req.Values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"))
			}
		default:
			allErrs = append(allErrs, field.Invalid(p.Child("operator"), req.Operator, "not a valid selector operator"))
		}
		scopes.Insert(req.ScopeName)
	}
	for _, pair := range [][2]corev1.ResourceQuotaScope{
		{corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort},
		{corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating},
	} {
		if scopes.Has(pair[0]) && scopes.Has(pair[1]) {
			allErrs = append(allErrs, field.Invalid(fldPath, spec.ScopeSelector, "conflicting scopes"))
		}
	}
	return allErrs
}

// ValidateResourceQuotaUpdate validates a change of a ResourceQuota's spec:
// its scopes cannot change.
func ValidateResourceQuotaUpdate(q, old *corev1.ResourceQuota) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&q.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateResourceQuotaSpec(&q.Spec, field.NewPath("spec"))...)
	fldPath := field.NewPath("spec", "scopes")
	oldScopes := sets.New(old.Spec.Scopes...)
	newScopes := sets.New(q.Spec.Scopes...)
	if !oldScopes.Equal(newScopes) {
		allErrs = append(allErrs, field.Invalid(fldPath, q.Spec.Scopes, fieldImmutableMsg))
	}
	if !reflect.DeepEqual(old.Spec.ScopeSelector, q.Spec.ScopeSelector) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("spec", "scopeSelector"), q.Spec.ScopeSelector, fieldImmutableMsg))
	}
	return allErrs
}

// ValidateResourceQuotaStatusUpdate validates status.hard and status.used.
func ValidateResourceQuotaStatusUpdate(q, old *corev1.ResourceQuota) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&q.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	if len(q.ResourceVersion) == 0 {
		allErrs = append(allErrs, field.Required(field.NewPath("resourceVersion"), ""))
	}
	allErrs = append(allErrs, validateQuotaResourceList(q.Status.Hard, field.NewPath("status", "hard"))...)
	allErrs = append(allErrs, validateQuotaResourceList(q.Status.Used, field.NewPath("status", "used"))...)
	return allErrs
}

// SetDefaultsLimitRange applies Kubernetes' defaults to Container limits: a
// missing default limit is the max, a missing default request is the
// default limit, else the min.
func SetDefaultsLimitRange(l *corev1.LimitRange) {
	for i := range l.Spec.Limits {
		item := &l.Spec.Limits[i]
		if item.Type != corev1.LimitTypeContainer {
			continue
		}
		if item.Default == nil {
			item.Default = corev1.ResourceList{}
		}
		if item.DefaultRequest == nil {
			item.DefaultRequest = corev1.ResourceList{}
		}
		for k, v := range item.Max {
			if _, ok := item.Default[k]; !ok {
				item.Default[k] = v.DeepCopy()
			}
		}
		for k, v := range item.Default {
			if _, ok := item.DefaultRequest[k]; !ok {
				item.DefaultRequest[k] = v.DeepCopy()
			}
		}
		for k, v := range item.Min {
			if _, ok := item.DefaultRequest[k]; !ok {
				item.DefaultRequest[k] = v.DeepCopy()
			}
		}
	}
}

// ValidateLimitRange validates a LimitRange.
func ValidateLimitRange(l *corev1.LimitRange) field.ErrorList {
	allErrs := validateObjectMeta(&l.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateLimitRangeSpec(&l.Spec)...)
	return allErrs
}

// ValidateLimitRangeUpdate validates a change of a LimitRange.
func ValidateLimitRangeUpdate(l, old *corev1.LimitRange) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&l.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateLimitRangeSpec(&l.Spec)...)
	return allErrs
}

func validateLimitRangeResourceName(t corev1.LimitType, name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	switch t {
	case corev1.LimitTypePod, corev1.LimitTypeContainer:
		return validateContainerResourceName(name, fldPath)
	default:
		return validateResourceName(name, fldPath)
	}
}

func validateLimitRangeSpec(spec *corev1.LimitRangeSpec) field.ErrorList {
	var allErrs field.ErrorList
	types := map[corev1.LimitType]bool{}
	fldPath := field.NewPath("spec", "limits")
	for i := range spec.Limits {
		idxPath := fldPath.Index(i)
		limit := &spec.Limits[i]
		typePath := idxPath.Child("type")
		allErrs = append(allErrs, validateQualifiedName(string(limit.Type), typePath)...)
		if !strings.Contains(string(limit.Type), "/") {
			switch limit.Type {
			case corev1.LimitTypePod, corev1.LimitTypeContainer, corev1.LimitTypePersistentVolumeClaim:
			default:
				allErrs = append(allErrs, field.Invalid(typePath, limit.Type, "must be a standard limit type or fully qualified"))
			}
		}
		if types[limit.Type] {
			allErrs = append(allErrs, field.Duplicate(typePath, limit.Type))
		}
		types[limit.Type] = true

		keys := sets.New[string]()
		min, max := map[string]resource.Quantity{}, map[string]resource.Quantity{}
		defaults, defaultRequests, ratios := map[string]resource.Quantity{}, map[string]resource.Quantity{}, map[string]resource.Quantity{}
		collect := func(list corev1.ResourceList, into map[string]resource.Quantity, name string) {
			for _, k := range sortedResourceNames(list) {
				allErrs = append(allErrs, validateLimitRangeResourceName(limit.Type, k, idxPath.Child(name).Key(string(k)))...)
				keys.Insert(string(k))
				into[string(k)] = list[k]
			}
		}
		collect(limit.Max, max, "max")
		collect(limit.Min, min, "min")
		if limit.Type == corev1.LimitTypePod {
			if len(limit.Default) > 0 {
				allErrs = append(allErrs, field.Forbidden(idxPath.Child("default"), "may not be specified when `type` is 'Pod'"))
			}
			if len(limit.DefaultRequest) > 0 {
				allErrs = append(allErrs, field.Forbidden(idxPath.Child("defaultRequest"), "may not be specified when `type` is 'Pod'"))
			}
		} else {
			collect(limit.Default, defaults, "default")
			collect(limit.DefaultRequest, defaultRequests, "defaultRequest")
		}
		if limit.Type == corev1.LimitTypePersistentVolumeClaim {
			_, minFound := limit.Min[corev1.ResourceStorage]
			_, maxFound := limit.Max[corev1.ResourceStorage]
			if !minFound && !maxFound {
				allErrs = append(allErrs, field.Required(idxPath.Child("limits"), "either minimum or maximum storage value is required, but neither was provided"))
			}
		}
		collect(limit.MaxLimitRequestRatio, ratios, "maxLimitRequestRatio")

		for _, k := range sets.List(keys) {
			minQ, minFound := min[k]
			maxQ, maxFound := max[k]
			defQ, defFound := defaults[k]
			defReqQ, defReqFound := defaultRequests[k]
			ratio, ratioFound := ratios[k]
			if minFound && maxFound && minQ.Cmp(maxQ) > 0 {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("min").Key(k), minQ, fmt.Sprintf("min value %s is greater than max value %s", minQ.String(), maxQ.String())))
			}
			if defReqFound && minFound && minQ.Cmp(defReqQ) > 0 {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("defaultRequest").Key(k), defReqQ, fmt.Sprintf("min value %s is greater than default request value %s", minQ.String(), defReqQ.String())))
			}
			if defReqFound && maxFound && defReqQ.Cmp(maxQ) > 0 {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("defaultRequest").Key(k), defReqQ, fmt.Sprintf("default request value %s is greater than max value %s", defReqQ.String(), maxQ.String())))
			}
			if defReqFound && defFound && defReqQ.Cmp(defQ) > 0 {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("defaultRequest").Key(k), defReqQ, fmt.Sprintf("default request value %s is greater than default limit value %s", defReqQ.String(), defQ.String())))
			}
			if defFound && minFound && minQ.Cmp(defQ) > 0 {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("default").Key(k), minQ, fmt.Sprintf("min value %s is greater than default value %s", minQ.String(), defQ.String())))
			}
			if defFound && maxFound && defQ.Cmp(maxQ) > 0 {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("default").Key(k), maxQ, fmt.Sprintf("default value %s is greater than max value %s", defQ.String(), maxQ.String())))
			}
			if ratioFound && ratio.Cmp(*resource.NewQuantity(1, resource.DecimalSI)) < 0 {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("maxLimitRequestRatio").Key(k), ratio, fmt.Sprintf("ratio %s is less than 1", ratio.String())))
			}
			if ratioFound && minFound && maxFound {
				ratioValue := float64(ratio.Value())
				minValue, maxValue := minQ.Value(), maxQ.Value()
				if ratio.Value() < resource.MaxMilliValue && minValue < resource.MaxMilliValue && maxValue < resource.MaxMilliValue {
					ratioValue = float64(ratio.MilliValue()) / 1000
					minValue, maxValue = minQ.MilliValue(), maxQ.MilliValue()
				}
				ratioLimit := float64(maxValue) / float64(minValue)
				if ratioValue > ratioLimit {
					allErrs = append(allErrs, field.Invalid(idxPath.Child("maxLimitRequestRatio").Key(k), ratio, fmt.Sprintf("ratio %s is greater than max/min = %f", ratio.String(), ratioLimit)))
				}
			}
			if !isOvercommitAllowed(corev1.ResourceName(k)) && defFound && defReqFound && defQ.Cmp(defReqQ) != 0 {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("defaultRequest").Key(k), defReqQ, fmt.Sprintf("default value %s must equal to defaultRequest value %s in %s", defQ.String(), defReqQ.String(), k)))
			}
		}
	}
	return allErrs
}
