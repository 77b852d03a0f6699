package podautoscaler

import (
	"context"
	"strings"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/apis/autoscaling"
)

type fakeMetrics struct{ values map[string]int64 }

func (f *fakeMetrics) ResourceMetric(_ context.Context, _ corev1.ResourceName, _ string, _ labels.Selector, _ string) (PodMetricsInfo, time.Time, error) {
	return metricsOf(f.values), t0, nil
}

// fixture: an HPA on Deployment web (target 50% CPU, 1–5 replicas) whose
// /scale the fake clientset serves from replicas.
type fixture struct {
	c        *Controller
	client   *fake.Clientset
	clk      *clocktesting.FakeClock
	rec      *record.FakeRecorder
	metrics  *fakeMetrics
	replicas int32
	updates  int
	scaled   string
}

func newFixture(t *testing.T, hpa *autoscalingv2.HorizontalPodAutoscaler, pods ...*corev1.Pod) *fixture {
	autoscaling.SetDefaultsHorizontalPodAutoscaler(hpa)
	objs := []runtime.Object{hpa}
	for _, p := range pods {
		objs = append(objs, p)
	}
	f := &fixture{client: fake.NewClientset(objs...), clk: clocktesting.NewFakeClock(t0), rec: record.NewFakeRecorder(100),
		metrics: &fakeMetrics{}, replicas: int32(len(pods))}
	for _, res := range []string{"deployments", "statefulsets"} {
		f.client.PrependReactor("get", res, func(a k8stesting.Action) (bool, runtime.Object, error) {
			if a.GetSubresource() != "scale" {
				return false, nil, nil
			}
			f.scaled = a.GetResource().Resource
			return true, &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
				Spec: autoscalingv1.ScaleSpec{Replicas: f.replicas}, Status: autoscalingv1.ScaleStatus{Replicas: f.replicas, Selector: "app=web"}}, nil
		})
		f.client.PrependReactor("update", res, func(a k8stesting.Action) (bool, runtime.Object, error) {
			if a.GetSubresource() != "scale" {
				return false, nil, nil
			}
			s := a.(k8stesting.UpdateAction).GetObject().(*autoscalingv1.Scale)
			f.replicas = s.Spec.Replicas
			f.updates++
			return true, s, nil
		})
	}
	inf := informers.NewSharedInformerFactory(f.client, 0)
	f.c = New(f.client, f.metrics, inf, f.rec, f.clk, Options{})
	for _, p := range pods {
		inf.Core().V1().Pods().Informer().GetIndexer().Add(p)
	}
	inf.Autoscaling().V2().HorizontalPodAutoscalers().Informer().GetIndexer().Add(hpa)
	return f
}

func (f *fixture) sync(t *testing.T) *autoscalingv2.HorizontalPodAutoscaler {
	t.Helper()
	if _, err := f.c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	hpa, err := f.client.AutoscalingV2().HorizontalPodAutoscalers("ns").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The lister sees the written status next time, as the informer would.
	f.c.hpas = nil
	idx := informers.NewSharedInformerFactory(f.client, 0).Autoscaling().V2().HorizontalPodAutoscalers()
	idx.Informer().GetIndexer().Add(hpa)
	f.c.hpas = idx.Lister()
	return hpa
}

func webHPA(b *autoscalingv2.HorizontalPodAutoscalerBehavior) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", Generation: 1},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    ptr.To[int32](1), MaxReplicas: 5, Behavior: b,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](50)}}}},
		},
	}
}

func condition(hpa *autoscalingv2.HorizontalPodAutoscaler, t autoscalingv2.HorizontalPodAutoscalerConditionType) string {
	for _, c := range hpa.Status.Conditions {
		if c.Type == t {
			return string(c.Status) + "/" + c.Reason
		}
	}
	return ""
}

func TestControllerScalesUpWithStatusAndEvent(t *testing.T) {
	f := newFixture(t, webHPA(nil), testPod("a", 100))
	f.metrics.values = map[string]int64{"a": 200}
	hpa := f.sync(t)
	if f.replicas != 4 {
		t.Fatalf("replicas %d, want 4 (200%% of request at 50%%)", f.replicas)
	}
	if hpa.Status.CurrentReplicas != 1 || hpa.Status.DesiredReplicas != 4 || hpa.Status.LastScaleTime == nil {
		t.Fatalf("status %+v", hpa.Status)
	}
	if got := *hpa.Status.CurrentMetrics[0].Resource.Current.AverageUtilization; got != 200 {
		t.Fatalf("current utilization %d", got)
	}
	for ct, want := range map[autoscalingv2.HorizontalPodAutoscalerConditionType]string{
		autoscalingv2.AbleToScale: "True/SucceededRescale", autoscalingv2.ScalingActive: "True/ValidMetricFound",
		autoscalingv2.ScalingLimited: "False/DesiredWithinRange"} {
		if got := condition(hpa, ct); got != want {
			t.Errorf("%s: %s, want %s", ct, got, want)
		}
	}
	ev := <-f.rec.Events
	if !strings.Contains(ev, "SuccessfulRescale New size: 4; reason: cpu resource utilization (percentage of request) above target") {
		t.Fatalf("event %q", ev)
	}
}

func TestControllerScaleDownWaitsForStabilizationWindow(t *testing.T) {
	pods := []*corev1.Pod{testPod("a", 100), testPod("b", 100), testPod("c", 100), testPod("d", 100)}
	f := newFixture(t, webHPA(&autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](60)}}), pods...)
	f.metrics.values = map[string]int64{"a": 50, "b": 50, "c": 50, "d": 50}
	f.sync(t)
	if f.replicas != 4 {
		t.Fatalf("at target: replicas %d", f.replicas)
	}
	f.metrics.values = map[string]int64{"a": 10, "b": 10, "c": 10, "d": 10}
	f.clk.Step(15 * time.Second)
	hpa := f.sync(t)
	if f.replicas != 4 || hpa.Status.DesiredReplicas != 4 || condition(hpa, autoscalingv2.AbleToScale) != "True/ScaleDownStabilized" {
		t.Fatalf("within the window: replicas %d, status %+v", f.replicas, hpa.Status)
	}
	f.clk.Step(61 * time.Second)
	f.sync(t)
	if f.replicas != 1 {
		t.Fatalf("after the window: replicas %d, want 1", f.replicas)
	}
}

func TestControllerTooFewReplicasAndDisabled(t *testing.T) {
	h := webHPA(nil)
	h.Spec.MinReplicas = ptr.To[int32](2)
	f := newFixture(t, h, testPod("a", 100))
	f.metrics.values = map[string]int64{"a": 50}
	f.sync(t)
	if f.replicas != 2 {
		t.Fatalf("below minReplicas: replicas %d, want 2", f.replicas)
	}
	f.replicas = 0
	hpa := f.sync(t)
	if f.replicas != 0 || condition(hpa, autoscalingv2.ScalingActive) != "False/ScalingDisabled" {
		t.Fatalf("scaled to zero by hand: replicas %d, conditions %+v", f.replicas, hpa.Status.Conditions)
	}
}

func TestControllerReportsMissingMetrics(t *testing.T) {
	f := newFixture(t, webHPA(nil), testPod("a", 100))
	f.metrics.values = map[string]int64{}
	_, err := f.c.sync(context.Background(), "ns/web")
	if err == nil {
		t.Fatal("no error without metrics")
	}
	hpa, _ := f.client.AutoscalingV2().HorizontalPodAutoscalers("ns").Get(context.Background(), "web", metav1.GetOptions{})
	if got := condition(hpa, autoscalingv2.ScalingActive); got != "False/FailedGetResourceMetric" {
		t.Fatalf("ScalingActive %s", got)
	}
	if f.updates != 0 {
		t.Fatal("scaled without metrics")
	}
}

func TestControllerScalesStatefulSets(t *testing.T) {
	h := webHPA(nil)
	h.Spec.ScaleTargetRef.Kind = "StatefulSet"
	f := newFixture(t, h, testPod("a", 100), testPod("b", 100))
	f.metrics.values = map[string]int64{"a": 100, "b": 100}
	f.sync(t)
	if f.replicas != 4 || f.scaled != "statefulsets" {
		t.Fatalf("replicas %d through %q, want 4 through statefulsets", f.replicas, f.scaled)
	}
}

func TestControllerUnknownTarget(t *testing.T) {
	h := webHPA(nil)
	h.Spec.ScaleTargetRef.Kind = "Widget"
	f := newFixture(t, h, testPod("a", 100))
	if _, err := f.c.sync(context.Background(), "ns/web"); err == nil {
		t.Fatal("no error for a target without /scale")
	}
	hpa, _ := f.client.AutoscalingV2().HorizontalPodAutoscalers("ns").Get(context.Background(), "web", metav1.GetOptions{})
	if got := condition(hpa, autoscalingv2.AbleToScale); got != "False/FailedGetScale" {
		t.Fatalf("AbleToScale %s", got)
	}
}
