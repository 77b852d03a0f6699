// Package scheduler binds pending pods to nodes, as Kubernetes'
// default-scheduler does: it filters nodes (NodeUnschedulable, NodeName,
// TaintToleration with node readiness, NodeAffinity/nodeSelector, NodePorts,
// NodeResourcesFit), scores the feasible ones (LeastAllocated cpu/memory and
// spreading the pods of one controller), and writes a pods/binding. Pods that
// fit nowhere get PodScheduled=False/Unschedulable and a FailedScheduling
// event and wait until a node or pod change could make room; then, as in
// Kubernetes 1.33+ (SchedulerPopFromBackoffQ), they are retried at once if
// the queue is idle, else when their backoff (1 s, doubling to 10 s) ends.
// Decisions run on an in-memory cache of node usage that assumes each placed
// pod before its binding is written, so bindings run asynchronously without
// overcommitting.
// Pods with PersistentVolumeClaims go through volume binding
// (volumebinding.go: bound volumes' node affinity, WaitForFirstConsumer
// claims get the chosen node and are bound before the pod).
// On a node running herd's process runtime (status.nodeInfo.
// containerRuntimeVersion "process://…") every pod shares the node's
// network, so NodePorts counts declared containerPorts there as host ports,
// as Kubernetes does for hostNetwork pods.
// It does not preempt, and does not implement inter-pod (anti-)affinity,
// topology spread constraints or DRA.
package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

const (
	// SchedulerName is the spec.schedulerName this scheduler serves (an
	// empty name means the same).
	SchedulerName = v1.DefaultSchedulerName

	// Event reasons.
	EventFailedScheduling = "FailedScheduling"
	EventScheduled        = "Scheduled"

	// DefaultBindConcurrency bounds the bindings in flight.
	DefaultBindConcurrency = 32

	// As kube-scheduler: unschedulable pods stay parked at most 5 minutes
	// (checked every 30 s), and a pod retried after a failure waits 1 s,
	// doubling per attempt up to 10 s.
	unschedulableFlushPeriod = 30 * time.Second
	unschedulableMaxDuration = 5 * time.Minute
	initialBackoff           = time.Second
	maxBackoff               = 10 * time.Second
)

// Options tunes a Scheduler; the zero value means defaults.
type Options struct {
	// BindConcurrency bounds the pods/binding calls in flight
	// (DefaultBindConcurrency when 0).
	BindConcurrency int
}

// Scheduler places pending pods on nodes.
type Scheduler struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	clock    clock.WithTicker

	podLister corelisters.PodLister
	synced    []toolscache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]

	cache   *cache
	rnd     *rand.Rand // guarded by cache.mu
	volumes *volumeListers

	mu      sync.Mutex
	pending map[string]*podBackoff // pods that failed at least once, by key
	moveSeq int64                  // bumped by every event that may make parked pods schedulable
	// backoffQ holds the unschedulable pods a cluster event moved while
	// their backoff was still running, with the time it ends. As in
	// Kubernetes 1.33+ (SchedulerPopFromBackoffQ) such a pod is tried as
	// soon as the queue has nothing else to do, and at the latest when
	// its backoff ends. Pods backing off after an error are not in it.
	backoffQ map[string]time.Time

	bindSem chan struct{}
	binds   sync.WaitGroup
}

// podBackoff is the retry state of a pod that failed to schedule.
type podBackoff struct {
	attempts    int
	lastFailure time.Time
	parked      bool      // waiting in the unschedulable set for a cluster event
	parkedSince time.Time // when it was parked
}

func backoffFor(attempts int) time.Duration {
	d := initialBackoff
	for i := 1; i < attempts && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// New wires a Scheduler to the pod and node informers of factory.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder, clk clock.WithTicker) *Scheduler {
	return NewWithOptions(client, factory, recorder, clk, Options{})
}

// NewWithOptions is New with tuning options.
func NewWithOptions(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder, clk clock.WithTicker, opts Options) *Scheduler {
	if opts.BindConcurrency <= 0 {
		opts.BindConcurrency = DefaultBindConcurrency
	}
	podInformer := factory.Core().V1().Pods()
	nodeInformer := factory.Core().V1().Nodes()
	s := &Scheduler{
		client:    client,
		recorder:  recorder,
		clock:     clk,
		podLister: podInformer.Lister(),
		synced:    []toolscache.InformerSynced{podInformer.Informer().HasSynced, nodeInformer.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](initialBackoff, maxBackoff),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "scheduler", Clock: clk}),
		cache:    newCache(),
		rnd:      rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed)),
		pending:  map[string]*podBackoff{},
		backoffQ: map[string]time.Time{},
		bindSem:  make(chan struct{}, opts.BindConcurrency),
	}
	// Wait for the handlers (not only the informers) to have seen the
	// initial lists, so that no pod is tried before the nodes are cached.
	podReg, _ := podInformer.Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    s.onPodAdd,
		UpdateFunc: s.onPodUpdate,
		DeleteFunc: s.onPodDelete,
	})
	nodeReg, _ := nodeInformer.Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    s.onNodeAdd,
		UpdateFunc: s.onNodeUpdate,
		DeleteFunc: s.onNodeDelete,
	})
	s.synced = []toolscache.InformerSynced{podReg.HasSynced, nodeReg.HasSynced}
	s.volumes = s.newVolumeListers(factory)
	s.synced = append(s.synced, s.volumes.synced...)
	return s
}

// Run schedules until ctx is done, with workers goroutines taking pods from
// the queue. Decisions are serialised on the cache; bindings run in their
// own goroutines (at most Options.BindConcurrency at once).
func (s *Scheduler) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer s.queue.ShutDown()
	logger := klog.FromContext(ctx)
	if !toolscache.WaitForCacheSync(ctx.Done(), s.synced...) {
		return
	}
	logger.V(2).Info("Starting scheduler", "workers", workers)
	go s.flushLoop(ctx)
	for i := 0; i < workers; i++ {
		go wait.UntilWithContext(ctx, s.worker, time.Second)
	}
	<-ctx.Done()
	s.binds.Wait()
	logger.V(2).Info("Stopped scheduler")
}

func (s *Scheduler) worker(ctx context.Context) {
	for s.processNextItem(ctx) {
	}
}

func (s *Scheduler) processNextItem(ctx context.Context) bool {
	key, quit := s.queue.Get()
	if quit {
		return false
	}
	if err := s.scheduleOne(ctx, key); err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "Scheduling pod", "pod", key)
		s.queue.AddRateLimited(key)
	}
	s.queue.Done(key)
	s.popBackoffIfIdle()
	return true
}

func (s *Scheduler) flushLoop(ctx context.Context) {
	t := s.clock.NewTicker(unschedulableFlushPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			s.flushUnschedulableLeftover()
		}
	}
}

// responsible reports whether the pod waits for this scheduler.
func responsible(pod *v1.Pod) bool {
	return (pod.Spec.SchedulerName == "" || pod.Spec.SchedulerName == SchedulerName) &&
		pod.Spec.NodeName == "" &&
		pod.DeletionTimestamp == nil &&
		!terminal(pod) &&
		len(pod.Spec.SchedulingGates) == 0
}

func terminal(pod *v1.Pod) bool {
	return pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed
}

func podKey(pod *v1.Pod) string {
	return pod.Namespace + "/" + pod.Name
}

// scheduleOne is the sync function: one scheduling attempt for one pod.
func (s *Scheduler) scheduleOne(ctx context.Context, key string) error {
	ns, name, err := toolscache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := s.podLister.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		s.dropPending(key)
		return nil
	}
	if err != nil {
		return err
	}
	if !responsible(pod) {
		return nil
	}
	s.mu.Lock()
	if pb := s.pending[key]; pb != nil && pb.parked {
		// A stale backoff timer: the pod failed again since and now
		// waits for a cluster event.
		s.mu.Unlock()
		return nil
	}
	if until, ok := s.backoffQ[key]; ok {
		if until.After(s.clock.Now()) {
			// A stale timer of an earlier backoff; the current one
			// (or an idle queue) brings the pod back.
			s.mu.Unlock()
			return nil
		}
		delete(s.backoffQ, key)
	}
	seq := s.moveSeq
	s.mu.Unlock()

	pi := newPodInfo(pod)
	vols, preFilterMsg := s.volumes.preFilterVolumes(pod)
	pi.volumes = vols
	s.cache.mu.Lock()
	if _, ok := s.cache.pods[pod.UID]; ok {
		// Already assumed: its binding is in flight.
		s.cache.mu.Unlock()
		return nil
	}
	if preFilterMsg != "" {
		fitErr := &FitError{NumAllNodes: s.cache.numNodes, PreFilterMsg: preFilterMsg}
		s.cache.mu.Unlock()
		return s.handleUnschedulable(ctx, pod, fitErr, seq)
	}
	node, fitErr := s.cache.scheduleLocked(pi, s.rnd)
	if fitErr == nil {
		s.cache.assumeLocked(pi, node)
	}
	s.cache.mu.Unlock()

	if fitErr != nil {
		return s.handleUnschedulable(ctx, pod, fitErr, seq)
	}
	if vols != nil && len(vols.delayed) > 0 {
		s.bindWithVolumes(ctx, pod, vols, node)
		return nil
	}
	s.bind(ctx, pod, node)
	return nil
}

// handleUnschedulable parks the pod until a cluster event (or retries it
// after its backoff if such an event came during the attempt), records the
// FailedScheduling event and sets PodScheduled=False.
func (s *Scheduler) handleUnschedulable(ctx context.Context, pod *v1.Pod, fitErr *FitError, seq int64) error {
	key := podKey(pod)
	msg := fitErr.Error()
	klog.FromContext(ctx).V(2).Info("Unable to schedule pod", "pod", klog.KObj(pod), "reason", msg)
	now := s.clock.Now()
	s.mu.Lock()
	pb := s.pendingLocked(key)
	pb.attempts++
	pb.lastFailure = now
	retry := s.moveSeq != seq
	if retry {
		// A cluster event came during the attempt: back off, not park.
		s.backoffQ[key] = now.Add(backoffFor(pb.attempts))
	} else {
		pb.parked = true
		pb.parkedSince = now
	}
	s.mu.Unlock()
	if retry {
		s.queue.AddAfter(key, backoffFor(pb.attempts))
	}
	s.recorder.Eventf(pod, v1.EventTypeWarning, EventFailedScheduling, "%s", msg)
	return s.setUnschedulableCondition(ctx, pod, msg)
}

func (s *Scheduler) setUnschedulableCondition(ctx context.Context, pod *v1.Pod, msg string) error {
	var old *v1.PodCondition
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == v1.PodScheduled {
			old = &pod.Status.Conditions[i]
		}
	}
	if old != nil && old.Status == v1.ConditionFalse && old.Reason == v1.PodReasonUnschedulable && old.Message == msg {
		return nil
	}
	cond := v1.PodCondition{
		Type:               v1.PodScheduled,
		ObservedGeneration: pod.Generation,
		Status:             v1.ConditionFalse,
		Reason:             v1.PodReasonUnschedulable,
		Message:            msg,
		LastTransitionTime: metav1.NewTime(s.clock.Now()),
	}
	if old != nil && old.Status == v1.ConditionFalse {
		cond.LastTransitionTime = old.LastTransitionTime
	}
	patch, err := json.Marshal(map[string]any{
		"status": map[string]any{"conditions": []v1.PodCondition{cond}},
	})
	if err != nil {
		return err
	}
	_, err = s.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("setting PodScheduled=False on %s: %w", podKey(pod), err)
	}
	return nil
}

// bind writes the binding of an assumed pod in a goroutine. It blocks while
// Options.BindConcurrency bindings are in flight.
func (s *Scheduler) bind(ctx context.Context, pod *v1.Pod, node string) {
	select {
	case s.bindSem <- struct{}{}:
	case <-ctx.Done():
		s.cache.forget(pod.UID)
		return
	}
	s.binds.Add(1)
	go func() {
		defer func() {
			<-s.bindSem
			s.binds.Done()
		}()
		logger := klog.FromContext(ctx)
		key := podKey(pod)
		err := s.client.CoreV1().Pods(pod.Namespace).Bind(ctx, &v1.Binding{
			ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
			Target:     v1.ObjectReference{Kind: "Node", Name: node},
		}, metav1.CreateOptions{})
		if err != nil {
			s.cache.forget(pod.UID)
			// The resources it held in the cache are free again.
			s.moveAllToActive()
			if apierrors.IsNotFound(err) || ctx.Err() != nil {
				s.dropPending(key)
				return
			}
			logger.V(2).Info("Binding rejected", "pod", klog.KObj(pod), "node", node, "err", err)
			s.recorder.Eventf(pod, v1.EventTypeWarning, EventFailedScheduling, "Binding rejected: %v", err)
			s.mu.Lock()
			pb := s.pendingLocked(key)
			pb.attempts++
			pb.lastFailure = s.clock.Now()
			delay := backoffFor(pb.attempts)
			s.mu.Unlock()
			s.queue.AddAfter(key, delay)
			return
		}
		s.dropPending(key)
		s.queue.Forget(key)
		logger.V(4).Info("Bound pod", "pod", klog.KObj(pod), "node", node)
		s.recorder.Eventf(pod, v1.EventTypeNormal, EventScheduled, "Successfully assigned %v/%v to %v", pod.Namespace, pod.Name, node)
	}()
}

func (s *Scheduler) pendingLocked(key string) *podBackoff {
	pb, ok := s.pending[key]
	if !ok {
		pb = &podBackoff{}
		s.pending[key] = pb
	}
	return pb
}

func (s *Scheduler) dropPending(key string) {
	s.mu.Lock()
	delete(s.pending, key)
	delete(s.backoffQ, key)
	s.mu.Unlock()
}

// popBackoffIfIdle moves the backoffQ pod whose backoff ends first to the
// queue when the queue has nothing else waiting (Kubernetes'
// SchedulerPopFromBackoffQ): a pod that a cluster event made worth
// retrying does not sit out its backoff on an idle scheduler.
func (s *Scheduler) popBackoffIfIdle() {
	if s.queue.Len() > 0 || s.queue.ShuttingDown() {
		return
	}
	s.mu.Lock()
	first := ""
	var until time.Time
	for key, t := range s.backoffQ {
		if first == "" || t.Before(until) || (t.Equal(until) && key < first) {
			first, until = key, t
		}
	}
	if first != "" {
		delete(s.backoffQ, first)
	}
	s.mu.Unlock()
	if first != "" {
		s.queue.Add(first)
	}
}

// moveAllToActive requeues every parked pod: at once if its backoff is
// over, else into backoffQ (and so at once if the queue is idle):
// something changed that may make it schedulable.
func (s *Scheduler) moveAllToActive() {
	s.mu.Lock()
	s.moveSeq++
	moved := s.unparkLocked(func(*podBackoff) bool { return true })
	s.mu.Unlock()
	s.requeue(moved)
}

// flushUnschedulableLeftover requeues pods parked for more than 5 minutes.
func (s *Scheduler) flushUnschedulableLeftover() {
	now := s.clock.Now()
	s.mu.Lock()
	moved := s.unparkLocked(func(pb *podBackoff) bool {
		return now.Sub(pb.parkedSince) >= unschedulableMaxDuration
	})
	s.mu.Unlock()
	s.requeue(moved)
}

func (s *Scheduler) unparkLocked(pick func(*podBackoff) bool) map[string]time.Duration {
	now := s.clock.Now()
	moved := map[string]time.Duration{}
	for key, pb := range s.pending {
		if !pb.parked || !pick(pb) {
			continue
		}
		pb.parked = false
		moved[key] = pb.lastFailure.Add(backoffFor(pb.attempts)).Sub(now)
	}
	return moved
}

func (s *Scheduler) requeue(moved map[string]time.Duration) {
	if len(moved) == 0 {
		return
	}
	now := s.clock.Now()
	for key, wait := range moved {
		if wait > 0 {
			s.mu.Lock()
			s.backoffQ[key] = now.Add(wait)
			s.mu.Unlock()
			s.queue.AddAfter(key, wait)
		} else {
			s.queue.Add(key)
		}
	}
	s.popBackoffIfIdle()
}

// Pod events.

func (s *Scheduler) onPodAdd(obj any) {
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	if pod.Spec.NodeName != "" {
		if !terminal(pod) {
			s.cache.addPod(pod)
		}
		return
	}
	if responsible(pod) {
		s.queue.Add(podKey(pod))
	}
}

func (s *Scheduler) onPodUpdate(oldObj, newObj any) {
	oldPod, ok1 := oldObj.(*v1.Pod)
	pod, ok2 := newObj.(*v1.Pod)
	if !ok1 || !ok2 {
		return
	}
	key := podKey(pod)
	if pod.Spec.NodeName != "" {
		s.dropPending(key)
		if terminal(pod) {
			if s.cache.removePod(pod.UID) {
				s.moveAllToActive()
			}
			return
		}
		s.cache.addPod(pod)
		return
	}
	if !responsible(pod) {
		s.dropPending(key)
		return
	}
	// Our own status writes must not retry the pod; a change of what the
	// pod asks for (spec, labels) or a pod newly ours (gates removed) does.
	if responsible(oldPod) && equality.Semantic.DeepEqual(oldPod.Spec, pod.Spec) &&
		equality.Semantic.DeepEqual(oldPod.Labels, pod.Labels) {
		return
	}
	s.mu.Lock()
	if pb, ok := s.pending[key]; ok {
		pb.parked = false
	}
	delete(s.backoffQ, key)
	s.mu.Unlock()
	s.queue.Add(key)
}

func (s *Scheduler) onPodDelete(obj any) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	s.dropPending(podKey(pod))
	if s.cache.removePod(pod.UID) {
		s.moveAllToActive()
	}
}

// Node events.

func (s *Scheduler) onNodeAdd(obj any) {
	node, ok := obj.(*v1.Node)
	if !ok {
		return
	}
	s.cache.setNode(node)
	s.moveAllToActive()
}

func (s *Scheduler) onNodeUpdate(oldObj, newObj any) {
	oldNode, ok1 := oldObj.(*v1.Node)
	node, ok2 := newObj.(*v1.Node)
	if !ok1 || !ok2 {
		return
	}
	s.cache.setNode(node)
	if nodeSchedulingChanged(oldNode, node) {
		s.moveAllToActive()
	}
}

// nodeSchedulingChanged ignores heartbeats: only allocatable, labels,
// taints, cordon and readiness can change a filter's verdict.
func nodeSchedulingChanged(a, b *v1.Node) bool {
	return !equality.Semantic.DeepEqual(a.Status.Allocatable, b.Status.Allocatable) ||
		!equality.Semantic.DeepEqual(a.Labels, b.Labels) ||
		!equality.Semantic.DeepEqual(a.Spec.Taints, b.Spec.Taints) ||
		a.Spec.Unschedulable != b.Spec.Unschedulable ||
		readyStatus(a) != readyStatus(b)
}

func (s *Scheduler) onNodeDelete(obj any) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if node, ok := obj.(*v1.Node); ok {
		s.cache.removeNode(node.Name)
	}
}
