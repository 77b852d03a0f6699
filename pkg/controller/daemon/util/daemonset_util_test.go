package util

import (
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func ds() *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "default"},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "d"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}},
		}},
	}
}

func TestNodeShouldRunDaemonPod(t *testing.T) {
	node := func(mod func(*corev1.Node)) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"zone": "a"}}}
		if mod != nil {
			mod(n)
		}
		return n
	}
	taint := func(key string, e corev1.TaintEffect) func(*corev1.Node) {
		return func(n *corev1.Node) { n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Effect: e}) }
	}
	for _, tc := range []struct {
		name              string
		node              *corev1.Node
		mod               func(*appsv1.DaemonSet)
		wantRun, wantStay bool
	}{
		{"plain", node(nil), nil, true, true},
		{"nodeSelector match", node(nil), func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"} }, true, true},
		{"nodeSelector miss", node(nil), func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "b"} }, false, false},
		{"affinity miss", node(nil), func(d *appsv1.DaemonSet) {
			d.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"n2"}}}}}}}}
		}, false, false},
		{"template nodeName other", node(nil), func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.NodeName = "n2" }, false, false},
		{"NoSchedule untolerated", node(taint("k", corev1.TaintEffectNoSchedule)), nil, false, true},
		{"NoExecute untolerated", node(taint("k", corev1.TaintEffectNoExecute)), nil, false, false},
		{"PreferNoSchedule ignored", node(taint("k", corev1.TaintEffectPreferNoSchedule)), nil, true, true},
		{"tolerated", node(taint("k", corev1.TaintEffectNoExecute)), func(d *appsv1.DaemonSet) {
			d.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}}
		}, true, true},
		{"unschedulable taint tolerated by default", node(taint(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule)), nil, true, true},
		{"not-ready NoExecute tolerated by default", node(taint(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute)), nil, true, true},
		{"network-unavailable only for host network", node(taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)), nil, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ds()
			if tc.mod != nil {
				tc.mod(d)
			}
			run, stay := NodeShouldRunDaemonPod(tc.node, d)
			if run != tc.wantRun || stay != tc.wantStay {
				t.Errorf("got (%v, %v), want (%v, %v)", run, stay, tc.wantRun, tc.wantStay)
			}
		})
	}
}

func TestAddOrUpdateDaemonPodTolerations(t *testing.T) {
	spec := &corev1.PodSpec{HostNetwork: true, Tolerations: []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
		{Key: "mine", Operator: corev1.TolerationOpExists},
	}}
	AddOrUpdateDaemonPodTolerations(spec)
	if len(spec.Tolerations) != 8 {
		t.Fatalf("tolerations = %v", spec.Tolerations)
	}
	if spec.Tolerations[0].TolerationSeconds != nil {
		t.Errorf("not-ready toleration keeps tolerationSeconds: %v", spec.Tolerations[0])
	}
	AddOrUpdateDaemonPodTolerations(spec)
	if len(spec.Tolerations) != 8 {
		t.Errorf("not idempotent: %v", spec.Tolerations)
	}
}

func TestReplaceNodeAffinityAndTargetNode(t *testing.T) {
	a := &corev1.Affinity{
		PodAffinity: &corev1.PodAffinity{},
		NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
			{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"a", "b"}}}},
			{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpExists}}},
		}}},
	}
	out := ReplaceDaemonSetPodNodeNameNodeAffinity(a, "n1")
	want := []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"n1"}}}}}
	if !reflect.DeepEqual(out.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms, want) || out.PodAffinity == nil {
		t.Errorf("affinity = %+v", out)
	}
	pod := &corev1.Pod{Spec: corev1.PodSpec{Affinity: out}}
	if n, err := GetTargetNodeName(pod); err != nil || n != "n1" {
		t.Errorf("target = %q, %v", n, err)
	}
	pod.Spec.NodeName = "bound"
	if n, _ := GetTargetNodeName(pod); n != "bound" {
		t.Errorf("target of bound pod = %q", n)
	}
	if _, err := GetTargetNodeName(&corev1.Pod{}); err == nil {
		t.Error("no error without affinity")
	}
	if out := ReplaceDaemonSetPodNodeNameNodeAffinity(nil, "n2"); out.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values[0] != "n2" {
		t.Error("nil affinity not filled")
	}
}

func TestBudgets(t *testing.T) {
	d := ds()
	d.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType, RollingUpdate: &appsv1.RollingUpdateDaemonSet{
		MaxUnavailable: ptr.To(intstr.FromString("10%")), MaxSurge: ptr.To(intstr.FromString("25%"))}}
	for _, tc := range []struct{ n, unavail, surge int }{{1000, 100, 250}, {5, 1, 2}, {1, 1, 1}, {0, 0, 0}} {
		u, _ := UnavailableCount(d, tc.n)
		s, _ := SurgeCount(d, tc.n)
		if u != tc.unavail || s != tc.surge {
			t.Errorf("%d nodes: unavailable %d surge %d, want %d %d", tc.n, u, s, tc.unavail, tc.surge)
		}
	}
	if !AllowsSurge(d) {
		t.Error("25% surge not allowed")
	}
	d.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	if u, _ := UnavailableCount(d, 10); u != 0 || AllowsSurge(d) {
		t.Error("OnDelete has budgets")
	}
}

func TestTemplateLabelsAndUpdated(t *testing.T) {
	d := ds()
	d.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: "3"}
	g, err := GetTemplateGeneration(d)
	if err != nil || *g != 3 {
		t.Fatalf("generation %v %v", g, err)
	}
	tmpl := CreatePodTemplate(d.Spec.Template, g, "abc")
	if tmpl.Labels[TemplateGenerationLabel] != "3" || tmpl.Labels[RevisionHashLabel] != "abc" || d.Spec.Template.Labels[RevisionHashLabel] != "" {
		t.Errorf("labels %v (template %v)", tmpl.Labels, d.Spec.Template.Labels)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: tmpl.Labels}}
	if !IsPodUpdated(pod, "abc", g) || !IsPodUpdated(pod, "other", g) || IsPodUpdated(pod, "other", ptr.To[int64](4)) {
		t.Error("IsPodUpdated wrong")
	}
}
