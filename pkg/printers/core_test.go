package printers

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestNodes(t *testing.T) {
	gr := schema.GroupResource{Resource: "nodes"}
	node := func(mod func(*corev1.Node)) *corev1.Node {
		n := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "n1", CreationTimestamp: ago(10 * 24 * time.Hour)},
			Status: corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse}, {Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
				NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.36.0", OSImage: "Debian 13", KernelVersion: "6.12.0", ContainerRuntimeVersion: "containerd://2.1.0"},
				Addresses:  []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "n1"}, {Type: corev1.NodeInternalIP, Address: "192.168.1.5"}, {Type: corev1.NodeInternalIP, Address: "192.168.1.6"}},
			},
		}
		mod(n)
		return n
	}
	tests := []struct {
		name string
		node *corev1.Node
		want []interface{}
	}{
		{"ready", node(func(*corev1.Node) {}),
			[]interface{}{"n1", "Ready", "<none>", "10d", "v1.36.0", "192.168.1.5", "<none>", "Debian 13", "6.12.0", "containerd://2.1.0"}},
		{"not ready, cordoned, roles", node(func(n *corev1.Node) {
			n.Status.Conditions[1].Status = corev1.ConditionFalse
			n.Spec.Unschedulable = true
			n.Labels = map[string]string{"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "worker", "node-role.kubernetes.io/": "x"}
			n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "203.0.113.7"})
		}), []interface{}{"n1", "NotReady,SchedulingDisabled", "control-plane,worker", "10d", "v1.36.0", "192.168.1.5", "203.0.113.7", "Debian 13", "6.12.0", "containerd://2.1.0"}},
		{"ready unknown", node(func(n *corev1.Node) { n.Status.Conditions[1].Status = corev1.ConditionUnknown }),
			[]interface{}{"n1", "NotReady", "<none>", "10d", "v1.36.0", "192.168.1.5", "<none>", "Debian 13", "6.12.0", "containerd://2.1.0"}},
		{"no ready condition, no info", node(func(n *corev1.Node) {
			n.Status = corev1.NodeStatus{}
			n.Spec.Unschedulable = true
		}), []interface{}{"n1", "Unknown,SchedulingDisabled", "<none>", "10d", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCells(t, cellsOf(t, gr, tc.node), tc.want) })
	}
}

func TestServices(t *testing.T) {
	gr := schema.GroupResource{Resource: "services"}
	tests := []struct {
		name string
		svc  corev1.Service
		want []interface{}
	}{
		{"cluster IP", corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10", "fd00::a"},
			Ports:    []corev1.ServicePort{{Port: 53, Protocol: corev1.ProtocolUDP}, {Port: 53, Protocol: corev1.ProtocolTCP}},
			Selector: map[string]string{"k8s-app": "kube-dns"}}},
			[]interface{}{"s", "ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP", "2m", "k8s-app=kube-dns"}},
		{"headless without ports", corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "None", ClusterIPs: []string{"None"}}},
			[]interface{}{"s", "ClusterIP", "None", "<none>", "<none>", "2m", "<none>"}},
		{"cluster IP with external IPs", corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.0.0.1", ExternalIPs: []string{"1.2.3.4", "5.6.7.8"}}},
			[]interface{}{"s", "ClusterIP", "10.0.0.1", "1.2.3.4,5.6.7.8", "<none>", "2m", "<none>"}},
		{"node port", corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIPs: []string{"10.0.0.2"},
			Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP}}}},
			[]interface{}{"s", "NodePort", "10.0.0.2", "<none>", "80:30080/TCP", "2m", "<none>"}},
		{"load balancer pending", corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.0.0.3"},
			Ports: []corev1.ServicePort{{Port: 443, NodePort: 31443, Protocol: corev1.ProtocolTCP}}}},
			[]interface{}{"s", "LoadBalancer", "10.0.0.3", "<pending>", "443:31443/TCP", "2m", "<none>"}},
		{"load balancer with ingress and external IPs", corev1.Service{
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.0.0.3"}, ExternalIPs: []string{"9.9.9.9"}},
			Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{
				{IP: "198.51.100.2"}, {Hostname: "a-very-long-load-balancer-name.example.com"}, {IP: "198.51.100.1"}, {IP: "198.51.100.2"}}}}},
			[]interface{}{"s", "LoadBalancer", "10.0.0.3", "198.51.100.1,198.51.100.2,a-very-long-load-balancer-name.example.com,9.9.9.9", "<none>", "2m", "<none>"}},
		{"external name", corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"}},
			[]interface{}{"s", "ExternalName", "<none>", "db.example.com", "<none>", "2m", "<none>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := tc.svc
			svc.Name = "s"
			svc.CreationTimestamp = ago(2 * time.Minute)
			checkCells(t, cellsOf(t, gr, &svc), tc.want)
		})
	}
}

func TestEndpoints(t *testing.T) {
	gr := schema.GroupResource{Resource: "endpoints"}
	addrs := func(ips ...string) []corev1.EndpointAddress {
		out := make([]corev1.EndpointAddress, len(ips))
		for i, ip := range ips {
			out[i] = corev1.EndpointAddress{IP: ip}
		}
		return out
	}
	tests := []struct {
		name    string
		subsets []corev1.EndpointSubset
		want    string
	}{
		{"none", nil, "<none>"},
		{"subset without addresses", []corev1.EndpointSubset{{Ports: []corev1.EndpointPort{{Port: 80}}}}, ""},
		{"one", []corev1.EndpointSubset{{Addresses: addrs("10.0.0.1"), Ports: []corev1.EndpointPort{{Port: 8080}}}}, "10.0.0.1:8080"},
		{"ipv6", []corev1.EndpointSubset{{Addresses: addrs("fd00::1"), Ports: []corev1.EndpointPort{{Port: 80}}}}, "[fd00::1]:80"},
		{"headless", []corev1.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2")}}, "10.0.0.1,10.0.0.2"},
		{"more", []corev1.EndpointSubset{
			{Addresses: addrs("10.0.0.1", "10.0.0.2"), Ports: []corev1.EndpointPort{{Port: 80}, {Port: 443}}},
			{Addresses: addrs("10.0.0.3")},
		}, "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more..."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "e", CreationTimestamp: ago(time.Second)}, Subsets: tc.subsets}
			checkCells(t, cellsOf(t, gr, ep), []interface{}{"e", tc.want, "1s"})
		})
	}
}

func TestSimpleCoreResources(t *testing.T) {
	meta := metav1.ObjectMeta{Name: "o", CreationTimestamp: ago(20 * time.Minute)}
	tests := []struct {
		resource string
		obj      runtime.Object
		want     []interface{}
	}{
		{"namespaces", &corev1.Namespace{ObjectMeta: meta, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}},
			[]interface{}{"o", "Terminating", "20m"}},
		{"secrets", &corev1.Secret{ObjectMeta: meta, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": nil, "tls.key": nil}, StringData: map[string]string{"tls.key": "", "ca.crt": ""}},
			[]interface{}{"o", "kubernetes.io/tls", int64(3), "20m"}},
		{"serviceaccounts", &corev1.ServiceAccount{ObjectMeta: meta, Secrets: []corev1.ObjectReference{{Name: "t"}}},
			[]interface{}{"o", int64(1), "20m"}},
		{"configmaps", &corev1.ConfigMap{ObjectMeta: meta}, []interface{}{"o", int64(0), "20m"}},
	}
	for _, tc := range tests {
		t.Run(tc.resource, func(t *testing.T) {
			checkCells(t, cellsOf(t, schema.GroupResource{Resource: tc.resource}, tc.obj), tc.want)
		})
	}
}

func TestPersistentVolumes(t *testing.T) {
	gr := schema.GroupResource{Resource: "persistentvolumes"}
	block := corev1.PersistentVolumeBlock
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pv1", CreationTimestamp: ago(time.Hour)},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod, corev1.ReadWriteMany, corev1.ReadWriteOnce, corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			ClaimRef:                      &corev1.ObjectReference{Namespace: "ns", Name: "data"},
			StorageClassName:              "fast",
			VolumeMode:                    &block,
			VolumeAttributesClassName:     ptr("gold"),
		},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound, Reason: "r"},
	}
	checkCells(t, cellsOf(t, gr, pv), []interface{}{"pv1", "10Gi", "RWO,RWX,RWOP", "Retain", "Bound", "ns/data", "fast", "gold", "r", "60m", "Block"})

	bare := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv2", DeletionTimestamp: agoPtr(time.Second),
		Annotations: map[string]string{corev1.BetaStorageClassAnnotation: "legacy"}}, Spec: corev1.PersistentVolumeSpec{StorageClassName: "ignored"},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeReleased}}
	checkCells(t, cellsOf(t, gr, bare), []interface{}{"pv2", "0", "", "", "Terminating", "", "legacy", "<unset>", "", "<unknown>", "<unset>"})
}

func TestPersistentVolumeClaims(t *testing.T) {
	gr := schema.GroupResource{Resource: "persistentvolumeclaims"}
	fs := corev1.PersistentVolumeFilesystem
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data", CreationTimestamp: ago(5 * time.Hour)},
		Spec: corev1.PersistentVolumeClaimSpec{
			VolumeName:       "pv1",
			StorageClassName: ptr("fast"),
			VolumeMode:       &fs,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadOnlyMany},
			Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("2Gi")}},
	}
	checkCells(t, cellsOf(t, gr, pvc), []interface{}{"data", "Bound", "pv1", "2Gi", "ROX", "fast", "<unset>", "5h", "Filesystem"})

	pending := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec:   corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}}
	checkCells(t, cellsOf(t, gr, pending), []interface{}{"p", "Pending", "", "", "", "", "<unset>", "<unknown>", "<unset>"})
}

func TestEvents(t *testing.T) {
	core := schema.GroupResource{Resource: "events"}
	events := schema.GroupResource{Group: "events.k8s.io", Resource: "events"}
	tests := []struct {
		name string
		ev   corev1.Event
		want []interface{}
	}{
		{"classic event", corev1.Event{
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-1", FieldPath: "spec.containers{app}"},
			Type:           corev1.EventTypeWarning, Reason: "BackOff", Message: "  Back-off restarting failed container\n",
			Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
			FirstTimestamp: ago(10 * time.Minute), LastTimestamp: ago(30 * time.Second), Count: 12,
		}, []interface{}{"30s", "Warning", "BackOff", "pod/web-1", "spec.containers{app}", "kubelet, node-1", "Back-off restarting failed container", "10m", int64(12), "ev"}},
		{"new-style singleton event", corev1.Event{
			InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: "web"},
			Type:           corev1.EventTypeNormal, Reason: "ScalingReplicaSet", Message: "Scaled up",
			EventTime:           metav1.NewMicroTime(testNow.Add(-5 * time.Second)),
			ReportingController: "deployment-controller",
		}, []interface{}{"5s", "Normal", "ScalingReplicaSet", "deployment/web", "", "deployment-controller", "Scaled up", "5s", int64(1), "ev"}},
		{"series event", corev1.Event{
			InvolvedObject: corev1.ObjectReference{Kind: "Node"},
			Type:           corev1.EventTypeNormal, Reason: "R",
			EventTime:           metav1.NewMicroTime(testNow.Add(-time.Hour)),
			Series:              &corev1.EventSeries{Count: 4, LastObservedTime: metav1.NewMicroTime(testNow.Add(-2 * time.Minute))},
			ReportingController: "c", ReportingInstance: "i",
		}, []interface{}{"2m", "Normal", "R", "node", "", "c, i", "", "60m", int64(4), "ev"}},
		{"no times at all", corev1.Event{InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "x"}},
			[]interface{}{"<unknown>", "", "", "pod/x", "", "", "", "<unknown>", int64(1), "ev"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := tc.ev
			ev.Name = "ev"
			checkCells(t, cellsOf(t, core, &ev), tc.want)

			// The events.k8s.io view prints the same, from either form.
			checkCells(t, cellsOf(t, events, &ev), tc.want)
			v1 := &eventsv1.Event{
				ObjectMeta: ev.ObjectMeta, EventTime: ev.EventTime, ReportingController: ev.ReportingController,
				ReportingInstance: ev.ReportingInstance, Reason: ev.Reason, Regarding: ev.InvolvedObject, Note: ev.Message,
				Type: ev.Type, DeprecatedSource: ev.Source, DeprecatedFirstTimestamp: ev.FirstTimestamp,
				DeprecatedLastTimestamp: ev.LastTimestamp, DeprecatedCount: ev.Count,
			}
			if ev.Series != nil {
				v1.Series = &eventsv1.EventSeries{Count: ev.Series.Count, LastObservedTime: ev.Series.LastObservedTime}
			}
			table := convert(t, events, &eventsv1.EventList{Items: []eventsv1.Event{*v1}})
			checkCells(t, table.Rows[0].Cells, tc.want)
		})
	}
}

func TestLeasesAndEndpointSlices(t *testing.T) {
	leases := schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "kube-scheduler", CreationTimestamp: ago(7 * time.Minute)},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("herd-1_abc")}}
	checkCells(t, cellsOf(t, leases, l), []interface{}{"kube-scheduler", "herd-1_abc", "7m"})
	l.Spec.HolderIdentity = nil
	checkCells(t, cellsOf(t, leases, l), []interface{}{"kube-scheduler", "", "7m"})

	slices := schema.GroupResource{Group: "discovery.k8s.io", Resource: "endpointslices"}
	tests := []struct {
		name      string
		ports     []discoveryv1.EndpointPort
		endpoints []discoveryv1.Endpoint
		wantPorts string
		wantEps   string
	}{
		{"empty", nil, nil, "<unset>", "<unset>"},
		{"named and wildcard ports", []discoveryv1.EndpointPort{{Port: ptr(int32(80))}, {Name: ptr("http")}, {}},
			[]discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}, {Addresses: []string{"10.0.0.2"}}},
			"80,http,*", "10.0.0.1,10.0.0.2"},
		{"more", []discoveryv1.EndpointPort{{Port: ptr(int32(1))}, {Port: ptr(int32(2))}, {Port: ptr(int32(3))}, {Port: ptr(int32(4))}, {Port: ptr(int32(5))}},
			[]discoveryv1.Endpoint{{Addresses: []string{"a", "b"}}, {Addresses: []string{"c", "d"}}},
			"1,2,3 + 2 more...", "a,b,c + 1 more..."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "s", CreationTimestamp: ago(time.Minute)},
				AddressType: discoveryv1.AddressTypeIPv4, Ports: tc.ports, Endpoints: tc.endpoints}
			checkCells(t, cellsOf(t, slices, s), []interface{}{"s", "IPv4", tc.wantPorts, tc.wantEps, "60s"})
		})
	}
}
