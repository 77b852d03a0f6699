// Package daemon runs apps/v1 DaemonSets as Kubernetes' DaemonSet controller
// does: one pod on every node whose name, labels (nodeSelector, required node
// affinity) and taints let the DaemonSet run there; pods carry the daemon
// tolerations and a required node affinity on metadata.name and are bound by
// the scheduler. It removes extra pods on a node (keeping the oldest), pods on
// nodes that no longer qualify (NoExecute taints, labels) and unscheduled pods
// of vanished nodes, replaces failed pods with back-off, rolls out template
// changes (RollingUpdate with maxUnavailable or maxSurge, or OnDelete),
// records template revisions as ControllerRevisions (pkg/controller/history)
// and writes the status once per sync. Pods bound to deleted nodes are left to
// the pod garbage collector, as in Kubernetes.
package daemon

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/controller/daemon/util"
	"github.com/herd-project/herd/pkg/controller/history"
	"github.com/herd-project/herd/pkg/controller/internal/podcontrol"
	"github.com/herd-project/herd/pkg/controller/internal/replication"
)

// Kubernetes' tunables.
const (
	// BurstReplicas caps pod creations and deletions per sync.
	BurstReplicas = 250
	// SlowStartInitialBatchSize is the size of the first creation batch.
	SlowStartInitialBatchSize = 1
	// BackoffGCInterval is how often stale failed-pod back-off entries are dropped.
	BackoffGCInterval = time.Minute
	// FailedPodsBackoffInitial and FailedPodsBackoffMax bound the delay
	// before a failed daemon pod on the same node is deleted again.
	FailedPodsBackoffInitial = time.Second
	FailedPodsBackoffMax     = 15 * time.Minute

	statusUpdateRetries = 1
)

// Event reasons.
const (
	EventSelectingAll       = "SelectingAll"
	EventFailedDaemonPod    = "FailedDaemonPod"
	EventSucceededDaemonPod = "SucceededDaemonPod"
	EventSuccessfulCreate   = "SuccessfulCreate"
	EventFailedCreate       = "FailedCreate"
	EventSuccessfulDelete   = "SuccessfulDelete"
	EventFailedDelete       = "FailedDelete"
)

const ()

var controllerKind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

// Options tune the controller; zero values mean Kubernetes' defaults.
type Options struct {
	// BurstReplicas caps creations/deletions per sync (default 250).
	BurstReplicas int
}

// Controller reconciles DaemonSets.
type Controller struct {
	client        kubernetes.Interface
	recorder      record.EventRecorder
	clock         clock.WithTicker
	burstReplicas int

	dsLister   appslisters.DaemonSetLister
	nodeLister corelisters.NodeLister
	podIndexer cache.Indexer
	history    *history.History
	synced     []cache.InformerSynced

	expectations      *podcontrol.Expectations
	failedPodsBackoff *flowcontrol.Backoff
	queue             workqueue.TypedRateLimitingInterface[string]

	// syncHandler is syncDaemonSet; tests may replace it.
	syncHandler func(ctx context.Context, key string) error
}

// New builds the controller and registers its informer handlers.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder, clk clock.WithTicker) (*Controller, error) {
	return NewWithOptions(client, factory, recorder, clk, Options{})
}

// NewWithOptions is New with tunables.
func NewWithOptions(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder, clk clock.WithTicker, opts Options) (*Controller, error) {
	if opts.BurstReplicas <= 0 {
		opts.BurstReplicas = BurstReplicas
	}
	dsInformer := factory.Apps().V1().DaemonSets()
	revInformer := factory.Apps().V1().ControllerRevisions()
	podInformer := factory.Core().V1().Pods()
	nodeInformer := factory.Core().V1().Nodes()
	c := &Controller{
		client:        client,
		recorder:      recorder,
		clock:         clk,
		burstReplicas: opts.BurstReplicas,
		dsLister:      dsInformer.Lister(),
		nodeLister:    nodeInformer.Lister(),
		podIndexer:    podInformer.Informer().GetIndexer(),
		history:       &history.History{Client: client, Lister: revInformer.Lister()},
		synced: []cache.InformerSynced{dsInformer.Informer().HasSynced, revInformer.Informer().HasSynced,
			podInformer.Informer().HasSynced, nodeInformer.Informer().HasSynced},
		expectations:      podcontrol.NewExpectations(clk),
		failedPodsBackoff: flowcontrol.NewFakeBackOff(FailedPodsBackoffInitial, FailedPodsBackoffMax, clk),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "daemonset", Clock: clk},
		),
	}
	c.syncHandler = c.syncDaemonSet
	if err := podcontrol.AddPodIndex(podInformer.Informer()); err != nil {
		return nil, err
	}
	_, _ = dsInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { c.enqueue(obj.(*appsv1.DaemonSet)) },
		UpdateFunc: c.updateDaemonSet,
		DeleteFunc: c.deleteDaemonSet,
	})
	_, _ = revInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addHistory,
		UpdateFunc: c.updateHistory,
		DeleteFunc: c.deleteHistory,
	})
	_, _ = podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	})
	_, _ = nodeInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addNode,
		UpdateFunc: c.updateNode,
		DeleteFunc: c.deleteNode,
	})
	return c, nil
}

// Run waits for the caches, starts workers and blocks until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	logger := klog.FromContext(ctx)
	logger.V(2).Info("Starting DaemonSet controller")
	defer logger.V(2).Info("Shutting down DaemonSet controller")
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return
	}
	for i := 0; i < workers; i++ {
		go wait.UntilWithContext(ctx, c.worker, time.Second)
	}
	go wait.Until(c.failedPodsBackoff.GC, BackoffGCInterval, ctx.Done())
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
	if apierrors.IsConflict(err) {
		klog.FromContext(ctx).V(4).Info("Sync conflicted, will retry", "daemonSet", key, "err", err)
	} else {
		utilruntime.HandleErrorWithContext(ctx, err, "Sync failed", "daemonSet", key)
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

func (c *Controller) enqueue(ds *appsv1.DaemonSet) {
	if key, ok := keyOf(ds); ok {
		c.queue.Add(key)
	}
}

func (c *Controller) enqueueAfter(ds *appsv1.DaemonSet, d time.Duration) {
	if key, ok := keyOf(ds); ok {
		c.queue.AddAfter(key, d)
	}
}

func (c *Controller) updateDaemonSet(oldObj, newObj interface{}) {
	oldDS, curDS := oldObj.(*appsv1.DaemonSet), newObj.(*appsv1.DaemonSet)
	if oldDS.UID != curDS.UID {
		if key, ok := keyOf(oldDS); ok {
			c.deleteDaemonSet(cache.DeletedFinalStateUnknown{Key: key, Obj: oldDS})
		}
	}
	c.enqueue(curDS)
}

func (c *Controller) deleteDaemonSet(obj interface{}) {
	ds, ok := obj.(*appsv1.DaemonSet)
	if !ok {
		tomb, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if ds, ok = tomb.Obj.(*appsv1.DaemonSet); !ok {
			return
		}
	}
	key, ok := keyOf(ds)
	if !ok {
		return
	}
	c.expectations.Delete(key)
	c.queue.Add(key)
}

// resolveControllerRef returns the DaemonSet ref points to, if it exists with that UID.
func (c *Controller) resolveControllerRef(namespace string, ref *metav1.OwnerReference) *appsv1.DaemonSet {
	if ref.Kind != controllerKind.Kind {
		return nil
	}
	ds, err := c.dsLister.DaemonSets(namespace).Get(ref.Name)
	if err != nil || ds.UID != ref.UID {
		return nil
	}
	return ds
}

// daemonSetsSelecting returns the DaemonSets of namespace whose selector
// matches lbls (for orphans that may be adopted).
func (c *Controller) daemonSetsSelecting(namespace string, lbls map[string]string) []*appsv1.DaemonSet {
	list, err := c.dsLister.DaemonSets(namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*appsv1.DaemonSet
	for _, ds := range list {
		sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(lbls)) {
			continue
		}
		out = append(out, ds)
	}
	return out
}

func (c *Controller) addHistory(obj interface{}) {
	rev := obj.(*appsv1.ControllerRevision)
	if rev.DeletionTimestamp != nil {
		c.deleteHistory(rev)
		return
	}
	if metav1.GetControllerOf(rev) != nil {
		// Its owner made it (or will see it on its next sync).
		return
	}
	for _, ds := range c.daemonSetsSelecting(rev.Namespace, rev.Labels) {
		c.enqueue(ds)
	}
}

func (c *Controller) updateHistory(oldObj, newObj interface{}) {
	oldRev, curRev := oldObj.(*appsv1.ControllerRevision), newObj.(*appsv1.ControllerRevision)
	if oldRev.ResourceVersion == curRev.ResourceVersion {
		return
	}
	curRef, oldRef := metav1.GetControllerOf(curRev), metav1.GetControllerOf(oldRev)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if ds := c.resolveControllerRef(oldRev.Namespace, oldRef); ds != nil {
			c.enqueue(ds)
		}
	}
	if curRef != nil {
		if ds := c.resolveControllerRef(curRev.Namespace, curRef); ds != nil {
			c.enqueue(ds)
		}
		return
	}
	if refChanged || !reflect.DeepEqual(curRev.Labels, oldRev.Labels) {
		for _, ds := range c.daemonSetsSelecting(curRev.Namespace, curRev.Labels) {
			c.enqueue(ds)
		}
	}
}

func (c *Controller) deleteHistory(obj interface{}) {
	rev, ok := obj.(*appsv1.ControllerRevision)
	if !ok {
		tomb, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if rev, ok = tomb.Obj.(*appsv1.ControllerRevision); !ok {
			return
		}
	}
	if ref := metav1.GetControllerOf(rev); ref != nil {
		if ds := c.resolveControllerRef(rev.Namespace, ref); ds != nil {
			c.enqueue(ds)
		}
	}
}

func (c *Controller) addPod(obj interface{}) {
	pod := obj.(*corev1.Pod)
	if pod.DeletionTimestamp != nil {
		c.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOf(pod); ref != nil {
		ds := c.resolveControllerRef(pod.Namespace, ref)
		if ds == nil {
			return
		}
		if key, ok := keyOf(ds); ok {
			c.expectations.CreationObserved(key)
			c.queue.Add(key)
		}
		return
	}
	for _, ds := range c.daemonSetsSelecting(pod.Namespace, pod.Labels) {
		c.enqueue(ds)
	}
}

func (c *Controller) updatePod(oldObj, newObj interface{}) {
	oldPod, curPod := oldObj.(*corev1.Pod), newObj.(*corev1.Pod)
	if curPod.ResourceVersion == oldPod.ResourceVersion {
		return
	}
	if curPod.DeletionTimestamp != nil {
		// A graceful deletion starts: count the pod as gone now.
		c.deletePod(curPod)
		return
	}
	curRef, oldRef := metav1.GetControllerOf(curPod), metav1.GetControllerOf(oldPod)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if ds := c.resolveControllerRef(oldPod.Namespace, oldRef); ds != nil {
			c.enqueue(ds)
		}
	}
	if curRef != nil {
		ds := c.resolveControllerRef(curPod.Namespace, curRef)
		if ds == nil {
			return
		}
		c.enqueue(ds)
		// A pod turning ready becomes available after minReadySeconds.
		if !replication.IsPodReady(oldPod) && replication.IsPodReady(curPod) && ds.Spec.MinReadySeconds > 0 {
			c.enqueueAfter(ds, time.Duration(ds.Spec.MinReadySeconds)*time.Second+time.Second)
		}
		return
	}
	if refChanged || !reflect.DeepEqual(curPod.Labels, oldPod.Labels) {
		for _, ds := range c.daemonSetsSelecting(curPod.Namespace, curPod.Labels) {
			c.enqueue(ds)
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
	ds := c.resolveControllerRef(pod.Namespace, ref)
	if ds == nil {
		return
	}
	if key, ok := keyOf(ds); ok {
		c.expectations.DeletionObserved(key, replication.PodKey(pod))
		c.queue.Add(key)
	}
}

func (c *Controller) addNode(obj interface{}) {
	node := obj.(*corev1.Node)
	list, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range list {
		if shouldRun, _ := util.NodeShouldRunDaemonPod(node, ds); shouldRun {
			c.enqueue(ds)
		}
	}
}

// updateNode enqueues the DaemonSets for which the node's eligibility
// changed; only its labels and taints matter (status heartbeats do not).
func (c *Controller) updateNode(oldObj, newObj interface{}) {
	oldNode, curNode := oldObj.(*corev1.Node), newObj.(*corev1.Node)
	if apiequality.Semantic.DeepEqual(oldNode.Labels, curNode.Labels) && apiequality.Semantic.DeepEqual(oldNode.Spec.Taints, curNode.Spec.Taints) {
		return
	}
	list, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range list {
		pred := util.NewNodePredicate(ds)
		oldRun, oldCont := pred.ShouldRun(oldNode)
		curRun, curCont := pred.ShouldRun(curNode)
		if oldRun != curRun || oldCont != curCont {
			c.enqueue(ds)
		}
	}
}

// deleteNode refreshes the status of the DaemonSets that ran there; the
// pods themselves are the pod garbage collector's.
func (c *Controller) deleteNode(obj interface{}) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		tomb, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if node, ok = tomb.Obj.(*corev1.Node); !ok {
			return
		}
	}
	list, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range list {
		if shouldRun, cont := util.NodeShouldRunDaemonPod(node, ds); shouldRun || cont {
			c.enqueue(ds)
		}
	}
}

// getDaemonPods returns the pods ds owns after adopting matching orphans and
// releasing owned pods that stopped matching.
func (c *Controller) getDaemonPods(ctx context.Context, ds *appsv1.DaemonSet, selector labels.Selector) ([]*corev1.Pod, error) {
	pods, err := podcontrol.ControlledAndOrphanPods(c.podIndexer, ds.Namespace, ds.UID)
	if err != nil {
		return nil, err
	}
	m := &replication.RefManager{
		Controller:     ds,
		ControllerKind: controllerKind,
		Selector:       selector,
		CanAdopt:       c.canAdopt(ds),
	}
	return m.ClaimPods(ctx, c.client, pods)
}

func (c *Controller) canAdopt(ds *appsv1.DaemonSet) func(ctx context.Context) error {
	return replication.RecheckDeletionTimestamp(func(ctx context.Context) (metav1.Object, error) {
		return c.client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
	}, ds)
}

// nodePods maps node names to the daemon pods meant for them. all holds
// every claimed pod; active leaves out terminal pods already being deleted,
// which the controller has nothing more to do with.
type nodePods struct {
	all, active map[string][]*corev1.Pod
}

func (c *Controller) getNodesToDaemonPods(ctx context.Context, ds *appsv1.DaemonSet, selector labels.Selector) (nodePods, error) {
	claimed, err := c.getDaemonPods(ctx, ds, selector)
	if err != nil {
		return nodePods{}, err
	}
	np := nodePods{all: map[string][]*corev1.Pod{}, active: map[string][]*corev1.Pod{}}
	for _, pod := range claimed {
		node, err := util.GetTargetNodeName(pod)
		if err != nil {
			klog.FromContext(ctx).V(4).Info("Failed to get target node name of Pod in DaemonSet", "pod", klog.KObj(pod), "daemonSet", klog.KObj(ds))
			continue
		}
		np.all[node] = append(np.all[node], pod)
		if pod.DeletionTimestamp != nil && (pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded) {
			continue
		}
		np.active[node] = append(np.active[node], pod)
	}
	return np, nil
}

// syncDaemonSet reconciles one DaemonSet: revisions, pods per node, the
// rolling update, history cleanup, then the status, written once.
func (c *Controller) syncDaemonSet(ctx context.Context, key string) error {
	logger := klog.FromContext(ctx)
	start := c.clock.Now()
	defer func() {
		logger.V(4).Info("Finished syncing", "daemonSet", key, "duration", c.clock.Since(start))
	}()
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	ds, err := c.dsLister.DaemonSets(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		logger.V(3).Info("DaemonSet has been deleted", "daemonSet", key)
		c.expectations.Delete(key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("unable to retrieve DaemonSet %v from store: %w", key, err)
	}
	nodes, err := c.nodeLister.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("couldn't list nodes when syncing DaemonSet %v: %w", key, err)
	}
	if reflect.DeepEqual(ds.Spec.Selector, &metav1.LabelSelector{}) {
		c.recorder.Event(ds, corev1.EventTypeWarning, EventSelectingAll, "This daemon set is selecting all pods. A non-empty selector is required.")
		return nil
	}
	selector, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		utilruntime.HandleError(fmt.Errorf("DaemonSet %v has an invalid selector: %w", key, err))
		return nil
	}
	// A DaemonSet being deleted may already have lost its revisions to the
	// garbage collector: its status cannot be computed reliably.
	if ds.DeletionTimestamp != nil {
		return nil
	}
	cur, old, err := c.constructHistory(ctx, ds, selector)
	if err != nil {
		return fmt.Errorf("failed to construct revisions of DaemonSet %v: %w", key, err)
	}
	hash := cur.Labels[util.RevisionHashLabel]

	np, err := c.getNodesToDaemonPods(ctx, ds, selector)
	if err != nil {
		return fmt.Errorf("couldn't get node to daemon pod mapping for DaemonSet %v: %w", key, err)
	}
	pred := util.NewNodePredicate(ds)
	if !c.expectations.Satisfied(key) {
		// Only the status: this generation was not processed.
		return c.updateDaemonSetStatus(ctx, ds, nodes, pred, np.active, hash, false)
	}
	syncErr := c.manageAndUpdate(ctx, ds, nodes, pred, np, hash, key, old)
	statusErr := c.updateDaemonSetStatus(ctx, ds, nodes, pred, np.active, hash, true)
	switch {
	case syncErr != nil && statusErr != nil:
		logger.Error(statusErr, "Failed to update status", "daemonSet", klog.KObj(ds))
		return syncErr
	case syncErr != nil:
		return syncErr
	}
	return statusErr
}

// manageAndUpdate places and removes pods, then (once that is settled) runs
// the rolling update and trims the revision history.
func (c *Controller) manageAndUpdate(ctx context.Context, ds *appsv1.DaemonSet, nodes []*corev1.Node, pred *util.NodePredicate, np nodePods, hash, key string, old []*appsv1.ControllerRevision) error {
	if err := c.manage(ctx, ds, nodes, pred, np.active, hash); err != nil {
		return err
	}
	if c.expectations.Satisfied(key) && ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if err := c.rollingUpdate(ctx, ds, nodes, pred, np.active, hash); err != nil {
			return err
		}
	}
	if err := c.cleanupHistory(ctx, ds, np.all, old); err != nil {
		return fmt.Errorf("failed to clean up revisions of DaemonSet: %w", err)
	}
	return nil
}

// manage creates the pods nodes lack and deletes the pods that must go.
func (c *Controller) manage(ctx context.Context, ds *appsv1.DaemonSet, nodes []*corev1.Node, pred *util.NodePredicate, nodeToPods map[string][]*corev1.Pod, hash string) error {
	var create []string
	var del []*corev1.Pod
	for _, node := range nodes {
		needs, toDelete := c.podsShouldBeOnNode(ctx, node, pred, nodeToPods, ds, hash)
		if needs {
			create = append(create, node.Name)
		}
		del = append(del, toDelete...)
	}
	// Pods meant for nodes that no longer exist and never scheduled: the
	// pod garbage collector does not see them.
	del = append(del, unscheduledPodsWithoutNode(nodes, nodeToPods)...)
	return c.syncNodes(ctx, ds, del, create, hash)
}

// podsShouldBeOnNode decides for one node whether a pod must be created and
// which of its pods must be deleted.
func (c *Controller) podsShouldBeOnNode(ctx context.Context, node *corev1.Node, pred *util.NodePredicate, nodeToPods map[string][]*corev1.Pod, ds *appsv1.DaemonSet, hash string) (needsPod bool, toDelete []*corev1.Pod) {
	logger := klog.FromContext(ctx)
	shouldRun, shouldContinueRunning := pred.ShouldRun(node)
	pods, exists := nodeToPods[node.Name]
	switch {
	case shouldRun && !exists:
		return true, nil
	case shouldContinueRunning:
		var running []*corev1.Pod
		for _, pod := range pods {
			if pod.DeletionTimestamp != nil {
				continue
			}
			switch pod.Status.Phase {
			case corev1.PodFailed:
				// The kubelet may keep rejecting the pod: back off per node.
				backoffKey := failedPodsBackoffKey(ds, node.Name)
				now := c.failedPodsBackoff.Clock.Now()
				if c.failedPodsBackoff.IsInBackOffSinceUpdate(backoffKey, now) {
					delay := c.failedPodsBackoff.Get(backoffKey)
					logger.V(4).Info("Deleting failed pod on node has been limited by backoff", "pod", klog.KObj(pod), "node", node.Name, "currentDelay", delay)
					c.enqueueAfter(ds, delay)
					continue
				}
				c.failedPodsBackoff.Next(backoffKey, now)
				msg := fmt.Sprintf("Found failed daemon pod %s/%s on node %s, will try to kill it", pod.Namespace, pod.Name, node.Name)
				logger.V(2).Info("Found failed daemon pod on node, will try to kill it", "pod", klog.KObj(pod), "node", node.Name)
				c.recorder.Event(ds, corev1.EventTypeWarning, EventFailedDaemonPod, msg)
				toDelete = append(toDelete, pod)
			case corev1.PodSucceeded:
				msg := fmt.Sprintf("Found succeeded daemon pod %s/%s on node %s, will try to delete it", pod.Namespace, pod.Name, node.Name)
				logger.V(2).Info("Found succeeded daemon pod on node, will try to delete it", "pod", klog.KObj(pod), "node", node.Name)
				c.recorder.Event(ds, corev1.EventTypeNormal, EventSucceededDaemonPod, msg)
				toDelete = append(toDelete, pod)
			default:
				running = append(running, pod)
			}
		}
		if !util.AllowsSurge(ds) {
			// More than one pod: keep the oldest.
			if len(running) > 1 {
				sort.Sort(podByCreationTimestampAndPhase(running))
				toDelete = append(toDelete, running[1:]...)
			}
			return false, toDelete
		}
		if len(running) <= 1 {
			// Surging keeps at least one live pod on the node.
			return len(running) == 0 && shouldRun, toDelete
		}
		// Surging: keep the oldest new pod and the oldest old pod while the
		// new one is not yet available and the old one still ready.
		var oldestNew, oldestOld *corev1.Pod
		sort.Sort(podByCreationTimestampAndPhase(running))
		for _, pod := range running {
			if pod.Labels[util.RevisionHashLabel] == hash {
				if oldestNew == nil {
					oldestNew = pod
					continue
				}
			} else if oldestOld == nil {
				oldestOld = pod
				continue
			}
			toDelete = append(toDelete, pod)
		}
		if oldestNew != nil && oldestOld != nil {
			switch {
			case !replication.IsPodReady(oldestOld):
				logger.V(5).Info("Pod from daemonset is no longer ready and will be replaced with newer pod", "oldPod", klog.KObj(oldestOld), "newPod", klog.KObj(oldestNew))
				toDelete = append(toDelete, oldestOld)
			case replication.IsPodAvailable(oldestNew, ds.Spec.MinReadySeconds, c.clock.Now()):
				logger.V(5).Info("Pod from daemonset is now ready and will replace older pod", "newPod", klog.KObj(oldestNew), "oldPod", klog.KObj(oldestOld))
				toDelete = append(toDelete, oldestOld)
			}
		}
		return false, toDelete
	case exists:
		// The node no longer qualifies: every pod there goes.
		for _, pod := range pods {
			if pod.DeletionTimestamp == nil {
				toDelete = append(toDelete, pod)
			}
		}
	}
	return false, toDelete
}

func failedPodsBackoffKey(ds *appsv1.DaemonSet, nodeName string) string {
	return fmt.Sprintf("%s/%d/%s", ds.UID, ds.Status.ObservedGeneration, nodeName)
}

// unscheduledPodsWithoutNode returns the unbound pods meant for nodes not in nodes.
func unscheduledPodsWithoutNode(nodes []*corev1.Node, nodeToPods map[string][]*corev1.Pod) []*corev1.Pod {
	exists := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		exists[n.Name] = true
	}
	var out []*corev1.Pod
	for name, pods := range nodeToPods {
		if exists[name] {
			continue
		}
		for _, p := range pods {
			if p.Spec.NodeName == "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// syncNodes deletes pods and creates one pod per node name, at most
// burstReplicas of each, with expectations set first.
func (c *Controller) syncNodes(ctx context.Context, ds *appsv1.DaemonSet, podsToDelete []*corev1.Pod, nodesNeedingPods []string, hash string) error {
	logger := klog.FromContext(ctx)
	key, ok := keyOf(ds)
	if !ok {
		return nil
	}
	createDiff := min(len(nodesNeedingPods), c.burstReplicas)
	deleteDiff := min(len(podsToDelete), c.burstReplicas)
	podsToDelete = podsToDelete[:deleteDiff]
	delKeys := make([]string, deleteDiff)
	for i, p := range podsToDelete {
		delKeys[i] = replication.PodKey(p)
	}
	c.expectations.Expect(key, createDiff, delKeys)

	var errs []error
	var errMu sync.Mutex
	addErr := func(err error) {
		errMu.Lock()
		errs = append(errs, err)
		errMu.Unlock()
	}

	if createDiff > 0 {
		logger.V(4).Info("Nodes needing daemon pods", "daemonSet", klog.KObj(ds), "count", len(nodesNeedingPods), "creating", createDiff)
		generation, err := util.GetTemplateGeneration(ds)
		if err != nil {
			generation = nil
		}
		template := util.CreatePodTemplate(ds.Spec.Template, generation, hash)
		ref := metav1.NewControllerRef(ds, controllerKind)
		var next atomic.Int64
		successes, err := replication.SlowStartBatch(createDiff, SlowStartInitialBatchSize, func() error {
			node := nodesNeedingPods[next.Add(1)-1]
			t := template.DeepCopy()
			t.Spec.Affinity = util.ReplaceDaemonSetPodNodeNameNodeAffinity(t.Spec.Affinity, node)
			pod, err := replication.CreatePod(ctx, func(ctx context.Context, p *corev1.Pod) (*corev1.Pod, error) {
				return c.client.CoreV1().Pods(ds.Namespace).Create(ctx, p, metav1.CreateOptions{})
			}, t, ds.Namespace, ds.Name, ref)
			if err != nil {
				if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
					return nil
				}
				c.recorder.Eventf(ds, corev1.EventTypeWarning, EventFailedCreate, "Error creating: %v", err)
				return err
			}
			c.recorder.Eventf(ds, corev1.EventTypeNormal, EventSuccessfulCreate, "Created pod: %v", pod.Name)
			return nil
		})
		if skipped := createDiff - successes; skipped > 0 {
			logger.V(2).Info("Slow-start failure. Skipping creation of pods, decrementing expectations", "podsSkipped", skipped, "daemonSet", klog.KObj(ds))
			c.expectations.LowerCreations(key, skipped)
		}
		if err != nil {
			addErr(err)
		}
	}

	if deleteDiff > 0 {
		logger.V(4).Info("Pods to delete for daemon set", "daemonSet", klog.KObj(ds), "count", deleteDiff)
		var wg sync.WaitGroup
		for _, p := range podsToDelete {
			wg.Add(1)
			go func(p *corev1.Pod) {
				defer wg.Done()
				err := c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
				if err != nil {
					// This request will not make the pod go away.
					c.expectations.DeletionObserved(key, replication.PodKey(p))
					if apierrors.IsNotFound(err) {
						return
					}
					c.recorder.Eventf(ds, corev1.EventTypeWarning, EventFailedDelete, "Error deleting: %v", err)
					addErr(err)
					return
				}
				c.recorder.Eventf(ds, corev1.EventTypeNormal, EventSuccessfulDelete, "Deleted pod: %v", p.Name)
			}(p)
		}
		wg.Wait()
	}
	return utilerrors.NewAggregate(errs)
}

// podByCreationTimestampAndPhase sorts bound pods first, then oldest first,
// then by name.
type podByCreationTimestampAndPhase []*corev1.Pod

func (o podByCreationTimestampAndPhase) Len() int      { return len(o) }
func (o podByCreationTimestampAndPhase) Swap(i, j int) { o[i], o[j] = o[j], o[i] }
func (o podByCreationTimestampAndPhase) Less(i, j int) bool {
	if (o[i].Spec.NodeName != "") != (o[j].Spec.NodeName != "") {
		return o[i].Spec.NodeName != ""
	}
	if o[i].CreationTimestamp.Equal(&o[j].CreationTimestamp) {
		return o[i].Name < o[j].Name
	}
	return o[i].CreationTimestamp.Before(&o[j].CreationTimestamp)
}
