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
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
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

	"github.com/herd-project/herd/pkg/controller/internal/consistency"
	"github.com/herd-project/herd/pkg/controller/internal/podcontrol"
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

// --- event handlers ---

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

func (c *Controller) backoffFor(key string) backoffRecord {
	c.backoffMu.Lock()
	defer c.backoffMu.Unlock()
	return c.backoffs[key]
}

func (c *Controller) setBackoff(key string, r backoffRecord) {
	c.backoffMu.Lock()
	defer c.backoffMu.Unlock()
	if r.failuresAfterLastSuccess == 0 {
		delete(c.backoffs, key)
		return
	}
	c.backoffs[key] = r
}

// recordWrite remembers the resourceVersion a status write returned.
func (c *Controller) recordWrite(job *batchv1.Job) {
	c.consistency.WroteAt(types.NamespacedName{Namespace: job.Namespace, Name: job.Name}, job.UID, batchv1.Resource("jobs"), job.ResourceVersion)
}

func errorf(format string, args ...interface{}) error { return fmt.Errorf(format, args...) }
