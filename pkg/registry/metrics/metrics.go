// Package metrics serves metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics
// in the API server itself, as metrics-server does behind aggregation: the
// figures are the node agents' /stats/resource summaries (CPU rate and
// memory working set), fetched through a Source and kept for a few seconds.
// Nothing is stored; only get and list are served.
package metrics

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/klog/v2"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/agent/stats"
)

// Source reads what the storage reports on.
type Source interface {
	// Nodes lists the nodes matching selector.
	Nodes(ctx context.Context, selector labels.Selector) ([]corev1.Node, error)
	// Pods lists the pods of namespace ("" for all) matching the selectors.
	Pods(ctx context.Context, namespace string, selector labels.Selector, fieldSelector fields.Selector) ([]corev1.Pod, error)
	// Summary asks node's agent for its usage summary.
	Summary(ctx context.Context, node string) (*stats.Summary, error)
}

// CacheTTL is how long a node's summary is reused.
const CacheTTL = 5 * time.Second

// Scraper fetches node summaries through a Source with a short cache.
type Scraper struct {
	src   Source
	clock clock.PassiveClock
	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	at  time.Time
	sum *stats.Summary
}

// NewScraper returns a scraper over src.
func NewScraper(src Source, clk clock.PassiveClock) *Scraper {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Scraper{src: src, clock: clk, cache: map[string]cached{}}
}

// summaries returns the summaries of nodes, fetched in parallel; nodes
// whose agent does not answer are left out (and logged), as
// metrics-server leaves out the kubelets it cannot scrape.
func (s *Scraper) summaries(ctx context.Context, nodes []string) map[string]*stats.Summary {
	out := map[string]*stats.Summary{}
	now := s.clock.Now()
	var missing []string
	s.mu.Lock()
	for _, n := range nodes {
		if c, ok := s.cache[n]; ok && now.Sub(c.at) < CacheTTL {
			out[n] = c.sum
		} else {
			missing = append(missing, n)
		}
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, 16)
	for _, n := range missing {
		wg.Add(1)
		go func(n string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			sum, err := s.src.Summary(ctx, n)
			if err != nil {
				klog.V(2).InfoS("no resource usage from node", "node", n, "err", err)
				return
			}
			mu.Lock()
			out[n] = sum
			mu.Unlock()
			s.mu.Lock()
			s.cache[n] = cached{at: now, sum: sum}
			s.mu.Unlock()
		}(n)
	}
	wg.Wait()
	s.mu.Lock()
	for n, c := range s.cache {
		if now.Sub(c.at) >= 4*CacheTTL {
			delete(s.cache, n)
		}
	}
	s.mu.Unlock()
	return out
}

func usageList(u stats.Usage) corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewScaledQuantity(int64(u.CPUNanoCores), resource.Nano),
		corev1.ResourceMemory: *resource.NewQuantity(int64(u.MemoryWorkingSetBytes), resource.BinarySI),
	}
}

// NodeMetrics returns the metrics of the nodes matching selector.
func (s *Scraper) NodeMetrics(ctx context.Context, selector labels.Selector) ([]metricsv1beta1.NodeMetrics, error) {
	nodes, err := s.src.Nodes(ctx, selector)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(nodes))
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	sums := s.summaries(ctx, names)
	var out []metricsv1beta1.NodeMetrics
	for _, n := range nodes {
		sum := sums[n.Name]
		if sum == nil || sum.Usage == nil {
			continue
		}
		out = append(out, metricsv1beta1.NodeMetrics{
			ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels, CreationTimestamp: metav1.NewTime(s.clock.Now())},
			Timestamp:  metav1.NewTime(sum.Usage.Timestamp),
			Window:     metav1.Duration{Duration: sum.Usage.Window},
			Usage:      usageList(*sum.Usage),
		})
	}
	return out, nil
}

// PodMetrics returns the metrics of the running pods of namespace matching
// the selectors.
func (s *Scraper) PodMetrics(ctx context.Context, namespace string, selector labels.Selector, fieldSelector fields.Selector) ([]metricsv1beta1.PodMetrics, error) {
	pods, err := s.src.Pods(ctx, namespace, selector, fieldSelector)
	if err != nil {
		return nil, err
	}
	nodeSet := map[string]bool{}
	for _, p := range pods {
		if p.Spec.NodeName != "" && p.Status.Phase == corev1.PodRunning {
			nodeSet[p.Spec.NodeName] = true
		}
	}
	names := make([]string, 0, len(nodeSet))
	for n := range nodeSet {
		names = append(names, n)
	}
	sums := s.summaries(ctx, names)
	byPod := map[string]*stats.PodUsage{}
	for _, sum := range sums {
		for i := range sum.Pods {
			p := &sum.Pods[i]
			byPod[p.Namespace+"/"+p.Name] = p
		}
	}
	var out []metricsv1beta1.PodMetrics
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning {
			continue
		}
		pu := byPod[p.Namespace+"/"+p.Name]
		if pu == nil || len(pu.Containers) == 0 {
			continue
		}
		pm := metricsv1beta1.PodMetrics{
			ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, Labels: p.Labels, CreationTimestamp: metav1.NewTime(s.clock.Now())},
			Timestamp:  metav1.NewTime(pu.Containers[0].Timestamp),
			Window:     metav1.Duration{Duration: pu.Containers[0].Window},
		}
		for _, c := range pu.Containers {
			pm.Containers = append(pm.Containers, metricsv1beta1.ContainerMetrics{Name: c.Name, Usage: usageList(c.Usage)})
		}
		out = append(out, pm)
	}
	return out, nil
}

// Storage returns the metrics.k8s.io/v1beta1 resources served from s.
func Storage(s *Scraper) map[string]rest.Storage {
	return map[string]rest.Storage{
		"nodes": &nodeREST{s: s},
		"pods":  &podREST{s: s},
	}
}

var (
	nodesGR = schema.GroupResource{Group: metricsv1beta1.SchemeGroupVersion.Group, Resource: "nodes"}
	podsGR  = schema.GroupResource{Group: metricsv1beta1.SchemeGroupVersion.Group, Resource: "pods"}
)

func selectors(opts *metainternalversion.ListOptions) (labels.Selector, fields.Selector) {
	l, f := labels.Everything(), fields.Everything()
	if opts != nil {
		if opts.LabelSelector != nil {
			l = opts.LabelSelector
		}
		if opts.FieldSelector != nil {
			f = opts.FieldSelector
		}
	}
	return l, f
}

type nodeREST struct{ s *Scraper }

var (
	_ rest.Getter               = &nodeREST{}
	_ rest.Lister               = &nodeREST{}
	_ rest.Scoper               = &nodeREST{}
	_ rest.KindProvider         = &nodeREST{}
	_ rest.SingularNameProvider = &nodeREST{}
)

func (r *nodeREST) New() runtime.Object     { return &metricsv1beta1.NodeMetrics{} }
func (r *nodeREST) NewList() runtime.Object { return &metricsv1beta1.NodeMetricsList{} }
func (r *nodeREST) Destroy()                {}
func (r *nodeREST) NamespaceScoped() bool   { return false }
func (r *nodeREST) Kind() string            { return "NodeMetrics" }
func (r *nodeREST) GetSingularName() string { return "node" }

func (r *nodeREST) List(ctx context.Context, opts *metainternalversion.ListOptions) (runtime.Object, error) {
	l, f := selectors(opts)
	items, err := r.s.NodeMetrics(ctx, l)
	if err != nil {
		return nil, err
	}
	list := &metricsv1beta1.NodeMetricsList{}
	for _, it := range items {
		if f.Matches(fields.Set{"metadata.name": it.Name}) {
			list.Items = append(list.Items, it)
		}
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list, nil
}

func (r *nodeREST) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	sel := fields.OneTermEqualSelector("metadata.name", name)
	items, err := r.s.NodeMetrics(ctx, labels.Everything())
	if err != nil {
		return nil, err
	}
	for i := range items {
		if sel.Matches(fields.Set{"metadata.name": items[i].Name}) {
			return &items[i], nil
		}
	}
	return nil, apierrors.NewNotFound(nodesGR, name)
}

func (r *nodeREST) ConvertToTable(ctx context.Context, obj runtime.Object, opts runtime.Object) (*metav1.Table, error) {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name", Description: "Name of the node"},
		{Name: "CPU", Type: "string", Description: "CPU usage"},
		{Name: "Memory", Type: "string", Description: "Memory working set"},
		{Name: "Window", Type: "string", Description: "Interval the CPU usage was measured over"},
	}}
	add := func(m *metricsv1beta1.NodeMetrics) {
		t.Rows = append(t.Rows, metav1.TableRow{
			Cells:  []interface{}{m.Name, quantity(m.Usage, corev1.ResourceCPU), quantity(m.Usage, corev1.ResourceMemory), m.Window.Duration.String()},
			Object: runtime.RawExtension{Object: m},
		})
	}
	switch o := obj.(type) {
	case *metricsv1beta1.NodeMetrics:
		add(o)
	case *metricsv1beta1.NodeMetricsList:
		for i := range o.Items {
			add(&o.Items[i])
		}
	default:
		return nil, fmt.Errorf("unexpected object %T", obj)
	}
	return t, nil
}

type podREST struct{ s *Scraper }

var (
	_ rest.Getter               = &podREST{}
	_ rest.Lister               = &podREST{}
	_ rest.Scoper               = &podREST{}
	_ rest.KindProvider         = &podREST{}
	_ rest.SingularNameProvider = &podREST{}
)

func (r *podREST) New() runtime.Object     { return &metricsv1beta1.PodMetrics{} }
func (r *podREST) NewList() runtime.Object { return &metricsv1beta1.PodMetricsList{} }
func (r *podREST) Destroy()                {}
func (r *podREST) NamespaceScoped() bool   { return true }
func (r *podREST) Kind() string            { return "PodMetrics" }
func (r *podREST) GetSingularName() string { return "pod" }

func (r *podREST) List(ctx context.Context, opts *metainternalversion.ListOptions) (runtime.Object, error) {
	l, f := selectors(opts)
	ns := genericapirequest.NamespaceValue(ctx)
	items, err := r.s.PodMetrics(ctx, ns, l, f)
	if err != nil {
		return nil, err
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].Namespace != items[j].Namespace {
			return items[i].Namespace < items[j].Namespace
		}
		return items[i].Name < items[j].Name
	})
	return &metricsv1beta1.PodMetricsList{Items: items}, nil
}

func (r *podREST) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	ns := genericapirequest.NamespaceValue(ctx)
	items, err := r.s.PodMetrics(ctx, ns, labels.Everything(), fields.OneTermEqualSelector("metadata.name", name))
	if err != nil {
		return nil, err
	}
	for i := range items {
		if items[i].Name == name {
			return &items[i], nil
		}
	}
	return nil, apierrors.NewNotFound(podsGR, name)
}

func (r *podREST) ConvertToTable(ctx context.Context, obj runtime.Object, opts runtime.Object) (*metav1.Table, error) {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name", Description: "Name of the pod"},
		{Name: "CPU", Type: "string", Description: "CPU usage of the pod's containers"},
		{Name: "Memory", Type: "string", Description: "Memory working set of the pod's containers"},
		{Name: "Window", Type: "string", Description: "Interval the CPU usage was measured over"},
	}}
	add := func(m *metricsv1beta1.PodMetrics) {
		cpu, mem := resource.Quantity{}, resource.Quantity{}
		for _, c := range m.Containers {
			cpu.Add(c.Usage[corev1.ResourceCPU])
			mem.Add(c.Usage[corev1.ResourceMemory])
		}
		t.Rows = append(t.Rows, metav1.TableRow{
			Cells:  []interface{}{m.Name, cpu.String(), mem.String(), m.Window.Duration.String()},
			Object: runtime.RawExtension{Object: m},
		})
	}
	switch o := obj.(type) {
	case *metricsv1beta1.PodMetrics:
		add(o)
	case *metricsv1beta1.PodMetricsList:
		for i := range o.Items {
			add(&o.Items[i])
		}
	default:
		return nil, fmt.Errorf("unexpected object %T", obj)
	}
	return t, nil
}

func quantity(l corev1.ResourceList, name corev1.ResourceName) string {
	q := l[name]
	return q.String()
}
