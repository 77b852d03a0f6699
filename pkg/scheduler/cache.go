package scheduler

import (
	"strings"
	"sync"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// hostPort is one host port a pod occupies on its node.
type hostPort struct {
	ip       string
	protocol v1.Protocol
	port     int32
}

// podInfo is what the scheduler remembers of a pod: its precomputed
// requests, host ports and owner, and the node it is on (or assumed on).
type podInfo struct {
	pod     *v1.Pod
	req     resources // what NodeResourcesFit checks
	nonZero resources // what LeastAllocated scores (cpu/memory defaults filled in)
	ports   []hostPort
	// netPorts are the declared container ports without a hostPort: on a
	// node whose pods share its network (the process runtime) they are
	// host ports too.
	netPorts []hostPort
	owner    types.UID // UID of the controller ownerReference, "" if none
	nodeName string
	assumed  bool        // placed by us, not yet seen bound through the informer
	volumes  *podVolumes // the pod's claims (VolumeBinding), nil without any
}

func newPodInfo(pod *v1.Pod) *podInfo {
	pi := &podInfo{
		pod:      pod,
		req:      podRequests(pod, false),
		nonZero:  podRequests(pod, true),
		ports:    podHostPorts(pod),
		netPorts: podNetworkPorts(pod),
		nodeName: pod.Spec.NodeName,
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		pi.owner = ref.UID
	}
	return pi
}

// podHostPorts lists the host ports of the app containers and of the
// restartable init containers (which run for the pod's whole life).
func podHostPorts(pod *v1.Pod) []hostPort {
	var out []hostPort
	collect := func(c *v1.Container) {
		for _, p := range c.Ports {
			if p.HostPort <= 0 {
				continue
			}
			hp := hostPort{ip: p.HostIP, protocol: p.Protocol, port: p.HostPort}
			if hp.ip == "" {
				hp.ip = "0.0.0.0"
			}
			if hp.protocol == "" {
				hp.protocol = v1.ProtocolTCP
			}
			out = append(out, hp)
		}
	}
	for i := range pod.Spec.InitContainers {
		ic := &pod.Spec.InitContainers[i]
		if ic.RestartPolicy != nil && *ic.RestartPolicy == v1.ContainerRestartPolicyAlways {
			collect(ic)
		}
	}
	for i := range pod.Spec.Containers {
		collect(&pod.Spec.Containers[i])
	}
	return out
}

// podNetworkPorts lists the container ports without a hostPort of the app
// containers and restartable init containers, as the host ports they
// become where pods share the node's network.
func podNetworkPorts(pod *v1.Pod) []hostPort {
	var out []hostPort
	collect := func(c *v1.Container) {
		for _, p := range c.Ports {
			if p.HostPort > 0 || p.ContainerPort <= 0 {
				continue
			}
			hp := hostPort{ip: "0.0.0.0", protocol: p.Protocol, port: p.ContainerPort}
			if hp.protocol == "" {
				hp.protocol = v1.ProtocolTCP
			}
			out = append(out, hp)
		}
	}
	for i := range pod.Spec.InitContainers {
		ic := &pod.Spec.InitContainers[i]
		if ic.RestartPolicy != nil && *ic.RestartPolicy == v1.ContainerRestartPolicyAlways {
			collect(ic)
		}
	}
	for i := range pod.Spec.Containers {
		collect(&pod.Spec.Containers[i])
	}
	return out
}

// sharedNetworkRuntimePrefix is the nodeInfo.containerRuntimeVersion prefix
// of herd's process runtime, whose pods all run in the node's network
// namespace: a declared containerPort is bound on the node, so the
// scheduler accounts it like a hostPort of a hostNetwork pod.
const sharedNetworkRuntimePrefix = "process://"

// nodeSharesNetwork reports whether every pod on node runs in the node's
// network (it runs herd's process runtime).
func nodeSharesNetwork(node *v1.Node) bool {
	return strings.HasPrefix(node.Status.NodeInfo.ContainerRuntimeVersion, sharedNetworkRuntimePrefix)
}

// nodeInfo aggregates a node and the pods on it. node is nil while pods
// reference a node the informer has not (or no longer) reported.
type nodeInfo struct {
	name             string
	node             *v1.Node
	allocatable      resources
	allowedPods      int64
	taints           []v1.Taint // spec.taints plus the readiness taint Kubernetes' node lifecycle would add
	requested        resources
	nonZeroRequested resources
	pods             map[types.UID]*podInfo
	ports            map[hostPort]int
	sharedNetwork    bool // pods run in the node's network: container ports are host ports
	owners           map[types.UID]int
}

func newNodeInfo(name string) *nodeInfo {
	return &nodeInfo{
		name:   name,
		pods:   map[types.UID]*podInfo{},
		ports:  map[hostPort]int{},
		owners: map[types.UID]int{},
	}
}

func (n *nodeInfo) setNode(node *v1.Node) {
	n.node = node
	n.allocatable = resources{}
	n.allocatable.add(node.Status.Allocatable)
	n.allowedPods = 0
	if q, ok := node.Status.Allocatable[v1.ResourcePods]; ok {
		n.allowedPods = q.Value()
	}
	n.taints = effectiveTaints(node)
	if shared := nodeSharesNetwork(node); shared != n.sharedNetwork {
		n.sharedNetwork = shared
		n.ports = map[hostPort]int{}
		for _, pi := range n.pods {
			for _, p := range n.podPorts(pi) {
				n.ports[p]++
			}
		}
	}
}

// podPorts are the host ports pi occupies on this node.
func (n *nodeInfo) podPorts(pi *podInfo) []hostPort {
	if !n.sharedNetwork || len(pi.netPorts) == 0 {
		return pi.ports
	}
	return append(append(make([]hostPort, 0, len(pi.ports)+len(pi.netPorts)), pi.ports...), pi.netPorts...)
}

// effectiveTaints returns the node's taints plus, for a node whose Ready
// condition is not True, the NoSchedule taint Kubernetes' node lifecycle
// controller puts on it (not-ready for False or missing, unreachable for
// Unknown), so that tolerations apply to readiness exactly as in Kubernetes.
func effectiveTaints(node *v1.Node) []v1.Taint {
	key := ""
	switch readyStatus(node) {
	case v1.ConditionTrue:
		return node.Spec.Taints
	case v1.ConditionUnknown:
		key = v1.TaintNodeUnreachable
	default:
		key = v1.TaintNodeNotReady
	}
	for _, t := range node.Spec.Taints {
		if t.Key == key && t.Effect == v1.TaintEffectNoSchedule {
			return node.Spec.Taints
		}
	}
	out := make([]v1.Taint, 0, len(node.Spec.Taints)+1)
	out = append(out, node.Spec.Taints...)
	return append(out, v1.Taint{Key: key, Effect: v1.TaintEffectNoSchedule})
}

func readyStatus(node *v1.Node) v1.ConditionStatus {
	for _, c := range node.Status.Conditions {
		if c.Type == v1.NodeReady {
			return c.Status
		}
	}
	return v1.ConditionFalse
}

func (n *nodeInfo) addPod(pi *podInfo) {
	n.pods[pi.pod.UID] = pi
	n.requested.addResources(pi.req)
	n.nonZeroRequested.addResources(pi.nonZero)
	for _, p := range n.podPorts(pi) {
		n.ports[p]++
	}
	if pi.owner != "" {
		n.owners[pi.owner]++
	}
}

func (n *nodeInfo) removePod(pi *podInfo) {
	if _, ok := n.pods[pi.pod.UID]; !ok {
		return
	}
	delete(n.pods, pi.pod.UID)
	n.requested.subResources(pi.req)
	n.nonZeroRequested.subResources(pi.nonZero)
	for _, p := range n.podPorts(pi) {
		if n.ports[p]--; n.ports[p] <= 0 {
			delete(n.ports, p)
		}
	}
	if pi.owner != "" {
		if n.owners[pi.owner]--; n.owners[pi.owner] <= 0 {
			delete(n.owners, pi.owner)
		}
	}
}

// cache is the scheduler's in-memory view of node usage: every node with
// the pods bound to it (from the informer) and the pods assumed on it (by
// our own decisions whose binding has not been observed yet).
type cache struct {
	mu       sync.Mutex
	nodes    map[string]*nodeInfo
	numNodes int // nodeInfos with a node
	pods     map[types.UID]*podInfo
}

func newCache() *cache {
	return &cache{nodes: map[string]*nodeInfo{}, pods: map[types.UID]*podInfo{}}
}

func (c *cache) nodeInfoLocked(name string) *nodeInfo {
	ni, ok := c.nodes[name]
	if !ok {
		ni = newNodeInfo(name)
		c.nodes[name] = ni
	}
	return ni
}

func (c *cache) setNode(node *v1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni := c.nodeInfoLocked(node.Name)
	if ni.node == nil {
		c.numNodes++
	}
	ni.setNode(node)
}

func (c *cache) removeNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni, ok := c.nodes[name]
	if !ok || ni.node == nil {
		return
	}
	c.numNodes--
	ni.node = nil
	if len(ni.pods) == 0 {
		delete(c.nodes, name)
	}
}

// addPod records (or replaces) a pod the informer shows bound to a node;
// it confirms an assumed pod.
func (c *cache) addPod(pod *v1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removePodLocked(pod.UID)
	pi := newPodInfo(pod)
	c.pods[pod.UID] = pi
	c.nodeInfoLocked(pi.nodeName).addPod(pi)
}

// removePod forgets a pod (deleted, or terminated so that it frees its
// resources). It reports whether the pod was in the cache.
func (c *cache) removePod(uid types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.removePodLocked(uid)
}

func (c *cache) removePodLocked(uid types.UID) bool {
	pi, ok := c.pods[uid]
	if !ok {
		return false
	}
	delete(c.pods, uid)
	if ni, ok := c.nodes[pi.nodeName]; ok {
		ni.removePod(pi)
		if ni.node == nil && len(ni.pods) == 0 {
			delete(c.nodes, pi.nodeName)
		}
	}
	return true
}

// assumeLocked places pi on node before its binding is written, so that the
// next decisions already see the node's usage including it.
func (c *cache) assumeLocked(pi *podInfo, node string) {
	pi.nodeName = node
	pi.assumed = true
	c.pods[pi.pod.UID] = pi
	c.nodeInfoLocked(node).addPod(pi)
}

// forget drops an assumed pod whose binding failed. A pod the informer has
// confirmed in the meantime is kept.
func (c *cache) forget(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pi, ok := c.pods[uid]; ok && pi.assumed {
		c.removePodLocked(uid)
	}
}

// has reports whether the pod is bound or assumed in the cache.
func (c *cache) has(uid types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.pods[uid]
	return ok
}
