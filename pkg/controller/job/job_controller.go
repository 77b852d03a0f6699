// Package job runs batch/v1 Jobs as Kubernetes' Job controller does: it
// creates and deletes the pods of a Job (NonIndexed and Indexed), tracks
// finished pods with the batch.kubernetes.io/job-tracking finalizer and
// status.uncountedTerminatedPods, applies backoffLimit (with re-creation
// backoff), backoffLimitPerIndex, podFailurePolicy, successPolicy,
// activeDeadlineSeconds and suspend, and writes the Job status and
// conditions. It does not delete finished Jobs (see ttlafterfinished), does
// not garbage-collect pods of deleted Jobs, and leaves Jobs whose managedBy
// names another controller alone.
//
// One deliberate difference: a pod deleted while it runs (deletionTimestamp
// set, phase not terminal) is not counted as failed; it is replaced
// (immediately, or once terminal with podReplacementPolicy Failed) and counts
// as failed only if it ends in phase Failed.
package job

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herd-project/herd/pkg/controller/internal/consistency"
	"github.com/herd-project/herd/pkg/controller/internal/podcontrol"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
)

// Tunables with Kubernetes' values (the backoff cap is herd's: 6 minutes,
// as the Kubernetes documentation states).
const (
	DefaultPodFailureBackoff = 10 * time.Second
	MaxPodFailureBackoff     = 6 * time.Minute
	// MaxUncountedPods caps status.uncountedTerminatedPods per sync.
	MaxUncountedPods = 500
	// MaxPodCreateDeletePerSync caps pod creations/deletions per sync.
	MaxPodCreateDeletePerSync = 500
	// SlowStartInitialBatchSize is the first pod creation batch.
	SlowStartInitialBatchSize = 1
	// DefaultSyncBatchPeriod groups pod events of one Job into one sync.
	DefaultSyncBatchPeriod = time.Second
)

// Condition reasons and messages, and event reasons.
const (
	ReasonBackoffLimitExceeded     = batchv1.JobReasonBackoffLimitExceeded
	ReasonDeadlineExceeded         = batchv1.JobReasonDeadlineExceeded
	ReasonPodFailurePolicy         = batchv1.JobReasonPodFailurePolicy
	ReasonMaxFailedIndexesExceeded = batchv1.JobReasonMaxFailedIndexesExceeded
	ReasonFailedIndexes            = batchv1.JobReasonFailedIndexes
	ReasonSuccessPolicy            = batchv1.JobReasonSuccessPolicy
	ReasonCompletionsReached       = batchv1.JobReasonCompletionsReached
	ReasonJobSuspended             = "JobSuspended"
	ReasonJobResumed               = "JobResumed"

	MessageBackoffLimitExceeded     = "Job has reached the specified backoff limit"
	MessageDeadlineExceeded         = "Job was active longer than specified deadline"
	MessageMaxFailedIndexesExceeded = "Job has exceeded the specified maximal number of failed indexes"
	MessageFailedIndexes            = "Job has failed indexes"
	MessageCompletionsReached       = "Reached expected number of succeeded pods"

	EventSuccessfulCreate = "SuccessfulCreate"
	EventFailedCreate     = "FailedCreate"
	EventSuccessfulDelete = "SuccessfulDelete"
	EventFailedDelete     = "FailedDelete"
	EventCompleted        = "Completed"
	EventSuspended        = "Suspended"
	EventResumed          = "Resumed"
	EventTooManySucceeded = "TooManySucceededPods"
)

var jobKind = batchv1.SchemeGroupVersion.WithKind("Job")

// Options tunes the controller; the zero value gives Kubernetes' behaviour.
type Options struct {
	// SyncBatchPeriod delays a Job sync after a pod event so that events
	// of one Job are handled together (default DefaultSyncBatchPeriod;
	// negative means no delay).
	SyncBatchPeriod time.Duration
}

// Controller is the Job controller.
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	clock    clock.WithTicker

	jobLister batchlisters.JobLister
	podLister corelisters.PodLister
	podIndex  cache.Indexer
	synced    []cache.InformerSynced

	queue       workqueue.TypedRateLimitingInterface[string]
	batchPeriod time.Duration

	expectations *podcontrol.Expectations

	backoffMu sync.Mutex
	backoffs  map[string]backoffRecord

	// consistency holds the resourceVersions of our Job status writes: a
	// sync waits until the Job informer has observed them.
	consistency *consistency.Store
}

// New builds the Job controller on the factory's Job and Pod informers.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder, clk clock.WithTicker) (*Controller, error) {
	return NewWithOptions(client, factory, recorder, clk, Options{})
}

// NewWithOptions is New with tunables.
func NewWithOptions(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder, clk clock.WithTicker, opts Options) (*Controller, error) {
	jobInformer := factory.Batch().V1().Jobs()
	podInformer := factory.Core().V1().Pods()
	period := opts.SyncBatchPeriod
	if period == 0 {
		period = DefaultSyncBatchPeriod
	}
	if period < 0 {
		period = 0
	}
	c := &Controller{
		client:    client,
		recorder:  recorder,
		clock:     clk,
		jobLister: jobInformer.Lister(),
		podLister: podInformer.Lister(),
		podIndex:  podInformer.Informer().GetIndexer(),
		synced:    []cache.InformerSynced{jobInformer.Informer().HasSynced, podInformer.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Second, time.Minute),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "job", Clock: clk}),
		batchPeriod:  period,
		expectations: podcontrol.NewExpectations(clk),
		backoffs:     map[string]backoffRecord{},
		consistency: consistency.New(map[schema.GroupResource]consistency.LastSyncRVGetter{
			batchv1.Resource("jobs"): jobInformer.Informer().GetStore(),
		}),
	}
	if err := podcontrol.AddPodIndex(podInformer.Informer()); err != nil {
		return nil, err
	}
	if _, err := jobInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { c.enqueueJob(obj, 0) },
		UpdateFunc: c.updateJob,
		DeleteFunc: c.deleteJob,
	}); err != nil {
		return nil, fmt.Errorf("watching Jobs: %w", err)
	}
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	}); err != nil {
		return nil, fmt.Errorf("watching pods: %w", err)
	}
	return c, nil
}

// Run starts workers and blocks until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	logger := klog.FromContext(ctx)
	logger.V(2).Info("Starting job controller")
	defer logger.V(2).Info("Shutting down job controller")
	if !cache.WaitForNamedCacheSync("job", ctx.Done(), c.synced...) {
		return
	}
	for i := 0; i < workers; i++ {
		go wait.UntilWithContext(ctx, c.worker, time.Second)
	}
	<-ctx.Done()
}

func (c *Controller) worker(ctx context.Context) {
	for c.processNext(ctx) {
	}
}

func (c *Controller) processNext(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	err := c.sync(ctx, key)
	if err == nil {
		c.queue.Forget(key)
		return true
	}
	if consistency.HandleStale(ctx, err, key) {
		c.queue.AddRateLimited(key)
		return true
	}
	utilruntime.HandleErrorWithContext(ctx, err, "syncing job", "key", key)
	c.queue.AddRateLimited(key)
	return true
}

func (c *Controller) enqueueJob(obj interface{}, delay time.Duration) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	if delay > 0 {
		c.queue.AddAfter(key, delay)
	} else {
		c.queue.Add(key)
	}
}

func (c *Controller) updateJob(oldObj, newObj interface{}) {
	oldJob, ok1 := oldObj.(*batchv1.Job)
	newJob, ok2 := newObj.(*batchv1.Job)
	if !ok1 || !ok2 {
		return
	}
	if oldJob.UID != newJob.UID {
		c.deleteJob(oldObj)
	}
	c.enqueueJob(newJob, 0)
}

func (c *Controller) deleteJob(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return
	}
	// The sync of a missing Job releases the finalizers of its pods.
	c.enqueueJob(job, 0)
}

func (c *Controller) jobForPod(p *corev1.Pod) *batchv1.Job {
	ref := jobControllerRef(p)
	if ref == nil {
		return nil
	}
	job, err := c.jobLister.Jobs(p.Namespace).Get(ref.Name)
	if err != nil || job.UID != ref.UID {
		return nil
	}
	return job
}

// enqueueOwner enqueues the Job named by the pod's controller reference,
// even if it no longer exists (so that tracking finalizers are released).
func (c *Controller) enqueueOwner(p *corev1.Pod) bool {
	ref := jobControllerRef(p)
	if ref == nil {
		return false
	}
	c.queue.AddAfter(p.Namespace+"/"+ref.Name, c.batchPeriod)
	return true
}

func (c *Controller) enqueueMatchingJobs(p *corev1.Pod) {
	jobs, err := c.jobLister.Jobs(p.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	set := labels.Set(p.Labels)
	for _, j := range jobs {
		sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(set) {
			continue
		}
		c.enqueueJob(j, c.batchPeriod)
	}
}

func (c *Controller) addPod(obj interface{}) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if job := c.jobForPod(p); job != nil {
		c.expectations.CreationObserved(jobKey(job))
	}
	if p.DeletionTimestamp != nil {
		c.observeDeletion(p)
	}
	if !c.enqueueOwner(p) {
		c.enqueueMatchingJobs(p)
		if hasFinalizer(p) {
			c.queue.AddAfter(orphanPrefix+p.Namespace+"/"+p.Name, c.batchPeriod)
		}
	}
}

func (c *Controller) updatePod(oldObj, newObj interface{}) {
	oldPod, ok1 := oldObj.(*corev1.Pod)
	p, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || oldPod.ResourceVersion == p.ResourceVersion {
		return
	}
	if p.DeletionTimestamp != nil {
		c.observeDeletion(p)
	}
	if !hasFinalizer(p) {
		c.observeFinalizerRemoval(p)
	}
	oldRef, newRef := metav1.GetControllerOf(oldPod), metav1.GetControllerOf(p)
	if oldRef != nil && (newRef == nil || oldRef.UID != newRef.UID) {
		c.enqueueOwner(oldPod)
	}
	if newRef != nil {
		c.enqueueOwner(p)
		return
	}
	c.enqueueMatchingJobs(p)
	if hasFinalizer(p) {
		c.queue.AddAfter(orphanPrefix+p.Namespace+"/"+p.Name, c.batchPeriod)
	}
}

func (c *Controller) deletePod(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	c.observeDeletion(p)
	c.observeFinalizerRemoval(p)
	c.enqueueOwner(p)
}

func (c *Controller) observeDeletion(p *corev1.Pod) {
	if ref := jobControllerRef(p); ref != nil {
		c.expectations.DeletionObserved(p.Namespace+"/"+ref.Name, string(p.UID))
	}
}

func (c *Controller) observeFinalizerRemoval(p *corev1.Pod) {
	if ref := jobControllerRef(p); ref != nil {
		c.expectations.FinalizerRemovalObserved(p.Namespace+"/"+ref.Name, string(p.UID))
	}
	if metav1.GetControllerOf(p) == nil {
		// A pod released from a Job; forget it everywhere.
		c.expectations.FinalizerRemovalObservedAnywhere(string(p.UID))
	}
}

// isJobRef: the reference names a batch Job.
func isJobRef(ref *metav1.OwnerReference) bool {
	if ref == nil || ref.Kind != "Job" {
		return false
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && gv.Group == batchv1.GroupName
}

// jobControllerRef returns the pod's controller reference if it is a Job.
func jobControllerRef(p *corev1.Pod) *metav1.OwnerReference {
	if ref := metav1.GetControllerOf(p); isJobRef(ref) {
		return ref
	}
	return nil
}

func jobKey(job *batchv1.Job) string { return job.Namespace + "/" + job.Name }

const orphanPrefix = "orphan-pod:"

// syncCtx is what one sync of one Job knows and computes.
type syncCtx struct {
	job *batchv1.Job
	// statusEvents are the Normal events about a status change
	// (Suspended, Resumed): sent once the status is written, so that a
	// failed write and its retry do not send them twice.
	statusEvents [][2]string
	pods         []*corev1.Pod
	activePods   []*corev1.Pod

	succeeded, failed int32
	ready             int32
	terminating       int32

	newSucceeded, newFailed []*corev1.Pod
	uncountedSucceeded      sets.Set[types.UID]
	uncountedFailed         sets.Set[types.UID]
	expectedRm              sets.Set[string]

	finishedCondition *batchv1.JobCondition

	prevSucceededIndexes intervals
	succeededIndexes     intervals
	failedIndexes        intervals
	delayedPerIndex      map[int]*corev1.Pod

	newBackoff backoffRecord
}

func (c *Controller) sync(ctx context.Context, key string) error {
	if rest, ok := strings.CutPrefix(key, orphanPrefix); ok {
		return c.syncOrphanPod(ctx, rest)
	}
	return c.syncJob(ctx, key)
}

func (c *Controller) newCondition(t batchv1.JobConditionType, reason, msg string) *batchv1.JobCondition {
	now := metav1.NewTime(c.clock.Now())
	return &batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: msg,
		LastProbeTime: now, LastTransitionTime: now}
}

// syncJob reconciles one Job: read state from the listers, compute, write.
func (c *Controller) syncJob(ctx context.Context, key string) error {
	logger := klog.FromContext(ctx)
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	// Counting from a Job older than our last status write would lose or
	// double-count pods whose finalizers are already gone.
	nn := types.NamespacedName{Namespace: ns, Name: name}
	if err := c.consistency.EnsureReady(nn); err != nil {
		return err
	}
	shared, err := c.jobLister.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expectations.Delete(key)
		c.consistency.Clear(nn, "")
		c.setBackoff(key, backoffRecord{})
		return c.releaseFinalizers(ctx, c.podsNamingGoneJob(ns, name))
	}
	if err != nil {
		return err
	}
	if !managedByUs(shared) {
		logger.V(4).Info("Skipping Job managed by another controller", "job", klog.KObj(shared), "managedBy", *shared.Spec.ManagedBy)
		return nil
	}
	if IsJobFinished(shared) {
		c.setBackoff(key, backoffRecord{})
		c.consistency.Clear(nn, shared.UID)
		owned, err := podcontrol.ControlledPods(c.podIndex, shared.Namespace, shared.UID)
		if err != nil {
			return err
		}
		var leftovers []*corev1.Pod
		for _, p := range owned {
			if hasFinalizer(p) {
				leftovers = append(leftovers, p)
			}
		}
		return c.releaseFinalizers(ctx, leftovers)
	}

	job := shared.DeepCopy()
	if job.Status.UncountedTerminatedPods == nil {
		job.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
	satisfied := c.expectations.Satisfied(key)
	pods, err := c.getPodsForJob(ctx, job)
	if err != nil {
		return err
	}
	jc := &syncCtx{
		job:                job,
		pods:               pods,
		expectedRm:         c.expectations.ExpectedFinalizerRemovals(key),
		uncountedSucceeded: sets.New(job.Status.UncountedTerminatedPods.Succeeded...),
		uncountedFailed:    sets.New(job.Status.UncountedTerminatedPods.Failed...),
	}
	for _, p := range pods {
		switch {
		case isActive(p):
			jc.activePods = append(jc.activePods, p)
			if isReady(p) {
				jc.ready++
			}
		case isTerminating(p):
			jc.terminating++
		}
	}
	active := int32(len(jc.activePods))
	jc.newSucceeded, jc.newFailed = newFinishedPods(jc)
	jc.succeeded = job.Status.Succeeded + int32(len(jc.newSucceeded)) + int32(jc.uncountedSucceeded.Len())
	jc.failed = job.Status.Failed + countedFailures(job, jc.newFailed) + int32(jc.uncountedFailed.Len())

	statusChanged := false
	if job.Status.StartTime == nil && !suspended(job) {
		now := metav1.NewTime(c.clock.Now())
		job.Status.StartTime = &now
		statusChanged = true
	}
	jc.newBackoff = nextBackoffRecord(c.backoffFor(key), jc.newSucceeded, jc.newFailed)

	// Interim conditions already written by an earlier sync decide the end.
	if sc := conditionTrue(job, batchv1.JobSuccessCriteriaMet); sc != nil {
		jc.finishedCondition = c.newCondition(batchv1.JobSuccessCriteriaMet, sc.Reason, sc.Message)
	} else if ft := conditionTrue(job, batchv1.JobFailureTarget); ft != nil {
		jc.finishedCondition = c.newCondition(batchv1.JobFailed, ft.Reason, ft.Message)
	} else if msg := failJobMessage(job, pods); msg != nil {
		jc.finishedCondition = c.newCondition(batchv1.JobFailureTarget, ReasonPodFailurePolicy, *msg)
	}
	if jc.finishedCondition == nil {
		if jc.failed > ptr.Deref(job.Spec.BackoffLimit, 6) || pastBackoffLimitOnFailure(job, pods) {
			jc.finishedCondition = c.newCondition(batchv1.JobFailureTarget, ReasonBackoffLimitExceeded, MessageBackoffLimitExceeded)
		} else if c.pastActiveDeadline(job) {
			jc.finishedCondition = c.newCondition(batchv1.JobFailureTarget, ReasonDeadlineExceeded, MessageDeadlineExceeded)
		} else if job.Spec.ActiveDeadlineSeconds != nil && !suspended(job) && job.Status.StartTime != nil {
			left := time.Duration(*job.Spec.ActiveDeadlineSeconds)*time.Second - c.clock.Since(job.Status.StartTime.Time)
			logger.V(4).Info("Job has activeDeadlineSeconds, requeueing", "job", klog.KObj(job), "after", left)
			c.queue.AddAfter(key, left)
		}
	}
	if isIndexed(job) {
		completions := int(ptr.Deref(job.Spec.Completions, 0))
		jc.prevSucceededIndexes, jc.succeededIndexes = succeededIndexes(job, pods, completions)
		jc.succeeded = int32(jc.succeededIndexes.total())
		if hasBackoffLimitPerIndex(job) {
			jc.failedIndexes = failedIndexes(job, pods, completions)
			if jc.finishedCondition == nil {
				if job.Spec.MaxFailedIndexes != nil && jc.failedIndexes.total() > int(*job.Spec.MaxFailedIndexes) {
					jc.finishedCondition = c.newCondition(batchv1.JobFailureTarget, ReasonMaxFailedIndexesExceeded, MessageMaxFailedIndexesExceeded)
				} else if jc.failedIndexes.total() > 0 && jc.failedIndexes.total()+jc.succeededIndexes.total() >= completions {
					jc.finishedCondition = c.newCondition(batchv1.JobFailureTarget, ReasonFailedIndexes, MessageFailedIndexes)
				}
			}
			jc.delayedPerIndex = podsWithDelayedDeletionPerIndex(jc, completions)
		}
		if jc.finishedCondition == nil {
			if msg, met := matchSuccessPolicy(job.Spec.SuccessPolicy, completions, jc.succeededIndexes); met {
				jc.finishedCondition = c.newCondition(batchv1.JobSuccessCriteriaMet, ReasonSuccessPolicy, msg)
			}
		}
	}

	var manageErr error
	if jc.finishedCondition != nil {
		deletedReady, deleted, err := c.deletePods(ctx, job, jc.activePods, false)
		if deleted != active || !satisfied {
			// Pods are left, or the cache may miss some: decide later.
			jc.finishedCondition = nil
		}
		active -= deleted
		jc.ready -= deletedReady
		jc.terminating += deleted
		manageErr = err
	} else {
		manageCalled := false
		if satisfied && job.DeletionTimestamp == nil {
			active, manageErr = c.manageJob(ctx, jc)
			manageCalled = true
		}
		complete := false
		if job.Spec.Completions == nil {
			complete = jc.succeeded > 0 && active == 0
		} else {
			complete = jc.succeeded >= *job.Spec.Completions && active == 0
		}
		if complete {
			jc.finishedCondition = c.newCondition(batchv1.JobSuccessCriteriaMet, ReasonCompletionsReached, MessageCompletionsReached)
		} else if manageCalled {
			if suspended(job) {
				// A suspended Job has not started; resuming starts the
				// activeDeadlineSeconds clock afresh.
				if job.Status.StartTime != nil {
					job.Status.StartTime = nil
					statusChanged = true
				}
				if setSuspended(job, corev1.ConditionTrue, ReasonJobSuspended, "Job suspended", c.clock.Now()) {
					statusChanged = true
					jc.statusEvents = append(jc.statusEvents, [2]string{EventSuspended, "Job suspended"})
				}
			} else if setSuspended(job, corev1.ConditionFalse, ReasonJobResumed, "Job resumed", c.clock.Now()) {
				statusChanged = true
				jc.statusEvents = append(jc.statusEvents, [2]string{EventResumed, "Job resumed"})
				// activeDeadlineSeconds counts continuous activity.
				now := metav1.NewTime(c.clock.Now())
				job.Status.StartTime = &now
			}
		}
	}

	statusChanged = statusChanged || active != job.Status.Active || !ptr.Equal(&jc.ready, job.Status.Ready) ||
		!ptr.Equal(&jc.terminating, job.Status.Terminating)
	job.Status.Active = active
	job.Status.Ready = ptr.To(jc.ready)
	job.Status.Terminating = ptr.To(jc.terminating)
	if err := c.trackStatus(ctx, jc, statusChanged); err != nil {
		return errorf("tracking status: %w", err)
	}
	for _, ev := range jc.statusEvents {
		c.recorder.Event(job, corev1.EventTypeNormal, ev[0], ev[1])
	}
	return manageErr
}

func (c *Controller) pastActiveDeadline(job *batchv1.Job) bool {
	if job.Spec.ActiveDeadlineSeconds == nil || job.Status.StartTime == nil || suspended(job) {
		return false
	}
	return c.clock.Since(job.Status.StartTime.Time) >= time.Duration(*job.Spec.ActiveDeadlineSeconds)*time.Second
}

// setSuspended sets the Suspended condition; it reports whether it changed.
// An absent condition is only added when suspending.
func setSuspended(job *batchv1.Job, status corev1.ConditionStatus, reason, msg string, now time.Time) bool {
	for i := range job.Status.Conditions {
		cond := &job.Status.Conditions[i]
		if cond.Type != batchv1.JobSuspended {
			continue
		}
		if cond.Status == status && cond.Reason == reason && cond.Message == msg {
			return false
		}
		if cond.Status != status {
			cond.LastTransitionTime = metav1.NewTime(now)
		}
		cond.Status, cond.Reason, cond.Message = status, reason, msg
		cond.LastProbeTime = metav1.NewTime(now)
		return true
	}
	if status == corev1.ConditionFalse {
		return false
	}
	t := metav1.NewTime(now)
	job.Status.Conditions = append(job.Status.Conditions, batchv1.JobCondition{Type: batchv1.JobSuspended,
		Status: status, Reason: reason, Message: msg, LastProbeTime: t, LastTransitionTime: t})
	return true
}

// manageJob creates or deletes pods so that the active count matches what
// the Job wants; it returns the new active count.
func (c *Controller) manageJob(ctx context.Context, jc *syncCtx) (int32, error) {
	logger := klog.FromContext(ctx)
	job := jc.job
	active := int32(len(jc.activePods))
	if suspended(job) {
		rmReady, rm, err := c.deletePods(ctx, job, activePodsForRemoval(job, jc.activePods, len(jc.activePods)), true)
		jc.ready -= rmReady
		jc.terminating += rm
		return active - rm, err
	}
	parallelism := ptr.Deref(job.Spec.Parallelism, 1)
	var want int32
	if job.Spec.Completions == nil {
		// Work queue: once any pod succeeded, start nothing new.
		if jc.succeeded > 0 {
			want = active
		} else {
			want = parallelism
		}
	} else {
		want = max(min(*job.Spec.Completions-jc.succeeded, parallelism), 0)
	}
	rmAtLeast := max(active-want, 0)
	toDelete := activePodsForRemoval(job, jc.activePods, int(rmAtLeast))
	if len(toDelete) > MaxPodCreateDeletePerSync {
		toDelete = toDelete[:MaxPodCreateDeletePerSync]
	}
	if len(toDelete) > 0 {
		logger.V(4).Info("Too many pods running for job", "job", klog.KObj(job), "deleting", len(toDelete), "target", want)
		rmReady, rm, err := c.deletePods(ctx, job, toDelete, true)
		jc.ready -= rmReady
		jc.terminating += rm
		return active - rm, err
	}

	var busyTerminating int32
	if onlyReplaceFailedPods(job) {
		busyTerminating = jc.terminating
	}
	diff := want - busyTerminating - active
	if diff <= 0 {
		return active, nil
	}
	if !hasBackoffLimitPerIndex(job) {
		if left := c.backoffRemaining(jc.newBackoff); left > 0 {
			logger.V(4).Info("Delaying pod creation after failures", "job", klog.KObj(job), "after", left)
			c.queue.AddAfter(jobKey(job), left)
			return active, nil
		}
	}
	diff = min(diff, MaxPodCreateDeletePerSync)
	var indexes []int
	if isIndexed(job) {
		completions := int(*job.Spec.Completions)
		indexes = firstPendingIndexes(jc, int(diff), completions)
		if hasBackoffLimitPerIndex(job) {
			var wait []int
			indexes, wait = c.indexesReadyAfterBackoff(job, indexes, jc.delayedPerIndex)
			if len(wait) > 0 {
				c.queue.AddAfter(jobKey(job), c.indexBackoff(job, jc.delayedPerIndex[wait[0]]))
			}
		}
		diff = int32(len(indexes))
		if diff == 0 {
			return active, nil
		}
	}
	key := jobKey(job)
	c.expectations.ExpectCreations(key, int(diff))
	logger.V(4).Info("Too few pods running", "job", klog.KObj(job), "want", want, "creating", diff)

	tmpl := job.Spec.Template.DeepCopy()
	if isIndexed(job) {
		addCompletionIndexEnv(tmpl)
	}
	if !containsString(tmpl.Finalizers, batchv1.JobTrackingFinalizer) {
		tmpl.Finalizers = append(tmpl.Finalizers, batchv1.JobTrackingFinalizer)
	}
	var errs []error
	var errMu sync.Mutex
	created := int32(0)
	for batch := min(diff, SlowStartInitialBatchSize); diff > 0; batch = min(2*batch, diff) {
		var wg sync.WaitGroup
		failedBefore := len(errs)
		for i := int32(0); i < batch; i++ {
			ix := unknownIndex
			if len(indexes) > 0 {
				ix, indexes = indexes[0], indexes[1:]
			}
			wg.Add(1)
			go func(ix int) {
				defer wg.Done()
				if err := c.createPod(ctx, job, tmpl, ix, jc.delayedPerIndex[ix]); err != nil {
					c.expectations.CreationObserved(key)
					errMu.Lock()
					errs = append(errs, err)
					errMu.Unlock()
					return
				}
				atomic.AddInt32(&created, 1)
			}(ix)
		}
		wg.Wait()
		diff -= batch
		if len(errs) > failedBefore {
			// Slow start: give up the rest after a failed batch.
			for i := int32(0); i < diff; i++ {
				c.expectations.CreationObserved(key)
			}
			break
		}
	}
	return active + created, utilerrors.NewAggregate(errs)
}

// newPod builds a pod of the Job from the template.
func newPod(job *batchv1.Job, tmpl *corev1.PodTemplateSpec, ix int, prev *corev1.Pod) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    generateNamePrefix(job.Name, ix),
			Namespace:       job.Namespace,
			Labels:          copyMap(tmpl.Labels),
			Annotations:     copyMap(tmpl.Annotations),
			Finalizers:      append([]string(nil), tmpl.Finalizers...),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(job, jobKind)},
		},
		Spec: *tmpl.Spec.DeepCopy(),
	}
	if ix != unknownIndex {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		if pod.Labels == nil {
			pod.Labels = map[string]string{}
		}
		pod.Annotations[batchv1.JobCompletionIndexAnnotation] = strconv.Itoa(ix)
		pod.Labels[batchv1.JobCompletionIndexAnnotation] = strconv.Itoa(ix)
		pod.Spec.Hostname = fmt.Sprintf("%s-%d", job.Name, ix)
		if hasBackoffLimitPerIndex(job) {
			failures, ignored := int32(0), int32(0)
			if prev != nil {
				failures, ignored = nextIndexFailureCounts(job, prev)
			}
			pod.Annotations[batchv1.JobIndexFailureCountAnnotation] = strconv.Itoa(int(failures))
			if ignored > 0 {
				pod.Annotations[batchv1.JobIndexIgnoredFailureCountAnnotation] = strconv.Itoa(int(ignored))
			}
		}
	}
	return pod
}

func (c *Controller) createPod(ctx context.Context, job *batchv1.Job, tmpl *corev1.PodTemplateSpec, ix int, prev *corev1.Pod) error {
	pod := newPod(job, tmpl, ix, prev)
	created, err := c.client.CoreV1().Pods(job.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
		c.recorder.Eventf(job, corev1.EventTypeWarning, EventFailedCreate, "Error creating: %v", err)
		return err
	}
	klog.FromContext(ctx).V(4).Info("Created pod", "job", klog.KObj(job), "pod", klog.KObj(created))
	c.recorder.Eventf(job, corev1.EventTypeNormal, EventSuccessfulCreate, "Created pod: %v", created.Name)
	return nil
}

// deletePods deletes pods in parallel; it returns how many ready pods and
// how many pods in all were deleted. With untrack (deletions by manageJob)
// it records deletion expectations and first removes the tracking
// finalizer, so that these pods never count as succeeded or failed; without
// (the Job is finishing) pods keep the finalizer until trackStatus counts
// them.
func (c *Controller) deletePods(ctx context.Context, job *batchv1.Job, pods []*corev1.Pod, untrack bool) (int32, int32, error) {
	key := jobKey(job)
	var deleted, deletedReady int32
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range pods {
		if untrack {
			c.expectations.ExpectDeletions(key, []string{string(p.UID)})
		}
		wg.Add(1)
		go func(p *corev1.Pod) {
			defer wg.Done()
			var err error
			if untrack && hasFinalizer(p) {
				// Pods removed by scale-down or suspension are not
				// counted: drop the tracking finalizer first.
				_, err = c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, removeFinalizerPatch, metav1.PatchOptions{})
				if err != nil {
					err = fmt.Errorf("removing tracking finalizer: %w", err)
				}
			}
			if err == nil {
				err = c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}})
			}
			if err != nil && !apierrors.IsNotFound(err) {
				c.expectations.DeletionObserved(key, string(p.UID))
				c.recorder.Eventf(job, corev1.EventTypeWarning, EventFailedDelete, "Error deleting: %v", err)
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			if err == nil {
				c.recorder.Eventf(job, corev1.EventTypeNormal, EventSuccessfulDelete, "Deleted pod: %v", p.Name)
			}
			atomic.AddInt32(&deleted, 1)
			if isReady(p) {
				atomic.AddInt32(&deletedReady, 1)
			}
		}(p)
	}
	wg.Wait()
	return deletedReady, deleted, utilerrors.NewAggregate(errs)
}

// activePodsForRemoval picks pods to delete: for Indexed Jobs first pods
// with an invalid or duplicate index, then the least advanced pods.
func activePodsForRemoval(job *batchv1.Job, pods []*corev1.Pod, rmAtLeast int) []*corev1.Pod {
	var rm, left []*corev1.Pod
	if isIndexed(job) {
		completions := int(ptr.Deref(job.Spec.Completions, 0))
		byIndex := map[int][]*corev1.Pod{}
		for _, p := range pods {
			if ix, ok := validIndex(p, completions); ok {
				byIndex[ix] = append(byIndex[ix], p)
			} else {
				rm = append(rm, p)
			}
		}
		ixs := make([]int, 0, len(byIndex))
		for ix := range byIndex {
			ixs = append(ixs, ix)
		}
		sort.Ints(ixs)
		for _, ix := range ixs {
			group := byIndex[ix]
			sortPodsForDeletion(group)
			rm = append(rm, group[:len(group)-1]...)
			left = append(left, group[len(group)-1])
		}
	} else {
		left = append(left, pods...)
	}
	if len(rm) < rmAtLeast {
		sortPodsForDeletion(left)
		rm = append(rm, left[:min(rmAtLeast-len(rm), len(left))]...)
	}
	return rm
}

// sortPodsForDeletion orders pods from the cheapest to delete: unscheduled
// before scheduled, pending before running, not ready before ready, more
// restarts first, newer first.
func sortPodsForDeletion(pods []*corev1.Pod) {
	phaseRank := map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}
	restarts := func(p *corev1.Pod) int32 {
		var n int32
		for _, cs := range p.Status.ContainerStatuses {
			n += cs.RestartCount
		}
		return n
	}
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
			return a.Spec.NodeName == ""
		}
		if phaseRank[a.Status.Phase] != phaseRank[b.Status.Phase] {
			return phaseRank[a.Status.Phase] < phaseRank[b.Status.Phase]
		}
		if isReady(a) != isReady(b) {
			return !isReady(a)
		}
		if restarts(a) != restarts(b) {
			return restarts(a) > restarts(b)
		}
		return b.CreationTimestamp.Before(&a.CreationTimestamp)
	})
}

// podsNamingGoneJob: pods with the tracking finalizer whose controller is
// a Job of that name that no longer exists.
func (c *Controller) podsNamingGoneJob(ns, name string) []*corev1.Pod {
	pods, err := c.podLister.Pods(ns).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*corev1.Pod
	for _, p := range pods {
		if ref := jobControllerRef(p); ref != nil && ref.Name == name && hasFinalizer(p) {
			out = append(out, p)
		}
	}
	return out
}

// getPodsForJob returns the Job's pods, adopting matching orphans and
// releasing owned pods that no longer match its selector.
func (c *Controller) getPodsForJob(ctx context.Context, job *batchv1.Job) ([]*corev1.Pod, error) {
	selector, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil {
		return nil, errorf("couldn't convert Job selector: %w", err)
	}
	owned, err := podcontrol.ControlledPods(c.podIndex, job.Namespace, job.UID)
	if err != nil {
		return nil, err
	}
	var out, toRelease []*corev1.Pod
	for _, p := range owned {
		if selector.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		} else if job.DeletionTimestamp == nil {
			toRelease = append(toRelease, p)
		}
	}
	var errs []error
	for _, p := range toRelease {
		if err := c.releasePod(ctx, job, p); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	if job.DeletionTimestamp != nil || selector.Empty() {
		return out, utilerrors.NewAggregate(errs)
	}
	var canAdopt *bool
	orphans, err := podcontrol.OrphanPods(c.podIndex, job.Namespace)
	if err != nil {
		return nil, err
	}
	for _, p := range orphans {
		if metav1.GetControllerOf(p) != nil || p.DeletionTimestamp != nil || !selector.Matches(labels.Set(p.Labels)) {
			continue
		}
		if canAdopt == nil {
			// Re-check the live Job before adopting anything.
			fresh, err := c.client.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
			ok := err == nil && fresh.UID == job.UID && fresh.DeletionTimestamp == nil
			canAdopt = &ok
		}
		if !*canAdopt {
			break
		}
		if err := c.adoptPod(ctx, job, p); err != nil {
			if !apierrors.IsNotFound(err) {
				errs = append(errs, err)
			}
			continue
		}
		adopted := p.DeepCopy()
		adopted.OwnerReferences = append(adopted.OwnerReferences, *metav1.NewControllerRef(job, jobKind))
		if !hasFinalizer(adopted) {
			adopted.Finalizers = append(adopted.Finalizers, batchv1.JobTrackingFinalizer)
		}
		out = append(out, adopted)
	}
	return out, utilerrors.NewAggregate(errs)
}

func (c *Controller) adoptPod(ctx context.Context, job *batchv1.Job, p *corev1.Pod) error {
	patch := mustJSON(map[string]interface{}{
		"metadata": map[string]interface{}{
			"ownerReferences": []metav1.OwnerReference{*metav1.NewControllerRef(job, jobKind)},
			"uid":             p.UID,
			"finalizers":      []string{batchv1.JobTrackingFinalizer},
		},
	})
	_, err := c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	return err
}

func (c *Controller) releasePod(ctx context.Context, job *batchv1.Job, p *corev1.Pod) error {
	patch := mustJSON(map[string]interface{}{
		"metadata": map[string]interface{}{
			"ownerReferences":                     []map[string]interface{}{{"$patch": "delete", "uid": job.UID}},
			"uid":                                 p.UID,
			"$deleteFromPrimitiveList/finalizers": []string{batchv1.JobTrackingFinalizer},
		},
	})
	_, err := c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	return err
}

// syncOrphanPod releases the tracking finalizer of a pod that no Job
// controls and no Job selects.
func (c *Controller) syncOrphanPod(ctx context.Context, key string) error {
	ns, name, ok := strings.Cut(key, "/")
	if !ok {
		return nil
	}
	p, err := c.podLister.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !hasFinalizer(p) {
		return nil
	}
	if ref := metav1.GetControllerOf(p); ref != nil {
		if isJobRef(ref) && c.jobForPod(p) != nil {
			return nil
		}
	} else {
		jobs, err := c.jobLister.Jobs(ns).List(labels.Everything())
		if err != nil {
			return err
		}
		for _, j := range jobs {
			sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector)
			if err == nil && !sel.Empty() && sel.Matches(labels.Set(p.Labels)) && !IsJobFinished(j) && j.DeletionTimestamp == nil {
				return nil // the Job will adopt it
			}
		}
	}
	return c.releaseFinalizers(ctx, []*corev1.Pod{p})
}
