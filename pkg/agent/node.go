package agent

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// machineInfo is what the nodes report about the machine.
type machineInfo struct {
	simulated     bool
	cpu           int64
	memory        int64
	storage       int64
	machineID     string
	systemUUID    string
	bootID        string
	kernelVersion string
	osImage       string
}

type nodeState struct {
	node       *corev1.Node // last written
	lastReport time.Time
	lease      *coordinationv1.Lease
}

func readMachineInfo(simulated bool, dataDir string) machineInfo {
	m := machineInfo{simulated: simulated, cpu: int64(goruntime.NumCPU())}
	m.memory = memTotal()
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dataDir, &fs); err == nil {
		m.storage = int64(fs.Blocks) * int64(fs.Bsize)
	}
	m.machineID = readTrim("/etc/machine-id")
	m.systemUUID = readTrim("/sys/class/dmi/id/product_uuid")
	if m.systemUUID == "" {
		m.systemUUID = m.machineID
	}
	m.bootID = readTrim("/proc/sys/kernel/random/boot_id")
	m.kernelVersion = readTrim("/proc/sys/kernel/osrelease")
	m.osImage = osImage()
	return m
}

func readTrim(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func osImage() string {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return "Unknown"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "Unknown"
}

// capacity returns the node's capacity and allocatable. Allocatable keeps
// the kubelet's default hard eviction thresholds aside (memory 100Mi,
// ephemeral-storage 10%).
func (a *Agent) capacity() (corev1.ResourceList, corev1.ResourceList) {
	capacity := corev1.ResourceList{}
	if a.machine.simulated {
		capacity[corev1.ResourceCPU] = resource.MustParse("32")
		capacity[corev1.ResourceMemory] = resource.MustParse("256Gi")
		capacity[corev1.ResourceEphemeralStorage] = resource.MustParse("1Ti")
	} else {
		capacity[corev1.ResourceCPU] = *resource.NewQuantity(a.machine.cpu, resource.DecimalSI)
		capacity[corev1.ResourceMemory] = *resource.NewQuantity(a.machine.memory, resource.BinarySI)
		capacity[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(a.machine.storage, resource.BinarySI)
	}
	capacity[corev1.ResourcePods] = *resource.NewQuantity(110, resource.DecimalSI)
	capacity["hugepages-1Gi"] = *resource.NewQuantity(0, resource.DecimalSI)
	capacity["hugepages-2Mi"] = *resource.NewQuantity(0, resource.DecimalSI)
	for k, v := range a.cfg.Capacity {
		capacity[k] = v.DeepCopy()
	}
	alloc := corev1.ResourceList{}
	for k, v := range capacity {
		alloc[k] = v.DeepCopy()
	}
	if _, overridden := a.cfg.Capacity[corev1.ResourceMemory]; !overridden && !a.machine.simulated {
		m := alloc[corev1.ResourceMemory]
		m.Sub(resource.MustParse("100Mi"))
		if m.Sign() < 0 {
			m = resource.MustParse("0")
		}
		alloc[corev1.ResourceMemory] = m
	}
	if _, overridden := a.cfg.Capacity[corev1.ResourceEphemeralStorage]; !overridden && !a.machine.simulated {
		s := alloc[corev1.ResourceEphemeralStorage]
		alloc[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(s.Value()-s.Value()/10, resource.BinarySI)
	}
	return capacity, alloc
}

func (a *Agent) nodeLabels(name string) map[string]string {
	l := map[string]string{
		corev1.LabelHostname:      name,
		corev1.LabelOSStable:      goruntime.GOOS,
		corev1.LabelArchStable:    goruntime.GOARCH,
		"beta.kubernetes.io/os":   goruntime.GOOS,
		"beta.kubernetes.io/arch": goruntime.GOARCH,
	}
	for k, v := range a.cfg.Labels {
		l[k] = v
	}
	return l
}

func (a *Agent) nodeInfo(name string) corev1.NodeSystemInfo {
	m := a.machine
	machineID, systemUUID := m.machineID, m.systemUUID
	if m.simulated {
		h := fnv.New128a()
		h.Write([]byte(name))
		machineID = fmt.Sprintf("%x", h.Sum(nil))
		systemUUID = machineID
	}
	return corev1.NodeSystemInfo{
		MachineID:               machineID,
		SystemUUID:              systemUUID,
		BootID:                  m.bootID,
		KernelVersion:           m.kernelVersion,
		OSImage:                 m.osImage,
		ContainerRuntimeVersion: a.rt.Name() + "://herd",
		KubeletVersion:          KubeletVersion,
		OperatingSystem:         goruntime.GOOS,
		Architecture:            goruntime.GOARCH,
	}
}

func nodeCondition(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
	return corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg}
}

// nodeStatus computes a node's status; heartbeat and transition times are
// taken from old when nothing changed.
func (a *Agent) nodeStatus(name string, old *corev1.NodeStatus, now time.Time) corev1.NodeStatus {
	capacity, alloc := a.capacity()
	st := corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: alloc,
		Phase:       "",
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: a.nodeIP},
			{Type: corev1.NodeHostName, Address: name},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(a.cfg.KubeletPort)}},
		NodeInfo:        a.nodeInfo(name),
		Conditions: []corev1.NodeCondition{
			nodeCondition(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			nodeCondition(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			nodeCondition(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			nodeCondition(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "herd agent is posting ready status"),
		},
	}
	if old != nil {
		st.Images = old.Images
		st.VolumesInUse = old.VolumesInUse
		st.VolumesAttached = old.VolumesAttached
		st.Config = old.Config
	}
	t := metav1.NewTime(now).Rfc3339Copy()
	for i := range st.Conditions {
		c := &st.Conditions[i]
		c.LastHeartbeatTime = t
		c.LastTransitionTime = t
		if old == nil {
			continue
		}
		for _, oc := range old.Conditions {
			if oc.Type == c.Type && oc.Status == c.Status {
				c.LastTransitionTime = oc.LastTransitionTime
			}
		}
	}
	return st
}

// nodeStatusChanged compares statuses ignoring heartbeat times.
func nodeStatusChanged(a, b *corev1.NodeStatus) bool {
	x, y := a.DeepCopy(), b.DeepCopy()
	for i := range x.Conditions {
		x.Conditions[i].LastHeartbeatTime = metav1.Time{}
	}
	for i := range y.Conditions {
		y.Conditions[i].LastHeartbeatTime = metav1.Time{}
	}
	return !apiequality.Semantic.DeepEqual(x, y)
}

func (a *Agent) registerNodes(ctx context.Context) error {
	for _, name := range a.cfg.NodeNames {
		backoff := 100 * time.Millisecond
		for {
			err := a.registerNode(ctx, name)
			if err == nil {
				break
			}
			klog.FromContext(ctx).Error(err, "Unable to register node", "node", name)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-a.clk.After(backoff):
			}
			if backoff < 7*time.Second {
				backoff *= 2
			}
		}
	}
	return nil
}

// nodeAnnotations adds the configured annotations to m.
func (a *Agent) nodeAnnotations(m map[string]string) map[string]string {
	if len(a.cfg.Annotations) > 0 && m == nil {
		m = map[string]string{}
	}
	for k, v := range a.cfg.Annotations {
		m[k] = v
	}
	return m
}

// registerNode creates the node or brings an existing one up to date, then
// writes its status.
func (a *Agent) registerNode(ctx context.Context, name string) error {
	nodes := a.client.CoreV1().Nodes()
	node, err := nodes.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		node = &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Labels:      a.nodeLabels(name),
				Annotations: a.nodeAnnotations(map[string]string{"node.alpha.kubernetes.io/ttl": "0"}),
			},
			Spec: corev1.NodeSpec{Taints: append([]corev1.Taint(nil), a.cfg.Taints...)},
		}
		node, err = nodes.Create(ctx, node, metav1.CreateOptions{})
	} else if err == nil {
		upd := node.DeepCopy()
		if upd.Labels == nil {
			upd.Labels = map[string]string{}
		}
		for k, v := range a.nodeLabels(name) {
			upd.Labels[k] = v
		}
		for _, t := range a.cfg.Taints {
			found := false
			for _, et := range upd.Spec.Taints {
				if et.Key == t.Key && et.Effect == t.Effect {
					found = true
				}
			}
			if !found {
				upd.Spec.Taints = append(upd.Spec.Taints, t)
			}
		}
		upd.Annotations = a.nodeAnnotations(upd.Annotations)
		if !apiequality.Semantic.DeepEqual(upd.Labels, node.Labels) || !apiequality.Semantic.DeepEqual(upd.Spec.Taints, node.Spec.Taints) ||
			!apiequality.Semantic.DeepEqual(upd.Annotations, node.Annotations) {
			node, err = nodes.Update(ctx, upd, metav1.UpdateOptions{})
		}
	}
	if err != nil {
		return err
	}
	return a.updateNodeStatus(ctx, name, node, true)
}

// updateNodeStatus writes the node's status when it changed or the report
// interval passed (or force).
func (a *Agent) updateNodeStatus(ctx context.Context, name string, node *corev1.Node, force bool) error {
	now := a.clk.Now()
	a.nodeMu.Lock()
	ns := a.nodeSt[name]
	if ns == nil {
		ns = &nodeState{}
		a.nodeSt[name] = ns
	}
	a.nodeMu.Unlock()
	if node == nil {
		node = ns.node
	}
	if node == nil {
		var err error
		if node, err = a.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{}); err != nil {
			return err
		}
	}
	st := a.nodeStatus(name, &node.Status, now)
	if !force && !nodeStatusChanged(&st, &node.Status) && now.Sub(ns.lastReport) < NodeStatusReportInterval {
		return nil
	}
	upd := node.DeepCopy()
	upd.Status = st
	out, err := a.client.CoreV1().Nodes().UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	if err != nil {
		a.nodeMu.Lock()
		ns.node = nil // re-read next time
		a.nodeMu.Unlock()
		return err
	}
	a.nodeMu.Lock()
	ns.node = out
	ns.lastReport = now
	a.nodeMu.Unlock()
	return nil
}

func (a *Agent) nodeStatusLoop(ctx context.Context) {
	t := a.clk.NewTicker(NodeStatusUpdateInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		for _, name := range a.NodeNames() {
			err := a.updateNodeStatus(ctx, name, nil, false)
			if apierrors.IsNotFound(err) && a.isAdopted(name) {
				// an adopted node that was deleted is no longer served
				continue
			}
			if apierrors.IsNotFound(err) {
				// someone deleted the node: register it again
				err = a.registerNode(ctx, name)
			}
			if err != nil {
				klog.FromContext(ctx).V(2).Info("Unable to update node status", "node", name, "err", err)
			}
		}
	}
}

func (a *Agent) leaseLoop(ctx context.Context) {
	a.renewLeases(ctx)
	t := a.clk.NewTicker(LeaseRenewInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		a.renewLeases(ctx)
	}
}

func (a *Agent) renewLeases(ctx context.Context) {
	for _, name := range a.NodeNames() {
		if err := a.renewLease(ctx, name); err != nil {
			klog.FromContext(ctx).V(2).Info("Unable to renew node lease", "node", name, "err", err)
		}
	}
}

// renewLease creates or renews the node's Lease in kube-node-lease.
func (a *Agent) renewLease(ctx context.Context, name string) error {
	now := metav1.NewMicroTime(a.clk.Now())
	leases := a.client.CoordinationV1().Leases(NodeLeaseNamespace)
	a.nodeMu.Lock()
	ns := a.nodeSt[name]
	if ns == nil {
		ns = &nodeState{}
		a.nodeSt[name] = ns
	}
	lease := ns.lease
	var nodeUID = ""
	if ns.node != nil {
		nodeUID = string(ns.node.UID)
	}
	a.nodeMu.Unlock()
	var err error
	if lease == nil {
		lease, err = leases.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			l := &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: NodeLeaseNamespace},
				Spec: coordinationv1.LeaseSpec{
					HolderIdentity:       ptr.To(name),
					LeaseDurationSeconds: ptr.To[int32](LeaseDurationSeconds),
					RenewTime:            &now,
				},
			}
			if nodeUID != "" {
				l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: name, UID: types.UID(nodeUID)}}
			}
			lease, err = leases.Create(ctx, l, metav1.CreateOptions{})
			if apierrors.IsNotFound(err) {
				// the namespace is missing: create it and retry next time
				_, _ = a.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: NodeLeaseNamespace}}, metav1.CreateOptions{})
			}
			if err != nil {
				return err
			}
			a.nodeMu.Lock()
			ns.lease = lease
			a.nodeMu.Unlock()
			return nil
		}
		if err != nil {
			return err
		}
	}
	upd := lease.DeepCopy()
	upd.Spec.HolderIdentity = ptr.To(name)
	upd.Spec.LeaseDurationSeconds = ptr.To[int32](LeaseDurationSeconds)
	upd.Spec.RenewTime = &now
	out, err := leases.Update(ctx, upd, metav1.UpdateOptions{})
	a.nodeMu.Lock()
	if err != nil {
		ns.lease = nil
	} else {
		ns.lease = out
	}
	a.nodeMu.Unlock()
	return err
}
