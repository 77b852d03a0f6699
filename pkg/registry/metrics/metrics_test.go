package metrics

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/herd-project/herd/pkg/agent/stats"
)

type fakeSource struct {
	nodes []corev1.Node
	pods  []corev1.Pod
	sums  map[string]*stats.Summary
	calls int
}

func (f *fakeSource) Nodes(_ context.Context, sel labels.Selector) ([]corev1.Node, error) {
	var out []corev1.Node
	for _, n := range f.nodes {
		if sel.Matches(labels.Set(n.Labels)) {
			out = append(out, n)
		}
	}
	return out, nil
}

func (f *fakeSource) Pods(_ context.Context, ns string, sel labels.Selector, fs fields.Selector) ([]corev1.Pod, error) {
	var out []corev1.Pod
	for _, p := range f.pods {
		if (ns == "" || p.Namespace == ns) && sel.Matches(labels.Set(p.Labels)) && fs.Matches(fields.Set{"metadata.name": p.Name, "metadata.namespace": p.Namespace}) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (f *fakeSource) Summary(_ context.Context, node string) (*stats.Summary, error) {
	f.calls++
	if s, ok := f.sums[node]; ok {
		return s, nil
	}
	return nil, errors.New("agent unreachable")
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func fixture() (*fakeSource, *clocktesting.FakeClock, *Scraper) {
	u := func(cpu, mem uint64) stats.Usage {
		return stats.Usage{Timestamp: t0, Window: 10 * time.Second, CPUNanoCores: cpu, MemoryWorkingSetBytes: mem}
	}
	nodeUsage := u(1_500_000_000, 2<<30)
	src := &fakeSource{
		nodes: []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"zone": "a"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "n2"}}},
		pods: []corev1.Pod{
			{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}},
			{ObjectMeta: metav1.ObjectMeta{Name: "done", Namespace: "ns"},
				Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded}},
			{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "other"},
				Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}},
		},
		sums: map[string]*stats.Summary{"n1": {Node: "n1", Usage: &nodeUsage, Pods: []stats.PodUsage{
			{Namespace: "ns", Name: "web", Containers: []stats.ContainerUsage{{Name: "c", Usage: u(250_000_000, 64<<20)}}},
			{Namespace: "ns", Name: "done", Containers: []stats.ContainerUsage{{Name: "c", Usage: u(1, 1)}}},
			{Namespace: "other", Name: "other", Containers: []stats.ContainerUsage{{Name: "c", Usage: u(1, 1)}}},
		}}},
	}
	clk := clocktesting.NewFakeClock(t0)
	return src, clk, NewScraper(src, clk)
}

func TestNodeMetrics(t *testing.T) {
	src, clk, s := fixture()
	st := Storage(s)["nodes"].(*nodeREST)
	obj, err := st.List(context.Background(), &metainternalversion.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l := obj.(*metricsv1beta1.NodeMetricsList)
	// n2's agent does not answer: it is left out, as metrics-server does.
	if len(l.Items) != 1 || l.Items[0].Name != "n1" {
		t.Fatalf("items %+v", l.Items)
	}
	cpu, mem := l.Items[0].Usage[corev1.ResourceCPU], l.Items[0].Usage[corev1.ResourceMemory]
	if cpu.MilliValue() != 1500 || mem.Value() != 2<<30 || l.Items[0].Window.Duration != 10*time.Second {
		t.Fatalf("usage %s %s", cpu.String(), mem.String())
	}
	// Within the cache TTL no agent is asked again (n2, failed, is).
	calls := src.calls
	if _, err := st.Get(context.Background(), "n1", &metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if src.calls != calls+1 {
		t.Fatalf("calls %d → %d: n1 should come from the cache, n2 asked again", calls, src.calls)
	}
	clk.Step(CacheTTL)
	st.Get(context.Background(), "n1", &metav1.GetOptions{})
	if src.calls != calls+3 {
		t.Fatalf("after the TTL both agents are asked: calls %d", src.calls)
	}
	if _, err := st.Get(context.Background(), "n2", &metav1.GetOptions{}); err == nil {
		t.Fatal("n2 without figures found")
	}
	obj, _ = st.List(context.Background(), &metainternalversion.ListOptions{LabelSelector: labels.SelectorFromSet(labels.Set{"zone": "b"})})
	if n := len(obj.(*metricsv1beta1.NodeMetricsList).Items); n != 0 {
		t.Fatalf("label selector ignored: %d items", n)
	}
}

func TestPodMetrics(t *testing.T) {
	_, _, s := fixture()
	st := Storage(s)["pods"].(*podREST)
	ctx := genericapirequest.WithNamespace(context.Background(), "ns")
	obj, err := st.List(ctx, &metainternalversion.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l := obj.(*metricsv1beta1.PodMetricsList)
	// Only running pods of the namespace.
	if len(l.Items) != 1 || l.Items[0].Name != "web" || l.Items[0].Namespace != "ns" {
		t.Fatalf("items %+v", l.Items)
	}
	c := l.Items[0].Containers[0]
	cpu, mem := c.Usage[corev1.ResourceCPU], c.Usage[corev1.ResourceMemory]
	if c.Name != "c" || cpu.String() != "250m" || mem.String() != "64Mi" {
		t.Fatalf("container %+v", c)
	}
	obj, _ = st.List(genericapirequest.WithNamespace(context.Background(), ""), &metainternalversion.ListOptions{})
	if n := len(obj.(*metricsv1beta1.PodMetricsList).Items); n != 2 {
		t.Fatalf("all namespaces: %d items, want 2", n)
	}
	if _, err := st.Get(ctx, "done", &metav1.GetOptions{}); err == nil {
		t.Fatal("a finished pod has metrics")
	}
	table, err := st.ConvertToTable(ctx, l, nil)
	if err != nil || table.Rows[0].Cells[1] != "250m" {
		t.Fatalf("table %+v %v", table, err)
	}
}
