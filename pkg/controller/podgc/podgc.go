// Package podgc deletes pods nobody else will clean up, as Kubernetes' pod
// garbage collector does: terminated pods above a threshold (oldest first),
// pods bound to nodes that no longer exist (after a quarantine), unscheduled
// pods that are terminating, and terminating pods on out-of-service nodes.
// Pods that are not yet terminal are first marked Failed (with a
// DisruptionTarget condition when their node is gone), then force-deleted.
// It does not evict pods from live nodes.
package podgc

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// Defaults, as in Kubernetes.
const (
	DefaultTerminatedPodThreshold = 12500
	DefaultPeriod                 = 20 * time.Second
	// Quarantine is how long a node must stay absent before its pods are deleted.
	Quarantine = 40 * time.Second

	// ReasonDeletionByPodGC is the DisruptionTarget reason for pods on gone nodes.
	ReasonDeletionByPodGC = "DeletionByPodGC"
	// MessageNodeGone is the DisruptionTarget message for pods on gone nodes.
	MessageNodeGone = "PodGC: node no longer exists"

	deleteParallelism = 20
)

// Options tunes the collector.
type Options struct {
	// TerminatedPodThreshold: terminated pods kept before the oldest are
	// deleted; 0 means the default 12500, a negative value disables it.
	TerminatedPodThreshold int
	// Period between collections (default 20 s).
	Period time.Duration
}

// Controller is the pod garbage collector.
type Controller struct {
	client    kubernetes.Interface
	pods      corelisters.PodLister
	nodes     corelisters.NodeLister
	synced    []cache.InformerSynced
	clock     clock.WithTicker
	threshold int
	period    time.Duration
	// nodeQueue holds names of nodes seen missing, released after the quarantine.
	nodeQueue workqueue.TypedDelayingInterface[string]
}

// New wires the collector to the pod and node informers of factory.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, clk clock.WithTicker, opts Options) *Controller {
	if clk == nil {
		clk = clock.RealClock{}
	}
	podInf := factory.Core().V1().Pods()
	nodeInf := factory.Core().V1().Nodes()
	c := &Controller{
		client:    client,
		pods:      podInf.Lister(),
		nodes:     nodeInf.Lister(),
		synced:    []cache.InformerSynced{podInf.Informer().HasSynced, nodeInf.Informer().HasSynced},
		clock:     clk,
		threshold: opts.TerminatedPodThreshold,
		period:    opts.Period,
		nodeQueue: workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[string]{
			Name: "orphaned_pods_nodes", Clock: clk}),
	}
	if c.threshold == 0 {
		c.threshold = DefaultTerminatedPodThreshold
	}
	if c.period <= 0 {
		c.period = DefaultPeriod
	}
	return c
}

// Run collects every period until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.nodeQueue.ShutDown()
	klog.FromContext(ctx).V(2).Info("Starting pod garbage collector")
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return
	}
	ticker := c.clock.NewTicker(c.period)
	defer ticker.Stop()
	for {
		c.gc(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
		}
	}
}

// gc runs one collection.
func (c *Controller) gc(ctx context.Context) {
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "Pod GC: listing pods")
		return
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "Pod GC: listing nodes")
		return
	}
	if c.threshold > 0 {
		c.gcTerminated(ctx, pods)
	}
	c.gcTerminatingOutOfService(ctx, pods, nodes)
	c.gcOrphaned(ctx, pods, nodes)
	c.gcUnscheduledTerminating(ctx, pods)
}

func isTerminated(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

func isEvicted(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed && p.Status.Reason == "Evicted"
}

// gcTerminated deletes the terminated pods above the threshold: evicted
// first, then oldest by creationTimestamp, then by name.
func (c *Controller) gcTerminated(ctx context.Context, pods []*corev1.Pod) {
	var terminated []*corev1.Pod
	for _, p := range pods {
		if isTerminated(p) {
			terminated = append(terminated, p)
		}
	}
	n := len(terminated) - c.threshold
	if n <= 0 {
		return
	}
	sort.Slice(terminated, func(i, j int) bool {
		a, b := terminated[i], terminated[j]
		if ea, eb := isEvicted(a), isEvicted(b); ea != eb {
			return ea
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	klog.FromContext(ctx).V(2).Info("Pod GC: deleting terminated pods above the threshold", "count", n, "threshold", c.threshold)
	c.deleteAll(ctx, terminated[:n], nil)
}

// gcTerminatingOutOfService force-deletes terminating pods on nodes that are
// not ready and tainted node.kubernetes.io/out-of-service.
func (c *Controller) gcTerminatingOutOfService(ctx context.Context, pods []*corev1.Pod, nodes []*corev1.Node) {
	outOfService := sets.New[string]()
	for _, n := range nodes {
		if nodeReady(n) {
			continue
		}
		for _, t := range n.Spec.Taints {
			if t.Key == corev1.TaintNodeOutOfService {
				outOfService.Insert(n.Name)
			}
		}
	}
	if outOfService.Len() == 0 {
		return
	}
	var victims []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp != nil && outOfService.Has(p.Spec.NodeName) {
			victims = append(victims, p)
		}
	}
	if len(victims) > 0 {
		klog.FromContext(ctx).V(2).Info("Pod GC: force-deleting terminating pods on out-of-service nodes", "count", len(victims))
		c.deleteAll(ctx, victims, nil)
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// gcOrphaned deletes pods bound to nodes that have been absent for the
// quarantine and are confirmed absent by a live lookup.
func (c *Controller) gcOrphaned(ctx context.Context, pods []*corev1.Pod, nodes []*corev1.Node) {
	existing := sets.New[string]()
	for _, n := range nodes {
		existing.Insert(n.Name)
	}
	for _, p := range pods {
		if p.Spec.NodeName != "" && !existing.Has(p.Spec.NodeName) {
			c.nodeQueue.AddAfter(p.Spec.NodeName, Quarantine)
		}
	}
	deleted := sets.New[string]()
	for c.nodeQueue.Len() > 0 {
		name, quit := c.nodeQueue.Get()
		if quit {
			return
		}
		c.nodeQueue.Done(name)
		_, err := c.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			deleted.Insert(name)
		case err != nil:
			utilruntime.HandleErrorWithContext(ctx, err, "Pod GC: checking node", "node", name)
			c.nodeQueue.AddAfter(name, Quarantine)
		}
	}
	if deleted.Len() == 0 {
		return
	}
	var victims []*corev1.Pod
	for _, p := range pods {
		if deleted.Has(p.Spec.NodeName) {
			victims = append(victims, p)
		}
	}
	klog.FromContext(ctx).V(2).Info("Pod GC: deleting pods bound to nodes that no longer exist", "count", len(victims), "nodes", sets.List(deleted))
	c.deleteAll(ctx, victims, &corev1.PodCondition{
		Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: ReasonDeletionByPodGC, Message: MessageNodeGone,
	})
}

// gcUnscheduledTerminating force-deletes terminating pods never bound to a node.
func (c *Controller) gcUnscheduledTerminating(ctx context.Context, pods []*corev1.Pod) {
	var victims []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp != nil && p.Spec.NodeName == "" {
			victims = append(victims, p)
		}
	}
	if len(victims) > 0 {
		klog.FromContext(ctx).V(2).Info("Pod GC: force-deleting unscheduled terminating pods", "count", len(victims))
		c.deleteAll(ctx, victims, nil)
	}
}

func (c *Controller) deleteAll(ctx context.Context, pods []*corev1.Pod, cond *corev1.PodCondition) {
	workqueue.ParallelizeUntil(ctx, deleteParallelism, len(pods), func(i int) {
		if err := c.markFailedAndDelete(ctx, pods[i], cond); err != nil && !apierrors.IsNotFound(err) {
			utilruntime.HandleErrorWithContext(ctx, err, "Pod GC: deleting pod", "pod", klog.KObj(pods[i]))
		}
	})
}

// markFailedAndDelete moves a non-terminal pod to Failed (adding cond) with a
// status patch guarded by its uid — there may be no kubelet left to do it —
// then deletes it with grace period 0.
func (c *Controller) markFailedAndDelete(ctx context.Context, pod *corev1.Pod, cond *corev1.PodCondition) error {
	if !isTerminated(pod) {
		status := map[string]interface{}{"phase": corev1.PodFailed}
		if cond != nil {
			cc := *cond
			cc.LastTransitionTime = metav1.NewTime(c.clock.Now())
			for _, old := range pod.Status.Conditions {
				if old.Type == cc.Type && old.Status == cc.Status {
					cc.LastTransitionTime = old.LastTransitionTime
				}
			}
			status["conditions"] = []corev1.PodCondition{cc}
		}
		patch, err := json.Marshal(map[string]interface{}{
			"metadata": map[string]interface{}{"uid": pod.UID},
			"status":   status,
		})
		if err != nil {
			return err
		}
		if _, err := c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch,
			metav1.PatchOptions{}, "status"); err != nil {
			return err
		}
	}
	uid := pod.UID
	zero := int64(0)
	return c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
}
