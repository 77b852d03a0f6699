package core

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// RegisterDefaults registers the defaulting functions of the core/v1 types
// herd serves with s (the equivalent of Kubernetes' generated
// SetObjectDefaults_* for core/v1, plus the admission defaults a default
// cluster applies to pods; see SetDefaultsPod).
func RegisterDefaults(s *runtime.Scheme) {
	s.AddTypeDefaultingFunc(&corev1.Pod{}, func(obj interface{}) { SetDefaultsPod(obj.(*corev1.Pod)) })
	s.AddTypeDefaultingFunc(&corev1.PodList{}, func(obj interface{}) {
		l := obj.(*corev1.PodList)
		for i := range l.Items {
			SetDefaultsPod(&l.Items[i])
		}
	})
	s.AddTypeDefaultingFunc(&corev1.PodTemplate{}, func(obj interface{}) { SetDefaultsPodTemplate(obj.(*corev1.PodTemplate)) })
	s.AddTypeDefaultingFunc(&corev1.PodTemplateList{}, func(obj interface{}) {
		l := obj.(*corev1.PodTemplateList)
		for i := range l.Items {
			SetDefaultsPodTemplate(&l.Items[i])
		}
	})
	s.AddTypeDefaultingFunc(&corev1.Namespace{}, func(obj interface{}) { SetDefaultsNamespace(obj.(*corev1.Namespace)) })
	s.AddTypeDefaultingFunc(&corev1.NamespaceList{}, func(obj interface{}) {
		l := obj.(*corev1.NamespaceList)
		for i := range l.Items {
			SetDefaultsNamespace(&l.Items[i])
		}
	})
	s.AddTypeDefaultingFunc(&corev1.Node{}, func(obj interface{}) { SetDefaultsNode(obj.(*corev1.Node)) })
	s.AddTypeDefaultingFunc(&corev1.NodeList{}, func(obj interface{}) {
		l := obj.(*corev1.NodeList)
		for i := range l.Items {
			SetDefaultsNode(&l.Items[i])
		}
	})
	s.AddTypeDefaultingFunc(&corev1.Service{}, func(obj interface{}) { SetDefaultsService(obj.(*corev1.Service)) })
	s.AddTypeDefaultingFunc(&corev1.ServiceList{}, func(obj interface{}) {
		l := obj.(*corev1.ServiceList)
		for i := range l.Items {
			SetDefaultsService(&l.Items[i])
		}
	})
	s.AddTypeDefaultingFunc(&corev1.Secret{}, func(obj interface{}) { SetDefaultsSecret(obj.(*corev1.Secret)) })
	s.AddTypeDefaultingFunc(&corev1.SecretList{}, func(obj interface{}) {
		l := obj.(*corev1.SecretList)
		for i := range l.Items {
			SetDefaultsSecret(&l.Items[i])
		}
	})
	s.AddTypeDefaultingFunc(&corev1.ConfigMap{}, func(obj interface{}) { SetDefaultsConfigMap(obj.(*corev1.ConfigMap)) })
	s.AddTypeDefaultingFunc(&corev1.ConfigMapList{}, func(obj interface{}) {
		l := obj.(*corev1.ConfigMapList)
		for i := range l.Items {
			SetDefaultsConfigMap(&l.Items[i])
		}
	})
	s.AddTypeDefaultingFunc(&corev1.Endpoints{}, func(obj interface{}) { SetDefaultsEndpoints(obj.(*corev1.Endpoints)) })
	s.AddTypeDefaultingFunc(&corev1.EndpointsList{}, func(obj interface{}) {
		l := obj.(*corev1.EndpointsList)
		for i := range l.Items {
			SetDefaultsEndpoints(&l.Items[i])
		}
	})
	s.AddTypeDefaultingFunc(&corev1.PersistentVolume{}, func(obj interface{}) { SetDefaultsPersistentVolume(obj.(*corev1.PersistentVolume)) })
	s.AddTypeDefaultingFunc(&corev1.PersistentVolumeList{}, func(obj interface{}) {
		l := obj.(*corev1.PersistentVolumeList)
		for i := range l.Items {
			SetDefaultsPersistentVolume(&l.Items[i])
		}
	})
	s.AddTypeDefaultingFunc(&corev1.PersistentVolumeClaim{}, func(obj interface{}) {
		SetDefaultsPersistentVolumeClaim(obj.(*corev1.PersistentVolumeClaim))
	})
	s.AddTypeDefaultingFunc(&corev1.PersistentVolumeClaimList{}, func(obj interface{}) {
		l := obj.(*corev1.PersistentVolumeClaimList)
		for i := range l.Items {
			SetDefaultsPersistentVolumeClaim(&l.Items[i])
		}
	})
	// Event, ServiceAccount, Binding: Kubernetes defines no defaults for them.
}

// SetDefaultsPod applies Kubernetes' v1 defaults for a Pod (SetDefaults_Pod,
// SetDefaults_PodSpec and everything nested) and then the defaults the
// admission plugins of a default cluster add (SetAdmissionDefaultsPod).
// The pod status is left alone.
func SetDefaultsPod(pod *corev1.Pod) {
	spec := &pod.Spec
	SetDefaultsPodSpec(spec)
	// Requests default to limits for pods only (not for templates).
	for i := range spec.Containers {
		defaultRequestsFromLimits(&spec.Containers[i].Resources)
	}
	for i := range spec.InitContainers {
		defaultRequestsFromLimits(&spec.InitContainers[i].Resources)
	}
	if spec.EnableServiceLinks == nil {
		v := corev1.DefaultEnableServiceLinks
		spec.EnableServiceLinks = &v
	}
	if spec.HostNetwork {
		defaultHostNetworkPorts(spec.Containers)
		defaultHostNetworkPorts(spec.InitContainers)
	}
	SetAdmissionDefaultsPod(pod)
}

// SetDefaultsPodTemplate applies the defaults of a PodTemplate object.
func SetDefaultsPodTemplate(t *corev1.PodTemplate) {
	SetDefaultsPodSpec(&t.Template.Spec)
}

// SetDefaultsPodSpec applies Kubernetes' defaults to a pod spec (also used
// for templates): SetDefaults_PodSpec plus the nested container, probe,
// volume, port and env defaults, and the v1 serviceAccount alias.
func SetDefaultsPodSpec(spec *corev1.PodSpec) {
	if spec.DNSPolicy == "" {
		spec.DNSPolicy = corev1.DNSClusterFirst
	}
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	if spec.TerminationGracePeriodSeconds == nil {
		v := int64(corev1.DefaultTerminationGracePeriodSeconds)
		spec.TerminationGracePeriodSeconds = &v
	}
	if spec.SchedulerName == "" {
		spec.SchedulerName = corev1.DefaultSchedulerName
	}
	// serviceAccount is the deprecated v1 alias of serviceAccountName; the
	// v1 conversion fills one from the other.
	if spec.ServiceAccountName == "" && spec.DeprecatedServiceAccount != "" {
		spec.ServiceAccountName = spec.DeprecatedServiceAccount
	}
	if spec.ServiceAccountName != "" {
		spec.DeprecatedServiceAccount = spec.ServiceAccountName
	}
	for i := range spec.Volumes {
		setDefaultsVolume(&spec.Volumes[i])
	}
	for i := range spec.InitContainers {
		setDefaultsContainer(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		setDefaultsContainer(&spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		setDefaultsContainer((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
	roundResourceList(spec.Overhead)
	if spec.Resources != nil {
		roundResourceList(spec.Resources.Limits)
		roundResourceList(spec.Resources.Requests)
	}
}

// SetDefaultsContainer applies the container defaults (image pull policy,
// termination message, port protocol, env field refs, probes, lifecycle).
func SetDefaultsContainer(c *corev1.Container) { setDefaultsContainer(c) }

func setDefaultsContainer(c *corev1.Container) {
	if c.ImagePullPolicy == "" {
		if imageTag(c.Image) == "latest" {
			c.ImagePullPolicy = corev1.PullAlways
		} else {
			c.ImagePullPolicy = corev1.PullIfNotPresent
		}
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	for i := range c.Env {
		if vf := c.Env[i].ValueFrom; vf != nil {
			if vf.FieldRef != nil && vf.FieldRef.APIVersion == "" {
				vf.FieldRef.APIVersion = "v1"
			}
			if vf.FileKeyRef != nil && vf.FileKeyRef.Optional == nil {
				f := false
				vf.FileKeyRef.Optional = &f
			}
		}
	}
	roundResourceList(c.Resources.Limits)
	roundResourceList(c.Resources.Requests)
	setDefaultsProbe(c.LivenessProbe)
	setDefaultsProbe(c.ReadinessProbe)
	setDefaultsProbe(c.StartupProbe)
	if c.Lifecycle != nil {
		setDefaultsLifecycleHandler(c.Lifecycle.PostStart)
		setDefaultsLifecycleHandler(c.Lifecycle.PreStop)
	}
}

func setDefaultsProbe(p *corev1.Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	setDefaultsHTTPGet(p.HTTPGet)
	if p.GRPC != nil && p.GRPC.Service == nil {
		s := ""
		p.GRPC.Service = &s
	}
}

func setDefaultsLifecycleHandler(h *corev1.LifecycleHandler) {
	if h != nil {
		setDefaultsHTTPGet(h.HTTPGet)
	}
}

func setDefaultsHTTPGet(h *corev1.HTTPGetAction) {
	if h == nil {
		return
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = corev1.URISchemeHTTP
	}
}

func setDefaultsVolume(v *corev1.Volume) {
	src := &v.VolumeSource
	if volumeSourceCount(src) == 0 {
		src.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	if src.Secret != nil && src.Secret.DefaultMode == nil {
		m := corev1.SecretVolumeSourceDefaultMode
		src.Secret.DefaultMode = &m
	}
	if src.ConfigMap != nil && src.ConfigMap.DefaultMode == nil {
		m := corev1.ConfigMapVolumeSourceDefaultMode
		src.ConfigMap.DefaultMode = &m
	}
	if src.DownwardAPI != nil {
		if src.DownwardAPI.DefaultMode == nil {
			m := corev1.DownwardAPIVolumeSourceDefaultMode
			src.DownwardAPI.DefaultMode = &m
		}
		defaultDownwardAPIFiles(src.DownwardAPI.Items)
	}
	if p := src.Projected; p != nil {
		if p.DefaultMode == nil {
			m := corev1.ProjectedVolumeSourceDefaultMode
			p.DefaultMode = &m
		}
		for i := range p.Sources {
			if p.Sources[i].DownwardAPI != nil {
				defaultDownwardAPIFiles(p.Sources[i].DownwardAPI.Items)
			}
			if t := p.Sources[i].ServiceAccountToken; t != nil && t.ExpirationSeconds == nil {
				h := int64(3600)
				t.ExpirationSeconds = &h
			}
		}
	}
	if src.HostPath != nil && src.HostPath.Type == nil {
		t := corev1.HostPathUnset
		src.HostPath.Type = &t
	}
	if src.ISCSI != nil && src.ISCSI.ISCSIInterface == "" {
		src.ISCSI.ISCSIInterface = "default"
	}
	if r := src.RBD; r != nil {
		if r.RBDPool == "" {
			r.RBDPool = "rbd"
		}
		if r.RadosUser == "" {
			r.RadosUser = "admin"
		}
		if r.Keyring == "" {
			r.Keyring = "/etc/ceph/keyring"
		}
	}
	if a := src.AzureDisk; a != nil {
		if a.CachingMode == nil {
			m := corev1.AzureDataDiskCachingReadWrite
			a.CachingMode = &m
		}
		if a.FSType == nil {
			fs := "ext4"
			a.FSType = &fs
		}
		if a.ReadOnly == nil {
			f := false
			a.ReadOnly = &f
		}
		if a.Kind == nil {
			k := corev1.AzureSharedBlobDisk
			a.Kind = &k
		}
	}
	if s := src.ScaleIO; s != nil {
		if s.StorageMode == "" {
			s.StorageMode = "ThinProvisioned"
		}
		if s.FSType == "" {
			s.FSType = "xfs"
		}
	}
	if e := src.Ephemeral; e != nil && e.VolumeClaimTemplate != nil {
		setDefaultsPVCSpec(&e.VolumeClaimTemplate.Spec)
	}
	if img := src.Image; img != nil && img.PullPolicy == "" {
		if imageTag(img.Reference) == "latest" {
			img.PullPolicy = corev1.PullAlways
		} else {
			img.PullPolicy = corev1.PullIfNotPresent
		}
	}
}

func defaultDownwardAPIFiles(items []corev1.DownwardAPIVolumeFile) {
	for i := range items {
		if items[i].FieldRef != nil && items[i].FieldRef.APIVersion == "" {
			items[i].FieldRef.APIVersion = "v1"
		}
	}
}

// imageTag returns the tag Kubernetes' image-name parser sees: "latest" when
// the reference has neither tag nor digest, "" when it has only a digest.
func imageTag(image string) string {
	name := image
	digest := false
	if i := strings.Index(name, "@"); i >= 0 {
		name = name[:i]
		digest = true
	}
	last := name
	if i := strings.LastIndex(name, "/"); i >= 0 {
		last = name[i+1:]
	}
	if i := strings.LastIndex(last, ":"); i >= 0 {
		return last[i+1:]
	}
	if digest {
		return ""
	}
	return "latest"
}

func defaultRequestsFromLimits(r *corev1.ResourceRequirements) {
	if r.Limits == nil {
		return
	}
	if r.Requests == nil {
		r.Requests = corev1.ResourceList{}
	}
	for k, v := range r.Limits {
		if _, ok := r.Requests[k]; !ok {
			r.Requests[k] = v.DeepCopy()
		}
	}
}

func defaultHostNetworkPorts(cs []corev1.Container) {
	for i := range cs {
		for j := range cs[i].Ports {
			if cs[i].Ports[j].HostPort == 0 {
				cs[i].Ports[j].HostPort = cs[i].Ports[j].ContainerPort
			}
		}
	}
}

// roundResourceList rounds quantities up to milli scale (SetDefaults_ResourceList).
func roundResourceList(l corev1.ResourceList) {
	for k, v := range l {
		v.RoundUp(resource.Milli)
		l[k] = v
	}
}

// SetDefaultsNamespace applies Kubernetes' namespace defaults: the
// kubernetes.io/metadata.name label and status.phase Active. The
// "kubernetes" spec finalizer is added on create by the registry (see
// AddNamespaceFinalizer), not by defaulting.
func SetDefaultsNamespace(ns *corev1.Namespace) {
	if ns.Name != "" {
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[corev1.LabelMetadataName] = ns.Name
	}
	if ns.Status.Phase == "" {
		ns.Status.Phase = corev1.NamespaceActive
	}
}

// AddNamespaceFinalizer adds the "kubernetes" finalizer to spec.finalizers
// unless present, as the namespace strategy's PrepareForCreate does.
func AddNamespaceFinalizer(ns *corev1.Namespace) {
	for _, f := range ns.Spec.Finalizers {
		if f == corev1.FinalizerKubernetes {
			return
		}
	}
	ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
}

// SetDefaultsNode copies status.capacity to status.allocatable when the
// latter is unset, and rounds both to milli scale.
func SetDefaultsNode(n *corev1.Node) {
	roundResourceList(n.Status.Capacity)
	roundResourceList(n.Status.Allocatable)
	if n.Status.Allocatable == nil && n.Status.Capacity != nil {
		n.Status.Allocatable = make(corev1.ResourceList, len(n.Status.Capacity))
		for k, v := range n.Status.Capacity {
			n.Status.Allocatable[k] = v.DeepCopy()
		}
	}
}

// SetDefaultsService applies Kubernetes' service defaults (SetDefaults_Service)
// plus what the service REST storage fills in before allocation: clusterIP
// and clusterIPs kept in sync, ipFamilyPolicy (SingleStack, or
// RequireDualStack for headless services without selector) for every
// non-ExternalName service.
func SetDefaultsService(svc *corev1.Service) {
	spec := &svc.Spec
	if spec.SessionAffinity == "" {
		spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	if spec.SessionAffinity == corev1.ServiceAffinityNone {
		spec.SessionAffinityConfig = nil
	}
	if spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		c := spec.SessionAffinityConfig
		if c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			t := corev1.DefaultClientIPServiceAffinitySeconds
			spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &t}}
		}
	}
	if spec.Type == "" {
		spec.Type = corev1.ServiceTypeClusterIP
	}
	for i := range spec.Ports {
		p := &spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == intstr.FromInt32(0) || p.TargetPort == intstr.FromString("") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if serviceExternallyAccessible(svc) && spec.ExternalTrafficPolicy == "" {
		spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if spec.InternalTrafficPolicy == nil &&
		(spec.Type == corev1.ServiceTypeNodePort || spec.Type == corev1.ServiceTypeLoadBalancer || spec.Type == corev1.ServiceTypeClusterIP) {
		p := corev1.ServiceInternalTrafficPolicyCluster
		spec.InternalTrafficPolicy = &p
	}
	if spec.Type == corev1.ServiceTypeLoadBalancer {
		if spec.AllocateLoadBalancerNodePorts == nil {
			t := true
			spec.AllocateLoadBalancerNodePorts = &t
		}
		vip := corev1.LoadBalancerIPModeVIP
		for i, ing := range svc.Status.LoadBalancer.Ingress {
			if ing.IP != "" && ing.IPMode == nil {
				svc.Status.LoadBalancer.Ingress[i].IPMode = &vip
			}
		}
	}
	if spec.Type != corev1.ServiceTypeExternalName {
		// normalizeClusterIPs of the service strategy.
		if spec.ClusterIP != "" && len(spec.ClusterIPs) == 0 {
			spec.ClusterIPs = []string{spec.ClusterIP}
		} else if spec.ClusterIP == "" && len(spec.ClusterIPs) > 0 {
			spec.ClusterIP = spec.ClusterIPs[0]
		}
		if spec.IPFamilyPolicy == nil {
			p := corev1.IPFamilyPolicySingleStack
			if spec.ClusterIP == corev1.ClusterIPNone && len(spec.Selector) == 0 {
				p = corev1.IPFamilyPolicyRequireDualStack
			}
			spec.IPFamilyPolicy = &p
		}
	}
}

// serviceExternallyAccessible mirrors Kubernetes' service.ExternallyAccessible.
func serviceExternallyAccessible(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer ||
		svc.Spec.Type == corev1.ServiceTypeNodePort ||
		(svc.Spec.Type == corev1.ServiceTypeClusterIP && len(svc.Spec.ExternalIPs) > 0)
}

// SetDefaultsSecret defaults type to Opaque and folds stringData into data
// (the v1 conversion does this in Kubernetes; stringData is never stored).
func SetDefaultsSecret(s *corev1.Secret) {
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
	if len(s.StringData) > 0 {
		if s.Data == nil {
			s.Data = make(map[string][]byte, len(s.StringData))
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
	}
	s.StringData = nil
}

// SetDefaultsConfigMap makes data an empty map when unset.
func SetDefaultsConfigMap(cm *corev1.ConfigMap) {
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
}

// SetDefaultsEndpoints defaults the protocol of every subset port to TCP.
func SetDefaultsEndpoints(ep *corev1.Endpoints) {
	for i := range ep.Subsets {
		for j := range ep.Subsets[i].Ports {
			if ep.Subsets[i].Ports[j].Protocol == "" {
				ep.Subsets[i].Ports[j].Protocol = corev1.ProtocolTCP
			}
		}
	}
}

// SetDefaultsPersistentVolume defaults status.phase Pending, reclaim policy
// Retain and volumeMode Filesystem.
func SetDefaultsPersistentVolume(pv *corev1.PersistentVolume) {
	if pv.Status.Phase == "" {
		pv.Status.Phase = corev1.VolumePending
	}
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		m := corev1.PersistentVolumeFilesystem
		pv.Spec.VolumeMode = &m
	}
	roundResourceList(pv.Spec.Capacity)
}

// SetDefaultsPersistentVolumeClaim defaults status.phase Pending and
// spec.volumeMode Filesystem.
func SetDefaultsPersistentVolumeClaim(pvc *corev1.PersistentVolumeClaim) {
	if pvc.Status.Phase == "" {
		pvc.Status.Phase = corev1.ClaimPending
	}
	setDefaultsPVCSpec(&pvc.Spec)
}

func setDefaultsPVCSpec(spec *corev1.PersistentVolumeClaimSpec) {
	if spec.VolumeMode == nil {
		m := corev1.PersistentVolumeFilesystem
		spec.VolumeMode = &m
	}
	roundResourceList(spec.Resources.Limits)
	roundResourceList(spec.Resources.Requests)
}
