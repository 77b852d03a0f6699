package quota

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
)

func rl(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func pod(name string, containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Spec: corev1.PodSpec{Containers: containers}}
}

func ctr(name string, requests, limits corev1.ResourceList) corev1.Container {
	return corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Requests: requests, Limits: limits}}
}

func assertList(t *testing.T, got, want corev1.ResourceList) {
	t.Helper()
	if !quota.Equals(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestPodUsage(t *testing.T) {
	e := NewPodEvaluator(nil, clocktesting.NewFakeClock(now))
	p := pod("p",
		ctr("a", rl("cpu", "100m", "memory", "64Mi", "ephemeral-storage", "1Gi", "example.com/gpu", "1", "hugepages-2Mi", "4Mi"),
			rl("cpu", "200m", "memory", "128Mi")),
		ctr("b", rl("cpu", "300m"), nil))
	p.Spec.InitContainers = []corev1.Container{ctr("init", rl("cpu", "1"), nil)}
	got, err := e.Usage(p)
	if err != nil {
		t.Fatal(err)
	}
	assertList(t, got, rl(
		"count/pods", "1", "pods", "1",
		// init container's 1 CPU is more than the app containers' 400m
		"cpu", "1", "requests.cpu", "1", "limits.cpu", "200m",
		"memory", "64Mi", "requests.memory", "64Mi", "limits.memory", "128Mi",
		"ephemeral-storage", "1Gi", "requests.ephemeral-storage", "1Gi",
		"requests.example.com/gpu", "1",
		"hugepages-2Mi", "4Mi", "requests.hugepages-2Mi", "4Mi",
	))
}

func TestTerminalPodsCountOnlyAsObjects(t *testing.T) {
	clk := clocktesting.NewFakeClock(now)
	e := NewPodEvaluator(nil, clk)
	for _, phase := range []corev1.PodPhase{corev1.PodSucceeded, corev1.PodFailed} {
		p := pod("p", ctr("a", rl("cpu", "1"), nil))
		p.Status.Phase = phase
		got, _ := e.Usage(p)
		assertList(t, got, rl("count/pods", "1"))
	}
	// Deleted, within its grace period: still counted; after it: not.
	p := pod("p", ctr("a", rl("cpu", "1"), nil))
	p.DeletionTimestamp = &metav1.Time{Time: now}
	p.DeletionGracePeriodSeconds = ptr.To[int64](30)
	got, _ := e.Usage(p)
	if _, ok := got["pods"]; !ok {
		t.Errorf("terminating pod within grace not counted: %v", got)
	}
	clk.Step(31 * time.Second)
	got, _ = e.Usage(p)
	assertList(t, got, rl("count/pods", "1"))
}

func TestPodScopes(t *testing.T) {
	e := NewPodEvaluator(nil, clocktesting.NewFakeClock(now))
	best := pod("best", ctr("a", nil, nil))
	burst := pod("burst", ctr("a", rl("cpu", "1"), nil))
	term := pod("term", ctr("a", nil, nil))
	term.Spec.ActiveDeadlineSeconds = ptr.To[int64](10)
	cases := []struct {
		scope corev1.ResourceQuotaScope
		pod   *corev1.Pod
		want  bool
	}{
		{corev1.ResourceQuotaScopeBestEffort, best, true},
		{corev1.ResourceQuotaScopeBestEffort, burst, false},
		{corev1.ResourceQuotaScopeNotBestEffort, burst, true},
		{corev1.ResourceQuotaScopeNotBestEffort, best, false},
		{corev1.ResourceQuotaScopeTerminating, term, true},
		{corev1.ResourceQuotaScopeTerminating, best, false},
		{corev1.ResourceQuotaScopeNotTerminating, best, true},
		{corev1.ResourceQuotaScopeNotTerminating, term, false},
	}
	for _, c := range cases {
		q := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: rl("pods", "10"), Scopes: []corev1.ResourceQuotaScope{c.scope}},
			Status: corev1.ResourceQuotaStatus{Hard: rl("pods", "10")}}
		got, err := e.Matches(q, c.pod)
		if err != nil || got != c.want {
			t.Errorf("scope %s, pod %s: matches=%v err=%v, want %v", c.scope, c.pod.Name, got, err, c.want)
		}
	}
	// A quota on something pods do not use does not match.
	q := &corev1.ResourceQuota{Status: corev1.ResourceQuotaStatus{Hard: rl("services", "1")}}
	if ok, _ := e.Matches(q, best); ok {
		t.Error("a services quota matches a pod")
	}
}

func TestPodConstraints(t *testing.T) {
	e := NewPodEvaluator(nil, nil)
	p := pod("p", ctr("a", rl("cpu", "1"), nil), ctr("b", nil, nil))
	err := e.Constraints([]corev1.ResourceName{"requests.cpu", "limits.memory", "pods"}, p)
	want := "must specify limits.memory for: a,b; requests.cpu for: b"
	if err == nil || err.Error() != want {
		t.Errorf("Constraints = %v, want %q", err, want)
	}
	if err := e.Constraints([]corev1.ResourceName{"pods", "count/pods"}, p); err != nil {
		t.Errorf("pods needs no container resources: %v", err)
	}
}

func TestPodMatchingResources(t *testing.T) {
	e := NewPodEvaluator(nil, nil)
	got := e.MatchingResources([]corev1.ResourceName{"pods", "requests.cpu", "services", "requests.hugepages-2Mi",
		"requests.example.com/gpu", "requests.storage", "count/pods"})
	want := []corev1.ResourceName{"pods", "requests.cpu", "count/pods", "requests.hugepages-2Mi", "requests.example.com/gpu"}
	if !quota.ToSet(got).Equal(quota.ToSet(want)) {
		t.Errorf("MatchingResources = %v, want %v", got, want)
	}
}

func TestPodHandles(t *testing.T) {
	e := NewPodEvaluator(nil, nil)
	gvr := corev1.SchemeGroupVersion.WithResource("pods")
	gvk := corev1.SchemeGroupVersion.WithKind("Pod")
	for _, c := range []struct {
		op   admission.Operation
		sub  string
		want bool
	}{{admission.Create, "", true}, {admission.Update, "", false}, {admission.Create, "binding", false}, {admission.Delete, "", false}} {
		a := admission.NewAttributesRecord(&corev1.Pod{}, nil, gvk, "ns", "p", gvr, c.sub, c.op, nil, false, nil)
		if got := e.Handles(a); got != c.want {
			t.Errorf("%s %q: Handles = %v, want %v", c.op, c.sub, got, c.want)
		}
	}
}

func TestServiceUsage(t *testing.T) {
	e := NewServiceEvaluator(nil)
	svc := func(typ corev1.ServiceType, ports int, allocate *bool) *corev1.Service {
		s := &corev1.Service{Spec: corev1.ServiceSpec{Type: typ, AllocateLoadBalancerNodePorts: allocate}}
		for i := 0; i < ports; i++ {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: int32(80 + i)})
		}
		return s
	}
	for _, c := range []struct {
		svc  *corev1.Service
		want corev1.ResourceList
	}{
		{svc(corev1.ServiceTypeClusterIP, 2, nil), rl("services", "1", "count/services", "1")},
		{svc(corev1.ServiceTypeNodePort, 2, nil), rl("services", "1", "count/services", "1", "services.nodeports", "2")},
		{svc(corev1.ServiceTypeLoadBalancer, 3, nil), rl("services", "1", "count/services", "1", "services.nodeports", "3", "services.loadbalancers", "1")},
		{svc(corev1.ServiceTypeLoadBalancer, 3, ptr.To(false)), rl("services", "1", "count/services", "1", "services.loadbalancers", "1")},
	} {
		got, err := e.Usage(c.svc)
		if err != nil {
			t.Fatal(err)
		}
		assertList(t, got, c.want)
	}
}

func TestPersistentVolumeClaimUsage(t *testing.T) {
	e := NewPersistentVolumeClaimEvaluator(nil)
	pvc := &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptr.To("gold"),
		Resources: corev1.VolumeResourceRequirements{Requests: rl("storage", "1Gi")}}}
	got, _ := e.Usage(pvc)
	assertList(t, got, rl("persistentvolumeclaims", "1", "count/persistentvolumeclaims", "1", "requests.storage", "1Gi",
		"gold.storageclass.storage.k8s.io/persistentvolumeclaims", "1", "gold.storageclass.storage.k8s.io/requests.storage", "1Gi"))
	// Allocated more than requested (an expansion): the larger counts.
	pvc.Status.AllocatedResources = rl("storage", "2Gi")
	got, _ = e.Usage(pvc)
	if q := got["requests.storage"]; q.Cmp(resource.MustParse("2Gi")) != 0 {
		t.Errorf("requests.storage = %s, want 2Gi", q.String())
	}
	match := e.MatchingResources([]corev1.ResourceName{"gold.storageclass.storage.k8s.io/requests.storage", "requests.storage", "pods",
		"gold.storageclass.storage.k8s.io/pods"})
	if !quota.ToSet(match).Equal(quota.ToSet([]corev1.ResourceName{"gold.storageclass.storage.k8s.io/requests.storage", "requests.storage"})) {
		t.Errorf("MatchingResources = %v", match)
	}
}

func TestLegacyObjectCounts(t *testing.T) {
	reg := generic.NewRegistry(NewEvaluators(nil, nil))
	for _, c := range []struct {
		resource string
		names    []corev1.ResourceName
	}{
		{"configmaps", []corev1.ResourceName{"configmaps", "count/configmaps"}},
		{"secrets", []corev1.ResourceName{"secrets", "count/secrets"}},
		{"replicationcontrollers", []corev1.ResourceName{"replicationcontrollers", "count/replicationcontrollers"}},
		{"resourcequotas", []corev1.ResourceName{"resourcequotas", "count/resourcequotas"}},
	} {
		e := reg.Get(schema.GroupResource{Resource: c.resource})
		if e == nil {
			t.Errorf("no evaluator for %s", c.resource)
			continue
		}
		got, _ := e.Usage(&corev1.ConfigMap{})
		want := corev1.ResourceList{}
		for _, n := range c.names {
			want[n] = resource.MustParse("1")
		}
		assertList(t, got, want)
	}
}

func TestPodUsageStats(t *testing.T) {
	running := pod("a", ctr("a", rl("cpu", "1"), nil))
	done := pod("b", ctr("a", rl("cpu", "1"), nil))
	done.Status.Phase = corev1.PodSucceeded
	best := pod("c", ctr("a", nil, nil))
	list := func(string) ([]runtime.Object, error) { return []runtime.Object{running, done, best}, nil }
	e := NewPodEvaluator(list, clocktesting.NewFakeClock(now))
	stats, err := e.UsageStats(quota.UsageStatsOptions{Namespace: "ns", Resources: []corev1.ResourceName{"pods", "count/pods", "requests.cpu"}})
	if err != nil {
		t.Fatal(err)
	}
	assertList(t, quota.Mask(stats.Used, []corev1.ResourceName{"pods", "count/pods", "requests.cpu"}), rl("pods", "2", "count/pods", "3", "requests.cpu", "1"))
	stats, _ = e.UsageStats(quota.UsageStatsOptions{Namespace: "ns", Resources: []corev1.ResourceName{"pods"},
		Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}})
	assertList(t, quota.Mask(stats.Used, []corev1.ResourceName{"pods"}), rl("pods", "1"))
}
