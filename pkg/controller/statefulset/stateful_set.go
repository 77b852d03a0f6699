// Package statefulset runs apps/v1 StatefulSets as Kubernetes' StatefulSet
// controller does: pods <name>-<ordinal> with stable identity (hostname,
// subdomain, pod-name and pod-index labels) created OrderedReady or
// Parallel, claims from volumeClaimTemplates created before their pod and
// owned as persistentVolumeClaimRetentionPolicy says, RollingUpdate (reverse
// ordinal order, partition, maxUnavailable) and OnDelete updates tracked by
// ControllerRevisions (pkg/controller/history), failed pods replaced, orphan
// pods and revisions adopted, and the status written once per sync. It does
// not provision or bind claims, and does not delete pods or claims of a
// deleted StatefulSet (the garbage collector does, from ownerReferences).
package statefulset

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/controller/history"
	"github.com/herd-project/herd/pkg/controller/internal/replication"
)

// Controller reconciles StatefulSets.
type Controller struct {
	client    kubernetes.Interface
	recorder  record.EventRecorder
	clock     clock.WithTicker
	setLister appslisters.StatefulSetLister
	podLister corelisters.PodLister
	synced    []cache.InformerSynced
	control   *setControl
	queue     workqueue.TypedRateLimitingInterface[string]

	// syncHandler is sync; tests may replace it.
	syncHandler func(ctx context.Context, key string) error
}

// New builds the controller on the shared informers and registers its
// handlers.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder, clk clock.WithTicker) *Controller {
	setInformer := factory.Apps().V1().StatefulSets()
	podInformer := factory.Core().V1().Pods()
	revInformer := factory.Apps().V1().ControllerRevisions()
	pvcInformer := factory.Core().V1().PersistentVolumeClaims()
	c := &Controller{
		client:    client,
		recorder:  recorder,
		clock:     clk,
		setLister: setInformer.Lister(),
		podLister: podInformer.Lister(),
		synced: []cache.InformerSynced{setInformer.Informer().HasSynced, podInformer.Informer().HasSynced,
			revInformer.Informer().HasSynced, pvcInformer.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "statefulset", Clock: clk},
		),
	}
	c.control = &setControl{
		pods:     &podControl{client: client, podLister: podInformer.Lister(), pvcLister: pvcInformer.Lister(), recorder: recorder},
		history:  &history.History{Client: client, Lister: revInformer.Lister(), Decode: decodeRevision},
		status:   &statusUpdater{client: client, lister: setInformer.Lister()},
		recorder: recorder,
		clock:    clk,
	}
	c.syncHandler = c.sync
	_, _ = setInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueue,
		UpdateFunc: func(oldObj, newObj interface{}) {
			c.enqueue(newObj)
		},
		DeleteFunc: c.enqueue,
	})
	_, _ = podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	})
	_, _ = revInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueOwner,
		UpdateFunc: func(_, newObj interface{}) { c.enqueueOwner(newObj) },
		DeleteFunc: c.enqueueOwner,
	})
	return c
}

// Run waits for the caches, starts workers and blocks until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	logger := klog.FromContext(ctx)
	logger.V(2).Info("Starting StatefulSet controller")
	defer logger.V(2).Info("Shutting down StatefulSet controller")
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
	if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
		// A stale cache: retried with the next event or backoff.
		klog.FromContext(ctx).V(4).Info("Sync met a stale cache, will retry", "statefulSet", key, "err", err)
	} else {
		utilruntime.HandleErrorWithContext(ctx, err, "Sync failed", "statefulSet", key)
	}
	c.queue.AddRateLimited(key)
	return true
}

func (c *Controller) enqueue(obj interface{}) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.queue.Add(key)
}

func (c *Controller) enqueueAfter(set *appsv1.StatefulSet, d time.Duration) {
	if key, err := cache.MetaNamespaceKeyFunc(set); err == nil {
		c.queue.AddAfter(key, d)
	}
}

// resolveControllerRef returns the StatefulSet ref points to, if it exists
// with that UID.
func (c *Controller) resolveControllerRef(namespace string, ref *metav1.OwnerReference) *appsv1.StatefulSet {
	if ref.Kind != controllerKind.Kind || ref.APIVersion != controllerKind.GroupVersion().String() {
		return nil
	}
	set, err := c.setLister.StatefulSets(namespace).Get(ref.Name)
	if err != nil || set.UID != ref.UID {
		return nil
	}
	return set
}

// setsForOrphan returns the StatefulSets whose selector matches an orphan.
func (c *Controller) setsForOrphan(namespace string, lbls map[string]string) []*appsv1.StatefulSet {
	list, err := c.setLister.StatefulSets(namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*appsv1.StatefulSet
	for _, set := range list {
		sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(lbls)) {
			continue
		}
		out = append(out, set)
	}
	return out
}

func (c *Controller) enqueueOwner(obj interface{}) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	o, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(o); ref != nil {
		if set := c.resolveControllerRef(o.GetNamespace(), ref); set != nil {
			c.enqueue(set)
		}
		return
	}
	if o.GetDeletionTimestamp() != nil {
		return
	}
	for _, set := range c.setsForOrphan(o.GetNamespace(), o.GetLabels()) {
		c.enqueue(set)
	}
}

func (c *Controller) addPod(obj interface{}) { c.enqueueOwner(obj) }

func (c *Controller) updatePod(oldObj, newObj interface{}) {
	oldPod, curPod := oldObj.(*corev1.Pod), newObj.(*corev1.Pod)
	if oldPod.ResourceVersion == curPod.ResourceVersion {
		return
	}
	oldRef, curRef := metav1.GetControllerOfNoCopy(oldPod), metav1.GetControllerOfNoCopy(curPod)
	if oldRef != nil && (curRef == nil || curRef.UID != oldRef.UID) {
		if set := c.resolveControllerRef(oldPod.Namespace, oldRef); set != nil {
			c.enqueue(set)
		}
	}
	if curRef != nil {
		set := c.resolveControllerRef(curPod.Namespace, curRef)
		if set == nil {
			return
		}
		c.enqueue(set)
		// A pod turning ready becomes available after minReadySeconds.
		if !replication.IsPodReady(oldPod) && replication.IsPodReady(curPod) && set.Spec.MinReadySeconds > 0 {
			c.enqueueAfter(set, time.Duration(set.Spec.MinReadySeconds)*time.Second)
		}
		return
	}
	if !labels.Equals(oldPod.Labels, curPod.Labels) || oldRef != nil {
		c.enqueueOwner(curPod)
	}
}

func (c *Controller) deletePod(obj interface{}) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if set := c.resolveControllerRef(pod.Namespace, ref); set != nil {
			c.enqueue(set)
		}
	}
}

// sync reconciles the StatefulSet named by key.
func (c *Controller) sync(ctx context.Context, key string) error {
	logger := klog.FromContext(ctx)
	start := c.clock.Now()
	defer func() {
		logger.V(4).Info("Finished syncing StatefulSet", "key", key, "duration", c.clock.Since(start))
	}()
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	set, err := c.setLister.StatefulSets(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	selector, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil {
		// Validation forbids this; nothing to do until the set changes.
		utilruntime.HandleError(fmt.Errorf("StatefulSet %s has a bad selector: %w", key, err))
		return nil
	}
	canAdopt := c.canAdoptFunc(set)
	all, err := c.podLister.Pods(namespace).List(labels.Everything())
	if err != nil {
		return err
	}
	rm := &replication.RefManager{Controller: set, ControllerKind: controllerKind, Selector: selector, CanAdopt: canAdopt}
	pods, err := rm.ClaimPods(ctx, c.client, all, func(p *corev1.Pod) bool { return isMemberOf(set, p) })
	if err != nil {
		return err
	}
	owner := history.Owner{Object: set, Kind: controllerKind, Selector: selector, CanAdopt: canAdopt}
	status, err := c.control.updateStatefulSet(ctx, set, pods, owner)
	if err != nil {
		return err
	}
	if set.Spec.MinReadySeconds > 0 && status != nil && status.AvailableReplicas != status.ReadyReplicas {
		c.enqueueAfter(set, time.Duration(set.Spec.MinReadySeconds)*time.Second)
	}
	return nil
}
