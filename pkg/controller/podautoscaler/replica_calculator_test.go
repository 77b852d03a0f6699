package podautoscaler

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// testPod is a running pod started long ago (past the CPU initialization
// period), ready, requesting cpuRequest millicores.
func testPod(name string, cpuRequest int64, mutate ...func(*corev1.Pod)) *corev1.Pod {
	start := metav1.NewTime(t0.Add(-time.Hour))
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(cpuRequest, resource.DecimalSI)}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &start,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: start}}},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func metricsOf(values map[string]int64) PodMetricsInfo {
	m := PodMetricsInfo{}
	for k, v := range values {
		m[k] = PodMetric{Timestamp: t0, Window: time.Minute, Value: v}
	}
	return m
}

func TestResourceUtilizationReplicas(t *testing.T) {
	unready := func(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }
	pending := func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }
	deleted := func(p *corev1.Pod) { now := metav1.NewTime(t0); p.DeletionTimestamp = &now }
	justStarted := func(p *corev1.Pod) {
		s := metav1.NewTime(t0.Add(-10 * time.Second))
		p.Status.StartTime = &s
		p.Status.Conditions[0].LastTransitionTime = s
	}
	cases := []struct {
		name       string
		current    int32
		target     int32
		pods       []*corev1.Pod
		metrics    map[string]int64
		want       int32
		wantUtil   int32
		wantErrStr string
	}{
		{name: "scale up: 200% of request at target 50% quadruples", current: 1, target: 50,
			pods: []*corev1.Pod{testPod("a", 100)}, metrics: map[string]int64{"a": 200}, want: 4, wantUtil: 200},
		{name: "within tolerance keeps the count", current: 3, target: 50,
			pods:    []*corev1.Pod{testPod("a", 100), testPod("b", 100), testPod("c", 100)},
			metrics: map[string]int64{"a": 52, "b": 54, "c": 53}, want: 3, wantUtil: 53},
		{name: "just outside tolerance scales", current: 2, target: 50,
			pods: []*corev1.Pod{testPod("a", 100), testPod("b", 100)}, metrics: map[string]int64{"a": 60, "b": 60}, want: 3, wantUtil: 60},
		{name: "scale down", current: 4, target: 50,
			pods:    []*corev1.Pod{testPod("a", 100), testPod("b", 100), testPod("c", 100), testPod("d", 100)},
			metrics: map[string]int64{"a": 10, "b": 10, "c": 10, "d": 10}, want: 1, wantUtil: 10},
		{name: "deleted and failed pods are ignored", current: 2, target: 50,
			pods: []*corev1.Pod{testPod("a", 100), testPod("b", 100, deleted)}, metrics: map[string]int64{"a": 100, "b": 0}, want: 2, wantUtil: 100},
		{name: "missing pods count as 100% on scale down", current: 2, target: 50,
			pods: []*corev1.Pod{testPod("a", 100), testPod("b", 100)}, metrics: map[string]int64{"a": 10}, want: 2, wantUtil: 10},
		{name: "missing pods count as 0% on scale up", current: 2, target: 50,
			pods: []*corev1.Pod{testPod("a", 100), testPod("b", 100)}, metrics: map[string]int64{"a": 300}, want: 6, wantUtil: 300},
		{name: "pending pods count as 0% on scale up", current: 2, target: 50,
			pods: []*corev1.Pod{testPod("a", 100), testPod("b", 100, pending)}, metrics: map[string]int64{"a": 300}, want: 6, wantUtil: 300},
		{name: "unready pods do not hold back a scale down", current: 2, target: 50,
			pods: []*corev1.Pod{testPod("a", 100), testPod("b", 100, unready, justStarted)}, metrics: map[string]int64{"a": 10, "b": 900}, want: 1, wantUtil: 10},
		{name: "no metrics at all", current: 1, target: 50,
			pods: []*corev1.Pod{testPod("a", 100)}, metrics: map[string]int64{}, wantErrStr: "did not receive metrics for targeted pods (pods might be unready)"},
		{name: "a container without request", current: 1, target: 50,
			pods:    []*corev1.Pod{testPod("a", 100, func(p *corev1.Pod) { p.Spec.Containers[0].Resources = corev1.ResourceRequirements{} })},
			metrics: map[string]int64{"a": 10}, wantErrStr: "missing request for cpu in container c of Pod a"},
		{name: "no pods", current: 1, target: 50, wantErrStr: "no pods returned by selector while calculating replica count"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &ReplicaCalculator{Tolerance: DefaultTolerance, Now: func() time.Time { return t0 }}
			got, util, _, err := c.ResourceUtilizationReplicas(tc.current, tc.target, corev1.ResourceCPU, tc.pods, metricsOf(tc.metrics), "")
			if tc.wantErrStr != "" {
				if err == nil || err.Error() != tc.wantErrStr {
					t.Fatalf("error %v, want %q", err, tc.wantErrStr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || util != tc.wantUtil {
				t.Fatalf("replicas %d utilization %d, want %d and %d", got, util, tc.want, tc.wantUtil)
			}
		})
	}
}

func TestResourceAverageValueReplicas(t *testing.T) {
	c := &ReplicaCalculator{Tolerance: DefaultTolerance, Now: func() time.Time { return t0 }}
	pods := []*corev1.Pod{testPod("a", 100), testPod("b", 100)}
	got, avg, err := c.ResourceAverageValueReplicas(2, 100, corev1.ResourceCPU, pods, metricsOf(map[string]int64{"a": 300, "b": 300}))
	if err != nil || got != 6 || avg != 300 {
		t.Fatalf("got %d avg %d err %v, want 6 and 300", got, avg, err)
	}
	got, _, err = c.ResourceAverageValueReplicas(2, 100, corev1.ResourceCPU, pods, metricsOf(map[string]int64{"a": 105, "b": 100}))
	if err != nil || got != 2 {
		t.Fatalf("within tolerance: got %d err %v, want 2", got, err)
	}
}

func TestStabilizeWithoutBehavior(t *testing.T) {
	var recs []timestampedRecommendation
	now := t0
	var got int32
	// Recommendations 5, then 2 a minute later: the 5 holds for 5 minutes.
	got, recs = stabilize(recs, now, DefaultDownscaleStabilizationWindow, 5)
	if got != 5 {
		t.Fatalf("got %d", got)
	}
	now = now.Add(time.Minute)
	got, recs = stabilize(recs, now, DefaultDownscaleStabilizationWindow, 2)
	if got != 5 {
		t.Fatalf("scale down within the window: got %d, want 5", got)
	}
	now = now.Add(5 * time.Minute)
	got, _ = stabilize(recs, now, DefaultDownscaleStabilizationWindow, 2)
	if got != 2 {
		t.Fatalf("after the window: got %d, want 2", got)
	}
}

func TestLimitWithoutBehavior(t *testing.T) {
	for _, tc := range []struct {
		current, desired, min, max int32
		want                       int32
		reason                     string
	}{
		{1, 10, 1, 20, 4, "ScaleUpLimit"},
		{5, 30, 1, 20, 10, "ScaleUpLimit"},
		{5, 30, 1, 8, 8, "TooManyReplicas"},
		{5, 0, 2, 8, 2, "TooFewReplicas"},
		{5, 6, 2, 8, 6, "DesiredWithinRange"},
	} {
		got, lim := limitWithoutBehavior(tc.current, tc.desired, tc.min, tc.max)
		if got != tc.want || lim.reason != tc.reason {
			t.Errorf("%+v: got %d %s", tc, got, lim.reason)
		}
	}
}

func TestBehaviorStabilizationAndPolicies(t *testing.T) {
	up := int32(30)
	down := int32(60)
	b := behavior(up, down)
	var recs []timestampedRecommendation
	// Scale-up window of 30 s: a recommendation of 8 is taken only once
	// every recommendation of the last 30 s is at least 8.
	got, recs := stabilizeWithBehavior(recs, t0, 2, 2, time.Duration(up)*time.Second, time.Duration(down)*time.Second)
	if got != 2 {
		t.Fatalf("got %d", got)
	}
	got, recs = stabilizeWithBehavior(recs, t0.Add(10*time.Second), 2, 8, time.Duration(up)*time.Second, time.Duration(down)*time.Second)
	if got != 2 {
		t.Fatalf("within the up window: got %d, want 2", got)
	}
	got, _ = stabilizeWithBehavior(recs, t0.Add(41*time.Second), 2, 8, time.Duration(up)*time.Second, time.Duration(down)*time.Second)
	if got != 8 {
		t.Fatalf("after the up window: got %d, want 8", got)
	}
	// Default scale-up policies: max(+4 pods, +100%) per 15 s.
	n, lim := limitWithBehavior(2, 20, 1, 50, b, nil, nil, t0)
	if n != 6 || lim.reason != "ScaleUpLimit" {
		t.Fatalf("scale up from 2: got %d %s, want 6 ScaleUpLimit", n, lim.reason)
	}
	n, _ = limitWithBehavior(10, 50, 1, 50, b, nil, nil, t0)
	if n != 20 {
		t.Fatalf("scale up from 10: got %d, want 20", n)
	}
	// Scaled up by 4 within the period: the period started at 6.
	events := []timestampedScaleEvent{{replicaChange: 4, timestamp: t0.Add(-5 * time.Second)}}
	n, _ = limitWithBehavior(10, 50, 1, 50, b, events, nil, t0)
	if n != 12 {
		t.Fatalf("scale up from 10 after +4: got %d, want 12", n)
	}
	// A Pods policy of 1 per 60 s on the way down.
	b.ScaleDown.Policies[0].Type, b.ScaleDown.Policies[0].Value, b.ScaleDown.Policies[0].PeriodSeconds = "Pods", 1, 60
	n, lim = limitWithBehavior(5, 1, 1, 10, b, nil, nil, t0)
	if n != 4 || lim.reason != "ScaleDownLimit" {
		t.Fatalf("scale down: got %d %s, want 4 ScaleDownLimit", n, lim.reason)
	}
	disabled := autoscalingDisabled()
	b.ScaleDown.SelectPolicy = &disabled
	if n, _ = limitWithBehavior(5, 1, 1, 10, b, nil, nil, t0); n != 5 {
		t.Fatalf("scale down disabled: got %d, want 5", n)
	}
}

func TestChangeInPeriod(t *testing.T) {
	ev := []timestampedScaleEvent{{replicaChange: 2, timestamp: t0.Add(-20 * time.Second)}, {replicaChange: 3, timestamp: t0.Add(-5 * time.Second)}}
	if got := changeInPeriod(ev, 15, t0); got != 3 {
		t.Fatal(fmt.Sprint(got))
	}
	if got := changeInPeriod(ev, 60, t0); got != 5 {
		t.Fatal(fmt.Sprint(got))
	}
}

func TestPerDirectionTolerance(t *testing.T) {
	pods := []*corev1.Pod{testPod("a", 100), testPod("b", 100)}
	up, down := 0.5, 0.0
	c := &ReplicaCalculator{Tolerance: DefaultTolerance, ScaleUpTolerance: &up, ScaleDownTolerance: &down, Now: func() time.Time { return t0 }}
	// 140% of target: within a 0.5 scale-up tolerance.
	if got, _, _, _ := c.ResourceUtilizationReplicas(2, 50, corev1.ResourceCPU, pods, metricsOf(map[string]int64{"a": 70, "b": 70}), ""); got != 2 {
		t.Fatalf("scale up within tolerance: %d", got)
	}
	// 96% of target: outside a zero scale-down tolerance.
	if got, _, _, _ := c.ResourceUtilizationReplicas(2, 50, corev1.ResourceCPU, pods, metricsOf(map[string]int64{"a": 24, "b": 24}), ""); got != 1 {
		t.Fatalf("scale down with zero tolerance: %d", got)
	}
}
