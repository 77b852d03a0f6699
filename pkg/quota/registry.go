package quota

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
	"k8s.io/utils/clock"
)

// legacyObjectCounts are the core resources counted under both
// count/<resource> and their historical name.
var legacyObjectCounts = map[schema.GroupVersionResource]corev1.ResourceName{
	corev1.SchemeGroupVersion.WithResource("configmaps"):             corev1.ResourceConfigMaps,
	corev1.SchemeGroupVersion.WithResource("resourcequotas"):         corev1.ResourceQuotas,
	corev1.SchemeGroupVersion.WithResource("replicationcontrollers"): corev1.ResourceReplicationControllers,
	corev1.SchemeGroupVersion.WithResource("secrets"):                corev1.ResourceSecrets,
}

// ignoredResources are never quota'd (Kubernetes' list: the review and
// request kinds that are never stored).
var ignoredResources = map[schema.GroupResource]struct{}{
	{Group: "", Resource: "events"}:                                        {},
	{Group: "authentication.k8s.io", Resource: "tokenreviews"}:             {},
	{Group: "authentication.k8s.io", Resource: "selfsubjectreviews"}:       {},
	{Group: "authorization.k8s.io", Resource: "subjectaccessreviews"}:      {},
	{Group: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}:  {},
	{Group: "authorization.k8s.io", Resource: "localsubjectaccessreviews"}: {},
	{Group: "authorization.k8s.io", Resource: "selfsubjectrulesreviews"}:   {},
}

// NewEvaluators returns the evaluators for pods, services,
// persistentvolumeclaims and the legacy object counts. listers gives
// each a lister for UsageStats; nil leaves UsageStats unusable (admission
// needs only Usage).
func NewEvaluators(listers quota.ListerForResourceFunc, clk clock.PassiveClock) []quota.Evaluator {
	if clk == nil {
		clk = clock.RealClock{}
	}
	list := func(gvr schema.GroupVersionResource) generic.ListFuncByNamespace {
		if listers == nil {
			return nil
		}
		return generic.ListResourceUsingListerFunc(listers, gvr)
	}
	result := []quota.Evaluator{
		NewPodEvaluator(list(corev1.SchemeGroupVersion.WithResource("pods")), clk),
		NewServiceEvaluator(list(corev1.SchemeGroupVersion.WithResource("services"))),
		NewPersistentVolumeClaimEvaluator(list(corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims"))),
	}
	for gvr, alias := range legacyObjectCounts {
		result = append(result, generic.NewObjectCountEvaluator(gvr.GroupResource(), list(gvr), alias))
	}
	return result
}

// NewConfiguration is the quota configuration of the admission plugin and
// the controller.
func NewConfiguration(listers quota.ListerForResourceFunc, clk clock.PassiveClock) quota.Configuration {
	return generic.NewConfiguration(NewEvaluators(listers, clk), IgnoredResources())
}

// IgnoredResources returns the group resources quota never tracks.
func IgnoredResources() map[schema.GroupResource]struct{} {
	out := make(map[schema.GroupResource]struct{}, len(ignoredResources))
	for k := range ignoredResources {
		out[k] = struct{}{}
	}
	return out
}
