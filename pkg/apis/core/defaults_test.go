package core

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func TestSetDefaultsPod(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:  "c",
				Image: "nginx",
				Ports: []corev1.ContainerPort{{ContainerPort: 80}},
				Env: []corev1.EnvVar{{Name: "N", ValueFrom: &corev1.EnvVarSource{
					FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("500m")}},
				LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80)}}},
				Lifecycle:     &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/x", Port: intstr.FromInt32(80)}}},
			}},
			InitContainers: []corev1.Container{{Name: "i", Image: "busybox:1.36"}},
			Volumes: []corev1.Volume{
				{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "x"}}},
				{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}},
				{Name: "d", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{}}},
				{Name: "pr", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}},
				{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp"}}},
				{Name: "e"},
			},
		},
	}
	SetDefaultsPod(pod)
	s := pod.Spec
	c := s.Containers[0]
	checks := []struct {
		name      string
		got, want interface{}
	}{
		{"restartPolicy", s.RestartPolicy, corev1.RestartPolicyAlways},
		{"terminationGracePeriodSeconds", *s.TerminationGracePeriodSeconds, int64(30)},
		{"dnsPolicy", s.DNSPolicy, corev1.DNSClusterFirst},
		{"securityContext", *s.SecurityContext, corev1.PodSecurityContext{}},
		{"schedulerName", s.SchedulerName, "default-scheduler"},
		{"enableServiceLinks", *s.EnableServiceLinks, true},
		{"serviceAccountName", s.ServiceAccountName, "default"},
		{"serviceAccount", s.DeprecatedServiceAccount, "default"},
		{"priority", *s.Priority, int32(0)},
		{"preemptionPolicy", *s.PreemptionPolicy, corev1.PreemptLowerPriority},
		{"tolerations", s.Tolerations, []corev1.Toleration{
			{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
			{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
		}},
		{"terminationMessagePath", c.TerminationMessagePath, "/dev/termination-log"},
		{"terminationMessagePolicy", c.TerminationMessagePolicy, corev1.TerminationMessageReadFile},
		{"imagePullPolicy untagged", c.ImagePullPolicy, corev1.PullAlways},
		{"imagePullPolicy tagged", s.InitContainers[0].ImagePullPolicy, corev1.PullIfNotPresent},
		{"port protocol", c.Ports[0].Protocol, corev1.ProtocolTCP},
		{"fieldRef apiVersion", c.Env[0].ValueFrom.FieldRef.APIVersion, "v1"},
		{"requests from limits", c.Resources.Requests.Cpu().String(), "500m"},
		{"probe timeout", c.LivenessProbe.TimeoutSeconds, int32(1)},
		{"probe period", c.LivenessProbe.PeriodSeconds, int32(10)},
		{"probe success", c.LivenessProbe.SuccessThreshold, int32(1)},
		{"probe failure", c.LivenessProbe.FailureThreshold, int32(3)},
		{"probe httpGet scheme", c.LivenessProbe.HTTPGet.Scheme, corev1.URISchemeHTTP},
		{"probe httpGet path", c.LivenessProbe.HTTPGet.Path, "/"},
		{"lifecycle scheme", c.Lifecycle.PreStop.HTTPGet.Scheme, corev1.URISchemeHTTP},
		{"secret mode", *s.Volumes[0].Secret.DefaultMode, int32(420)},
		{"configMap mode", *s.Volumes[1].ConfigMap.DefaultMode, int32(420)},
		{"downwardAPI mode", *s.Volumes[2].DownwardAPI.DefaultMode, int32(420)},
		{"projected mode", *s.Volumes[3].Projected.DefaultMode, int32(420)},
		{"hostPath type", *s.Volumes[4].HostPath.Type, corev1.HostPathUnset},
		{"empty source -> emptyDir", *s.Volumes[5].EmptyDir, corev1.EmptyDirVolumeSource{}},
		{"status untouched", pod.Status, corev1.PodStatus{}},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s: got %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
}

func TestImagePullPolicyDefault(t *testing.T) {
	for image, want := range map[string]corev1.PullPolicy{
		"nginx":                      corev1.PullAlways,
		"nginx:latest":               corev1.PullAlways,
		"nginx:1.27":                 corev1.PullIfNotPresent,
		"registry:5000/app":          corev1.PullAlways,
		"registry:5000/app:v1":       corev1.PullIfNotPresent,
		"nginx@sha256:" + sha256Zero: corev1.PullIfNotPresent,
	} {
		c := corev1.Container{Image: image}
		SetDefaultsContainer(&c)
		if c.ImagePullPolicy != want {
			t.Errorf("%s: got %s, want %s", image, c.ImagePullPolicy, want)
		}
	}
}

const sha256Zero = "0000000000000000000000000000000000000000000000000000000000000000"

func TestAdmissionDefaultsKeepExisting(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		ServiceAccountName: "builder",
		PriorityClassName:  SystemNodeCritical,
		Tolerations:        []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
	}}
	SetAdmissionDefaultsPod(pod)
	if pod.Spec.ServiceAccountName != "builder" || pod.Spec.DeprecatedServiceAccount != "builder" {
		t.Errorf("service account changed: %q/%q", pod.Spec.ServiceAccountName, pod.Spec.DeprecatedServiceAccount)
	}
	if *pod.Spec.Priority != 2000001000 {
		t.Errorf("priority = %d", *pod.Spec.Priority)
	}
	if len(pod.Spec.Tolerations) != 1 {
		t.Errorf("tolerate-everything pod got extra tolerations: %v", pod.Spec.Tolerations)
	}
}

func TestTemplateDefaultsDoNotCopyLimits(t *testing.T) {
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i",
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}}
	SetDefaultsPodSpec(&spec)
	if spec.Containers[0].Resources.Requests != nil {
		t.Errorf("template requests defaulted: %v", spec.Containers[0].Resources.Requests)
	}
	if spec.EnableServiceLinks != nil || spec.Priority != nil || spec.ServiceAccountName != "" {
		t.Errorf("pod-only defaults applied to a template spec: %+v", spec)
	}
}

func TestSetDefaultsOtherTypes(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}
	SetDefaultsNamespace(ns)
	AddNamespaceFinalizer(ns)
	AddNamespaceFinalizer(ns)
	svc := &corev1.Service{Spec: corev1.ServiceSpec{Selector: map[string]string{"a": "b"},
		Ports: []corev1.ServicePort{{Port: 80}, {Port: 81, TargetPort: intstr.FromString("http")}}}}
	SetDefaultsService(svc)
	lb := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}
	SetDefaultsService(lb)
	headless := &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: "None"}}
	SetDefaultsService(headless)
	sec := &corev1.Secret{StringData: map[string]string{"k": "v"}}
	SetDefaultsSecret(sec)
	cm := &corev1.ConfigMap{}
	SetDefaultsConfigMap(cm)
	pv := &corev1.PersistentVolume{}
	SetDefaultsPersistentVolume(pv)
	pvc := &corev1.PersistentVolumeClaim{}
	SetDefaultsPersistentVolumeClaim(pvc)
	ep := &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{Ports: []corev1.EndpointPort{{Port: 1}}}}}
	SetDefaultsEndpoints(ep)
	node := &corev1.Node{Status: corev1.NodeStatus{Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")}}}
	SetDefaultsNode(node)

	checks := []struct {
		name      string
		got, want interface{}
	}{
		{"ns label", ns.Labels, map[string]string{"kubernetes.io/metadata.name": "team"}},
		{"ns phase", ns.Status.Phase, corev1.NamespaceActive},
		{"ns finalizer", ns.Spec.Finalizers, []corev1.FinalizerName{"kubernetes"}},
		{"svc affinity", svc.Spec.SessionAffinity, corev1.ServiceAffinityNone},
		{"svc type", svc.Spec.Type, corev1.ServiceTypeClusterIP},
		{"svc protocol", svc.Spec.Ports[0].Protocol, corev1.ProtocolTCP},
		{"svc targetPort", svc.Spec.Ports[0].TargetPort, intstr.FromInt32(80)},
		{"svc named targetPort", svc.Spec.Ports[1].TargetPort, intstr.FromString("http")},
		{"svc internalTrafficPolicy", *svc.Spec.InternalTrafficPolicy, corev1.ServiceInternalTrafficPolicyCluster},
		{"svc ipFamilyPolicy", *svc.Spec.IPFamilyPolicy, corev1.IPFamilyPolicySingleStack},
		{"svc no externalTrafficPolicy", svc.Spec.ExternalTrafficPolicy, corev1.ServiceExternalTrafficPolicy("")},
		{"lb externalTrafficPolicy", lb.Spec.ExternalTrafficPolicy, corev1.ServiceExternalTrafficPolicyCluster},
		{"lb allocateNodePorts", *lb.Spec.AllocateLoadBalancerNodePorts, true},
		{"headless clusterIPs", headless.Spec.ClusterIPs, []string{"None"}},
		{"headless no selector policy", *headless.Spec.IPFamilyPolicy, corev1.IPFamilyPolicyRequireDualStack},
		{"secret type", sec.Type, corev1.SecretTypeOpaque},
		{"secret stringData folded", sec.Data, map[string][]byte{"k": []byte("v")}},
		{"secret stringData cleared", sec.StringData, map[string]string(nil)},
		{"configmap data", cm.Data, map[string]string{}},
		{"pv phase", pv.Status.Phase, corev1.VolumePending},
		{"pv reclaim", pv.Spec.PersistentVolumeReclaimPolicy, corev1.PersistentVolumeReclaimRetain},
		{"pv mode", *pv.Spec.VolumeMode, corev1.PersistentVolumeFilesystem},
		{"pvc phase", pvc.Status.Phase, corev1.ClaimPending},
		{"pvc mode", *pvc.Spec.VolumeMode, corev1.PersistentVolumeFilesystem},
		{"endpoints protocol", ep.Subsets[0].Ports[0].Protocol, corev1.ProtocolTCP},
		{"node allocatable", node.Status.Allocatable.Cpu().String(), "4"},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s: got %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
}

func TestRegisterDefaults(t *testing.T) {
	s := runtime.NewScheme()
	RegisterDefaults(s)
	list := &corev1.PodList{Items: []corev1.Pod{{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i:1"}}}}}}
	s.Default(list)
	if list.Items[0].Spec.RestartPolicy != corev1.RestartPolicyAlways || list.Items[0].Spec.ServiceAccountName != "default" {
		t.Errorf("pod list items not defaulted: %+v", list.Items[0].Spec)
	}
	sec := &corev1.Secret{}
	s.Default(sec)
	if sec.Type != corev1.SecretTypeOpaque {
		t.Errorf("secret not defaulted: %q", sec.Type)
	}
}
