package limitranger

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

func rl(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func limitRange(items ...corev1.LimitRangeItem) *corev1.LimitRange {
	return &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "lr", Namespace: "ns"}, Spec: corev1.LimitRangeSpec{Limits: items}}
}

func podWith(containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: corev1.PodSpec{Containers: containers}}
}

func ctr(name string, requests, limits corev1.ResourceList) corev1.Container {
	return corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Requests: requests, Limits: limits}}
}

func TestDefaultPod(t *testing.T) {
	lr := limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer,
		Default: rl("cpu", "500m", "memory", "128Mi"), DefaultRequest: rl("cpu", "200m", "memory", "64Mi")})
	p := podWith(ctr("a", nil, nil), ctr("b", rl("cpu", "50m"), rl("memory", "1Gi")))
	p.Spec.InitContainers = []corev1.Container{ctr("i", nil, nil)}
	DefaultPod(lr, p)
	a := p.Spec.Containers[0].Resources
	if a.Limits.Cpu().String() != "500m" || a.Requests.Cpu().String() != "200m" || a.Requests.Memory().String() != "64Mi" {
		t.Errorf("container a: %+v", a)
	}
	b := p.Spec.Containers[1].Resources
	if b.Requests.Cpu().String() != "50m" || b.Limits.Memory().String() != "1Gi" || b.Limits.Cpu().String() != "500m" {
		t.Errorf("container b keeps what it states: %+v", b)
	}
	want := "LimitRanger plugin set: cpu, memory request for container a; cpu, memory limit for container a; " +
		"memory request for container b; cpu limit for container b; " +
		"cpu, memory request for init container i; cpu, memory limit for init container i"
	if got := p.Annotations["kubernetes.io/limit-ranger"]; got != want {
		t.Errorf("annotation\n got %q\nwant %q", got, want)
	}
	// Nothing to set: no annotation.
	q := podWith(ctr("a", rl("cpu", "1", "memory", "1"), rl("cpu", "1", "memory", "1")))
	DefaultPod(lr, q)
	if _, ok := q.Annotations["kubernetes.io/limit-ranger"]; ok {
		t.Errorf("annotation set although nothing was defaulted")
	}
}

func TestValidatePodContainer(t *testing.T) {
	lr := limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer,
		Min: rl("cpu", "100m"), Max: rl("cpu", "1", "memory", "1Gi"), MaxLimitRequestRatio: rl("cpu", "2")})
	for _, c := range []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"ok", podWith(ctr("a", rl("cpu", "500m", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi"))), ""},
		{"over max", podWith(ctr("a", rl("cpu", "500m"), rl("cpu", "2", "memory", "1Gi"))),
			"maximum cpu usage per Container is 1, but limit is 2"},
		{"no limit", podWith(ctr("a", rl("cpu", "500m"), rl("cpu", "1"))),
			"maximum memory usage per Container is 1Gi.  No limit is specified"},
		{"under min", podWith(ctr("a", rl("cpu", "50m"), rl("cpu", "100m", "memory", "1"))),
			"minimum cpu usage per Container is 100m, but request is 50m"},
		{"no request", podWith(ctr("a", nil, rl("cpu", "1", "memory", "1"))),
			"minimum cpu usage per Container is 100m.  No request is specified"},
		{"ratio", podWith(ctr("a", rl("cpu", "200m"), rl("cpu", "1", "memory", "1"))),
			"cpu max limit to request ratio per Container is 2, but provided ratio is 5.000000"},
	} {
		err := ValidatePod(lr, c.pod)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: unexpected %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

func TestValidatePodType(t *testing.T) {
	lr := limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: rl("memory", "1Gi")})
	p := podWith(ctr("a", nil, rl("memory", "600Mi")), ctr("b", nil, rl("memory", "600Mi")))
	err := ValidatePod(lr, p)
	if err == nil || err.Error() != "maximum memory usage per Pod is 1Gi, but limit is 1200Mi" {
		t.Errorf("got %v", err)
	}
	p.Spec.Containers = p.Spec.Containers[:1]
	if err := ValidatePod(lr, p); err != nil {
		t.Errorf("one container fits: %v", err)
	}
}

func TestValidatePersistentVolumeClaim(t *testing.T) {
	lr := limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypePersistentVolumeClaim, Min: rl("storage", "1Gi"), Max: rl("storage", "10Gi")})
	claim := func(size string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{Requests: rl("storage", size)}}}
	}
	if err := ValidatePersistentVolumeClaim(lr, claim("5Gi")); err != nil {
		t.Errorf("5Gi: %v", err)
	}
	if err := ValidatePersistentVolumeClaim(lr, claim("20Gi")); err == nil || err.Error() != "maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi" {
		t.Errorf("20Gi: %v", err)
	}
	if err := ValidatePersistentVolumeClaim(lr, claim("500Mi")); err == nil || err.Error() != "minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi" {
		t.Errorf("500Mi: %v", err)
	}
}

// TestAdmission: through the plugin, with the LimitRange known only by a
// live lookup (the informer has not seen it), a pod over the max is
// Forbidden and defaults are applied on admit.
func TestAdmission(t *testing.T) {
	lr := limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: rl("cpu", "500m"), DefaultRequest: rl("cpu", "500m"), Max: rl("cpu", "1")})
	client := fake.NewSimpleClientset(lr)
	p, _ := New(client, nil)
	p.SetExternalKubeInformerFactory(informers.NewSharedInformerFactory(fake.NewSimpleClientset(), 0))
	if err := p.ValidateInitialization(); err != nil {
		t.Fatal(err)
	}
	gvk := corev1.SchemeGroupVersion.WithKind("Pod")
	gvr := corev1.SchemeGroupVersion.WithResource("pods")
	pod := podWith(ctr("a", nil, nil))
	attrs := admission.NewAttributesRecord(pod, nil, gvk, "ns", "p", gvr, "", admission.Create, nil, false, nil)
	if err := p.Admit(context.Background(), attrs, nil); err != nil {
		t.Fatal(err)
	}
	if pod.Spec.Containers[0].Resources.Limits.Cpu().String() != "500m" {
		t.Errorf("default not applied: %+v", pod.Spec.Containers[0].Resources)
	}
	if err := p.Validate(context.Background(), attrs, nil); err != nil {
		t.Errorf("defaulted pod refused: %v", err)
	}
	big := podWith(ctr("a", nil, rl("cpu", "2")))
	attrs = admission.NewAttributesRecord(big, nil, gvk, "ns", "p", gvr, "", admission.Create, nil, false, nil)
	err := p.Validate(context.Background(), attrs, nil)
	if err == nil || err.Error() != `pods "p" is forbidden: maximum cpu usage per Container is 1, but limit is 2` {
		t.Errorf("got %v", err)
	}
	// Pod updates and subresources are not checked.
	attrs = admission.NewAttributesRecord(big, big, gvk, "ns", "p", gvr, "", admission.Update, nil, false, nil)
	if err := p.Validate(context.Background(), attrs, nil); err != nil {
		t.Errorf("pod update checked: %v", err)
	}
}
