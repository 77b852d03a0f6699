// Package limitranger is herd's LimitRanger admission plugin: it applies the
// LimitRanges of a namespace to pods on create (Container default limits and
// requests filled in, min/max/maxLimitRequestRatio enforced per Container and
// per Pod) and to PersistentVolumeClaims on create and update (storage
// min/max), with Kubernetes' messages (403 Forbidden). It reads LimitRanges
// from the shared informer, falling back to a live list (cached 30 s) while
// the informer has none, as Kubernetes does.
package limitranger

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/utils/clock"
)

// PluginName is the admission plugin's name.
const PluginName = "LimitRanger"

// annotation records which defaults were applied to a pod.
const annotation = "kubernetes.io/limit-ranger"

const liveTTL = 30 * time.Second

// Plugin is the LimitRanger admission plugin.
type Plugin struct {
	*admission.Handler
	client kubernetes.Interface
	lister corelisters.LimitRangeLister
	synced func() bool
	clock  clock.PassiveClock

	mu   sync.Mutex
	live map[string]liveEntry
}

type liveEntry struct {
	expiry time.Time
	items  []*corev1.LimitRange
}

var (
	_ admission.MutationInterface   = &Plugin{}
	_ admission.ValidationInterface = &Plugin{}
)

// New returns the plugin; a nil clock is the real one. SetExternalKubeClientSet and
// SetExternalKubeInformerFactory complete it.
func New(client kubernetes.Interface, clk clock.PassiveClock) (*Plugin, error) {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update), client: client,
		clock: clk, live: map[string]liveEntry{}}, nil
}

// SetExternalKubeClientSet sets the client for live lookups.
func (p *Plugin) SetExternalKubeClientSet(c kubernetes.Interface) { p.client = c }

// SetExternalKubeInformerFactory sets the LimitRange informer.
func (p *Plugin) SetExternalKubeInformerFactory(f informers.SharedInformerFactory) {
	lr := f.Core().V1().LimitRanges()
	p.lister = lr.Lister()
	p.synced = lr.Informer().HasSynced
	p.SetReadyFunc(lr.Informer().HasSynced)
}

// ValidateInitialization checks the plugin has what it needs.
func (p *Plugin) ValidateInitialization() error {
	if p.client == nil {
		return fmt.Errorf("%s: missing client", PluginName)
	}
	if p.lister == nil {
		return fmt.Errorf("%s: missing LimitRange lister", PluginName)
	}
	return nil
}

var (
	podKind = schema.GroupKind{Kind: "Pod"}
	pvcKind = schema.GroupKind{Kind: "PersistentVolumeClaim"}
)

// applies: pods on create, claims on create and update; never subresources.
func applies(a admission.Attributes) bool {
	if a.GetSubresource() != "" {
		return false
	}
	switch a.GetKind().GroupKind() {
	case podKind:
		return a.GetOperation() == admission.Create
	case pvcKind:
		return true
	}
	return false
}

// Admit fills in Container defaults.
func (p *Plugin) Admit(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	return p.run(ctx, a, true)
}

// Validate enforces min, max and ratios.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	return p.run(ctx, a, false)
}

func (p *Plugin) run(ctx context.Context, a admission.Attributes, mutate bool) error {
	if !applies(a) {
		return nil
	}
	if old := a.GetOldObject(); old != nil {
		if m, err := meta.Accessor(old); err == nil && m.GetDeletionTimestamp() != nil {
			return nil
		}
	}
	ranges, err := p.limitRanges(ctx, a.GetNamespace())
	if err != nil {
		return admission.NewForbidden(a, err)
	}
	for _, lr := range ranges {
		switch obj := a.GetObject().(type) {
		case *corev1.Pod:
			if mutate {
				DefaultPod(lr, obj)
			} else if err := ValidatePod(lr, obj); err != nil {
				return admission.NewForbidden(a, err)
			}
		case *corev1.PersistentVolumeClaim:
			if !mutate {
				if err := ValidatePersistentVolumeClaim(lr, obj); err != nil {
					return admission.NewForbidden(a, err)
				}
			}
		}
	}
	return nil
}

// limitRanges returns the namespace's LimitRanges from the informer, or
// from a live list while the informer has none.
func (p *Plugin) limitRanges(ctx context.Context, namespace string) ([]*corev1.LimitRange, error) {
	items, err := p.lister.LimitRanges(namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing limit ranges of namespace %s: %w", namespace, err)
	}
	if len(items) > 0 {
		return items, nil
	}
	now := p.clock.Now()
	p.mu.Lock()
	e, ok := p.live[namespace]
	p.mu.Unlock()
	if ok && now.Before(e.expiry) {
		return e.items, nil
	}
	list, err := p.client.CoreV1().LimitRanges(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing limit ranges of namespace %s: %w", namespace, err)
	}
	e = liveEntry{expiry: now.Add(liveTTL)}
	for i := range list.Items {
		e.items = append(e.items, &list.Items[i])
	}
	p.mu.Lock()
	if len(p.live) > 4096 {
		p.live = map[string]liveEntry{}
	}
	p.live[namespace] = e
	p.mu.Unlock()
	return e.items, nil
}

// DefaultPod applies the Container defaults of lr to every container and
// init container of pod that does not state them, and records what was set
// in the kubernetes.io/limit-ranger annotation.
func DefaultPod(lr *corev1.LimitRange, pod *corev1.Pod) {
	def := corev1.ResourceRequirements{Limits: corev1.ResourceList{}, Requests: corev1.ResourceList{}}
	for _, item := range lr.Spec.Limits {
		if item.Type != corev1.LimitTypeContainer {
			continue
		}
		for k, v := range item.Default {
			def.Limits[k] = v.DeepCopy()
		}
		for k, v := range item.DefaultRequest {
			def.Requests[k] = v.DeepCopy()
		}
	}
	if len(def.Limits) == 0 && len(def.Requests) == 0 {
		return
	}
	var notes []string
	for i := range pod.Spec.Containers {
		notes = mergeDefaults(&pod.Spec.Containers[i], &def, "container", notes)
	}
	for i := range pod.Spec.InitContainers {
		notes = mergeDefaults(&pod.Spec.InitContainers[i], &def, "init container", notes)
	}
	if len(notes) == 0 {
		return
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[annotation] = "LimitRanger plugin set: " + strings.Join(notes, "; ")
}

func mergeDefaults(c *corev1.Container, def *corev1.ResourceRequirements, what string, notes []string) []string {
	if c.Resources.Limits == nil {
		c.Resources.Limits = corev1.ResourceList{}
	}
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	var setLimits, setRequests []string
	for k, v := range def.Limits {
		if _, ok := c.Resources.Limits[k]; !ok {
			c.Resources.Limits[k] = v.DeepCopy()
			setLimits = append(setLimits, string(k))
		}
	}
	for k, v := range def.Requests {
		if _, ok := c.Resources.Requests[k]; !ok {
			c.Resources.Requests[k] = v.DeepCopy()
			setRequests = append(setRequests, string(k))
		}
	}
	if len(setRequests) > 0 {
		sort.Strings(setRequests)
		notes = append(notes, strings.Join(setRequests, ", ")+fmt.Sprintf(" request for %s %s", what, c.Name))
	}
	if len(setLimits) > 0 {
		sort.Strings(setLimits)
		notes = append(notes, strings.Join(setLimits, ", ")+fmt.Sprintf(" limit for %s %s", what, c.Name))
	}
	return notes
}

// ValidatePod enforces lr's Container and Pod items on pod.
func ValidatePod(lr *corev1.LimitRange, pod *corev1.Pod) error {
	var errs []error
	for _, item := range lr.Spec.Limits {
		t := string(item.Type)
		check := func(requests, limits corev1.ResourceList) {
			for _, k := range sortedNames(item.Min) {
				if err := minConstraint(t, string(k), item.Min[k], requests, limits); err != nil {
					errs = append(errs, err)
				}
			}
			for _, k := range sortedNames(item.Max) {
				if err := maxConstraint(t, string(k), item.Max[k], requests, limits); err != nil {
					errs = append(errs, err)
				}
			}
			for _, k := range sortedNames(item.MaxLimitRequestRatio) {
				if err := ratioConstraint(t, string(k), item.MaxLimitRequestRatio[k], requests, limits); err != nil {
					errs = append(errs, err)
				}
			}
		}
		switch item.Type {
		case corev1.LimitTypeContainer:
			for i := range pod.Spec.Containers {
				c := &pod.Spec.Containers[i]
				check(c.Resources.Requests, c.Resources.Limits)
			}
			for i := range pod.Spec.InitContainers {
				c := &pod.Spec.InitContainers[i]
				check(c.Resources.Requests, c.Resources.Limits)
			}
		case corev1.LimitTypePod:
			check(podTotal(pod, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Requests }),
				podTotal(pod, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Limits }))
		}
	}
	return utilerrors.NewAggregate(errs)
}

// ValidatePersistentVolumeClaim enforces lr's PersistentVolumeClaim items
// on the claim's requests.
func ValidatePersistentVolumeClaim(lr *corev1.LimitRange, pvc *corev1.PersistentVolumeClaim) error {
	var errs []error
	for _, item := range lr.Spec.Limits {
		if item.Type != corev1.LimitTypePersistentVolumeClaim {
			continue
		}
		t := string(item.Type)
		for _, k := range sortedNames(item.Min) {
			if err := minConstraint(t, string(k), item.Min[k], pvc.Spec.Resources.Requests, corev1.ResourceList{}); err != nil {
				errs = append(errs, err)
			}
		}
		for _, k := range sortedNames(item.Max) {
			if err := maxRequestConstraint(t, string(k), item.Max[k], pvc.Spec.Resources.Requests); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return utilerrors.NewAggregate(errs)
}

func sortedNames(list corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(list))
	for k := range list {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names
}

// values compares in milli-units unless a value is too large for them.
func values(req, lim, enforced resource.Quantity) (int64, int64, int64) {
	r, l, e := req.Value(), lim.Value(), enforced.Value()
	if r <= resource.MaxMilliValue && l <= resource.MaxMilliValue && e <= resource.MaxMilliValue {
		return req.MilliValue(), lim.MilliValue(), enforced.MilliValue()
	}
	return r, l, e
}

func minConstraint(limitType, name string, enforced resource.Quantity, requests, limits corev1.ResourceList) error {
	req, reqOK := requests[corev1.ResourceName(name)]
	lim, limOK := limits[corev1.ResourceName(name)]
	r, l, e := values(req, lim, enforced)
	if !reqOK {
		return fmt.Errorf("minimum %s usage per %s is %s.  No request is specified", name, limitType, enforced.String())
	}
	if r < e {
		return fmt.Errorf("minimum %s usage per %s is %s, but request is %s", name, limitType, enforced.String(), req.String())
	}
	if limOK && l < e {
		return fmt.Errorf("minimum %s usage per %s is %s, but limit is %s", name, limitType, enforced.String(), lim.String())
	}
	return nil
}

func maxConstraint(limitType, name string, enforced resource.Quantity, requests, limits corev1.ResourceList) error {
	req, reqOK := requests[corev1.ResourceName(name)]
	lim, limOK := limits[corev1.ResourceName(name)]
	r, l, e := values(req, lim, enforced)
	if !limOK {
		return fmt.Errorf("maximum %s usage per %s is %s.  No limit is specified", name, limitType, enforced.String())
	}
	if l > e {
		return fmt.Errorf("maximum %s usage per %s is %s, but limit is %s", name, limitType, enforced.String(), lim.String())
	}
	if reqOK && r > e {
		return fmt.Errorf("maximum %s usage per %s is %s, but request is %s", name, limitType, enforced.String(), req.String())
	}
	return nil
}

func maxRequestConstraint(limitType, name string, enforced resource.Quantity, requests corev1.ResourceList) error {
	req, ok := requests[corev1.ResourceName(name)]
	r, _, e := values(req, resource.Quantity{}, enforced)
	if !ok {
		return fmt.Errorf("maximum %s usage per %s is %s.  No request is specified", name, limitType, enforced.String())
	}
	if r > e {
		return fmt.Errorf("maximum %s usage per %s is %s, but request is %s", name, limitType, enforced.String(), req.String())
	}
	return nil
}

func ratioConstraint(limitType, name string, enforced resource.Quantity, requests, limits corev1.ResourceList) error {
	req, reqOK := requests[corev1.ResourceName(name)]
	lim, limOK := limits[corev1.ResourceName(name)]
	r, l, _ := values(req, lim, enforced)
	if !reqOK || r == 0 {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but no request is specified or request is 0", name, limitType, enforced.String())
	}
	if !limOK || l == 0 {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but no limit is specified or limit is 0", name, limitType, enforced.String())
	}
	observed := float64(l) / float64(r)
	shown := observed
	max := float64(enforced.Value())
	if enforced.Value() <= resource.MaxMilliValue {
		observed *= 1000
		max = float64(enforced.MilliValue())
	}
	if observed > max {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but provided ratio is %f", name, limitType, enforced.String(), shown)
	}
	return nil
}

// podTotal: app containers and sidecars summed, at least each init
// container (with the sidecars started before it).
func podTotal(pod *corev1.Pod, of func(*corev1.Container) corev1.ResourceList) corev1.ResourceList {
	total := corev1.ResourceList{}
	add := func(into, l corev1.ResourceList) corev1.ResourceList {
		out := corev1.ResourceList{}
		for k, v := range into {
			out[k] = v.DeepCopy()
		}
		for k, v := range l {
			q := out[k]
			q.Add(v)
			out[k] = q
		}
		return out
	}
	maxOf := func(a, b corev1.ResourceList) corev1.ResourceList {
		out := corev1.ResourceList{}
		for k, v := range a {
			out[k] = v.DeepCopy()
		}
		for k, v := range b {
			if q, ok := out[k]; !ok || v.Cmp(q) > 0 {
				out[k] = v.DeepCopy()
			}
		}
		return out
	}
	for i := range pod.Spec.Containers {
		total = add(total, of(&pod.Spec.Containers[i]))
	}
	sidecars, initMax := corev1.ResourceList{}, corev1.ResourceList{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars = add(sidecars, of(c))
			initMax = maxOf(initMax, sidecars)
			continue
		}
		initMax = maxOf(initMax, add(sidecars, of(c)))
	}
	return maxOf(add(total, sidecars), initMax)
}
