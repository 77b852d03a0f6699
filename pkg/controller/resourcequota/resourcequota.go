// Package resourcequota is the ResourceQuota controller: it writes each
// quota's status.hard (its spec.hard) and status.used (what the objects of
// its namespace use, by the evaluators of pkg/quota), when a quota is
// created or its limits change, when a tracked object is deleted or its
// usage changes (a pod ending), and every resync period (5 minutes, as
// Kubernetes). Object creations are charged by the resourcequota admission
// plugin, not here. It does not enforce anything.
package resourcequota

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	quotav1 "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/quota"
)

// DefaultResyncPeriod is how often every quota is recalculated (Kubernetes'
// --resource-quota-sync-period).
const DefaultResyncPeriod = 5 * time.Minute

// unresolvedRetry is how soon a quota counting a resource discovery does not
// show (yet) is recalculated.
const unresolvedRetry = 15 * time.Second

// Options tunes the controller.
type Options struct {
	// ResyncPeriod between full recalculations; 0 means 5 minutes.
	ResyncPeriod time.Duration
	// GroupVersions maps an API group to the version its informers use, for
	// count/<resource>.<group> quotas; core, apps and batch are known, other
	// groups use their preferred version from discovery.
	GroupVersions map[string]string
	// Metadata, when set, gives metadata-only informers for the resources the
	// typed informers do not know (custom resources), so that
	// count/<resource>.<group> quotas count them too.
	Metadata metadata.Interface
}

// Controller keeps ResourceQuota status up to date.
type Controller struct {
	client   kubernetes.Interface
	factory  informers.SharedInformerFactory
	quotas   corelisters.ResourceQuotaLister
	synced   []cache.InformerSynced
	clock    clock.WithTicker
	resync   time.Duration
	versions map[string]string
	queue    workqueue.TypedRateLimitingInterface[string]

	mu       sync.Mutex
	registry quotav1.Registry
	listers  quotav1.ListerForResourceFunc
	// watched are the resources whose changes replenish quotas.
	watched map[schema.GroupResource]bool
	stop    <-chan struct{}

	discoveryMu     sync.Mutex
	servedResources map[schema.GroupVersionResource]bool
	preferred       map[string]string
	discoveredAt    time.Time

	// metadataFactory has informers for what factory does not know.
	metadataFactory metadatainformer.SharedInformerFactory
}

// New wires the controller to the informers of factory. Build it before
// factory.Start.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, clk clock.WithTicker, opts Options) *Controller {
	if clk == nil {
		clk = clock.RealClock{}
	}
	rqInf := factory.Core().V1().ResourceQuotas()
	c := &Controller{
		client:   client,
		factory:  factory,
		quotas:   rqInf.Lister(),
		synced:   []cache.InformerSynced{rqInf.Informer().HasSynced},
		clock:    clk,
		resync:   opts.ResyncPeriod,
		versions: map[string]string{"": "v1", "apps": "v1", "batch": "v1"},
		watched:  map[schema.GroupResource]bool{},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "resourcequota", Clock: clk}),
	}
	for g, v := range opts.GroupVersions {
		c.versions[g] = v
	}
	if c.resync <= 0 {
		c.resync = DefaultResyncPeriod
	}
	if opts.Metadata != nil {
		c.metadataFactory = metadatainformer.NewSharedInformerFactory(opts.Metadata, 0)
	}
	informerListers := generic.ListerFuncForResourceFunc(c.forResource)
	// Informers only for served resources: one that never syncs would hold
	// the server's readiness.
	c.listers = func(gvr schema.GroupVersionResource) (cache.GenericLister, error) {
		if !c.served(gvr) {
			return nil, fmt.Errorf("%s is not served", gvr.GroupResource())
		}
		return informerListers(gvr)
	}
	c.registry = generic.NewRegistry(quota.NewEvaluators(c.listers, clk))
	rqInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueue,
		UpdateFunc: func(old, cur interface{}) {
			o, n := old.(*corev1.ResourceQuota), cur.(*corev1.ResourceQuota)
			// Status writes (ours and admission's) need no recalculation.
			if !apiequality.Semantic.DeepEqual(o.Spec, n.Spec) || !quotav1.Equals(n.Spec.Hard, n.Status.Hard) {
				c.enqueue(cur)
			}
		},
	})
	return c
}

// served reports whether the server serves gvr, from discovery (refreshed
// at most every 30 s).
func (c *Controller) served(gvr schema.GroupVersionResource) bool {
	c.discoveryMu.Lock()
	defer c.discoveryMu.Unlock()
	now := c.clock.Now()
	if c.servedResources == nil || now.Sub(c.discoveredAt) > 30*time.Second {
		groups, lists, err := c.client.Discovery().ServerGroupsAndResources()
		if err != nil && len(lists) == 0 {
			return false
		}
		c.servedResources = map[schema.GroupVersionResource]bool{}
		c.preferred = map[string]string{}
		for _, g := range groups {
			if g != nil {
				c.preferred[g.Name] = g.PreferredVersion.Version
			}
		}
		for _, l := range lists {
			gv, err := schema.ParseGroupVersion(l.GroupVersion)
			if err != nil {
				continue
			}
			for _, r := range l.APIResources {
				c.servedResources[gv.WithResource(r.Name)] = true
			}
		}
		c.discoveredAt = now
	}
	return c.servedResources[gvr]
}

// watch replenishes the quotas of a namespace when an object of gr is
// deleted or its usage changes.
// version is the version whose informers count gr's group: the configured
// one, else the group's preferred version from discovery.
func (c *Controller) version(group string) (string, bool) {
	if v, ok := c.versions[group]; ok {
		return v, true
	}
	if c.metadataFactory == nil {
		return "", false
	}
	c.served(schema.GroupVersionResource{}) // refreshes discovery when stale
	c.discoveryMu.Lock()
	defer c.discoveryMu.Unlock()
	v, ok := c.preferred[group]
	return v, ok
}

// forResource is the typed informer of gvr, else (custom resources) a
// metadata-only one.
func (c *Controller) forResource(gvr schema.GroupVersionResource) (informers.GenericInformer, error) {
	inf, err := c.factory.ForResource(gvr)
	if err == nil || c.metadataFactory == nil {
		return inf, err
	}
	return c.metadataFactory.ForResource(gvr), nil
}

func (c *Controller) watch(gr schema.GroupResource, e quotav1.Evaluator) bool {
	if c.watched[gr] {
		return true
	}
	v, ok := c.version(gr.Group)
	if !ok {
		return false
	}
	if !c.served(gr.WithVersion(v)) {
		return false
	}
	inf, err := c.forResource(gr.WithVersion(v))
	if err != nil {
		return false
	}
	c.watched[gr] = true
	c.synced = append(c.synced, inf.Informer().HasSynced)
	inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(old, cur interface{}) {
			o, ok1 := old.(runtime.Object)
			n, ok2 := cur.(runtime.Object)
			if !ok1 || !ok2 {
				return
			}
			ou, err1 := e.Usage(o)
			nu, err2 := e.Usage(n)
			if err1 != nil || err2 != nil || !quotav1.Equals(ou, nu) {
				c.replenish(cur)
			}
		},
		DeleteFunc: c.replenish,
	})
	return true
}

func (c *Controller) enqueue(obj interface{}) {
	key, err := cache.MetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.queue.Add(key)
}

// replenish queues every quota of the object's namespace.
func (c *Controller) replenish(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, err := metaNamespace(obj)
	if err != nil || m == "" {
		return
	}
	qs, err := c.quotas.ResourceQuotas(m).List(labels.Everything())
	if err != nil {
		return
	}
	for _, q := range qs {
		c.enqueue(q)
	}
}

func metaNamespace(obj interface{}) (string, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return "", fmt.Errorf("not an object: %T", obj)
	}
	return m.GetNamespace(), nil
}

// Run recalculates quotas until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	logger := klog.FromContext(ctx)
	logger.V(2).Info("Starting resource quota controller")
	c.mu.Lock()
	c.stop = ctx.Done()
	for _, e := range c.registry.List() {
		c.watch(e.GroupResource(), e)
	}
	synced := append([]cache.InformerSynced(nil), c.synced...)
	c.mu.Unlock()
	c.factory.Start(ctx.Done())
	if c.metadataFactory != nil {
		c.metadataFactory.Start(ctx.Done())
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return
	}
	for i := 0; i < workers; i++ {
		go func() {
			for c.processNext(ctx) {
			}
		}()
	}
	ticker := c.clock.NewTicker(c.resync)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
			c.resyncAll()
		}
	}
}

func (c *Controller) resyncAll() {
	qs, err := c.quotas.List(labels.Everything())
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	for _, q := range qs {
		c.enqueue(q)
	}
}

func (c *Controller) processNext(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	if err := c.Sync(ctx, key); err != nil {
		klog.FromContext(ctx).V(2).Info("Recalculating quota failed; retrying", "quota", key, "err", err)
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

// Sync recalculates one quota ("namespace/name") and writes its status
// when it changed.
func (c *Controller) Sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	rq, err := c.quotas.ResourceQuotas(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	registry, synced, unresolved := c.ensureObjectCountEvaluators(rq.Spec.Hard)
	if unresolved {
		// A count/ of a resource not (yet) served, such as the kind of a
		// CustomResourceDefinition about to be created: look again later.
		c.queue.AddAfter(key, unresolvedRetry)
	}
	if len(synced) > 0 && !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return fmt.Errorf("caches for quota %s did not sync", key)
	}

	hard := quotav1.Add(corev1.ResourceList{}, rq.Spec.Hard)
	used := corev1.ResourceList{}
	if rq.Status.Used != nil {
		used = quotav1.Add(corev1.ResourceList{}, rq.Status.Used)
	}
	dirty := rq.Status.Hard == nil || rq.Status.Used == nil || !apiequality.Semantic.DeepEqual(rq.Spec.Hard, rq.Status.Hard)
	newUsage, calcErr := quotav1.CalculateUsage(ns, rq.Spec.Scopes, hard, registry, rq.Spec.ScopeSelector)
	for k, v := range newUsage {
		used[k] = v
	}
	used = quotav1.Mask(used, quotav1.ResourceNames(hard))
	dirty = dirty || !quotav1.Equals(used, rq.Status.Used)
	if dirty {
		updated := rq.DeepCopy()
		updated.Status = corev1.ResourceQuotaStatus{Hard: hard, Used: used}
		if _, err := c.client.CoreV1().ResourceQuotas(ns).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	return calcErr
}

// ensureObjectCountEvaluators adds a counting evaluator (and an informer)
// for each count/<resource>.<group> the registry does not know yet, and
// returns a snapshot of the registry for one calculation and the
// HasSynced of the informers it started.
func (c *Controller) ensureObjectCountEvaluators(hard corev1.ResourceList) (_ quotav1.Registry, _ []cache.InformerSynced, unresolved bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var started []cache.InformerSynced
	for name := range hard {
		s := string(name)
		if !strings.HasPrefix(s, "count/") {
			continue
		}
		gr := schema.ParseGroupResource(strings.TrimPrefix(s, "count/"))
		if c.registry.Get(gr) != nil {
			continue
		}
		v, ok := c.version(gr.Group)
		if !ok {
			unresolved = unresolved || c.metadataFactory != nil
			continue
		}
		gvr := gr.WithVersion(v)
		if !c.served(gvr) {
			unresolved = unresolved || c.metadataFactory != nil
			continue
		}
		inf, err := c.forResource(gvr)
		if err != nil {
			continue
		}
		e := generic.NewObjectCountEvaluator(gr, generic.ListResourceUsingListerFunc(c.listers, gvr), "")
		c.registry.Add(e)
		c.watch(gr, e)
		started = append(started, inf.Informer().HasSynced)
	}
	if len(started) > 0 && c.stop != nil {
		c.factory.Start(c.stop)
		if c.metadataFactory != nil {
			c.metadataFactory.Start(c.stop)
		}
	}
	return generic.NewRegistry(c.registry.List()), started, unresolved
}
