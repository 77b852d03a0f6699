package printers

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Node role labels (kubectl's conventions).
const (
	nodeRoleLabelPrefix = "node-role.kubernetes.io/"
	nodeRoleLabel       = "kubernetes.io/role"
	// nodeUnreachablePodReason is the pod status reason the node lifecycle
	// controller sets on pods of an unreachable node.
	nodeUnreachablePodReason = "NodeLost"
)

func init() {
	core := func(resource string) schema.GroupResource { return schema.GroupResource{Resource: resource} }

	register(core("pods"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
		column("Status", "string", "The aggregate status of the containers in this pod."),
		column("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
		ageColumn(),
		wide(column("IP", "string", corev1.PodStatus{}.SwaggerDoc()["podIP"])),
		wide(column("Node", "string", corev1.PodSpec{}.SwaggerDoc()["nodeName"])),
		wide(column("Nominated Node", "string", corev1.PodStatus{}.SwaggerDoc()["nominatedNodeName"])),
		wide(column("Readiness Gates", "string", corev1.PodSpec{}.SwaggerDoc()["readinessGates"])),
	}, typed(podRow))

	nodeInfoDoc := corev1.NodeSystemInfo{}.SwaggerDoc()
	register(core("nodes"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Status", "string", "The status of the node"),
		column("Roles", "string", "The roles of the node"),
		ageColumn(),
		column("Version", "string", nodeInfoDoc["kubeletVersion"]),
		wide(column("Internal-IP", "string", corev1.NodeStatus{}.SwaggerDoc()["addresses"])),
		wide(column("External-IP", "string", corev1.NodeStatus{}.SwaggerDoc()["addresses"])),
		wide(column("OS-Image", "string", nodeInfoDoc["osImage"])),
		wide(column("Kernel-Version", "string", nodeInfoDoc["kernelVersion"])),
		wide(column("Container-Runtime", "string", nodeInfoDoc["containerRuntimeVersion"])),
	}, typed(nodeRow))

	register(core("namespaces"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Status", "string", "The status of the namespace"),
		ageColumn(),
	}, typed(func(ns *corev1.Namespace, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		return cells(ns.Name, string(ns.Status.Phase), since(ns.CreationTimestamp, now))
	}))

	register(core("events"), eventColumns(), eventRowFunc)

	register(core("configmaps"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Data", "string", corev1.ConfigMap{}.SwaggerDoc()["data"]),
		ageColumn(),
	}, typed(func(cm *corev1.ConfigMap, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		return cells(cm.Name, int64(len(cm.Data)+len(cm.BinaryData)), since(cm.CreationTimestamp, now))
	}))

	register(core("secrets"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Type", "string", corev1.Secret{}.SwaggerDoc()["type"]),
		column("Data", "string", corev1.Secret{}.SwaggerDoc()["data"]),
		ageColumn(),
	}, typed(func(s *corev1.Secret, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		return cells(s.Name, string(s.Type), int64(secretDataCount(s)), since(s.CreationTimestamp, now))
	}))

	register(core("serviceaccounts"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Secrets", "string", corev1.ServiceAccount{}.SwaggerDoc()["secrets"]),
		ageColumn(),
	}, typed(func(sa *corev1.ServiceAccount, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		return cells(sa.Name, int64(len(sa.Secrets)), since(sa.CreationTimestamp, now))
	}))

	serviceDoc := corev1.ServiceSpec{}.SwaggerDoc()
	register(core("services"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Type", "string", serviceDoc["type"]),
		column("Cluster-IP", "string", serviceDoc["clusterIP"]),
		column("External-IP", "string", serviceDoc["externalIPs"]),
		column("Port(s)", "string", serviceDoc["ports"]),
		ageColumn(),
		wide(column("Selector", "string", serviceDoc["selector"])),
	}, typed(serviceRow))

	register(core("endpoints"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Endpoints", "string", corev1.Endpoints{}.SwaggerDoc()["subsets"]),
		ageColumn(),
	}, typed(func(ep *corev1.Endpoints, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		return cells(ep.Name, formatEndpoints(ep), since(ep.CreationTimestamp, now))
	}))

	pvSpecDoc := corev1.PersistentVolumeSpec{}.SwaggerDoc()
	pvStatusDoc := corev1.PersistentVolumeStatus{}.SwaggerDoc()
	register(core("persistentvolumes"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Capacity", "string", pvSpecDoc["capacity"]),
		column("Access Modes", "string", pvSpecDoc["accessModes"]),
		column("Reclaim Policy", "string", pvSpecDoc["persistentVolumeReclaimPolicy"]),
		column("Status", "string", pvStatusDoc["phase"]),
		column("Claim", "string", pvSpecDoc["claimRef"]),
		column("StorageClass", "string", "StorageClass of the pv"),
		column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
		column("Reason", "string", pvStatusDoc["reason"]),
		ageColumn(),
		wide(column("VolumeMode", "string", pvSpecDoc["volumeMode"])),
	}, typed(persistentVolumeRow))

	pvcSpecDoc := corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()
	pvcStatusDoc := corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()
	register(core("persistentvolumeclaims"), []metav1.TableColumnDefinition{
		nameColumn(),
		column("Status", "string", pvcStatusDoc["phase"]),
		column("Volume", "string", pvcSpecDoc["volumeName"]),
		column("Capacity", "string", pvcStatusDoc["capacity"]),
		column("Access Modes", "string", pvcStatusDoc["accessModes"]),
		column("StorageClass", "string", "StorageClass of the pvc"),
		column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
		ageColumn(),
		wide(column("VolumeMode", "string", pvcSpecDoc["volumeMode"])),
	}, typed(persistentVolumeClaimRow))
}

// containerCells lists container names and images, comma separated.
func containerCells(containers []corev1.Container) (names, images string) {
	n := make([]string, 0, len(containers))
	im := make([]string, 0, len(containers))
	for i := range containers {
		n = append(n, containers[i].Name)
		im = append(im, containers[i].Image)
	}
	return strings.Join(n, ","), strings.Join(im, ",")
}

// Pods.

var (
	podSucceededConditions = []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: string(corev1.PodSucceeded), Message: "The pod has completed successfully."}}
	podFailedConditions    = []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: string(corev1.PodFailed), Message: "The pod failed."}}
)

// isSidecar reports whether an init container is a restartable (sidecar) one.
func isSidecar(c *corev1.Container) bool {
	return c != nil && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// restartTally sums container restarts and remembers the latest
// last-termination finish time.
type restartTally struct {
	count int
	last  metav1.Time
}

func (r *restartTally) add(st *corev1.ContainerStatus) {
	r.count += int(st.RestartCount)
	if t := st.LastTerminationState.Terminated; t != nil && r.last.Before(&t.FinishedAt) {
		r.last = t.FinishedAt
	}
}

// podRow renders READY, STATUS and RESTARTS the way kubectl shows them: the
// first unfinished init container decides the status while the pod
// initializes, then the app containers (last one first) override the phase
// with their waiting/terminated reasons.
func podRow(pod *corev1.Pod, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
	var all, sidecars restartTally
	total := len(pod.Spec.Containers)
	ready := 0

	reason := string(pod.Status.Phase)
	if pod.Status.Reason != "" {
		reason = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			reason = corev1.PodReasonSchedulingGated
		}
	}

	var conditions []metav1.TableRowCondition
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		conditions = podSucceededConditions
	case corev1.PodFailed:
		conditions = podFailedConditions
	}

	isSidecarName := make(map[string]bool, len(pod.Spec.InitContainers))
	for i := range pod.Spec.InitContainers {
		if isSidecar(&pod.Spec.InitContainers[i]) {
			isSidecarName[pod.Spec.InitContainers[i].Name] = true
			total++
		}
	}

	initializing := false
initLoop:
	for i := range pod.Status.InitContainerStatuses {
		st := &pod.Status.InitContainerStatuses[i]
		all.add(st)
		sidecar := isSidecarName[st.Name]
		if sidecar {
			sidecars.add(st)
		}
		switch {
		case st.State.Terminated != nil && st.State.Terminated.ExitCode == 0:
			continue
		case sidecar && st.Started != nil && *st.Started:
			if st.Ready {
				ready++
			}
			continue
		case st.State.Terminated != nil:
			t := st.State.Terminated
			switch {
			case t.Reason != "":
				reason = "Init:" + t.Reason
			case t.Signal != 0:
				reason = fmt.Sprintf("Init:Signal:%d", t.Signal)
			default:
				reason = fmt.Sprintf("Init:ExitCode:%d", t.ExitCode)
			}
		case st.State.Waiting != nil && st.State.Waiting.Reason != "" && st.State.Waiting.Reason != "PodInitializing":
			reason = "Init:" + st.State.Waiting.Reason
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		initializing = true
		break initLoop
	}

	restarts := all
	if !initializing || podInitialized(&pod.Status) {
		restarts = sidecars
		hasRunning := false
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			st := &pod.Status.ContainerStatuses[i]
			restarts.add(st)
			switch {
			case st.State.Waiting != nil && st.State.Waiting.Reason != "":
				reason = st.State.Waiting.Reason
			case st.State.Terminated != nil && st.State.Terminated.Reason != "":
				reason = st.State.Terminated.Reason
			case st.State.Terminated != nil && st.State.Terminated.Signal != 0:
				reason = fmt.Sprintf("Signal:%d", st.State.Terminated.Signal)
			case st.State.Terminated != nil:
				reason = fmt.Sprintf("ExitCode:%d", st.State.Terminated.ExitCode)
			case st.Ready && st.State.Running != nil:
				hasRunning = true
				ready++
			}
		}
		// A pod whose last container completed but another still runs is
		// shown as running (or not ready).
		if reason == "Completed" && hasRunning {
			if podReady(&pod.Status) {
				reason = "Running"
			} else {
				reason = "NotReady"
			}
		}
	}

	if pod.DeletionTimestamp != nil {
		switch {
		case pod.Status.Reason == nodeUnreachablePodReason:
			reason = "Unknown"
		case pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed:
			reason = "Terminating"
		}
	}

	restartsCell := strconv.Itoa(restarts.count)
	if restarts.count != 0 && !restarts.last.IsZero() {
		restartsCell = fmt.Sprintf("%d (%s ago)", restarts.count, since(restarts.last, now))
	}

	podIP := pod.Status.PodIP
	if len(pod.Status.PodIPs) > 0 {
		podIP = pod.Status.PodIPs[0].IP
	}
	readinessGates := "<none>"
	if len(pod.Spec.ReadinessGates) > 0 {
		trueGates := 0
		for _, gate := range pod.Spec.ReadinessGates {
			for _, c := range pod.Status.Conditions {
				if c.Type == gate.ConditionType {
					if c.Status == corev1.ConditionTrue {
						trueGates++
					}
					break
				}
			}
		}
		readinessGates = fmt.Sprintf("%d/%d", trueGates, len(pod.Spec.ReadinessGates))
	}

	return []interface{}{
		pod.Name,
		fmt.Sprintf("%d/%d", ready, total),
		reason,
		restartsCell,
		since(pod.CreationTimestamp, now),
		orNone(podIP),
		orNone(pod.Spec.NodeName),
		orNone(pod.Status.NominatedNodeName),
		readinessGates,
	}, conditions
}

func podReady(status *corev1.PodStatus) bool {
	for _, c := range status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// podInitialized reports the status of the first Initialized condition.
func podInitialized(status *corev1.PodStatus) bool {
	for _, c := range status.Conditions {
		if c.Type == corev1.PodInitialized {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

// Nodes.

func nodeRow(node *corev1.Node, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
	var readyCond *corev1.NodeCondition
	for i := range node.Status.Conditions {
		if node.Status.Conditions[i].Type == corev1.NodeReady {
			readyCond = &node.Status.Conditions[i]
		}
	}
	var status []string
	switch {
	case readyCond == nil:
		status = append(status, "Unknown")
	case readyCond.Status == corev1.ConditionTrue:
		status = append(status, string(corev1.NodeReady))
	default:
		status = append(status, "Not"+string(corev1.NodeReady))
	}
	if node.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}

	roles := strings.Join(nodeRoles(node), ",")
	if roles == "" {
		roles = "<none>"
	}
	info := node.Status.NodeInfo
	return cells(
		node.Name,
		strings.Join(status, ","),
		roles,
		since(node.CreationTimestamp, now),
		info.KubeletVersion,
		nodeAddress(node, corev1.NodeInternalIP),
		nodeAddress(node, corev1.NodeExternalIP),
		orUnknown(info.OSImage),
		orUnknown(info.KernelVersion),
		orUnknown(info.ContainerRuntimeVersion),
	)
}

// nodeAddress is the first address of the type, "<none>" without one.
func nodeAddress(node *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range node.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

// nodeRoles collects roles from node-role.kubernetes.io/<role> label keys and
// the kubernetes.io/role label value, sorted and without duplicates.
func nodeRoles(node *corev1.Node) []string {
	set := map[string]bool{}
	for k, v := range node.Labels {
		switch {
		case strings.HasPrefix(k, nodeRoleLabelPrefix):
			if role := strings.TrimPrefix(k, nodeRoleLabelPrefix); role != "" {
				set[role] = true
			}
		case k == nodeRoleLabel && v != "":
			set[v] = true
		}
	}
	roles := make([]string, 0, len(set))
	for r := range set {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

// Secrets.

// secretDataCount counts the keys of data and stringData (the API server
// merges stringData into data).
func secretDataCount(s *corev1.Secret) int {
	n := len(s.Data)
	for k := range s.StringData {
		if _, dup := s.Data[k]; !dup {
			n++
		}
	}
	return n
}

// Services.

func serviceRow(svc *corev1.Service, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
	clusterIP := "<none>"
	switch {
	case len(svc.Spec.ClusterIPs) > 0:
		clusterIP = svc.Spec.ClusterIPs[0]
	case svc.Spec.ClusterIP != "":
		clusterIP = svc.Spec.ClusterIP
	}
	ports := servicePorts(svc.Spec.Ports)
	if ports == "" {
		ports = "<none>"
	}
	return cells(svc.Name, string(svc.Spec.Type), clusterIP, serviceExternalIP(svc), ports,
		since(svc.CreationTimestamp, now), labels.FormatLabels(svc.Spec.Selector))
}

// serviceExternalIP renders the External-IP cell. The server always prints
// the wide form, so load balancer addresses are never truncated.
func serviceExternalIP(svc *corev1.Service) string {
	switch svc.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(svc.Spec.ExternalIPs, ",")
		}
		return "<none>"
	case corev1.ServiceTypeLoadBalancer:
		lb := loadBalancerAddresses(svc.Status.LoadBalancer)
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(append(lb, svc.Spec.ExternalIPs...), ",")
		}
		if len(lb) > 0 {
			return strings.Join(lb, ",")
		}
		return "<pending>"
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return "<unknown>"
}

// loadBalancerAddresses is the sorted, de-duplicated IP (or else hostname) of
// each ingress point.
func loadBalancerAddresses(s corev1.LoadBalancerStatus) []string {
	set := map[string]bool{}
	for _, in := range s.Ingress {
		switch {
		case in.IP != "":
			set[in.IP] = true
		case in.Hostname != "":
			set[in.Hostname] = true
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func servicePorts(ports []corev1.ServicePort) string {
	pieces := make([]string, len(ports))
	for i, p := range ports {
		if p.NodePort > 0 {
			pieces[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		} else {
			pieces[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		}
	}
	return strings.Join(pieces, ",")
}

// Endpoints.

// formatEndpoints lists up to three address:port pairs (bare addresses for
// subsets without ports) and says how many more there are.
func formatEndpoints(ep *corev1.Endpoints) string {
	if len(ep.Subsets) == 0 {
		return "<none>"
	}
	const max = 3
	var list []string
	count := 0
	for i := range ep.Subsets {
		ss := &ep.Subsets[i]
		if len(ss.Ports) == 0 {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				if len(list) == max {
					break
				}
				list = append(list, a.IP)
			}
			continue
		}
		for _, port := range ss.Ports {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				if len(list) == max {
					break
				}
				list = append(list, net.JoinHostPort(a.IP, strconv.Itoa(int(port.Port))))
			}
		}
	}
	s := strings.Join(list, ",")
	if count > max {
		return fmt.Sprintf("%s + %d more...", s, count-max)
	}
	return s
}

// Persistent volumes and claims.

// accessModes abbreviates access modes in the fixed order RWO,ROX,RWX,RWOP.
func accessModes(modes []corev1.PersistentVolumeAccessMode) string {
	has := map[corev1.PersistentVolumeAccessMode]bool{}
	for _, m := range modes {
		has[m] = true
	}
	var out []string
	for _, m := range []struct {
		mode  corev1.PersistentVolumeAccessMode
		short string
	}{
		{corev1.ReadWriteOnce, "RWO"},
		{corev1.ReadOnlyMany, "ROX"},
		{corev1.ReadWriteMany, "RWX"},
		{corev1.ReadWriteOncePod, "RWOP"},
	} {
		if has[m.mode] {
			out = append(out, m.short)
		}
	}
	return strings.Join(out, ",")
}

func persistentVolumeRow(pv *corev1.PersistentVolume, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
	claim := ""
	if ref := pv.Spec.ClaimRef; ref != nil {
		claim = ref.Namespace + "/" + ref.Name
	}
	capacity := pv.Spec.Capacity[corev1.ResourceStorage]
	phase := string(pv.Status.Phase)
	if pv.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	class := pv.Spec.StorageClassName
	if c, ok := pv.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		class = c
	}
	vac := "<unset>"
	if pv.Spec.VolumeAttributesClassName != nil {
		vac = *pv.Spec.VolumeAttributesClassName
	}
	volumeMode := "<unset>"
	if pv.Spec.VolumeMode != nil {
		volumeMode = string(*pv.Spec.VolumeMode)
	}
	return cells(pv.Name, capacity.String(), accessModes(pv.Spec.AccessModes),
		string(pv.Spec.PersistentVolumeReclaimPolicy), phase, claim, class, vac,
		pv.Status.Reason, since(pv.CreationTimestamp, now), volumeMode)
}

func persistentVolumeClaimRow(pvc *corev1.PersistentVolumeClaim, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
	phase := string(pvc.Status.Phase)
	if pvc.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	capacity, modes := "", ""
	if pvc.Spec.VolumeName != "" {
		modes = accessModes(pvc.Status.AccessModes)
		q := pvc.Status.Capacity[corev1.ResourceStorage]
		capacity = q.String()
	}
	class := ""
	if c, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		class = c
	} else if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	vac := "<unset>"
	if pvc.Spec.VolumeAttributesClassName != nil {
		vac = *pvc.Spec.VolumeAttributesClassName
	}
	volumeMode := "<unset>"
	if pvc.Spec.VolumeMode != nil {
		volumeMode = string(*pvc.Spec.VolumeMode)
	}
	return cells(pvc.Name, phase, pvc.Spec.VolumeName, capacity, modes, class, vac,
		since(pvc.CreationTimestamp, now), volumeMode)
}
