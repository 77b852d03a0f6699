package core

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func meta(name, ns string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, ResourceVersion: "1"}
}

func TestValidateNamespace(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: meta("team-a", "")}
	SetDefaultsNamespace(ns)
	AddNamespaceFinalizer(ns)
	checkErrors(t, "valid", ValidateNamespace(ns), nil)
	bad := ns.DeepCopy()
	bad.Name = "Team_A"
	checkErrors(t, "name", ValidateNamespace(bad), []want{{field.ErrorTypeInvalid, "metadata.name"}})
	bad = ns.DeepCopy()
	bad.Spec.Finalizers = []corev1.FinalizerName{"custom"}
	checkErrors(t, "finalizer", ValidateNamespace(bad), []want{{field.ErrorTypeInvalid, "spec.finalizers"}})

	upd := ns.DeepCopy()
	upd.Labels["x"] = "y"
	checkErrors(t, "update", ValidateNamespaceUpdate(upd, ns), nil)
	upd.Name = "other"
	checkErrors(t, "update name", ValidateNamespaceUpdate(upd, ns), []want{{field.ErrorTypeInvalid, "metadata.name"}})

	st := ns.DeepCopy()
	st.Status.Phase = corev1.NamespaceTerminating
	checkErrors(t, "status terminating without deletion", ValidateNamespaceStatusUpdate(st, ns), []want{{field.ErrorTypeInvalid, "status.Phase"}})
	now := metav1.Now()
	st.DeletionTimestamp = &now
	old := ns.DeepCopy()
	old.DeletionTimestamp = &now
	checkErrors(t, "status terminating with deletion", ValidateNamespaceStatusUpdate(st, old), nil)

	fin := ns.DeepCopy()
	fin.Spec.Finalizers = []corev1.FinalizerName{"bad"}
	checkErrors(t, "finalize", ValidateNamespaceFinalizeUpdate(fin, ns), []want{{field.ErrorTypeInvalid, "spec.finalizers[0]"}})
	fin.Spec.Finalizers = nil
	checkErrors(t, "finalize ok", ValidateNamespaceFinalizeUpdate(fin, ns), nil)
}

func TestValidateNode(t *testing.T) {
	node := &corev1.Node{ObjectMeta: meta("node-1", ""), Spec: corev1.NodeSpec{PodCIDRs: []string{"10.0.0.0/24"}, ProviderID: "herd://node-1"}}
	checkErrors(t, "valid", ValidateNode(node), nil)
	bad := node.DeepCopy()
	bad.Spec.Taints = []corev1.Taint{{Key: "k", Effect: "Sometimes"}}
	checkErrors(t, "taint effect", ValidateNode(bad), []want{{field.ErrorTypeNotSupported, "metadata.taints[0].effect"}})
	bad.Spec.Taints = []corev1.Taint{{Key: "k", Effect: "NoSchedule"}, {Key: "k", Effect: "NoSchedule"}}
	checkErrors(t, "taint duplicate", ValidateNode(bad), []want{{field.ErrorTypeDuplicate, "metadata.taints[1]"}})
	bad = node.DeepCopy()
	bad.Status.Capacity = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("-1")}
	checkErrors(t, "negative capacity", ValidateNode(bad), []want{{field.ErrorTypeInvalid, "status.capacity.cpu"}})

	upd := node.DeepCopy()
	upd.Spec.Unschedulable = true
	checkErrors(t, "cordon", ValidateNodeUpdate(upd, node), nil)
	upd.Spec.PodCIDRs = []string{"10.0.1.0/24"}
	checkErrors(t, "podCIDR change", ValidateNodeUpdate(upd, node), []want{{field.ErrorTypeForbidden, "spec.podCIDRs"}})
	upd = node.DeepCopy()
	upd.Spec.ProviderID = "x"
	checkErrors(t, "providerID change", ValidateNodeUpdate(upd, node), []want{{field.ErrorTypeForbidden, "spec.providerID"}})
}

func validService() *corev1.Service {
	svc := &corev1.Service{ObjectMeta: meta("web", "default"), Spec: corev1.ServiceSpec{
		Selector: map[string]string{"app": "web"},
		Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}},
	}}
	SetDefaultsService(svc)
	return svc
}

func TestValidateService(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*corev1.Service)
		wants  []want
	}{
		{"valid", func(*corev1.Service) {}, nil},
		{"valid headless", func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.ClusterIPs = "None", []string{"None"}
			s.Spec.Ports = nil
		}, nil},
		{"valid ExternalName", func(s *corev1.Service) {
			s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com.", SessionAffinity: "None"}
		}, nil},
		{"name must be DNS-1035", func(s *corev1.Service) { s.Name = "1web" }, []want{{field.ErrorTypeInvalid, "metadata.name"}}},
		{"ports required", func(s *corev1.Service) { s.Spec.Ports = nil }, []want{{field.ErrorTypeRequired, "spec.ports"}}},
		{"port range", func(s *corev1.Service) { s.Spec.Ports[0].Port = 0 }, []want{{field.ErrorTypeInvalid, "spec.ports[0].port"}}},
		{"port protocol", func(s *corev1.Service) { s.Spec.Ports[0].Protocol = "HTTP" }, []want{{field.ErrorTypeNotSupported, "spec.ports[0].protocol"}}},
		{"port name required when many", func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: 81, Protocol: "TCP", TargetPort: intstr.FromInt32(81)})
		}, []want{{field.ErrorTypeRequired, "spec.ports[1].name"}}},
		{"duplicate port", func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "b", Port: 80, Protocol: "TCP", TargetPort: intstr.FromInt32(80)})
		}, []want{{field.ErrorTypeDuplicate, "spec.ports[1]"}}},
		{"selector", func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "a b"} }, []want{{field.ErrorTypeInvalid, "spec.selector"}}},
		{"type", func(s *corev1.Service) { s.Spec.Type = "Magic" }, []want{{field.ErrorTypeNotSupported, "spec.type"}}},
		{"nodePort on ClusterIP", func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30080 },
			[]want{{field.ErrorTypeForbidden, "spec.ports[0].nodePort"}}},
		{"headless NodePort", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.ClusterIP, s.Spec.ClusterIPs = "None", []string{"None"}
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
		}, []want{{field.ErrorTypeInvalid, "spec.clusterIPs[0]"}}},
		{"bad clusterIP", func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.0.0", []string{"10.0.0"} },
			[]want{{field.ErrorTypeInvalid, "spec.clusterIPs[0]"}}},
		{"clusterIPs mismatch", func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.0.0.1", []string{"10.0.0.2"} },
			[]want{{field.ErrorTypeInvalid, "spec.clusterIPs"}}},
		{"sessionAffinity", func(s *corev1.Service) { s.Spec.SessionAffinity = "Sticky" }, []want{{field.ErrorTypeNotSupported, "spec.sessionAffinity"}}},
		{"internalTrafficPolicy required", func(s *corev1.Service) { s.Spec.InternalTrafficPolicy = nil },
			[]want{{field.ErrorTypeRequired, "spec.internalTrafficPolicy"}}},
		{"externalTrafficPolicy on ClusterIP", func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal },
			[]want{{field.ErrorTypeInvalid, "spec.externalTrafficPolicy"}}},
		{"ExternalName requires name", func(s *corev1.Service) {
			s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, SessionAffinity: "None"}
		}, []want{{field.ErrorTypeRequired, "spec.externalName"}}},
	}
	for _, tc := range cases {
		svc := validService()
		tc.mutate(svc)
		checkErrors(t, tc.name, ValidateService(svc), tc.wants)
	}
}

func TestValidateServiceUpdate(t *testing.T) {
	old := validService()
	old.Spec.ClusterIP, old.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10"}
	old.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	upd := old.DeepCopy()
	upd.Spec.Selector["tier"] = "front"
	checkErrors(t, "selector change", ValidateServiceUpdate(upd, old), nil)
	upd = old.DeepCopy()
	upd.Spec.ClusterIP, upd.Spec.ClusterIPs = "10.96.0.11", []string{"10.96.0.11"}
	checkErrors(t, "clusterIP change", ValidateServiceUpdate(upd, old), []want{{field.ErrorTypeInvalid, "spec.clusterIPs[0]"}})
	upd = old.DeepCopy()
	upd.Spec.ClusterIP, upd.Spec.ClusterIPs = "", nil
	checkErrors(t, "clusterIP unset", ValidateServiceUpdate(upd, old), []want{{field.ErrorTypeInvalid, "spec.clusterIPs[0]"}})
	upd = old.DeepCopy()
	upd.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol}
	checkErrors(t, "family change", ValidateServiceUpdate(upd, old), []want{{field.ErrorTypeInvalid, "spec.ipFamilies[0]"}})
}

func TestValidateConfigMap(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: meta("cfg", "default"), Data: map[string]string{"a.conf": "x"}}
	checkErrors(t, "valid", ValidateConfigMap(cm), nil)
	bad := cm.DeepCopy()
	bad.Data["bad/key"] = "x"
	checkErrors(t, "key", ValidateConfigMap(bad), []want{{field.ErrorTypeInvalid, "data[bad/key]"}})
	bad = cm.DeepCopy()
	bad.BinaryData = map[string][]byte{"a.conf": {1}}
	checkErrors(t, "duplicate key", ValidateConfigMap(bad), []want{{field.ErrorTypeInvalid, "data[a.conf]"}})
	bad = cm.DeepCopy()
	bad.Data["big"] = strings.Repeat("x", corev1.MaxSecretSize)
	checkErrors(t, "size", ValidateConfigMap(bad), []want{{field.ErrorTypeTooLong, "[]"}})

	imm := cm.DeepCopy()
	imm.Immutable = ptr.To(true)
	upd := imm.DeepCopy()
	upd.Data["a.conf"] = "y"
	checkErrors(t, "immutable data", ValidateConfigMapUpdate(upd, imm), []want{{field.ErrorTypeForbidden, "data"}})
	upd = imm.DeepCopy()
	upd.Immutable = ptr.To(false)
	checkErrors(t, "immutable flag", ValidateConfigMapUpdate(upd, imm), []want{{field.ErrorTypeForbidden, "immutable"}})
	upd = cm.DeepCopy()
	upd.Data["a.conf"] = "y"
	checkErrors(t, "mutable update", ValidateConfigMapUpdate(upd, cm), nil)
}

func TestValidateSecret(t *testing.T) {
	s := &corev1.Secret{ObjectMeta: meta("s", "default"), Data: map[string][]byte{"k": []byte("v")}}
	SetDefaultsSecret(s)
	checkErrors(t, "valid", ValidateSecret(s), nil)
	bad := s.DeepCopy()
	bad.Data["a b"] = nil
	checkErrors(t, "key", ValidateSecret(bad), []want{{field.ErrorTypeInvalid, "data[a b]"}})
	bad = s.DeepCopy()
	bad.Data["big"] = make([]byte, corev1.MaxSecretSize)
	checkErrors(t, "size", ValidateSecret(bad), []want{{field.ErrorTypeTooLong, "data"}})
	bad = s.DeepCopy()
	bad.Type = corev1.SecretTypeTLS
	checkErrors(t, "tls keys", ValidateSecret(bad), []want{{field.ErrorTypeRequired, "data[tls.crt]"}, {field.ErrorTypeRequired, "data[tls.key]"}})
	bad.Type = corev1.SecretTypeDockerConfigJson
	bad.Data[corev1.DockerConfigJsonKey] = []byte("{")
	checkErrors(t, "docker json", ValidateSecret(bad), []want{{field.ErrorTypeInvalid, "data[.dockerconfigjson]"}})
	bad.Type = corev1.SecretTypeServiceAccountToken
	checkErrors(t, "sa token", ValidateSecret(bad), []want{{field.ErrorTypeRequired, "metadata.annotations[kubernetes.io/service-account.name]"}})

	upd := s.DeepCopy()
	upd.Type = corev1.SecretTypeBasicAuth
	upd.Data[corev1.BasicAuthUsernameKey] = []byte("u")
	checkErrors(t, "type immutable", ValidateSecretUpdate(upd, s), []want{{field.ErrorTypeInvalid, "type"}})
	imm := s.DeepCopy()
	imm.Immutable = ptr.To(true)
	upd = imm.DeepCopy()
	upd.Data["k"] = []byte("w")
	checkErrors(t, "immutable", ValidateSecretUpdate(upd, imm), []want{{field.ErrorTypeForbidden, "data"}})
}

func TestValidateServiceAccount(t *testing.T) {
	sa := &corev1.ServiceAccount{ObjectMeta: meta("builder", "default")}
	checkErrors(t, "valid", ValidateServiceAccount(sa), nil)
	bad := sa.DeepCopy()
	bad.Name = "Builder"
	checkErrors(t, "name", ValidateServiceAccount(bad), []want{{field.ErrorTypeInvalid, "metadata.name"}})
	upd := sa.DeepCopy()
	upd.Namespace = "other"
	checkErrors(t, "namespace change", ValidateServiceAccountUpdate(upd, sa), []want{{field.ErrorTypeInvalid, "metadata.namespace"}})
}

func TestValidateEvent(t *testing.T) {
	ev := &corev1.Event{ObjectMeta: meta("web.1", "default"),
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"}, Reason: "Started"}
	checkErrors(t, "valid legacy", ValidateEvent(ev), nil)
	bad := ev.DeepCopy()
	bad.InvolvedObject.Namespace = "other"
	checkErrors(t, "namespace mismatch", ValidateEvent(bad), []want{{field.ErrorTypeInvalid, "involvedObject.namespace"}})
	node := ev.DeepCopy()
	node.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: "n1"}
	checkErrors(t, "cluster-scoped in default", ValidateEvent(node), nil)

	newStyle := ev.DeepCopy()
	newStyle.EventTime = metav1.NewMicroTime(time.Now())
	checkErrors(t, "new style missing fields", ValidateEvent(newStyle), []want{
		{field.ErrorTypeRequired, "reportingController"}, {field.ErrorTypeRequired, "reportingInstance"}, {field.ErrorTypeRequired, "action"}})
	newStyle.ReportingController, newStyle.ReportingInstance, newStyle.Action = "herd.dev/scheduler", "herd-0", "Binding"
	checkErrors(t, "new style valid", ValidateEvent(newStyle), nil)
	newStyle.Reason = strings.Repeat("r", 129)
	checkErrors(t, "reason too long", ValidateEvent(newStyle), []want{{field.ErrorTypeInvalid, "reason"}})
}

func TestValidateEndpoints(t *testing.T) {
	ep := &corev1.Endpoints{ObjectMeta: meta("web", "default"), Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "10.1.0.5"}},
		Ports:     []corev1.EndpointPort{{Port: 80, Protocol: "TCP"}},
	}}}
	checkErrors(t, "valid", ValidateEndpoints(ep), nil)
	bad := ep.DeepCopy()
	bad.Subsets[0].Addresses = nil
	checkErrors(t, "no addresses", ValidateEndpoints(bad), []want{{field.ErrorTypeRequired, "subsets[0]"}})
	bad = ep.DeepCopy()
	bad.Subsets[0].Addresses[0].IP = "127.0.0.1"
	checkErrors(t, "loopback", ValidateEndpoints(bad), []want{{field.ErrorTypeInvalid, "subsets[0].addresses[0].ip"}})
	bad = ep.DeepCopy()
	bad.Subsets[0].Ports[0].Protocol = ""
	checkErrors(t, "protocol", ValidateEndpoints(bad), []want{{field.ErrorTypeRequired, "subsets[0].ports[0].protocol"}})
	upd := ep.DeepCopy()
	upd.Subsets[0].Addresses[0].IP = "10.1.0.6"
	checkErrors(t, "update", ValidateEndpointsUpdate(upd, ep), nil)
}

func validPVC() *corev1.PersistentVolumeClaim {
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: meta("data", "default"), Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
	}}
	SetDefaultsPersistentVolumeClaim(pvc)
	return pvc
}

func TestValidatePersistentVolumeClaim(t *testing.T) {
	checkErrors(t, "valid", ValidatePersistentVolumeClaim(validPVC()), nil)
	bad := validPVC()
	bad.Spec.AccessModes = nil
	checkErrors(t, "access modes", ValidatePersistentVolumeClaim(bad), []want{{field.ErrorTypeRequired, "spec.accessModes"}})
	bad = validPVC()
	bad.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{"ReadSometimes"}
	checkErrors(t, "access mode value", ValidatePersistentVolumeClaim(bad), []want{{field.ErrorTypeNotSupported, "spec.accessModes"}})
	bad = validPVC()
	bad.Spec.Resources.Requests = nil
	checkErrors(t, "storage", ValidatePersistentVolumeClaim(bad), []want{{field.ErrorTypeRequired, "spec.resources[storage]"}})

	old := validPVC()
	upd := old.DeepCopy()
	upd.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("2Gi")
	checkErrors(t, "unbound resize is a spec change", ValidatePersistentVolumeClaimUpdate(upd, old), []want{{field.ErrorTypeForbidden, "spec"}})
	old.Status.Phase = corev1.ClaimBound
	old.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}
	upd = old.DeepCopy()
	upd.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("2Gi")
	checkErrors(t, "bound grow", ValidatePersistentVolumeClaimUpdate(upd, old), nil)
	upd.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("512Mi")
	checkErrors(t, "shrink below capacity", ValidatePersistentVolumeClaimUpdate(upd, old),
		[]want{{field.ErrorTypeForbidden, "spec.resources.requests.storage"}})
	upd = old.DeepCopy()
	upd.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
	checkErrors(t, "access mode change", ValidatePersistentVolumeClaimUpdate(upd, old), []want{{field.ErrorTypeForbidden, "spec"}})
	upd = old.DeepCopy()
	upd.Spec.VolumeName = "pv-1"
	checkErrors(t, "bind volumeName", ValidatePersistentVolumeClaimUpdate(upd, old), nil)
}

func TestValidatePersistentVolume(t *testing.T) {
	pv := &corev1.PersistentVolume{ObjectMeta: meta("pv-1", ""), Spec: corev1.PersistentVolumeSpec{
		AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/pv-1"}},
	}}
	SetDefaultsPersistentVolume(pv)
	checkErrors(t, "valid", ValidatePersistentVolume(pv), nil)
	bad := pv.DeepCopy()
	bad.Spec.HostPath = nil
	checkErrors(t, "source", ValidatePersistentVolume(bad), []want{{field.ErrorTypeRequired, "spec"}})
	bad = pv.DeepCopy()
	bad.Spec.NFS = &corev1.NFSVolumeSource{Server: "s", Path: "/x"}
	checkErrors(t, "two sources", ValidatePersistentVolume(bad), []want{{field.ErrorTypeForbidden, "spec.nfs"}})
	bad = pv.DeepCopy()
	bad.Spec.Capacity = nil
	checkErrors(t, "capacity", ValidatePersistentVolume(bad), []want{{field.ErrorTypeRequired, "spec.capacity"}})
	bad = pv.DeepCopy()
	bad.Spec.PersistentVolumeReclaimPolicy = "Keep"
	checkErrors(t, "reclaim", ValidatePersistentVolume(bad), []want{{field.ErrorTypeNotSupported, "spec.persistentVolumeReclaimPolicy"}})
	bad = pv.DeepCopy()
	bad.Spec.HostPath = nil
	bad.Spec.Local = &corev1.LocalVolumeSource{Path: "/mnt"}
	checkErrors(t, "local needs affinity", ValidatePersistentVolume(bad), []want{{field.ErrorTypeRequired, "spec.nodeAffinity"}})

	upd := pv.DeepCopy()
	upd.Spec.HostPath.Path = "/srv/other"
	checkErrors(t, "source immutable", ValidatePersistentVolumeUpdate(upd, pv), []want{{field.ErrorTypeForbidden, "spec.persistentvolumesource"}})
	upd = pv.DeepCopy()
	upd.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimDelete
	checkErrors(t, "reclaim change ok", ValidatePersistentVolumeUpdate(upd, pv), nil)
}
