// Package replicaset runs apps/v1 ReplicaSets as Kubernetes' ReplicaSet
// controller does: it keeps spec.replicas active pods matching the selector
// (creating in slow-start batches, deleting the best-ranked victims), adopts
// orphans and releases pods that stopped matching, and writes the status
// (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
// terminatingReplicas, observedGeneration, ReplicaFailure). It does not
// garbage-collect pods of deleted ReplicaSets (the garbage collector does) and
// does not serve the /scale subresource (the API server does).
package replicaset

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/controller/internal/consistency"
	"github.com/herd-project/herd/pkg/controller/internal/podcontrol"
	"github.com/herd-project/herd/pkg/controller/internal/replication"
)

// Kubernetes' tunables.
const (
	// BurstReplicas caps pod creations or deletions per sync.
	BurstReplicas = 500
	// SlowStartInitialBatchSize is the size of the first creation batch.
	SlowStartInitialBatchSize = 1
	// statusUpdateRetries is how often a conflicting status write is retried.
	statusUpdateRetries = 1
)

// Event reasons.
const (
	EventSuccessfulCreate = "SuccessfulCreate"
	EventFailedCreate     = "FailedCreate"
	EventSuccessfulDelete = "SuccessfulDelete"
	EventFailedDelete     = "FailedDelete"
	EventSelectingAll     = "SelectingAll"
)

const (
	rsControllerUIDIndex = "replicasetByControllerUID"
)

var controllerKind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")

// Options tune the controller; zero values mean Kubernetes' defaults.
type Options struct {
	// BurstReplicas caps creations/deletions per sync (default 500).
	BurstReplicas int
}

// Controller reconciles ReplicaSets.
type Controller struct {
	client        kubernetes.Interface
	recorder      record.EventRecorder
	clock         clock.WithTicker
	burstReplicas int
	// kind is what the controller runs: apps/v1 ReplicaSet, or v1
	// ReplicationController through the adapters of
	// pkg/controller/replicationcontroller.
	kind       schema.GroupVersionKind
	rsLister   appslisters.ReplicaSetLister
	rsIndexer  cache.Indexer
	podLister  corelisters.PodLister
	podIndexer cache.Indexer
	synced     []cache.InformerSynced

	expectations *podcontrol.Expectations
	queue        workqueue.TypedRateLimitingInterface[string]
	// consistency holds the resourceVersions of our status writes and pod
	// creations: a sync waits until the informers have observed them.
	consistency *consistency.Store
	resource    schema.GroupResource

	// syncHandler is syncReplicaSet; tests may replace it.
	syncHandler func(ctx context.Context, key string) error
}

// New builds the controller and registers its informer handlers.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder, clk clock.WithTicker) (*Controller, error) {
	return NewWithOptions(client, factory, recorder, clk, Options{})
}

// NewWithOptions is New with tunables.
func NewWithOptions(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder, clk clock.WithTicker, opts Options) (*Controller, error) {
	return NewForKind(client, factory.Apps().V1().ReplicaSets(), factory.Core().V1().Pods(), recorder, clk, opts, controllerKind, "replicaset")
}

// NewForKind builds the controller for another kind with ReplicaSet
// semantics, as Kubernetes' replication manager reuses the ReplicaSet
// controller: rsInformer, client and recorder are adapters that present
// that kind's objects as ReplicaSets; kind is what owner references name,
// and name is the work queue's name.
func NewForKind(client kubernetes.Interface, rsInformer appsinformers.ReplicaSetInformer, podInformer coreinformers.PodInformer,
	recorder record.EventRecorder, clk clock.WithTicker, opts Options, kind schema.GroupVersionKind, name string) (*Controller, error) {
	if opts.BurstReplicas <= 0 {
		opts.BurstReplicas = BurstReplicas
	}
	c := &Controller{
		client:        client,
		recorder:      recorder,
		clock:         clk,
		burstReplicas: opts.BurstReplicas,
		kind:          kind,
		rsLister:      rsInformer.Lister(),
		rsIndexer:     rsInformer.Informer().GetIndexer(),
		podLister:     podInformer.Lister(),
		podIndexer:    podInformer.Informer().GetIndexer(),
		synced:        []cache.InformerSynced{rsInformer.Informer().HasSynced, podInformer.Informer().HasSynced},
		expectations:  podcontrol.NewExpectations(clk),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: name, Clock: clk},
		),
	}
	c.resource = schema.GroupResource{Group: kind.Group, Resource: strings.ToLower(kind.Kind) + "s"}
	c.consistency = consistency.New(map[schema.GroupResource]consistency.LastSyncRVGetter{
		c.resource:              rsInformer.Informer().GetStore(),
		corev1.Resource("pods"): podInformer.Informer().GetStore(),
	})
	c.syncHandler = c.syncReplicaSet
	if err := addRSIndex(rsInformer.Informer()); err != nil {
		return nil, err
	}
	if err := podcontrol.AddPodIndex(podInformer.Informer()); err != nil {
		return nil, err
	}
	_, _ = rsInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addRS,
		UpdateFunc: c.updateRS,
		DeleteFunc: c.deleteRS,
	})
	_, _ = podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	})
	return c, nil
}

func indexRSByControllerUID(obj interface{}) ([]string, error) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return nil, nil
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		return []string{string(ref.UID)}, nil
	}
	return nil, nil
}

// addRSIndex registers the ReplicaSet index by controller UID once (the
// ReplicaSet informer of the factory is shared).
func addRSIndex(inf cache.SharedIndexInformer) error {
	if _, ok := inf.GetIndexer().GetIndexers()[rsControllerUIDIndex]; ok {
		return nil
	}
	if err := inf.AddIndexers(cache.Indexers{rsControllerUIDIndex: indexRSByControllerUID}); err != nil {
		return fmt.Errorf("adding the ReplicaSet index %q: %w", rsControllerUIDIndex, err)
	}
	return nil
}

// Run waits for the caches, starts workers and blocks until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	logger := klog.FromContext(ctx)
	logger.V(2).Info("Starting ReplicaSet controller")
	defer logger.V(2).Info("Shutting down ReplicaSet controller")
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return
	}
	for i := 0; i < workers; i++ {
		go wait.UntilWithContext(ctx, c.worker, time.Second)
	}
	<-ctx.Done()
}

func (c *Controller) worker(ctx context.Context) {
	for c.processNextWorkItem(ctx) {
	}
}

func (c *Controller) processNextWorkItem(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	err := c.syncHandler(ctx, key)
	if err == nil {
		c.queue.Forget(key)
		return true
	}
	if consistency.HandleStale(ctx, err, key) {
		// Logged; requeued below.
	} else if apierrors.IsConflict(err) {
		// A stale cache: routine, retried with the next event or backoff.
		klog.FromContext(ctx).V(4).Info("Sync conflicted, will retry", "replicaSet", key, "err", err)
	} else {
		utilruntime.HandleErrorWithContext(ctx, err, "Sync failed", "replicaSet", key)
	}
	c.queue.AddRateLimited(key)
	return true
}

func keyOf(obj interface{}) (string, bool) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return "", false
	}
	return key, true
}

func (c *Controller) enqueue(rs *appsv1.ReplicaSet) {
	if key, ok := keyOf(rs); ok {
		c.queue.Add(key)
	}
}

func (c *Controller) enqueueAfter(rs *appsv1.ReplicaSet, d time.Duration) {
	if key, ok := keyOf(rs); ok {
		c.queue.AddAfter(key, d)
	}
}

func (c *Controller) addRS(obj interface{}) {
	c.enqueue(obj.(*appsv1.ReplicaSet))
}

func (c *Controller) updateRS(oldObj, newObj interface{}) {
	oldRS, newRS := oldObj.(*appsv1.ReplicaSet), newObj.(*appsv1.ReplicaSet)
	if oldRS.UID != newRS.UID {
		if key, ok := keyOf(oldRS); ok {
			c.deleteRS(cache.DeletedFinalStateUnknown{Key: key, Obj: oldRS})
		}
	}
	c.enqueue(newRS)
}

func (c *Controller) deleteRS(obj interface{}) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		tomb, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if rs, ok = tomb.Obj.(*appsv1.ReplicaSet); !ok {
			return
		}
	}
	key, ok := keyOf(rs)
	if !ok {
		return
	}
	c.expectations.Delete(key)
	c.queue.Add(key)
}

// resolveControllerRef returns the ReplicaSet the ref points to, if it exists with that UID.
func (c *Controller) resolveControllerRef(namespace string, ref *metav1.OwnerReference) *appsv1.ReplicaSet {
	if ref.Kind != c.kind.Kind || ref.APIVersion != c.kind.GroupVersion().String() {
		return nil
	}
	rs, err := c.rsLister.ReplicaSets(namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return nil
	}
	return rs
}

// getPodReplicaSets returns the ReplicaSets whose selector matches an orphan pod.
func (c *Controller) getPodReplicaSets(pod *corev1.Pod) []*appsv1.ReplicaSet {
	list, err := c.rsLister.ReplicaSets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*appsv1.ReplicaSet
	for _, rs := range list {
		sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		out = append(out, rs)
	}
	return out
}

func (c *Controller) addPod(obj interface{}) {
	pod := obj.(*corev1.Pod)
	if pod.DeletionTimestamp != nil {
		c.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOf(pod); ref != nil {
		rs := c.resolveControllerRef(pod.Namespace, ref)
		if rs == nil {
			return
		}
		key, ok := keyOf(rs)
		if !ok {
			return
		}
		c.expectations.CreationObserved(key)
		c.queue.Add(key)
		return
	}
	for _, rs := range c.getPodReplicaSets(pod) {
		c.enqueue(rs)
	}
}

func (c *Controller) updatePod(oldObj, newObj interface{}) {
	oldPod, curPod := oldObj.(*corev1.Pod), newObj.(*corev1.Pod)
	if curPod.ResourceVersion == oldPod.ResourceVersion {
		return
	}
	labelChanged := !labels.Equals(curPod.Labels, oldPod.Labels)
	if curPod.DeletionTimestamp != nil {
		// A graceful deletion starts: count the pod as gone now so a
		// replacement is created without waiting for the final delete.
		c.deletePod(curPod)
		if labelChanged {
			c.deletePod(oldPod)
		}
		return
	}
	curRef, oldRef := metav1.GetControllerOf(curPod), metav1.GetControllerOf(oldPod)
	refChanged := (curRef == nil) != (oldRef == nil) || (curRef != nil && oldRef != nil && curRef.UID != oldRef.UID)
	if refChanged && oldRef != nil {
		if rs := c.resolveControllerRef(oldPod.Namespace, oldRef); rs != nil {
			c.enqueue(rs)
		}
	}
	if curRef != nil {
		rs := c.resolveControllerRef(curPod.Namespace, curRef)
		if rs == nil {
			return
		}
		c.enqueue(rs)
		// A pod turning ready becomes available after minReadySeconds:
		// check again then.
		if !replication.IsPodReady(oldPod) && replication.IsPodReady(curPod) && rs.Spec.MinReadySeconds > 0 {
			c.enqueueAfter(rs, time.Duration(rs.Spec.MinReadySeconds)*time.Second+time.Second)
		}
		return
	}
	if labelChanged || refChanged {
		for _, rs := range c.getPodReplicaSets(curPod) {
			c.enqueue(rs)
		}
	}
}

func (c *Controller) deletePod(obj interface{}) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		tomb, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if pod, ok = tomb.Obj.(*corev1.Pod); !ok {
			return
		}
	}
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return
	}
	rs := c.resolveControllerRef(pod.Namespace, ref)
	if rs == nil {
		return
	}
	key, ok := keyOf(rs)
	if !ok {
		return
	}
	c.expectations.DeletionObserved(key, replication.PodKey(pod))
	c.queue.Add(key)
}

// getRSPods returns the pods owned by rs plus the namespace's orphans.
func (c *Controller) getRSPods(rs *appsv1.ReplicaSet) ([]*corev1.Pod, error) {
	return podcontrol.ControlledAndOrphanPods(c.podIndexer, rs.Namespace, rs.UID)
}

// getIndirectlyRelatedPods returns the pods of every ReplicaSet sharing rs's
// controller (the sibling ReplicaSets of a Deployment); for a ReplicaSet
// without controller, its own pods.
func (c *Controller) getIndirectlyRelatedPods(rs *appsv1.ReplicaSet, own []*corev1.Pod) ([]*corev1.Pod, error) {
	ref := metav1.GetControllerOfNoCopy(rs)
	if ref == nil {
		return own, nil
	}
	siblings, err := c.rsIndexer.ByIndex(rsControllerUIDIndex, string(ref.UID))
	if err != nil {
		return nil, err
	}
	var related []*corev1.Pod
	for _, o := range siblings {
		sib, ok := o.(*appsv1.ReplicaSet)
		if !ok || sib.Namespace != rs.Namespace {
			continue
		}
		pods, err := podcontrol.ControlledPods(c.podIndexer, sib.Namespace, sib.UID)
		if err != nil {
			return nil, err
		}
		related = append(related, pods...)
	}
	return related, nil
}

// claimPods adopts matching orphans and releases owned pods that stopped matching.
func (c *Controller) claimPods(ctx context.Context, rs *appsv1.ReplicaSet, selector labels.Selector, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	m := &replication.RefManager{
		Controller:     rs,
		ControllerKind: c.kind,
		Selector:       selector,
		CanAdopt: replication.RecheckDeletionTimestamp(func(ctx context.Context) (metav1.Object, error) {
			return c.client.AppsV1().ReplicaSets(rs.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
		}, rs),
	}
	return m.ClaimPods(ctx, c.client, pods)
}

// syncReplicaSet reconciles one ReplicaSet: claim pods, create or delete to
// reach spec.replicas (when expectations are met), write the status once.
func (c *Controller) syncReplicaSet(ctx context.Context, key string) error {
	logger := klog.FromContext(ctx)
	start := c.clock.Now()
	defer func() {
		logger.V(4).Info("Finished syncing", "replicaSet", key, "duration", c.clock.Since(start))
	}()
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	nn := types.NamespacedName{Namespace: namespace, Name: name}
	if err := c.consistency.EnsureReady(nn); err != nil {
		return err
	}
	rs, err := c.rsLister.ReplicaSets(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		logger.V(4).Info("ReplicaSet has been deleted", "replicaSet", key)
		c.expectations.Delete(key)
		c.consistency.Clear(nn, "")
		return nil
	}
	if err != nil {
		return err
	}
	rsNeedsSync := c.expectations.Satisfied(key)
	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		utilruntime.HandleError(fmt.Errorf("error converting pod selector to selector for rs %v: %w", key, err))
		return nil
	}
	if selector.Empty() {
		// Kubernetes' validation forbids it; never manage every pod.
		c.recorder.Event(rs, corev1.EventTypeWarning, EventSelectingAll, "This ReplicaSet is selecting all pods. A non-empty selector is required.")
		return nil
	}
	allPods, err := c.getRSPods(rs)
	if err != nil {
		return err
	}
	active := replication.FilterActivePods(allPods)
	filteredPods, err := c.claimPods(ctx, rs, selector, active)
	if err != nil {
		return err
	}
	terminating := replication.FilterOwnedTerminatingPods(allPods, rs.UID, selector)

	var manageErr error
	if rsNeedsSync && rs.DeletionTimestamp == nil {
		manageErr = c.manageReplicas(ctx, filteredPods, rs)
	}
	rs = rs.DeepCopy()
	newStatus := calculateStatus(rs, filteredPods, terminating, manageErr, c.clock.Now())
	updated, err := c.updateStatus(ctx, rs, newStatus)
	if err != nil {
		return err
	}
	if manageErr == nil && updated.Spec.MinReadySeconds > 0 &&
		updated.Status.ReadyReplicas == *updated.Spec.Replicas &&
		updated.Status.AvailableReplicas != *updated.Spec.Replicas {
		c.enqueueAfter(updated, time.Duration(updated.Spec.MinReadySeconds)*time.Second)
	}
	return manageErr
}

// manageReplicas creates or deletes pods so that len(filteredPods) moves to
// spec.replicas, at most burstReplicas at a time.
func (c *Controller) manageReplicas(ctx context.Context, filteredPods []*corev1.Pod, rs *appsv1.ReplicaSet) error {
	logger := klog.FromContext(ctx)
	diff := len(filteredPods) - int(*rs.Spec.Replicas)
	key, ok := keyOf(rs)
	if !ok {
		return nil
	}
	switch {
	case diff < 0:
		diff = min(-diff, c.burstReplicas)
		c.expectations.ExpectCreations(key, diff)
		logger.V(2).Info("Too few replicas", "replicaSet", key, "need", *rs.Spec.Replicas, "creating", diff)
		ref := metav1.NewControllerRef(rs, c.kind)
		successes, err := replication.SlowStartBatch(diff, SlowStartInitialBatchSize, func() error {
			pod, err := replication.CreatePod(ctx, func(ctx context.Context, p *corev1.Pod) (*corev1.Pod, error) {
				created, err := c.client.CoreV1().Pods(rs.Namespace).Create(ctx, p, metav1.CreateOptions{})
				if err == nil {
					c.consistency.WroteAt(types.NamespacedName{Namespace: rs.Namespace, Name: rs.Name}, rs.UID, corev1.Resource("pods"), created.ResourceVersion)
				}
				return created, err
			}, &rs.Spec.Template, rs.Namespace, rs.Name, ref)
			if err != nil {
				if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
					// The namespace is going away: nothing to create.
					return nil
				}
				c.recorder.Eventf(rs, corev1.EventTypeWarning, EventFailedCreate, "Error creating: %v", err)
				return err
			}
			c.recorder.Eventf(rs, corev1.EventTypeNormal, EventSuccessfulCreate, "Created pod: %v", pod.Name)
			return nil
		})
		if skipped := diff - successes; skipped > 0 {
			// The pods that failed (and the batches never tried) will not
			// show up in the informer: stop expecting them.
			logger.V(2).Info("Slow-start failure. Skipping creation of pods, decrementing expectations", "podsSkipped", skipped, "kind", c.kind, "replicaSet", key)
			for i := 0; i < skipped; i++ {
				c.expectations.CreationObserved(key)
			}
		}
		return err
	case diff > 0:
		diff = min(diff, c.burstReplicas)
		logger.V(2).Info("Too many replicas", "replicaSet", key, "need", *rs.Spec.Replicas, "deleting", diff)
		related, err := c.getIndirectlyRelatedPods(rs, filteredPods)
		if err != nil {
			return err
		}
		victims := getPodsToDelete(filteredPods, related, diff, c.clock.Now())
		keys := make([]string, len(victims))
		for i, p := range victims {
			keys[i] = replication.PodKey(p)
		}
		c.expectations.ExpectDeletions(key, keys)
		errCh := make(chan error, diff)
		done := make(chan struct{}, diff)
		for _, p := range victims {
			go func(p *corev1.Pod) {
				defer func() { done <- struct{}{} }()
				err := c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
				if err != nil {
					// The pod will not disappear through this request.
					c.expectations.DeletionObserved(key, replication.PodKey(p))
					if apierrors.IsNotFound(err) {
						return
					}
					c.recorder.Eventf(rs, corev1.EventTypeWarning, EventFailedDelete, "Error deleting: %v", err)
					errCh <- err
					return
				}
				c.recorder.Eventf(rs, corev1.EventTypeNormal, EventSuccessfulDelete, "Deleted pod: %v", p.Name)
			}(p)
		}
		for range victims {
			<-done
		}
		select {
		case err := <-errCh:
			return err
		default:
		}
	}
	return nil
}

// getPodsToDelete returns the count best victims among pods, ranked by
// ActivePodsWithRanks with co-location counted over related pods.
func getPodsToDelete(pods, related []*corev1.Pod, count int, now time.Time) []*corev1.Pod {
	if count < len(pods) {
		ranked := replication.RankPodsByRelatedOnSameNode(append([]*corev1.Pod(nil), pods...), related, now)
		sortRanked(ranked)
		pods = ranked.Pods
	}
	return pods[:count]
}
