package scheduler

import (
	"math/rand/v2"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func newRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// schedule runs the algorithm for pod over nodes with bound pods.
func schedule(pod *v1.Pod, nodes []*v1.Node, bound ...*v1.Pod) (string, *FitError) {
	c := newCache()
	for _, n := range nodes {
		c.setNode(n)
	}
	for _, p := range bound {
		c.addPod(p)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.scheduleLocked(newPodInfo(pod), newRand())
}

// A node's runtime reported after its pods were cached re-counts their
// ports, and a pod leaving frees them.
func TestSharedNetworkPortsFollowNodeRuntime(t *testing.T) {
	withPort := func(p *v1.Pod) { p.Spec.Containers[0].Ports = []v1.ContainerPort{{ContainerPort: 9000}} }
	c := newCache()
	c.setNode(makeNode("n1", "2", "2Gi"))
	b := makePod("b", "", "", onNode("n1"), withPort)
	c.addPod(b)
	fit := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, fe := c.scheduleLocked(newPodInfo(makePod("p", "", "", withPort)), newRand())
		return fe == nil
	}
	if !fit() {
		t.Fatal("plain node: container ports are not host ports")
	}
	c.setNode(makeNode("n1", "2", "2Gi", func(n *v1.Node) { n.Status.NodeInfo.ContainerRuntimeVersion = "process://herd" }))
	if fit() {
		t.Fatal("process runtime node: port 9000 is taken")
	}
	c.removePod(b.UID)
	if !fit() || len(c.nodes["n1"].ports) != 0 {
		t.Fatalf("after the pod left: ports %v", c.nodes["n1"].ports)
	}
}

func TestFilterReasons(t *testing.T) {
	taint := func(k, v string, e v1.TaintEffect) nodeOpt {
		return func(n *v1.Node) { n.Spec.Taints = append(n.Spec.Taints, v1.Taint{Key: k, Value: v, Effect: e}) }
	}
	ready := func(s v1.ConditionStatus) nodeOpt {
		return func(n *v1.Node) { n.Status.Conditions[0].Status = s }
	}
	tolerate := func(tol v1.Toleration) podOpt {
		return func(p *v1.Pod) { p.Spec.Tolerations = append(p.Spec.Tolerations, tol) }
	}
	selector := func(k, v string) podOpt {
		return func(p *v1.Pod) { p.Spec.NodeSelector = map[string]string{k: v} }
	}
	hostPortPod := func(port int32, ip string) podOpt {
		return func(p *v1.Pod) {
			p.Spec.Containers[0].Ports = []v1.ContainerPort{{ContainerPort: 80, HostPort: port, HostIP: ip}}
		}
	}
	containerPort := func(port int32) podOpt {
		return func(p *v1.Pod) {
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, v1.ContainerPort{ContainerPort: port})
		}
	}
	processRuntime := func(n *v1.Node) { n.Status.NodeInfo.ContainerRuntimeVersion = "process://herd" }
	simulatedRuntime := func(n *v1.Node) { n.Status.NodeInfo.ContainerRuntimeVersion = "simulated://herd" }
	fields := func(op v1.NodeSelectorOperator, names ...string) podOpt {
		return func(p *v1.Pod) {
			p.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
				NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchFields: []v1.NodeSelectorRequirement{{Key: "metadata.name", Operator: op, Values: names}}}},
			}}}
		}
	}
	extended := func(n *v1.Node) { n.Status.Allocatable["example.com/gpu"] = resource.MustParse("1") }
	wantsGPU := func(q string) podOpt {
		return func(p *v1.Pod) { p.Spec.Containers[0].Resources.Requests["example.com/gpu"] = resource.MustParse(q) }
	}
	maxPods := func(n string) nodeOpt {
		return func(node *v1.Node) { node.Status.Allocatable[v1.ResourcePods] = resource.MustParse(n) }
	}

	tests := []struct {
		name  string
		node  *v1.Node
		pod   *v1.Pod
		bound []*v1.Pod
		want  string // "" = fits
	}{
		{"fits", makeNode("n1", "2", "2Gi"), makePod("p", "1", "1Gi"), nil, ""},
		{"cordoned", makeNode("n1", "2", "2Gi", func(n *v1.Node) { n.Spec.Unschedulable = true }), makePod("p", "1", "1Gi"), nil,
			"0/1 nodes are available: 1 node(s) were unschedulable."},
		{"cordoned tolerated", makeNode("n1", "2", "2Gi", func(n *v1.Node) { n.Spec.Unschedulable = true }),
			makePod("p", "1", "1Gi", tolerate(v1.Toleration{Key: v1.TaintNodeUnschedulable, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule})), nil, ""},
		{"not ready", makeNode("n1", "2", "2Gi", ready(v1.ConditionFalse)), makePod("p", "1", "1Gi"), nil,
			"0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }."},
		{"no ready condition", makeNode("n1", "2", "2Gi", func(n *v1.Node) { n.Status.Conditions = nil }), makePod("p", "1", "1Gi"), nil,
			"0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }."},
		{"unreachable", makeNode("n1", "2", "2Gi", ready(v1.ConditionUnknown)), makePod("p", "1", "1Gi"), nil,
			"0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }."},
		{"not ready tolerated", makeNode("n1", "2", "2Gi", ready(v1.ConditionFalse)),
			makePod("p", "1", "1Gi", tolerate(v1.Toleration{Key: v1.TaintNodeNotReady, Operator: v1.TolerationOpExists})), nil, ""},
		{"NoSchedule taint", makeNode("n1", "2", "2Gi", taint("dedicated", "gpu", v1.TaintEffectNoSchedule)), makePod("p", "1", "1Gi"), nil,
			"0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}."},
		{"NoExecute taint", makeNode("n1", "2", "2Gi", taint("evict", "", v1.TaintEffectNoExecute)), makePod("p", "1", "1Gi"), nil,
			"0/1 nodes are available: 1 node(s) had untolerated taint {evict: }."},
		{"PreferNoSchedule ignored", makeNode("n1", "2", "2Gi", taint("soft", "x", v1.TaintEffectPreferNoSchedule)), makePod("p", "1", "1Gi"), nil, ""},
		{"taint tolerated Equal", makeNode("n1", "2", "2Gi", taint("dedicated", "gpu", v1.TaintEffectNoSchedule)),
			makePod("p", "1", "1Gi", tolerate(v1.Toleration{Key: "dedicated", Operator: v1.TolerationOpEqual, Value: "gpu", Effect: v1.TaintEffectNoSchedule})), nil, ""},
		{"taint wrong value", makeNode("n1", "2", "2Gi", taint("dedicated", "gpu", v1.TaintEffectNoSchedule)),
			makePod("p", "1", "1Gi", tolerate(v1.Toleration{Key: "dedicated", Operator: v1.TolerationOpEqual, Value: "cpu"})), nil,
			"0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}."},
		{"tolerate everything", makeNode("n1", "2", "2Gi", taint("a", "b", v1.TaintEffectNoSchedule), ready(v1.ConditionFalse)),
			makePod("p", "1", "1Gi", tolerate(v1.Toleration{Operator: v1.TolerationOpExists})), nil, ""},
		{"nodeSelector", makeNode("n1", "2", "2Gi"), makePod("p", "1", "1Gi", selector("disk", "ssd")), nil,
			"0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."},
		{"nodeSelector match", makeNode("n1", "2", "2Gi", func(n *v1.Node) { n.Labels["disk"] = "ssd" }), makePod("p", "1", "1Gi", selector("disk", "ssd")), nil, ""},
		{"matchFields NotIn", makeNode("n1", "2", "2Gi"), makePod("p", "1", "1Gi", fields(v1.NodeSelectorOpNotIn, "n1")), nil,
			"0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."},
		{"matchFields In other node (PreFilter)", makeNode("n1", "2", "2Gi"), makePod("p", "1", "1Gi", fields(v1.NodeSelectorOpIn, "n2")), nil,
			"0/1 nodes are available: 1 node(s) didn't satisfy plugin(s) [NodeAffinity]."},
		{"matchFields In", makeNode("n1", "2", "2Gi"), makePod("p", "1", "1Gi", fields(v1.NodeSelectorOpIn, "n1")), nil, ""},
		{"insufficient cpu", makeNode("n1", "2", "2Gi"), makePod("p", "3", "1Gi"), nil,
			"0/1 nodes are available: 1 Insufficient cpu."},
		{"insufficient memory", makeNode("n1", "2", "2Gi"), makePod("p", "1", "3Gi"), nil,
			"0/1 nodes are available: 1 Insufficient memory."},
		{"insufficient cpu and memory", makeNode("n1", "2", "2Gi"), makePod("p", "3", "3Gi"), nil,
			"0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory."},
		{"used by bound pods", makeNode("n1", "2", "2Gi"), makePod("p", "1", "1Gi"), []*v1.Pod{makePod("b", "1500m", "100Mi", onNode("n1"))},
			"0/1 nodes are available: 1 Insufficient cpu."},
		{"insufficient ephemeral-storage", makeNode("n1", "2", "2Gi"), makePod("p", "1", "1Gi", func(p *v1.Pod) {
			p.Spec.Containers[0].Resources.Requests[v1.ResourceEphemeralStorage] = resource.MustParse("20Gi")
		}), nil, "0/1 nodes are available: 1 Insufficient ephemeral-storage."},
		{"extended resource missing", makeNode("n1", "2", "2Gi"), makePod("p", "1", "1Gi", wantsGPU("1")), nil,
			"0/1 nodes are available: 1 Insufficient example.com/gpu."},
		{"extended resource fits", makeNode("n1", "2", "2Gi", extended), makePod("p", "1", "1Gi", wantsGPU("1")), nil, ""},
		{"extended resource used", makeNode("n1", "2", "2Gi", extended), makePod("p", "1", "1Gi", wantsGPU("1")),
			[]*v1.Pod{makePod("b", "", "", onNode("n1"), wantsGPU("1"))}, "0/1 nodes are available: 1 Insufficient example.com/gpu."},
		{"too many pods", makeNode("n1", "2", "2Gi", maxPods("1")), makePod("p", "", ""), []*v1.Pod{makePod("b", "", "", onNode("n1"))},
			"0/1 nodes are available: 1 Too many pods."},
		{"host port conflict", makeNode("n1", "2", "2Gi"), makePod("p", "1", "1Gi", hostPortPod(8080, "")),
			[]*v1.Pod{makePod("b", "", "", onNode("n1"), hostPortPod(8080, "10.0.0.1"))},
			"0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."},
		{"host port other IP", makeNode("n1", "2", "2Gi"), makePod("p", "1", "1Gi", hostPortPod(8080, "10.0.0.2")),
			[]*v1.Pod{makePod("b", "", "", onNode("n1"), hostPortPod(8080, "10.0.0.1"))}, ""},
		{"host port free", makeNode("n1", "2", "2Gi"), makePod("p", "1", "1Gi", hostPortPod(8081, "")),
			[]*v1.Pod{makePod("b", "", "", onNode("n1"), hostPortPod(8080, ""))}, ""},
		{"process runtime: same containerPort", makeNode("n1", "2", "2Gi", processRuntime), makePod("p", "1", "1Gi", containerPort(8080)),
			[]*v1.Pod{makePod("b", "", "", onNode("n1"), containerPort(8080))},
			"0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."},
		{"process runtime: containerPort against hostPort", makeNode("n1", "2", "2Gi", processRuntime), makePod("p", "1", "1Gi", containerPort(8080)),
			[]*v1.Pod{makePod("b", "", "", onNode("n1"), hostPortPod(8080, ""))},
			"0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."},
		{"process runtime: other containerPort", makeNode("n1", "2", "2Gi", processRuntime), makePod("p", "1", "1Gi", containerPort(8081)),
			[]*v1.Pod{makePod("b", "", "", onNode("n1"), containerPort(8080))}, ""},
		{"simulated runtime: same containerPort", makeNode("n1", "2", "2Gi", simulatedRuntime), makePod("p", "1", "1Gi", containerPort(8080)),
			[]*v1.Pod{makePod("b", "", "", onNode("n1"), containerPort(8080))}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			node, fitErr := schedule(tc.pod, []*v1.Node{tc.node}, tc.bound...)
			if tc.want == "" {
				if fitErr != nil || node != "n1" {
					t.Fatalf("want fit on n1, got %q, %v", node, fitErr)
				}
				return
			}
			if fitErr == nil {
				t.Fatalf("want %q, got fit on %q", tc.want, node)
			}
			if got := fitErr.Error(); got != tc.want {
				t.Fatalf("message\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestNodeNameFilter(t *testing.T) {
	pi := newPodInfo(makePod("p", "1", "1Gi", onNode("other")))
	ni := newNodeInfo("n1")
	ni.setNode(makeNode("n1", "2", "2Gi"))
	if got := filter(pi, ni); len(got) != 1 || got[0] != ReasonNodeName {
		t.Fatalf("got %v", got)
	}
}

func TestNodeAffinityOperators(t *testing.T) {
	node := makeNode("n1", "1", "1Gi", func(n *v1.Node) {
		n.Labels["zone"] = "a"
		n.Labels["gen"] = "5"
	})
	expr := func(key string, op v1.NodeSelectorOperator, vals ...string) v1.NodeSelectorRequirement {
		return v1.NodeSelectorRequirement{Key: key, Operator: op, Values: vals}
	}
	tests := []struct {
		name  string
		terms []v1.NodeSelectorTerm
		want  bool
	}{
		{"In", []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{expr("zone", v1.NodeSelectorOpIn, "a", "b")}}}, true},
		{"In miss", []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{expr("zone", v1.NodeSelectorOpIn, "b")}}}, false},
		{"NotIn", []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{expr("zone", v1.NodeSelectorOpNotIn, "b")}}}, true},
		{"NotIn absent label", []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{expr("rack", v1.NodeSelectorOpNotIn, "b")}}}, true},
		{"NotIn hit", []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{expr("zone", v1.NodeSelectorOpNotIn, "a")}}}, false},
		{"Exists", []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{expr("zone", v1.NodeSelectorOpExists)}}}, true},
		{"Exists miss", []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{expr("rack", v1.NodeSelectorOpExists)}}}, false},
		{"DoesNotExist", []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{expr("rack", v1.NodeSelectorOpDoesNotExist)}}}, true},
		{"DoesNotExist miss", []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{expr("zone", v1.NodeSelectorOpDoesNotExist)}}}, false},
		{"Gt", []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{expr("gen", v1.NodeSelectorOpGt, "4")}}}, true},
		{"Gt miss", []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{expr("gen", v1.NodeSelectorOpGt, "5")}}}, false},
		{"Lt", []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{expr("gen", v1.NodeSelectorOpLt, "6")}}}, true},
		{"Lt not a number", []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{expr("zone", v1.NodeSelectorOpLt, "6")}}}, false},
		{"AND within term", []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{
			expr("zone", v1.NodeSelectorOpIn, "a"), expr("gen", v1.NodeSelectorOpGt, "7")}}}, false},
		{"OR across terms", []v1.NodeSelectorTerm{
			{MatchExpressions: []v1.NodeSelectorRequirement{expr("zone", v1.NodeSelectorOpIn, "b")}},
			{MatchFields: []v1.NodeSelectorRequirement{expr("metadata.name", v1.NodeSelectorOpIn, "n1")}}}, true},
		{"empty term", []v1.NodeSelectorTerm{{}}, false},
		{"matchFields other key", []v1.NodeSelectorTerm{{MatchFields: []v1.NodeSelectorRequirement{expr("metadata.uid", v1.NodeSelectorOpIn, "n1")}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := makePod("p", "", "")
			pod.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{NodeSelectorTerms: tc.terms}}}
			if got := nodeMatchesPod(pod, node); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFitErrorMessage(t *testing.T) {
	nodes := []*v1.Node{makeNode("a", "500m", "4Gi"), makeNode("b", "4", "1Gi"), makeNode("c", "4", "512Mi")}
	_, fitErr := schedule(makePod("p", "1", "2Gi"), nodes)
	want := "0/3 nodes are available: 1 Insufficient cpu, 2 Insufficient memory."
	if fitErr == nil || fitErr.Error() != want {
		t.Fatalf("got %v, want %q", fitErr, want)
	}
	_, fitErr = schedule(makePod("p", "1", "1Gi"), nil)
	if fitErr == nil || fitErr.Error() != "no nodes available to schedule pods" {
		t.Fatalf("no nodes: got %v", fitErr)
	}
	// Counts sort as strings, as in Kubernetes ("10 …" before "2 …").
	f := &FitError{NumAllNodes: 12, Reasons: map[string]int{"Insufficient memory": 2, "node(s) were unschedulable": 10}}
	if got, want := f.Error(), "0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient memory."; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestPodRequests(t *testing.T) {
	always := v1.ContainerRestartPolicyAlways
	rl := func(cpu, mem string) v1.ResourceRequirements {
		return v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourceMemory: resource.MustParse(mem)}}
	}
	pod := makePod("p", "500m", "100Mi")
	pod.Spec.Containers = append(pod.Spec.Containers, v1.Container{Name: "d", Resources: rl("500m", "100Mi")})
	// init containers: a big regular one (2 cpu), then a sidecar, then a
	// regular one that runs next to the sidecar.
	pod.Spec.InitContainers = []v1.Container{
		{Name: "init1", Resources: rl("2", "50Mi")},
		{Name: "sidecar", RestartPolicy: &always, Resources: rl("200m", "300Mi")},
		{Name: "init2", Resources: rl("100m", "1Gi")},
	}
	pod.Spec.Overhead = v1.ResourceList{v1.ResourceCPU: resource.MustParse("10m"), v1.ResourceMemory: resource.MustParse("1Mi")}
	got := podRequests(pod, false)
	// cpu: max(1000+200, 2000, 200+100) = 2000, +10 overhead
	// memory: max(200Mi+300Mi, 50Mi, 300Mi+1Gi) = 1324Mi, +1Mi overhead
	if got.milliCPU != 2010 || got.memory != 1325*1024*1024 {
		t.Fatalf("got cpu %d memory %d", got.milliCPU, got.memory)
	}

	empty := makePod("e", "", "")
	nz := podRequests(empty, true)
	if nz.milliCPU != defaultMilliCPURequest || nz.memory != defaultMemoryRequest {
		t.Fatalf("non-zero defaults: %+v", nz)
	}
	if z := podRequests(empty, false); !z.isZero() {
		t.Fatalf("zero pod: %+v", z)
	}

	podLevel := makePod("pl", "100m", "")
	podLevel.Spec.Resources = &v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("3")}}
	if got := podRequests(podLevel, false); got.milliCPU != 3000 {
		t.Fatalf("pod-level cpu: %d", got.milliCPU)
	}
}

func TestLeastAllocatedChoosesEmptierNode(t *testing.T) {
	nodes := []*v1.Node{makeNode("busy", "4", "8Gi"), makeNode("idle", "4", "8Gi")}
	bound := []*v1.Pod{makePod("b", "3", "6Gi", onNode("busy"))}
	for i := 0; i < 20; i++ {
		got, fitErr := schedule(makePod("p", "500m", "512Mi"), nodes, bound...)
		if fitErr != nil || got != "idle" {
			t.Fatalf("got %q, %v; want idle", got, fitErr)
		}
	}
	// A bigger node with the same usage has more free room.
	nodes = []*v1.Node{makeNode("small", "2", "4Gi"), makeNode("big", "8", "16Gi")}
	bound = []*v1.Pod{makePod("b1", "1", "1Gi", onNode("small")), makePod("b2", "1", "1Gi", onNode("big"))}
	if got, _ := schedule(makePod("p", "500m", "512Mi"), nodes, bound...); got != "big" {
		t.Fatalf("got %q, want big", got)
	}
}

func TestOwnerSpreading(t *testing.T) {
	nodes := []*v1.Node{makeNode("a", "4", "8Gi"), makeNode("b", "4", "8Gi")}
	// Node a holds a small pod of the ReplicaSet; b holds a bigger unrelated
	// pod. Least-allocated alone would pick a; spreading picks b.
	bound := []*v1.Pod{
		makePod("rs-1", "100m", "100Mi", onNode("a"), ownedBy("rs-uid")),
		makePod("other", "1", "2Gi", onNode("b"), ownedBy("other-uid")),
	}
	got, fitErr := schedule(makePod("rs-2", "100m", "100Mi", ownedBy("rs-uid")), nodes, bound...)
	if fitErr != nil || got != "b" {
		t.Fatalf("got %q, %v; want b", got, fitErr)
	}
	// Without an owner, least-allocated decides.
	got, _ = schedule(makePod("lone", "100m", "100Mi"), nodes, bound...)
	if got != "a" {
		t.Fatalf("unowned pod: got %q, want a", got)
	}
}

func TestTiesAreBrokenAcrossNodes(t *testing.T) {
	nodes := []*v1.Node{makeNode("a", "4", "8Gi"), makeNode("b", "4", "8Gi"), makeNode("c", "4", "8Gi")}
	c := newCache()
	for _, n := range nodes {
		c.setNode(n)
	}
	seen := map[string]int{}
	rnd := newRand()
	for i := 0; i < 60; i++ {
		c.mu.Lock()
		node, fitErr := c.scheduleLocked(newPodInfo(makePod("p", "", "")), rnd)
		c.mu.Unlock()
		if fitErr != nil {
			t.Fatal(fitErr)
		}
		seen[node]++
	}
	if len(seen) != 3 {
		t.Fatalf("ties always went to %v", seen)
	}
}
