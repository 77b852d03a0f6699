package podenv

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "a", "B": "b$(A)", "EMPTY": ""}
	mapping := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	cases := map[string]string{
		"plain":             "plain",
		"$(A)":              "a",
		"x$(A)y$(A)":        "xaya",
		"$(B)":              "b$(A)", // no recursive expansion
		"$$(A)":             "$(A)",
		"$$$(A)":            "$a",
		"$$$$":              "$$",
		"$(UNKNOWN)":        "$(UNKNOWN)",
		"$(EMPTY)x":         "x",
		"$A":                "$A",
		"$":                 "$",
		"a$":                "a$",
		"$(A":               "$(A",
		"$()":               "$()",
		"$(A)$(UNKNOWN)$$x": "a$(UNKNOWN)$x",
	}
	for in, want := range cases {
		if got := Expand(in, mapping); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCommand(t *testing.T) {
	c := &corev1.Container{Command: []string{"/bin/$(CMD)", "-c"}, Args: []string{"$(X) $$(X) $(Y)"}}
	got := Command(c, []string{"CMD=sh", "X=1"})
	if strings.Join(got, "|") != "/bin/sh|-c|1 $(X) $(Y)" {
		t.Errorf("got %q", got)
	}
	if Command(&corev1.Container{Args: []string{"a"}}, nil) != nil {
		t.Error("a container without command has no argv")
	}
}

func TestHostname(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pi-0-abcde", Namespace: "ns"}}
	if h, f := Hostname(pod, ""); h != "pi-0-abcde" || f != "" {
		t.Errorf("got %q %q", h, f)
	}
	pod.Spec.Hostname = "pi-0"
	pod.Spec.Subdomain = "pi"
	if h, f := Hostname(pod, ""); h != "pi-0" || f != "pi-0.pi.ns.svc.cluster.local" {
		t.Errorf("got %q %q", h, f)
	}
	pod.Spec.Hostname = strings.Repeat("a", 62) + "-b"
	if h, _ := Hostname(pod, ""); h != strings.Repeat("a", 62) {
		t.Errorf("truncation: %q", h)
	}
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func testPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "prod", UID: "uid-1",
			Labels:      map[string]string{"app": "web", "tier": "front"},
			Annotations: map[string]string{"note": "a \"q\""}},
		Spec: corev1.PodSpec{NodeName: "n1", ServiceAccountName: "sa", Hostname: "web-host",
			Containers: []corev1.Container{{Name: "main"}, {Name: "side", Resources: corev1.ResourceRequirements{
				Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}}}}},
		Status: corev1.PodStatus{PodIPs: []corev1.PodIP{{IP: "10.1.0.5"}, {IP: "fd00::5"}}},
	}
}

func fieldEnv(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
}

func resEnv(name, container, res, divisor string) corev1.EnvVar {
	sel := &corev1.ResourceFieldSelector{ContainerName: container, Resource: res}
	if divisor != "" {
		sel.Divisor = resource.MustParse(divisor)
	}
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: sel}}
}

func TestEnv(t *testing.T) {
	client := fake.NewClientset(
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "prod"}, Data: map[string]string{"color": "blue", "size": "L", "bad=key": "x"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sec", Namespace: "prod"}, Data: map[string][]byte{"password": []byte("s3cret")}},
	)
	pod := testPod()
	c := &corev1.Container{
		Name: "main",
		Resources: corev1.ResourceRequirements{
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1500m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")},
		},
		EnvFrom: []corev1.EnvFromSource{
			{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}, Prefix: "CFG_"},
			{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}},
			{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Optional: ptr.To(true)}},
		},
		Env: []corev1.EnvVar{
			{Name: "FIRST", Value: "one"},
			{Name: "SECOND", Value: "$(FIRST)-two-$(LATER)-$$(FIRST)-$(CFG_color)"},
			{Name: "LATER", Value: "later"},
			fieldEnv("POD_NAME", "metadata.name"),
			fieldEnv("POD_NS", "metadata.namespace"),
			fieldEnv("POD_UID", "metadata.uid"),
			fieldEnv("APP", "metadata.labels['app']"),
			fieldEnv("NOTE", "metadata.annotations['note']"),
			fieldEnv("NODE", "spec.nodeName"),
			fieldEnv("SA", "spec.serviceAccountName"),
			fieldEnv("HOST_IP", "status.hostIP"),
			fieldEnv("POD_IP", "status.podIP"),
			fieldEnv("POD_IPS", "status.podIPs"),
			resEnv("CPU_LIMIT", "", "limits.cpu", ""),
			resEnv("CPU_LIMIT_M", "", "limits.cpu", "1m"),
			resEnv("CPU_REQ", "", "requests.cpu", ""),
			resEnv("MEM_LIMIT_MI", "", "limits.memory", "1Mi"),
			resEnv("SIDE_MEM", "side", "limits.memory", ""),
			resEnv("SIDE_CPU", "side", "limits.cpu", ""),
			{Name: "COLOR", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "color"}}},
			{Name: "OPT", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "nope", Optional: ptr.To(true)}}},
			{Name: "PW", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "password"}}},
			{Name: "FIRST", Value: "again"},
		},
	}
	env, err := Env(context.Background(), pod, c, Sources{
		Client: client, HostIP: "192.168.1.2", PodIP: "10.1.0.5",
		NodeAllocatable:       corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi")},
		KubernetesServiceHost: "10.96.0.1", KubernetesServicePort: 443,
	})
	if err != nil {
		t.Fatal(err)
	}
	m := envMap(env)
	want := map[string]string{
		"PATH": DefaultPath, "HOME": "/root", "HOSTNAME": "web-host",
		"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443", "KUBERNETES_PORT": "tcp://10.96.0.1:443",
		"CFG_color": "blue", "CFG_size": "L", "password": "s3cret",
		"FIRST": "again", "SECOND": "one-two-$(LATER)-$(FIRST)-blue", "LATER": "later",
		"POD_NAME": "web-1", "POD_NS": "prod", "POD_UID": "uid-1", "APP": "web", "NOTE": `a "q"`,
		"NODE": "n1", "SA": "sa", "HOST_IP": "192.168.1.2", "POD_IP": "10.1.0.5", "POD_IPS": "10.1.0.5,fd00::5",
		"CPU_LIMIT": "2", "CPU_LIMIT_M": "1500", "CPU_REQ": "1", "MEM_LIMIT_MI": "128",
		"SIDE_MEM": "67108864", "SIDE_CPU": "4", "COLOR": "blue", "PW": "s3cret",
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	for _, k := range []string{"OPT", "CFG_bad=key", "CFG_bad"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s should not be set", k)
		}
	}
	// Order: defaults, service vars, envFrom, env; a redefined name keeps
	// its first position.
	idx := map[string]int{}
	for i, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		idx[k] = i
	}
	if !(idx["HOSTNAME"] < idx["KUBERNETES_SERVICE_HOST"] && idx["KUBERNETES_SERVICE_HOST"] < idx["CFG_color"] &&
		idx["CFG_color"] < idx["password"] && idx["password"] < idx["FIRST"] && idx["FIRST"] < idx["SECOND"] && idx["SECOND"] < idx["PW"]) {
		t.Errorf("order wrong: %q", env)
	}
	if len(env) != len(idx) {
		t.Errorf("duplicate names: %q", env)
	}
}

func TestEnvHostnameOverrideAndFQDN(t *testing.T) {
	pod := testPod()
	pod.Spec.Subdomain = "svc"
	pod.Spec.SetHostnameAsFQDN = ptr.To(true)
	env, err := Env(context.Background(), pod, &corev1.Container{Name: "main"}, Sources{})
	if err != nil {
		t.Fatal(err)
	}
	if got := envMap(env)["HOSTNAME"]; got != "web-host.svc.prod.svc.cluster.local" {
		t.Errorf("HOSTNAME = %q", got)
	}
	env, _ = Env(context.Background(), pod, &corev1.Container{Name: "main", Env: []corev1.EnvVar{{Name: "HOSTNAME", Value: "mine"}}}, Sources{})
	if got := envMap(env)["HOSTNAME"]; got != "mine" {
		t.Errorf("HOSTNAME override = %q", got)
	}
}

func TestEnvErrors(t *testing.T) {
	client := fake.NewClientset(
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "prod"}, Data: map[string]string{"a": "1"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sec", Namespace: "prod"}},
	)
	cmKey := func(name, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}}
	}
	secKey := func(name, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}}
	}
	cases := []struct {
		c    corev1.Container
		want string
	}{
		{corev1.Container{Env: []corev1.EnvVar{cmKey("x", "a")}}, `configmap "x" not found`},
		{corev1.Container{Env: []corev1.EnvVar{cmKey("cfg", "b")}}, `couldn't find key b in ConfigMap prod/cfg`},
		{corev1.Container{Env: []corev1.EnvVar{secKey("y", "a")}}, `secret "y" not found`},
		{corev1.Container{Env: []corev1.EnvVar{secKey("sec", "a")}}, `couldn't find key a in Secret prod/sec`},
		{corev1.Container{EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}}}, `configmap "x" not found`},
		{corev1.Container{EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "z"}}}}}, `secret "z" not found`},
	}
	for i, tc := range cases {
		tc.c.Name = "main"
		_, err := Env(context.Background(), testPod(), &tc.c, Sources{Client: client})
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Message != tc.want {
			t.Errorf("case %d: got %v, want %q", i, err, tc.want)
		}
	}
}

func TestFieldValueWholeMaps(t *testing.T) {
	got, err := FieldValue(testPod(), "metadata.labels", "", "", "")
	if err != nil || got != "app=\"web\"\ntier=\"front\"" {
		t.Errorf("labels: %q %v", got, err)
	}
	if _, err := FieldValue(testPod(), "spec.bogus", "", "", ""); err == nil {
		t.Error("unsupported field accepted")
	}
}
