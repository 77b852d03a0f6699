package scheduler

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"
)

// Filter reasons, worded as Kubernetes' scheduler plugins word them; they are
// counted per node into the FailedScheduling message.
const (
	ReasonNodeUnschedulable   = "node(s) were unschedulable"
	ReasonNodeName            = "node(s) didn't match the requested node name"
	ReasonNodeAffinity        = "node(s) didn't match Pod's node affinity/selector"
	ReasonNodeAffinityPreFilt = "node(s) didn't satisfy plugin(s) [NodeAffinity]"
	ReasonNodePorts           = "node(s) didn't have free ports for the requested pod ports"
	ReasonTooManyPods         = "Too many pods"
	// NoNodesAvailableMsg is the whole message when the cluster has no node.
	NoNodesAvailableMsg = "no nodes available to schedule pods"
)

// Score weights, as in Kubernetes' default profile (NodeResourcesFit 1,
// PodTopologySpread 2; our owner spreading stands in for the latter).
const (
	weightLeastAllocated = 1
	weightOwnerSpread    = 2
	maxNodeScore         = 100
)

// untoleratedTaintReason is TaintToleration's reason for one taint.
func untoleratedTaintReason(t *v1.Taint) string {
	return fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value)
}

func insufficientReason(name v1.ResourceName) string {
	return fmt.Sprintf("Insufficient %v", name)
}

// FitError says why a pod fits no node: per reason, how many nodes gave it.
type FitError struct {
	NumAllNodes int
	Reasons     map[string]int
	// PreFilterMsg, when set, is why a PreFilter rejected the pod for
	// every node; it replaces the per-node reasons.
	PreFilterMsg string
}

// Error renders Kubernetes' FitError message, e.g.
// "0/3 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.".
// There is no preemption, so there is no " preemption: …" part.
func (f *FitError) Error() string {
	if f.NumAllNodes == 0 {
		return NoNodesAvailableMsg
	}
	msg := fmt.Sprintf("0/%v nodes are available:", f.NumAllNodes)
	if f.PreFilterMsg != "" {
		return msg + fmt.Sprintf(" %v.", f.PreFilterMsg)
	}
	parts := make([]string, 0, len(f.Reasons))
	for reason, n := range f.Reasons {
		parts = append(parts, fmt.Sprintf("%v %v", n, reason))
	}
	sort.Strings(parts)
	if len(parts) > 0 {
		msg += fmt.Sprintf(" %v.", strings.Join(parts, ", "))
	}
	return msg
}

// filter runs the filters in Kubernetes' default order (NodeUnschedulable,
// NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit) and
// returns the reasons of the first one that rejects the node, nil if it fits.
func filter(pi *podInfo, ni *nodeInfo) []string {
	pod := pi.pod
	if r := filterUnschedulable(pod, ni.node); r != "" {
		return []string{r}
	}
	if pod.Spec.NodeName != "" && pod.Spec.NodeName != ni.name {
		return []string{ReasonNodeName}
	}
	if t := firstUntoleratedTaint(pod.Spec.Tolerations, ni.taints); t != nil {
		return []string{untoleratedTaintReason(t)}
	}
	if !nodeMatchesPod(pod, ni.node) {
		return []string{ReasonNodeAffinity}
	}
	if portsConflict(ni.podPorts(pi), ni.ports) {
		return []string{ReasonNodePorts}
	}
	if rs := fitsResources(pi, ni); len(rs) > 0 {
		return rs
	}
	if r := pi.volumes.filter(ni.node); r != "" {
		return []string{r}
	}
	return nil
}

func filterUnschedulable(pod *v1.Pod, node *v1.Node) string {
	if !node.Spec.Unschedulable {
		return ""
	}
	t := v1.Taint{Key: v1.TaintNodeUnschedulable, Effect: v1.TaintEffectNoSchedule}
	for i := range pod.Spec.Tolerations {
		if pod.Spec.Tolerations[i].ToleratesTaint(klog.Background(), &t, false) {
			return ""
		}
	}
	return ReasonNodeUnschedulable
}

// firstUntoleratedTaint returns the first NoSchedule or NoExecute taint no
// toleration tolerates.
func firstUntoleratedTaint(tolerations []v1.Toleration, taints []v1.Taint) *v1.Taint {
	for i := range taints {
		t := &taints[i]
		if t.Effect != v1.TaintEffectNoSchedule && t.Effect != v1.TaintEffectNoExecute {
			continue
		}
		tolerated := false
		for j := range tolerations {
			if tolerations[j].ToleratesTaint(klog.Background(), t, false) {
				tolerated = true
				break
			}
		}
		if !tolerated {
			return t
		}
	}
	return nil
}

// nodeMatchesPod checks spec.nodeSelector and the required node affinity.
func nodeMatchesPod(pod *v1.Pod, node *v1.Node) bool {
	for k, v := range pod.Spec.NodeSelector {
		if lv, ok := node.Labels[k]; !ok || lv != v {
			return false
		}
	}
	aff := pod.Spec.Affinity
	if aff == nil || aff.NodeAffinity == nil || aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	for _, term := range aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if termMatches(&term, node) {
			return true
		}
	}
	return false
}

// termMatches ANDs a term's expressions and fields; an empty term matches
// nothing.
func termMatches(term *v1.NodeSelectorTerm, node *v1.Node) bool {
	if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
		return false
	}
	for i := range term.MatchExpressions {
		r := &term.MatchExpressions[i]
		v, ok := node.Labels[r.Key]
		if !requirementMatches(r, v, ok) {
			return false
		}
	}
	for i := range term.MatchFields {
		r := &term.MatchFields[i]
		if r.Key != "metadata.name" || (r.Operator != v1.NodeSelectorOpIn && r.Operator != v1.NodeSelectorOpNotIn) {
			return false
		}
		if !requirementMatches(r, node.Name, true) {
			return false
		}
	}
	return true
}

func requirementMatches(r *v1.NodeSelectorRequirement, value string, present bool) bool {
	switch r.Operator {
	case v1.NodeSelectorOpIn:
		return present && contains(r.Values, value)
	case v1.NodeSelectorOpNotIn:
		return !present || !contains(r.Values, value)
	case v1.NodeSelectorOpExists:
		return present
	case v1.NodeSelectorOpDoesNotExist:
		return !present
	case v1.NodeSelectorOpGt, v1.NodeSelectorOpLt:
		if !present || len(r.Values) != 1 {
			return false
		}
		have, err1 := strconv.ParseInt(value, 10, 64)
		want, err2 := strconv.ParseInt(r.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.Operator == v1.NodeSelectorOpGt {
			return have > want
		}
		return have < want
	}
	return false
}

func contains(values []string, v string) bool {
	for _, x := range values {
		if x == v {
			return true
		}
	}
	return false
}

// affinityNodeNames is NodeAffinity's PreFilter: when every required term
// names nodes through matchFields metadata.name In, only those nodes are
// considered (DaemonSet pods); the others are reported with
// ReasonNodeAffinityPreFilt. ok is false when the pod does not restrict nodes
// that way.
func affinityNodeNames(pod *v1.Pod) (names sets.Set[string], ok bool) {
	aff := pod.Spec.Affinity
	if aff == nil || aff.NodeAffinity == nil || aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return nil, false
	}
	terms := aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) == 0 {
		return nil, false
	}
	names = sets.New[string]()
	for _, term := range terms {
		var termNames sets.Set[string]
		for _, f := range term.MatchFields {
			if f.Key != "metadata.name" || f.Operator != v1.NodeSelectorOpIn {
				continue
			}
			s := sets.New(f.Values...)
			if termNames == nil {
				termNames = s
			} else {
				termNames = termNames.Intersection(s)
			}
		}
		if termNames == nil {
			return nil, false
		}
		names = names.Union(termNames)
	}
	return names, true
}

// portsConflict reports whether a wanted host port is taken: same protocol
// and port, and the same IP or either side on 0.0.0.0.
func portsConflict(want []hostPort, used map[hostPort]int) bool {
	for _, w := range want {
		for u := range used {
			if u.port != w.port || u.protocol != w.protocol {
				continue
			}
			if u.ip == w.ip || u.ip == "0.0.0.0" || w.ip == "0.0.0.0" {
				return true
			}
		}
	}
	// Two containers of the pod itself asking for the same port conflict too.
	for i := range want {
		for j := i + 1; j < len(want); j++ {
			a, b := want[i], want[j]
			if a.port == b.port && a.protocol == b.protocol && (a.ip == b.ip || a.ip == "0.0.0.0" || b.ip == "0.0.0.0") {
				return true
			}
		}
	}
	return false
}

// fitsResources is NodeResourcesFit's filter: pod count, then cpu, memory,
// ephemeral-storage and extended resources against allocatable minus what
// the node's pods already request.
func fitsResources(pi *podInfo, ni *nodeInfo) []string {
	var reasons []string
	if int64(len(ni.pods))+1 > ni.allowedPods {
		reasons = append(reasons, ReasonTooManyPods)
	}
	req := pi.req
	if req.isZero() {
		return reasons
	}
	if req.milliCPU > 0 && req.milliCPU > ni.allocatable.milliCPU-ni.requested.milliCPU {
		reasons = append(reasons, insufficientReason(v1.ResourceCPU))
	}
	if req.memory > 0 && req.memory > ni.allocatable.memory-ni.requested.memory {
		reasons = append(reasons, insufficientReason(v1.ResourceMemory))
	}
	if req.ephemeral > 0 && req.ephemeral > ni.allocatable.ephemeral-ni.requested.ephemeral {
		reasons = append(reasons, insufficientReason(v1.ResourceEphemeralStorage))
	}
	if len(req.scalar) > 0 {
		names := make([]string, 0, len(req.scalar))
		for name, q := range req.scalar {
			if q > 0 && q > ni.allocatable.scalar[name]-ni.requested.scalar[name] {
				names = append(names, string(name))
			}
		}
		sort.Strings(names)
		for _, n := range names {
			reasons = append(reasons, insufficientReason(v1.ResourceName(n)))
		}
	}
	return reasons
}

// leastAllocatedScore favours the node with the most free cpu and memory
// after placing the pod (equal weights), 0…100.
func leastAllocatedScore(pi *podInfo, ni *nodeInfo) int64 {
	one := func(requested, capacity int64) int64 {
		if capacity <= 0 || requested > capacity {
			return 0
		}
		return (capacity - requested) * maxNodeScore / capacity
	}
	cpu := one(ni.nonZeroRequested.milliCPU+pi.nonZero.milliCPU, ni.allocatable.milliCPU)
	mem := one(ni.nonZeroRequested.memory+pi.nonZero.memory, ni.allocatable.memory)
	return (cpu + mem) / 2
}

// scheduleLocked runs PreFilter, Filter and Score over the cache and returns
// the chosen node, or a FitError. Ties between the best nodes are broken at
// random. The caller holds c.mu.
func (c *cache) scheduleLocked(pi *podInfo, rnd *rand.Rand) (string, *FitError) {
	if c.numNodes == 0 {
		return "", &FitError{}
	}
	allowed, restricted := affinityNodeNames(pi.pod)
	feasible := make([]*nodeInfo, 0, len(c.nodes))
	reasons := map[string]int{}
	for _, ni := range c.nodes {
		if ni.node == nil {
			continue
		}
		if restricted && !allowed.Has(ni.name) {
			reasons[ReasonNodeAffinityPreFilt]++
			continue
		}
		if rs := filter(pi, ni); len(rs) > 0 {
			for _, r := range rs {
				reasons[r]++
			}
			continue
		}
		feasible = append(feasible, ni)
	}
	if len(feasible) == 0 {
		return "", &FitError{NumAllNodes: c.numNodes, Reasons: reasons}
	}
	if len(feasible) == 1 {
		return feasible[0].name, nil
	}

	// Owner spreading: fewer pods of the same controller scores higher.
	var maxOwned int
	if pi.owner != "" {
		for _, ni := range feasible {
			maxOwned = max(maxOwned, ni.owners[pi.owner])
		}
	}
	best := ""
	bestScore := int64(-1)
	ties := 0
	for _, ni := range feasible {
		score := weightLeastAllocated * leastAllocatedScore(pi, ni)
		spread := int64(maxNodeScore)
		if maxOwned > 0 {
			spread = int64(maxOwned-ni.owners[pi.owner]) * maxNodeScore / int64(maxOwned)
		}
		score += weightOwnerSpread * spread
		switch {
		case score > bestScore:
			best, bestScore, ties = ni.name, score, 1
		case score == bestScore:
			ties++
			if rnd.IntN(ties) == 0 {
				best = ni.name
			}
		}
	}
	return best, nil
}
