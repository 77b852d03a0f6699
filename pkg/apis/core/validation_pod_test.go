package core

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// want is one expected error: its type and field path.
type want struct {
	typ   field.ErrorType
	field string
}

func hasError(errs field.ErrorList, w want) bool {
	for _, e := range errs {
		if e.Type == w.typ && e.Field == w.field {
			return true
		}
	}
	return false
}

func checkErrors(t *testing.T, name string, errs field.ErrorList, wants []want) {
	t.Helper()
	if len(wants) == 0 && len(errs) != 0 {
		t.Errorf("%s: unexpected errors: %v", name, errs)
		return
	}
	for _, w := range wants {
		if !hasError(errs, w) {
			t.Errorf("%s: missing %s on %s; got %v", name, w.typ, w.field, errs)
		}
	}
}

func validPod() *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "default", ResourceVersion: "1", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:         "web",
				Image:        "nginx:1.27",
				Ports:        []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
				Env:          []corev1.EnvVar{{Name: "MODE", Value: "prod"}},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m")},
				},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}}},
			}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		},
	}
	SetDefaultsPod(pod)
	return pod
}

func TestValidatePod(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*corev1.Pod)
		wants  []want
	}{
		{"valid", func(*corev1.Pod) {}, nil},
		{"name required", func(p *corev1.Pod) { p.Name = "" }, []want{{field.ErrorTypeRequired, "metadata.name"}}},
		{"namespace required", func(p *corev1.Pod) { p.Namespace = "" }, []want{{field.ErrorTypeRequired, "metadata.namespace"}}},
		{"bad label", func(p *corev1.Pod) { p.Labels = map[string]string{"a": "-bad-"} }, []want{{field.ErrorTypeInvalid, "metadata.labels"}}},
		{"no containers", func(p *corev1.Pod) { p.Spec.Containers = nil }, []want{{field.ErrorTypeRequired, "spec.containers"}}},
		{"container name", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "Web_1" }, []want{{field.ErrorTypeInvalid, "spec.containers[0].name"}}},
		{"container name required", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "" }, []want{{field.ErrorTypeRequired, "spec.containers[0].name"}}},
		{"duplicate container", func(p *corev1.Pod) { p.Spec.Containers = append(p.Spec.Containers, p.Spec.Containers[0]) },
			[]want{{field.ErrorTypeDuplicate, "spec.containers[1].name"}}},
		{"duplicate with init container", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "web", Image: "i", ImagePullPolicy: "Always", TerminationMessagePolicy: "File"}}
		}, []want{{field.ErrorTypeDuplicate, "spec.initContainers[0].name"}}},
		{"image required", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" }, []want{{field.ErrorTypeRequired, "spec.containers[0].image"}}},
		{"image whitespace", func(p *corev1.Pod) { p.Spec.Containers[0].Image = " nginx" }, []want{{field.ErrorTypeInvalid, "spec.containers[0].image"}}},
		{"containerPort range", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 70000 },
			[]want{{field.ErrorTypeInvalid, "spec.containers[0].ports[0].containerPort"}}},
		{"containerPort required", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 0 },
			[]want{{field.ErrorTypeRequired, "spec.containers[0].ports[0].containerPort"}}},
		{"port protocol", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Protocol = "ICMP" },
			[]want{{field.ErrorTypeNotSupported, "spec.containers[0].ports[0].protocol"}}},
		{"duplicate port name", func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{Name: "http", ContainerPort: 81, Protocol: "TCP"})
		}, []want{{field.ErrorTypeDuplicate, "spec.containers[0].ports[1].name"}}},
		{"host port conflict", func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080, Protocol: "TCP"}, {ContainerPort: 81, HostPort: 8080, Protocol: "TCP"}}
		}, []want{{field.ErrorTypeDuplicate, "spec.containers[0].ports[1].hostPort"}}},
		{"env name", func(p *corev1.Pod) { p.Spec.Containers[0].Env[0].Name = "A=B" }, []want{{field.ErrorTypeInvalid, "spec.containers[0].env[0].name"}}},
		{"env valueFrom empty", func(p *corev1.Pod) {
			p.Spec.Containers[0].Env[0] = corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{}}
		},
			[]want{{field.ErrorTypeInvalid, "spec.containers[0].env[0].valueFrom"}}},
		{"env valueFrom two sources", func(p *corev1.Pod) {
			p.Spec.Containers[0].Env[0] = corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{
				FieldRef:     &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"},
				SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}}
		}, []want{{field.ErrorTypeInvalid, "spec.containers[0].env[0].valueFrom"}}},
		{"env valueFrom with value", func(p *corev1.Pod) {
			p.Spec.Containers[0].Env[0].ValueFrom = &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}
		}, []want{{field.ErrorTypeInvalid, "spec.containers[0].env[0].valueFrom"}}},
		{"env fieldPath unsupported", func(p *corev1.Pod) {
			p.Spec.Containers[0].Env[0] = corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.phase"}}}
		}, []want{{field.ErrorTypeNotSupported, "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath"}}},
		{"env secret key required", func(p *corev1.Pod) {
			p.Spec.Containers[0].Env[0] = corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}}}
		}, []want{{field.ErrorTypeRequired, "spec.containers[0].env[0].valueFrom.secretKeyRef.key"}}},
		{"negative quantity", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory] = resource.MustParse("-1")
		}, []want{{field.ErrorTypeInvalid, "spec.containers[0].resources.requests[memory]"}}},
		{"requests above limits", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("1")
		}, []want{{field.ErrorTypeInvalid, "spec.containers[0].resources.requests"}}},
		{"unknown resource", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits["gpu"] = resource.MustParse("1")
		}, []want{{field.ErrorTypeInvalid, "spec.containers[0].resources.limits[gpu]"}}},
		{"extended resource must be integer", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits["example.com/gpu"] = resource.MustParse("500m")
		}, []want{{field.ErrorTypeInvalid, "spec.containers[0].resources.limits[example.com/gpu]"}}},
		{"volume name", func(p *corev1.Pod) { p.Spec.Volumes[0].Name = "Data" }, []want{{field.ErrorTypeInvalid, "spec.volumes[0].name"}}},
		{"volume duplicate", func(p *corev1.Pod) { p.Spec.Volumes = append(p.Spec.Volumes, p.Spec.Volumes[0]) },
			[]want{{field.ErrorTypeDuplicate, "spec.volumes[1].name"}}},
		{"volume no source", func(p *corev1.Pod) { p.Spec.Volumes[0].VolumeSource = corev1.VolumeSource{} },
			[]want{{field.ErrorTypeRequired, "spec.volumes[0]"}}},
		{"volume two sources", func(p *corev1.Pod) {
			p.Spec.Volumes[0].HostPath = &corev1.HostPathVolumeSource{Path: "/x", Type: ptr.To(corev1.HostPathUnset)}
		}, []want{{field.ErrorTypeForbidden, "spec.volumes[0].hostPath"}}},
		{"secret volume name", func(p *corev1.Pod) {
			p.Spec.Volumes[0].VolumeSource = corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{DefaultMode: ptr.To[int32](0644)}}
		}, []want{{field.ErrorTypeRequired, "spec.volumes[0].secret.secretName"}}},
		{"file mode", func(p *corev1.Pod) {
			p.Spec.Volumes[0].VolumeSource = corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "c"}, DefaultMode: ptr.To[int32](01000)}}
		}, []want{{field.ErrorTypeInvalid, "spec.volumes[0].configMap.defaultMode"}}},
		{"mount unknown volume", func(p *corev1.Pod) { p.Spec.Containers[0].VolumeMounts[0].Name = "other" },
			[]want{{field.ErrorTypeNotFound, "spec.containers[0].volumeMounts[0].name"}}},
		{"mountPath required", func(p *corev1.Pod) { p.Spec.Containers[0].VolumeMounts[0].MountPath = "" },
			[]want{{field.ErrorTypeRequired, "spec.containers[0].volumeMounts[0].mountPath"}}},
		{"mountPath unique", func(p *corev1.Pod) {
			p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "data", MountPath: "/data"})
		}, []want{{field.ErrorTypeInvalid, "spec.containers[0].volumeMounts[1].mountPath"}}},
		{"probe without handler", func(p *corev1.Pod) { p.Spec.Containers[0].ReadinessProbe.TCPSocket = nil },
			[]want{{field.ErrorTypeRequired, "spec.containers[0].readinessProbe"}}},
		{"probe two handlers", func(p *corev1.Pod) {
			p.Spec.Containers[0].ReadinessProbe.Exec = &corev1.ExecAction{Command: []string{"true"}}
		}, []want{{field.ErrorTypeForbidden, "spec.containers[0].readinessProbe.tcpSocket"}}},
		{"probe negative threshold", func(p *corev1.Pod) { p.Spec.Containers[0].ReadinessProbe.FailureThreshold = -1 },
			[]want{{field.ErrorTypeInvalid, "spec.containers[0].readinessProbe.failureThreshold"}}},
		{"liveness success threshold", func(p *corev1.Pod) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}},
				TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 2, FailureThreshold: 3}
		}, []want{{field.ErrorTypeInvalid, "spec.containers[0].livenessProbe.successThreshold"}}},
		{"init container probe", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "i", ImagePullPolicy: "Always", TerminationMessagePolicy: "File",
				LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"x"}}}}}}
		}, []want{{field.ErrorTypeForbidden, "spec.initContainers[0].livenessProbe"}}},
		{"restartPolicy", func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" }, []want{{field.ErrorTypeNotSupported, "spec.restartPolicy"}}},
		{"dnsPolicy", func(p *corev1.Pod) { p.Spec.DNSPolicy = "Google" }, []want{{field.ErrorTypeNotSupported, "spec.dnsPolicy"}}},
		{"dnsPolicy None needs config", func(p *corev1.Pod) { p.Spec.DNSPolicy = corev1.DNSNone }, []want{{field.ErrorTypeRequired, "spec.dnsConfig"}}},
		{"grace period required", func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = nil },
			[]want{{field.ErrorTypeRequired, "spec.terminationGracePeriodSeconds"}}},
		{"activeDeadlineSeconds", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](0) },
			[]want{{field.ErrorTypeInvalid, "spec.activeDeadlineSeconds"}}},
		{"nodeSelector", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"bad key!": "v"} },
			[]want{{field.ErrorTypeInvalid, "spec.nodeSelector"}}},
		{"toleration operator", func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "k", Operator: "Maybe"})
		}, []want{{field.ErrorTypeNotSupported, "spec.tolerations[2].operator"}}},
		{"toleration empty key needs Exists", func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Operator: corev1.TolerationOpEqual})
		}, []want{{field.ErrorTypeInvalid, "spec.tolerations[2].operator"}}},
		{"tolerationSeconds needs NoExecute", func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "k", Operator: "Exists", Effect: "NoSchedule", TolerationSeconds: ptr.To[int64](1)})
		}, []want{{field.ErrorTypeInvalid, "spec.tolerations[2].effect"}}},
		{"node affinity operator", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: "Near"}}}}}}}
		}, []want{{field.ErrorTypeInvalid, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator"}}},
		{"node affinity In without values", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: "In"}}}}}}}
		}, []want{{field.ErrorTypeRequired, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values"}}},
		{"node affinity no terms", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{}}}
		}, []want{{field.ErrorTypeRequired, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"}}},
		{"pod affinity topologyKey", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{}}}}
		}, []want{{field.ErrorTypeRequired, "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey"}}},
		{"hostname", func(p *corev1.Pod) { p.Spec.Hostname = "Host_1" }, []want{{field.ErrorTypeInvalid, "spec.hostname"}}},
		{"subdomain", func(p *corev1.Pod) { p.Spec.Subdomain = "a.b" }, []want{{field.ErrorTypeInvalid, "spec.subdomain"}}},
		{"serviceAccountName", func(p *corev1.Pod) { p.Spec.ServiceAccountName = "Bad SA" }, []want{{field.ErrorTypeInvalid, "spec.serviceAccountName"}}},
		{"imagePullPolicy", func(p *corev1.Pod) { p.Spec.Containers[0].ImagePullPolicy = "Sometimes" },
			[]want{{field.ErrorTypeNotSupported, "spec.containers[0].imagePullPolicy"}}},
		{"terminationMessagePolicy", func(p *corev1.Pod) { p.Spec.Containers[0].TerminationMessagePolicy = "" },
			[]want{{field.ErrorTypeRequired, "spec.containers[0].terminationMessagePolicy"}}},
		{"hostNetwork hostPort must match", func(p *corev1.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports[0].HostPort = 0
		}, []want{{field.ErrorTypeInvalid, "spec.containers[0].ports[0].hostPort"}}},
		{"ephemeral containers on create", func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "dbg", Image: "busybox", ImagePullPolicy: "Always", TerminationMessagePolicy: "File"}}}
		}, []want{{field.ErrorTypeForbidden, "spec.ephemeralContainers"}}},
		{"topology spread", func(p *corev1.Pod) {
			p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 0, TopologyKey: "zone", WhenUnsatisfiable: corev1.DoNotSchedule}}
		}, []want{{field.ErrorTypeInvalid, "spec.topologySpreadConstraints[0].maxSkew"}}},
		{"deletion cost annotation", func(p *corev1.Pod) { p.Annotations = map[string]string{podDeletionCostKey: "x"} },
			[]want{{field.ErrorTypeInvalid, "metadata.annotations[controller.kubernetes.io/pod-deletion-cost]"}}},
	}
	for _, tc := range cases {
		pod := validPod()
		tc.mutate(pod)
		checkErrors(t, tc.name, ValidatePod(pod), tc.wants)
	}
}

func validTemplate() *corev1.PodTemplateSpec {
	tmpl := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx", Ports: []corev1.ContainerPort{{ContainerPort: 80}}}}},
	}
	SetDefaultsPodSpec(&tmpl.Spec)
	return tmpl
}

func TestValidatePodTemplateSpec(t *testing.T) {
	base := field.NewPath("spec", "template")
	cases := []struct {
		name   string
		mutate func(*corev1.PodTemplateSpec)
		opts   PodValidationOptions
		wants  []want
	}{
		{"valid", func(*corev1.PodTemplateSpec) {}, PodValidationOptions{}, nil},
		{"valid with allowed policy", func(*corev1.PodTemplateSpec) {},
			PodValidationOptions{AllowedRestartPolicies: []corev1.RestartPolicy{corev1.RestartPolicyAlways}}, nil},
		{"restart policy not allowed (Job)", func(*corev1.PodTemplateSpec) {},
			PodValidationOptions{AllowedRestartPolicies: []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}},
			[]want{{field.ErrorTypeNotSupported, "spec.template.spec.restartPolicy"}}},
		{"labels", func(s *corev1.PodTemplateSpec) { s.Labels = map[string]string{"app": "a b"} }, PodValidationOptions{},
			[]want{{field.ErrorTypeInvalid, "spec.template.labels"}}},
		{"annotations", func(s *corev1.PodTemplateSpec) { s.Annotations = map[string]string{"bad key!": "v"} }, PodValidationOptions{},
			[]want{{field.ErrorTypeInvalid, "spec.template.annotations"}}},
		{"image required", func(s *corev1.PodTemplateSpec) { s.Spec.Containers[0].Image = "" }, PodValidationOptions{},
			[]want{{field.ErrorTypeRequired, "spec.template.spec.containers[0].image"}}},
		{"ephemeral containers", func(s *corev1.PodTemplateSpec) {
			s.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "dbg", Image: "busybox", ImagePullPolicy: "Always", TerminationMessagePolicy: "File"}}}
		}, PodValidationOptions{}, []want{{field.ErrorTypeForbidden, "spec.template.spec.ephemeralContainers"}}},
		{"template hostPort 0 allowed with hostNetwork", func(s *corev1.PodTemplateSpec) { s.Spec.HostNetwork = true }, PodValidationOptions{}, nil},
	}
	for _, tc := range cases {
		tmpl := validTemplate()
		tc.mutate(tmpl)
		checkErrors(t, tc.name, ValidatePodTemplateSpec(tmpl, base, tc.opts), tc.wants)
	}
}

func TestValidatePodSpecUndefaulted(t *testing.T) {
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}
	errs := ValidatePodSpec(spec, nil, field.NewPath("spec"), PodValidationOptions{})
	for _, w := range []want{
		{field.ErrorTypeRequired, "spec.terminationGracePeriodSeconds"},
		{field.ErrorTypeRequired, "spec.restartPolicy"},
		{field.ErrorTypeRequired, "spec.dnsPolicy"},
		{field.ErrorTypeRequired, "spec.containers[0].imagePullPolicy"},
		{field.ErrorTypeRequired, "spec.containers[0].terminationMessagePolicy"},
	} {
		if !hasError(errs, w) {
			t.Errorf("missing %v in %v", w, errs)
		}
	}
}

func TestValidatePodUpdate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*corev1.Pod)
		wants  []want
	}{
		{"no change", func(*corev1.Pod) {}, nil},
		{"image change", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:1.28" }, nil},
		{"label change", func(p *corev1.Pod) { p.Labels["tier"] = "front" }, nil},
		{"activeDeadlineSeconds set", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](100) }, nil},
		{"added toleration", func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "k", Operator: "Exists"})
		}, nil},
		{"toleration seconds change", func(p *corev1.Pod) { p.Spec.Tolerations[0].TolerationSeconds = ptr.To[int64](10) }, nil},
		{"removed toleration", func(p *corev1.Pod) { p.Spec.Tolerations = p.Spec.Tolerations[:1] },
			[]want{{field.ErrorTypeForbidden, "spec.tolerations"}}},
		{"restartPolicy change", func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]want{{field.ErrorTypeForbidden, "spec"}}},
		{"add container", func(p *corev1.Pod) {
			c := p.Spec.Containers[0]
			c.Name = "other"
			c.Ports = nil
			p.Spec.Containers = append(p.Spec.Containers, c)
		}, []want{{field.ErrorTypeForbidden, "spec.containers"}}},
		{"name change", func(p *corev1.Pod) { p.Name = "web-2" }, []want{{field.ErrorTypeInvalid, "metadata.name"}}},
	}
	for _, tc := range cases {
		old := validPod()
		old.ResourceVersion = "1"
		newPod := old.DeepCopy()
		tc.mutate(newPod)
		checkErrors(t, tc.name, ValidatePodUpdate(newPod, old), tc.wants)
	}

	// activeDeadlineSeconds may only decrease.
	old := validPod()
	old.Spec.ActiveDeadlineSeconds = ptr.To[int64](100)
	newPod := old.DeepCopy()
	newPod.Spec.ActiveDeadlineSeconds = ptr.To[int64](200)
	checkErrors(t, "activeDeadlineSeconds increase", ValidatePodUpdate(newPod, old), []want{{field.ErrorTypeInvalid, "spec.activeDeadlineSeconds"}})
	newPod.Spec.ActiveDeadlineSeconds = ptr.To[int64](50)
	checkErrors(t, "activeDeadlineSeconds decrease", ValidatePodUpdate(newPod, old), nil)
	newPod.Spec.ActiveDeadlineSeconds = nil
	checkErrors(t, "activeDeadlineSeconds unset", ValidatePodUpdate(newPod, old), []want{{field.ErrorTypeInvalid, "spec.activeDeadlineSeconds"}})

	// The forbidden message lists the mutable fields.
	newPod = old.DeepCopy()
	newPod.Spec.DNSPolicy = corev1.DNSDefault
	errs := ValidatePodUpdate(newPod, old)
	if len(errs) != 1 || !strings.Contains(errs[0].Detail, "pod updates may not change fields other than `spec.containers[*].image`") ||
		!strings.Contains(errs[0].Detail, "spec.dnsPolicy") {
		t.Errorf("unexpected errors: %v", errs)
	}
}

func TestValidatePodStatusUpdate(t *testing.T) {
	old := validPod()
	old.Spec.RestartPolicy = corev1.RestartPolicyNever
	old.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}}}
	cases := []struct {
		name   string
		mutate func(*corev1.Pod)
		wants  []want
	}{
		{"phase change", func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }, nil},
		{"node name change", func(p *corev1.Pod) { p.Spec.NodeName = "n1" }, []want{{field.ErrorTypeForbidden, "status.nodeName"}}},
		{"restart terminated", func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
		}, []want{{field.ErrorTypeForbidden, "status.containerStatuses[0].state"}}},
		{"bad pod IP", func(p *corev1.Pod) { p.Status.PodIPs = []corev1.PodIP{{IP: "1.2.3"}} }, []want{{field.ErrorTypeInvalid, "status.podIPs[0]"}}},
		{"qos immutable", func(p *corev1.Pod) { p.Status.QOSClass = corev1.PodQOSGuaranteed }, []want{{field.ErrorTypeInvalid, "status.qosClass"}}},
	}
	for _, tc := range cases {
		newPod := old.DeepCopy()
		tc.mutate(newPod)
		checkErrors(t, tc.name, ValidatePodStatusUpdate(newPod, old), tc.wants)
	}
}

func TestValidatePodBinding(t *testing.T) {
	checkErrors(t, "valid", ValidatePodBinding(&corev1.Binding{Target: corev1.ObjectReference{Kind: "Node", Name: "n1"}}), nil)
	checkErrors(t, "kind", ValidatePodBinding(&corev1.Binding{Target: corev1.ObjectReference{Kind: "Pod", Name: "n1"}}),
		[]want{{field.ErrorTypeNotSupported, "target.kind"}})
	checkErrors(t, "name", ValidatePodBinding(&corev1.Binding{}), []want{{field.ErrorTypeRequired, "target.name"}})
}
