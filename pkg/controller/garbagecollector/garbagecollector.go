// Package garbagecollector deletes objects whose owners are gone and carries
// out foreground and orphan cascading deletion, as Kubernetes' garbage
// collector does, over every resource discovery reports as listable,
// watchable and deletable. It keeps a graph of uids, owner references and
// dependents, not copies of objects. It does not delete objects without owner
// references, nor clean up namespaces (see package namespace).
package garbagecollector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// Event reasons.
const (
	ReasonOwnerRefInvalidNamespace = "OwnerRefInvalidNamespace"
)

// DefaultDiscoveryPeriod is how often the served resources are re-discovered.
const DefaultDiscoveryPeriod = 30 * time.Second

// DefaultIgnoredResources are never watched (as in Kubernetes: events are
// numerous and never owners).
func DefaultIgnoredResources() []schema.GroupResource {
	return []schema.GroupResource{{Group: "", Resource: "events"}, {Group: "events.k8s.io", Resource: "events"}}
}

// Options tunes the collector; zero values mean the defaults.
type Options struct {
	// DiscoveryPeriod between re-discoveries (default 30 s).
	DiscoveryPeriod time.Duration
	// IgnoredResources are not watched (default DefaultIgnoredResources()).
	IgnoredResources []schema.GroupResource
	// Clock drives re-discovery (default the real clock).
	Clock clock.WithTicker
}

// Controller is the garbage collector.
type Controller struct {
	client    kubernetes.Interface
	metadata  metadata.Interface
	discovery discovery.DiscoveryInterface
	recorder  record.EventRecorder
	clock     clock.WithTicker
	period    time.Duration
	ignored   map[schema.GroupResource]bool

	graph           *graph
	attemptToDelete workqueue.TypedRateLimitingInterface[string]
	attemptToOrphan workqueue.TypedRateLimitingInterface[string]
	absent          *absentCache

	mu       sync.RWMutex
	mapping  map[schema.GroupVersionKind]resourceInfo
	monitors map[schema.GroupVersionResource]*monitor
	started  bool
	stopCh   <-chan struct{}
}

type resourceInfo struct {
	gvr        schema.GroupVersionResource
	namespaced bool
}

type monitor struct {
	kind     schema.GroupVersionKind
	informer cache.SharedIndexInformer
	stop     chan struct{}
}

// New builds a collector. client is the typed client of the caller (kept for
// symmetry with the other controllers; all object access goes through the
// metadata client).
func New(client kubernetes.Interface, md metadata.Interface, disc discovery.DiscoveryInterface, recorder record.EventRecorder, opts Options) *Controller {
	c := &Controller{
		client:    client,
		metadata:  md,
		discovery: disc,
		recorder:  recorder,
		clock:     opts.Clock,
		period:    opts.DiscoveryPeriod,
		ignored:   map[schema.GroupResource]bool{},
		graph:     newGraph(),
		absent:    newAbsentCache(1000),
		mapping:   map[schema.GroupVersionKind]resourceInfo{},
		monitors:  map[schema.GroupVersionResource]*monitor{},
		attemptToDelete: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "garbage_collector_attempt_to_delete"}),
		attemptToOrphan: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "garbage_collector_attempt_to_orphan"}),
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	if c.period <= 0 {
		c.period = DefaultDiscoveryPeriod
	}
	ignored := opts.IgnoredResources
	if ignored == nil {
		ignored = DefaultIgnoredResources()
	}
	for _, gr := range ignored {
		c.ignored[gr] = true
	}
	c.graph.enqueueDelete = func(uid types.UID) { c.attemptToDelete.Add(string(uid)) }
	c.graph.enqueueOrphan = func(uid types.UID) { c.attemptToOrphan.Add(string(uid)) }
	c.graph.invalidNamespace = c.reportInvalidNamespace
	return c
}

// Run discovers resources, starts one metadata informer per resource, waits
// for them to sync, then runs workers for both queues until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.attemptToDelete.ShutDown()
	defer c.attemptToOrphan.ShutDown()
	logger := klog.FromContext(ctx)
	logger.V(2).Info("Starting garbage collector")

	c.mu.Lock()
	c.stopCh = ctx.Done()
	c.started = true
	c.mu.Unlock()
	defer c.stopMonitors()

	c.resync(ctx)
	// Wait for the graph to be filled, but not forever: a resource whose list
	// keeps failing must not stop collection of all the others (every
	// decision is checked against live objects anyway).
	syncCtx, cancelSync := context.WithTimeout(ctx, c.period)
	if !cache.WaitForCacheSync(syncCtx.Done(), c.monitorsSynced()...) {
		logger.Info("Garbage collector: not all resources synced, starting anyway")
	}
	cancelSync()
	if ctx.Err() != nil {
		return
	}
	for i := 0; i < workers; i++ {
		go wait.UntilWithContext(ctx, c.deleteWorker, time.Second)
		go wait.UntilWithContext(ctx, c.orphanWorker, time.Second)
	}
	ticker := c.clock.NewTicker(c.period)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
			c.resync(ctx)
		}
	}
}

func (c *Controller) stopMonitors() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for gvr, m := range c.monitors {
		close(m.stop)
		delete(c.monitors, gvr)
	}
}

func (c *Controller) monitorsSynced() []cache.InformerSynced {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []cache.InformerSynced
	for _, m := range c.monitors {
		out = append(out, m.informer.HasSynced)
	}
	return out
}

// resync re-reads discovery, refreshes the kind→resource mapping and starts or
// stops monitors so that exactly the deletable, listable and watchable
// resources (in their preferred version) are watched.
func (c *Controller) resync(ctx context.Context) {
	logger := klog.FromContext(ctx)
	if cd, ok := c.discovery.(discovery.CachedDiscoveryInterface); ok {
		// a cached client would hide resources added since the last look.
		cd.Invalidate()
	}
	groups, lists, err := c.discovery.ServerGroupsAndResources()
	partial := false
	if err != nil {
		if !discovery.IsGroupDiscoveryFailedError(err) {
			utilruntime.HandleErrorWithContext(ctx, err, "Garbage collector: discovery failed")
			return
		}
		partial = true
		logger.V(2).Info("Garbage collector: partial discovery failure", "err", err)
	}
	if len(lists) == 0 {
		return
	}
	preferred := map[string]string{}
	for _, g := range groups {
		if g != nil {
			preferred[g.Name] = g.PreferredVersion.Version
		}
	}
	mapping := map[schema.GroupVersionKind]resourceInfo{}
	watch := map[schema.GroupVersionResource]schema.GroupVersionKind{}
	for _, list := range lists {
		if list == nil {
			continue
		}
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") {
				continue
			}
			gvk := gv.WithKind(r.Kind)
			gvr := gv.WithResource(r.Name)
			mapping[gvk] = resourceInfo{gvr: gvr, namespaced: r.Namespaced}
			if v, ok := preferred[gv.Group]; ok && v != gv.Version {
				continue
			}
			if c.ignored[gvr.GroupResource()] {
				continue
			}
			verbs := sets.New[string](r.Verbs...)
			if verbs.HasAll("list", "watch", "delete") {
				watch[gvr] = gvk
			}
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if partial {
		for k, v := range c.mapping {
			if _, ok := mapping[k]; !ok {
				mapping[k] = v
			}
		}
	}
	c.mapping = mapping
	if !c.started {
		return
	}
	for gvr, gvk := range watch {
		if _, ok := c.monitors[gvr]; ok {
			continue
		}
		m := c.newMonitor(gvr, gvk)
		c.monitors[gvr] = m
		go m.informer.Run(mergeStop(c.stopCh, m.stop))
		logger.V(2).Info("Garbage collector: watching resource", "resource", gvr.String())
	}
	if partial {
		return
	}
	for gvr, m := range c.monitors {
		if _, ok := watch[gvr]; !ok {
			close(m.stop)
			delete(c.monitors, gvr)
			logger.V(2).Info("Garbage collector: stopped watching resource", "resource", gvr.String())
		}
	}
}

func mergeStop(a <-chan struct{}, b chan struct{}) <-chan struct{} {
	out := make(chan struct{})
	go func() {
		defer close(out)
		select {
		case <-a:
		case <-b:
		}
	}()
	return out
}

func (c *Controller) newMonitor(gvr schema.GroupVersionResource, gvk schema.GroupVersionKind) *monitor {
	inf := metadatainformer.NewFilteredMetadataInformer(c.metadata, gvr, metav1.NamespaceAll, 0, cache.Indexers{}, nil).Informer()
	// Keep only what the graph needs, so the informer cache stays small.
	_ = inf.SetTransform(func(obj interface{}) (interface{}, error) {
		m, ok := obj.(*metav1.PartialObjectMetadata)
		if !ok {
			return obj, nil
		}
		return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
			Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
			OwnerReferences: m.OwnerReferences, DeletionTimestamp: m.DeletionTimestamp, Finalizers: m.Finalizers,
		}}, nil
	})
	observe := func(obj interface{}) {
		m, ok := obj.(*metav1.PartialObjectMetadata)
		if !ok {
			return
		}
		c.graph.observe(observedObject{
			identity: objectReference{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind,
				Namespace: m.Namespace, Name: m.Name, UID: m.UID},
			owners:            m.OwnerReferences,
			deletionTimestamp: m.DeletionTimestamp != nil,
			finalizers:        m.Finalizers,
		})
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    observe,
		UpdateFunc: func(_, obj interface{}) { observe(obj) },
		DeleteFunc: func(obj interface{}) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
				c.graph.remove(m.UID, false)
			}
		},
	})
	return &monitor{kind: gvk, informer: inf, stop: make(chan struct{})}
}

// errNamespacedOwnerOfClusterScoped: a cluster-scoped object refers to a
// namespaced owner; retrying cannot help.
var errNamespacedOwnerOfClusterScoped = errors.New("cluster-scoped objects cannot refer to namespaced owners")

type restMappingError struct{ apiVersion, kind string }

func (e *restMappingError) Error() string {
	return fmt.Sprintf("unable to get REST mapping for %s/%s", e.apiVersion, e.kind)
}

func (c *Controller) resourceFor(apiVersion, kind string) (resourceInfo, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return resourceInfo{}, &restMappingError{apiVersion, kind}
	}
	c.mu.RLock()
	info, ok := c.mapping[gv.WithKind(kind)]
	c.mu.RUnlock()
	if !ok {
		return resourceInfo{}, &restMappingError{apiVersion, kind}
	}
	return info, nil
}

// client returns the metadata client for ref's resource in its namespace
// (ignored for cluster-scoped kinds).
func (c *Controller) resourceClient(ref objectReference) (metadata.ResourceInterface, error) {
	info, err := c.resourceFor(ref.APIVersion, ref.Kind)
	if err != nil {
		return nil, err
	}
	if !info.namespaced {
		return c.metadata.Resource(info.gvr), nil
	}
	if ref.Namespace == "" {
		return nil, errNamespacedOwnerOfClusterScoped
	}
	return c.metadata.Resource(info.gvr).Namespace(ref.Namespace), nil
}

func (c *Controller) getObject(ctx context.Context, ref objectReference) (*metav1.PartialObjectMetadata, error) {
	rc, err := c.resourceClient(ref)
	if err != nil {
		return nil, err
	}
	return rc.Get(ctx, ref.Name, metav1.GetOptions{})
}

func eventRef(r objectReference) *corev1.ObjectReference {
	return &corev1.ObjectReference{APIVersion: r.APIVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, UID: r.UID}
}

func (c *Controller) reportInvalidNamespace(dependent, owner objectReference) {
	ref := owner
	ref.Namespace = dependent.Namespace
	c.recorder.Eventf(eventRef(dependent), corev1.EventTypeWarning, ReasonOwnerRefInvalidNamespace,
		"ownerRef %s does not exist in namespace %q", ref, dependent.Namespace)
}

// workers

func (c *Controller) deleteWorker(ctx context.Context) {
	for c.processNext(ctx, c.attemptToDelete, c.attemptToDeleteItem) {
	}
}

func (c *Controller) orphanWorker(ctx context.Context) {
	for c.processNext(ctx, c.attemptToOrphan, c.attemptToOrphanItem) {
	}
}

// errRequeue asks for a rate-limited retry without logging an error.
var errRequeue = errors.New("requeue")

func (c *Controller) processNext(ctx context.Context, q workqueue.TypedRateLimitingInterface[string], sync func(context.Context, types.UID) error) bool {
	key, quit := q.Get()
	if quit {
		return false
	}
	defer q.Done(key)
	err := sync(ctx, types.UID(key))
	switch {
	case err == nil:
		q.Forget(key)
	case errors.Is(err, errRequeue):
		q.AddRateLimited(key)
	default:
		var rme *restMappingError
		if errors.As(err, &rme) {
			klog.FromContext(ctx).V(5).Info("Garbage collector: unknown kind, will retry", "uid", key, "err", err)
		} else {
			utilruntime.HandleErrorWithContext(ctx, err, "Garbage collector: error syncing item", "uid", key)
		}
		q.AddRateLimited(key)
	}
	return true
}

// attemptToDeleteItem decides, from the live object and its live owners,
// whether the object with this uid must be deleted, patched or left alone.
func (c *Controller) attemptToDeleteItem(ctx context.Context, uid types.UID) error {
	logger := klog.FromContext(ctx)
	s, ok := c.graph.snapshot(uid)
	if !ok {
		return nil
	}
	if !s.virtual && s.beingDeleted && !s.deletingDependents {
		logger.V(5).Info("Garbage collector: item is being deleted, nothing to do", "item", s.identity)
		return nil
	}
	latest, err := c.getObject(ctx, s.identity)
	switch {
	case apierrors.IsNotFound(err):
		c.graph.remove(uid, true)
		return nil
	case errors.Is(err, errNamespacedOwnerOfClusterScoped):
		return nil
	case err != nil:
		return err
	}
	if latest.UID != uid {
		// the name now belongs to a recreated object: ours is gone.
		c.graph.remove(uid, true)
		return nil
	}
	if s.virtual {
		// exists but not yet seen through an informer: look again later.
		return errRequeue
	}
	if s.deletingDependents {
		return c.processDeletingDependents(ctx, s)
	}
	owners := latest.OwnerReferences
	if len(owners) == 0 {
		return nil
	}
	var solid, dangling, waiting []metav1.OwnerReference
	for _, r := range owners {
		isDangling, owner, err := c.isDangling(ctx, s.identity, r)
		if errors.Is(err, errNamespacedOwnerOfClusterScoped) {
			ref := objectReference{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name, UID: r.UID}
			c.recorder.Eventf(eventRef(s.identity), corev1.EventTypeWarning, ReasonOwnerRefInvalidNamespace,
				"ownerRef %s does not exist in namespace %q", ref, s.identity.Namespace)
			logger.V(2).Info("Garbage collector: cluster-scoped item refers to a namespaced owner", "item", s.identity, "owner", ref)
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case isDangling:
			dangling = append(dangling, r)
		case owner.DeletionTimestamp != nil && hasString(owner.Finalizers, metav1.FinalizerDeleteDependents):
			waiting = append(waiting, r)
		default:
			solid = append(solid, r)
		}
	}
	switch {
	case len(solid) != 0:
		if len(dangling) == 0 && len(waiting) == 0 {
			return nil
		}
		uids := map[types.UID]bool{}
		for _, r := range append(dangling, waiting...) {
			uids[r.UID] = true
		}
		logger.V(2).Info("Garbage collector: removing dangling owner references", "item", s.identity, "owners", len(uids))
		return c.patchOwnerRefs(ctx, s.identity, func(refs []metav1.OwnerReference) []metav1.OwnerReference {
			var out []metav1.OwnerReference
			for _, r := range refs {
				if !uids[r.UID] {
					out = append(out, r)
				}
			}
			return out
		})
	case len(waiting) != 0 && len(s.dependents) != 0:
		if s.dependentsDeletingDependents {
			// a dependent is itself waiting for its dependents: unblock our
			// owners so a cycle cannot deadlock.
			logger.V(2).Info("Garbage collector: unblocking owner references to avoid a cycle", "item", s.identity)
			if err := c.patchOwnerRefs(ctx, s.identity, func(refs []metav1.OwnerReference) []metav1.OwnerReference {
				out := make([]metav1.OwnerReference, len(refs))
				for i, r := range refs {
					out[i] = r
					if blocks(r) {
						f := false
						out[i].BlockOwnerDeletion = &f
					}
				}
				return out
			}); err != nil {
				return err
			}
		}
		logger.V(2).Info("Garbage collector: an owner is deleting its dependents and the item has dependents, deleting it in foreground", "item", s.identity)
		return c.deleteObject(ctx, s.identity, latest, metav1.DeletePropagationForeground)
	default:
		policy := metav1.DeletePropagationBackground
		switch {
		case hasString(latest.Finalizers, metav1.FinalizerOrphanDependents):
			policy = metav1.DeletePropagationOrphan
		case hasString(latest.Finalizers, metav1.FinalizerDeleteDependents):
			policy = metav1.DeletePropagationForeground
		}
		logger.V(2).Info("Garbage collector: deleting item, all owners are absent or being deleted", "item", s.identity, "propagationPolicy", policy)
		return c.deleteObject(ctx, s.identity, latest, policy)
	}
}

// isDangling looks the owner up live, in the dependent's namespace when the
// owner kind is namespaced. An owner that is missing or whose uid differs
// (recreated under the same name) is dangling.
func (c *Controller) isDangling(ctx context.Context, dependent objectReference, r metav1.OwnerReference) (bool, *metav1.PartialObjectMetadata, error) {
	info, err := c.resourceFor(r.APIVersion, r.Kind)
	if err != nil {
		return false, nil, err
	}
	key := objectReference{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name, UID: r.UID}
	if info.namespaced {
		if dependent.Namespace == "" {
			return false, nil, errNamespacedOwnerOfClusterScoped
		}
		key.Namespace = dependent.Namespace
	}
	if c.absent.has(key) {
		return true, nil, nil
	}
	owner, err := c.getObject(ctx, key)
	switch {
	case apierrors.IsNotFound(err):
		c.absent.add(key)
		c.reportIfOtherNamespace(dependent, key)
		return true, nil, nil
	case err != nil:
		return false, nil, err
	}
	if owner.UID != r.UID {
		c.absent.add(key)
		c.reportIfOtherNamespace(dependent, key)
		return true, nil, nil
	}
	return false, owner, nil
}

func (c *Controller) reportIfOtherNamespace(dependent, owner objectReference) {
	if ns, ok := c.graph.observedNamespace(owner.UID); ok && ns != "" && ns != dependent.Namespace {
		c.reportInvalidNamespace(dependent, owner)
	}
}

// processDeletingDependents handles an owner in foreground deletion: once no
// dependent blocks it, its foregroundDeletion finalizer is removed.
func (c *Controller) processDeletingDependents(ctx context.Context, s snapshot) error {
	if len(s.blocking) == 0 {
		klog.FromContext(ctx).V(2).Info("Garbage collector: no blocking dependents left, removing the foregroundDeletion finalizer", "item", s.identity)
		return c.removeFinalizer(ctx, s.identity, metav1.FinalizerDeleteDependents)
	}
	for _, d := range s.blocking {
		if !s.blockingDeletingDependents[d.UID] {
			c.attemptToDelete.Add(string(d.UID))
		}
	}
	return nil
}

// attemptToOrphanItem removes an owner being deleted with the orphan
// finalizer from its dependents' ownerReferences, then removes the finalizer.
func (c *Controller) attemptToOrphanItem(ctx context.Context, uid types.UID) error {
	s, ok := c.graph.snapshot(uid)
	if !ok || !s.orphaning {
		return nil
	}
	var errs []error
	for _, d := range s.dependents {
		err := c.patchOwnerRefs(ctx, d, func(refs []metav1.OwnerReference) []metav1.OwnerReference {
			var out []metav1.OwnerReference
			for _, r := range refs {
				if r.UID != uid {
					out = append(out, r)
				}
			}
			return out
		})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("orphaning dependents of %s: %v", s.identity, errs)
	}
	klog.FromContext(ctx).V(2).Info("Garbage collector: dependents orphaned, removing the orphan finalizer", "item", s.identity, "dependents", len(s.dependents))
	return c.removeFinalizer(ctx, s.identity, metav1.FinalizerOrphanDependents)
}

// deleteObject deletes with a uid and resourceVersion precondition; if the
// object changed but its owners did not, it retries with the uid alone.
func (c *Controller) deleteObject(ctx context.Context, ref objectReference, latest *metav1.PartialObjectMetadata, policy metav1.DeletionPropagation) error {
	rc, err := c.resourceClient(ref)
	if err != nil {
		return err
	}
	uid := ref.UID
	rv := latest.ResourceVersion
	err = rc.Delete(ctx, ref.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}, PropagationPolicy: &policy})
	if apierrors.IsConflict(err) {
		cur, gerr := rc.Get(ctx, ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(gerr) {
			return nil
		}
		if gerr != nil {
			return gerr
		}
		if cur.UID != uid || !reflect.DeepEqual(cur.OwnerReferences, latest.OwnerReferences) {
			return errRequeue
		}
		err = rc.Delete(ctx, ref.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &uid}, PropagationPolicy: &policy})
	}
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		// gone, or the name now belongs to a recreated object.
		return nil
	}
	return err
}

// patchOwnerRefs rewrites the ownerReferences of the object (only if its uid
// still matches) with a JSON merge patch carrying uid and resourceVersion, so
// a concurrent change or a recreated object is never overwritten.
func (c *Controller) patchOwnerRefs(ctx context.Context, ref objectReference, update func([]metav1.OwnerReference) []metav1.OwnerReference) error {
	rc, err := c.resourceClient(ref)
	if err != nil {
		return err
	}
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		cur, err := rc.Get(ctx, ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur.UID != ref.UID {
			return nil
		}
		refs := update(cur.OwnerReferences)
		if reflect.DeepEqual(refs, cur.OwnerReferences) {
			return nil
		}
		if refs == nil {
			refs = []metav1.OwnerReference{}
		}
		return c.mergePatch(ctx, rc, cur, map[string]interface{}{"ownerReferences": refs})
	})
}

// removeFinalizer removes one finalizer from the object if its uid matches.
func (c *Controller) removeFinalizer(ctx context.Context, ref objectReference, finalizer string) error {
	rc, err := c.resourceClient(ref)
	if err != nil {
		return err
	}
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		cur, err := rc.Get(ctx, ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur.UID != ref.UID || !hasString(cur.Finalizers, finalizer) {
			return nil
		}
		rest := []string{}
		for _, f := range cur.Finalizers {
			if f != finalizer {
				rest = append(rest, f)
			}
		}
		return c.mergePatch(ctx, rc, cur, map[string]interface{}{"finalizers": rest})
	})
}

func (c *Controller) mergePatch(ctx context.Context, rc metadata.ResourceInterface, cur *metav1.PartialObjectMetadata, fields map[string]interface{}) error {
	fields["uid"] = cur.UID
	fields["resourceVersion"] = cur.ResourceVersion
	data, err := json.Marshal(map[string]interface{}{"metadata": fields})
	if err != nil {
		return err
	}
	_, err = rc.Patch(ctx, cur.Name, types.MergePatchType, data, metav1.PatchOptions{})
	return err
}

// absentCache remembers owners verified absent (uids are never reused), so
// thousands of dependents of one deleted owner cost one lookup.
type absentCache struct {
	mu    sync.Mutex
	max   int
	items map[objectReference]struct{}
	order []objectReference
}

func newAbsentCache(max int) *absentCache {
	return &absentCache{max: max, items: map[objectReference]struct{}{}}
}

func (a *absentCache) has(k objectReference) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.items[k]
	return ok
}

func (a *absentCache) add(k objectReference) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.items[k]; ok {
		return
	}
	if len(a.order) >= a.max {
		delete(a.items, a.order[0])
		a.order = a.order[1:]
	}
	a.items[k] = struct{}{}
	a.order = append(a.order, k)
}
