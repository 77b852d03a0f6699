// Package util holds the pure rules of the DaemonSet controller, as
// Kubernetes' pkg/controller/daemon/util: which nodes should run a daemon pod
// (node name, required node affinity / nodeSelector, NoSchedule and NoExecute
// taints), the tolerations and node affinity a daemon pod gets, the labels
// that tie a pod to a template revision, and the rolling update's surge and
// unavailability budgets. It talks to no API server.
package util

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	intstrutil "k8s.io/apimachinery/pkg/util/intstr"
	v1helper "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

const (
	// TemplateGenerationLabel is the pod label carrying the DaemonSet's
	// template generation when the pod was made.
	TemplateGenerationLabel = extensionsv1beta1.DaemonSetTemplateGenerationKey
	// RevisionHashLabel is the pod (and revision) label carrying the
	// template hash of the revision the pod was made from.
	RevisionHashLabel = appsv1.DefaultDaemonSetUniqueLabelKey
)

// GetTemplateGeneration reads the deprecated.daemonset.template.generation
// annotation; nil when absent.
func GetTemplateGeneration(ds *appsv1.DaemonSet) (*int64, error) {
	v, ok := ds.Annotations[appsv1.DeprecatedTemplateGeneration]
	if !ok {
		return nil, nil
	}
	g, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// daemonTolerations are the tolerations every daemon pod gets: it must
// survive node problems (NoExecute not-ready and unreachable, forever) and
// be placed on nodes whose conditions the kubelet checks itself.
func daemonTolerations(hostNetwork bool) []corev1.Toleration {
	ts := []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
		{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
		{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	}
	if hostNetwork {
		ts = append(ts, corev1.Toleration{Key: corev1.TaintNodeNetworkUnavailable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
	}
	return ts
}

// AddOrUpdateDaemonPodTolerations adds the daemon tolerations to spec; a
// toleration with the same key, operator, value and effect is replaced (so a
// tolerationSeconds on it is dropped), as Kubernetes does.
func AddOrUpdateDaemonPodTolerations(spec *corev1.PodSpec) {
	for _, t := range daemonTolerations(spec.HostNetwork) {
		addOrUpdateToleration(spec, t)
	}
}

func addOrUpdateToleration(spec *corev1.PodSpec, t corev1.Toleration) {
	for i := range spec.Tolerations {
		if t.MatchToleration(&spec.Tolerations[i]) {
			if !apiequality.Semantic.DeepEqual(t, spec.Tolerations[i]) {
				spec.Tolerations[i] = t
			}
			return
		}
	}
	spec.Tolerations = append(spec.Tolerations, t)
}

// CreatePodTemplate is the template a daemon pod is made from: the
// DaemonSet's, with the daemon tolerations and the template generation and
// revision hash labels.
func CreatePodTemplate(template corev1.PodTemplateSpec, generation *int64, hash string) corev1.PodTemplateSpec {
	t := *template.DeepCopy()
	AddOrUpdateDaemonPodTolerations(&t.Spec)
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	if generation != nil {
		t.Labels[TemplateGenerationLabel] = strconv.FormatInt(*generation, 10)
	}
	if hash != "" {
		t.Labels[RevisionHashLabel] = hash
	}
	return t
}

// ReplaceDaemonSetPodNodeNameNodeAffinity makes the required node affinity
// select exactly node (matchFields metadata.name In [node]), replacing any
// required terms: the controller has already checked that the node matches
// them, and the scheduler then binds the pod there.
func ReplaceDaemonSetPodNodeNameNodeAffinity(affinity *corev1.Affinity, node string) *corev1.Affinity {
	sel := &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchFields: []corev1.NodeSelectorRequirement{{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
	}}}
	if affinity == nil {
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: sel}}
	}
	if affinity.NodeAffinity == nil {
		affinity.NodeAffinity = &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: sel}
		return affinity
	}
	affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = sel
	return affinity
}

// GetTargetNodeName is the node a daemon pod is for: spec.nodeName once
// bound, else the metadata.name In [node] term of its node affinity.
func GetTargetNodeName(pod *corev1.Pod) (string, error) {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName, nil
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return "", fmt.Errorf("no spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution for pod %s/%s", pod.Namespace, pod.Name)
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) == 0 {
		return "", fmt.Errorf("no nodeSelectorTerms in requiredDuringSchedulingIgnoredDuringExecution of pod %s/%s", pod.Namespace, pod.Name)
	}
	for _, term := range terms {
		for _, f := range term.MatchFields {
			if f.Key == metav1.ObjectNameField && f.Operator == corev1.NodeSelectorOpIn {
				if len(f.Values) != 1 {
					return "", fmt.Errorf("the matchFields value of '%s' is not unique for pod %s/%s", metav1.ObjectNameField, pod.Namespace, pod.Name)
				}
				return f.Values[0], nil
			}
		}
	}
	return "", fmt.Errorf("no node name found for pod %s/%s", pod.Namespace, pod.Name)
}

// IsPodUpdated reports whether pod was made from the current template: its
// revision hash or (for pods of older controllers) its template generation
// matches.
func IsPodUpdated(pod *corev1.Pod, hash string, generation *int64) bool {
	templateMatches := generation != nil && pod.Labels[TemplateGenerationLabel] == strconv.FormatInt(*generation, 10)
	hashMatches := hash != "" && pod.Labels[RevisionHashLabel] == hash
	return hashMatches || templateMatches
}

// SurgeCount is how many nodes may run an extra (new) pod during a rolling
// update out of numberToSchedule (percentages round up); 0 when not rolling.
func SurgeCount(ds *appsv1.DaemonSet, numberToSchedule int) (int, error) {
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return 0, nil
	}
	r := ds.Spec.UpdateStrategy.RollingUpdate
	if r == nil || r.MaxSurge == nil {
		return 0, nil
	}
	return intstrutil.GetScaledValueFromIntOrPercent(r.MaxSurge, numberToSchedule, true)
}

// UnavailableCount is how many nodes may be without an available pod during
// a rolling update out of numberToSchedule (percentages round up).
func UnavailableCount(ds *appsv1.DaemonSet, numberToSchedule int) (int, error) {
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return 0, nil
	}
	r := ds.Spec.UpdateStrategy.RollingUpdate
	if r == nil || r.MaxUnavailable == nil {
		return 0, nil
	}
	return intstrutil.GetScaledValueFromIntOrPercent(r.MaxUnavailable, numberToSchedule, true)
}

// AllowsSurge reports whether the DaemonSet rolls out by surging.
func AllowsSurge(ds *appsv1.DaemonSet) bool {
	n, err := SurgeCount(ds, 1)
	return err == nil && n > 0
}

// NewPod is the pod the DaemonSet would run on node, for the predicates.
func NewPod(ds *appsv1.DaemonSet, nodeName string) *corev1.Pod {
	pod := &corev1.Pod{Spec: *ds.Spec.Template.Spec.DeepCopy(), ObjectMeta: *ds.Spec.Template.ObjectMeta.DeepCopy()}
	pod.Namespace = ds.Namespace
	pod.Spec.NodeName = nodeName
	AddOrUpdateDaemonPodTolerations(&pod.Spec)
	return pod
}

// NodeShouldRunDaemonPod says whether the DaemonSet should place a pod on
// node (shouldRun) and whether a pod already there may stay
// (shouldContinueRunning): the template's nodeName, the required node
// affinity and nodeSelector must match; an untolerated NoSchedule taint stops
// new pods but lets a running one stay, an untolerated NoExecute taint
// removes it.
func NodeShouldRunDaemonPod(node *corev1.Node, ds *appsv1.DaemonSet) (shouldRun, shouldContinueRunning bool) {
	return NewNodePredicate(ds).ShouldRun(node)
}

// NodePredicate is NodeShouldRunDaemonPod for one DaemonSet, prepared once
// (daemon pod tolerations, parsed node affinity) for many nodes.
type NodePredicate struct {
	nodeName    string
	affinity    nodeaffinity.RequiredNodeAffinity
	tolerations []corev1.Toleration
}

// NewNodePredicate prepares the node checks of ds.
func NewNodePredicate(ds *appsv1.DaemonSet) *NodePredicate {
	pod := NewPod(ds, "")
	return &NodePredicate{nodeName: ds.Spec.Template.Spec.NodeName, affinity: nodeaffinity.GetRequiredNodeAffinity(pod), tolerations: pod.Spec.Tolerations}
}

// ShouldRun is NodeShouldRunDaemonPod's answer for node.
func (p *NodePredicate) ShouldRun(node *corev1.Node) (shouldRun, shouldContinueRunning bool) {
	if p.nodeName != "" && p.nodeName != node.Name {
		return false, false
	}
	// Parse errors count as no match, as Kubernetes ignores them here.
	if fits, _ := p.affinity.Match(node); !fits {
		return false, false
	}
	logger := klog.Background()
	if _, untolerated := v1helper.FindMatchingUntoleratedTaint(logger, node.Spec.Taints, p.tolerations, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoExecute || t.Effect == corev1.TaintEffectNoSchedule
	}, false); !untolerated {
		return true, true
	}
	_, noExecute := v1helper.FindMatchingUntoleratedTaint(logger, node.Spec.Taints, p.tolerations, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoExecute
	}, false)
	return false, !noExecute
}
