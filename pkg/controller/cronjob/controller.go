// Package cronjob is the CronJob controller: it creates one Job per scheduled
// time of each CronJob (with Kubernetes' missed-schedule, deadline,
// concurrency, suspend and history rules), keeps status.active,
// lastScheduleTime and lastSuccessfulTime, and sleeps until each CronJob's
// next scheduled instant. It does not run the Jobs (the Job controller does),
// and does not default or validate CronJobs (pkg/apis/batch does).
package cronjob

import (
	"context"
	"fmt"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/controller/internal/consistency"
)

// ownerIndex indexes Jobs by the UID of their controlling CronJob, so a sync
// reads its own Jobs without listing the namespace.
const ownerIndex = "herd.cronjob/owner-uid"

// Controller creates Jobs from CronJobs on schedule.
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	clock    clock.WithTicker

	cronJobLister batchlisters.CronJobLister
	jobLister     batchlisters.JobLister
	jobIndexer    cache.Indexer
	hasOwnerIndex bool
	synced        []cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]

	// consistency holds the resourceVersions of our CronJob status writes
	// and Job creations: a sync waits until the informers have observed them.
	consistency *consistency.Store

	// missReported remembers, per CronJob key, the last scheduled time a
	// MissSchedule event was emitted for, so a missed run is reported once
	// rather than at every sync until the next run.
	mu           sync.Mutex
	missReported map[string]time.Time
}

// New wires the controller to the CronJob and Job informers of factory. The
// factory must be started after New returns.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder, clk clock.WithTicker) *Controller {
	cronJobInformer := factory.Batch().V1().CronJobs()
	jobInformer := factory.Batch().V1().Jobs()
	c := &Controller{
		client:        client,
		recorder:      recorder,
		clock:         clk,
		cronJobLister: cronJobInformer.Lister(),
		jobLister:     jobInformer.Lister(),
		jobIndexer:    jobInformer.Informer().GetIndexer(),
		synced:        []cache.InformerSynced{cronJobInformer.Informer().HasSynced, jobInformer.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "cronjob", Clock: clk}),
		missReported: map[string]time.Time{},
		consistency: consistency.New(map[schema.GroupResource]consistency.LastSyncRVGetter{
			batchv1.Resource("cronjobs"): cronJobInformer.Informer().GetStore(),
			batchv1.Resource("jobs"):     jobInformer.Informer().GetStore(),
		}),
	}
	if err := jobInformer.Informer().AddIndexers(cache.Indexers{ownerIndex: indexByOwnerUID}); err == nil {
		c.hasOwnerIndex = true
	} else {
		// Already started or a clashing index: fall back to listing the namespace.
		klog.V(2).InfoS("CronJob controller works without its Job index", "err", err)
	}

	cronJobInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: c.updateCronJob,
		DeleteFunc: c.enqueue,
	})
	jobInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addJob,
		UpdateFunc: c.updateJob,
		DeleteFunc: c.deleteJob,
	})
	return c
}

func indexByOwnerUID(obj interface{}) ([]string, error) {
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return nil, nil
	}
	ref := metav1.GetControllerOf(job)
	if ref == nil || ref.Kind != controllerKind.Kind {
		return nil, nil
	}
	return []string{string(ref.UID)}, nil
}

// Run waits for the caches, then syncs CronJobs with the given number of
// workers until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	logger := klog.FromContext(ctx)
	logger.V(2).Info("Starting CronJob controller")
	defer logger.V(2).Info("Shutting down CronJob controller")
	if !cache.WaitForNamedCacheSync("cronjob", ctx.Done(), c.synced...) {
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

	requeueAfter, err := c.sync(ctx, key)
	switch {
	case consistency.HandleStale(ctx, err, key):
		c.queue.AddRateLimited(key)
	case err != nil:
		utilruntime.HandleErrorWithContext(ctx, err, "Error syncing CronJob, requeuing", "cronjob", key)
		c.queue.AddRateLimited(key)
	case requeueAfter != nil:
		c.queue.Forget(key)
		c.queue.AddAfter(key, *requeueAfter)
	default:
		c.queue.Forget(key)
	}
	return true
}

// sync reconciles one CronJob: history cleanup, then the schedule, then one
// status write. It returns when to look at the CronJob again (nil: only on
// the next change, e.g. when suspended or the schedule is unusable).
func (c *Controller) sync(ctx context.Context, key string) (*time.Duration, error) {
	logger := klog.FromContext(ctx)
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil, err
	}
	// Acting on a CronJob older than our last status write would miss the
	// Jobs it lists in status.active.
	nn := types.NamespacedName{Namespace: ns, Name: name}
	if err := c.consistency.EnsureReady(nn); err != nil {
		return nil, err
	}
	cronJob, err := c.cronJobLister.CronJobs(ns).Get(name)
	switch {
	case apierrors.IsNotFound(err):
		logger.V(4).Info("CronJob not found, it may have been deleted", "cronjob", key)
		c.consistency.Clear(nn, "")
		c.mu.Lock()
		delete(c.missReported, key)
		c.mu.Unlock()
		return nil, nil
	case err != nil:
		return nil, err
	}

	jobs, err := c.jobsOf(cronJob)
	if err != nil {
		return nil, err
	}

	cj := cronJob.DeepCopy()
	updatedByCleanup := c.cleanupFinishedJobs(ctx, cj, jobs)

	cj, requeueAfter, updatedBySync, syncErr := c.syncCronJob(ctx, key, cj, jobs)
	if syncErr != nil {
		logger.V(2).Info("Error reconciling CronJob", "cronjob", klog.KObj(cj), "err", syncErr)
	}

	if updatedByCleanup || updatedBySync {
		updated, err := c.client.BatchV1().CronJobs(cj.Namespace).UpdateStatus(ctx, cj, metav1.UpdateOptions{})
		if err != nil {
			logger.V(2).Info("Unable to update CronJob status", "cronjob", klog.KObj(cj), "resourceVersion", cj.ResourceVersion, "err", err)
			return nil, err
		}
		c.consistency.WroteAt(nn, cj.UID, batchv1.Resource("cronjobs"), updated.ResourceVersion)
	}
	if requeueAfter != nil {
		logger.V(4).Info("Requeuing CronJob", "cronjob", klog.KObj(cj), "requeueAfter", *requeueAfter)
		return requeueAfter, nil
	}
	return nil, syncErr
}

// jobsOf returns the Jobs whose controller is the CronJob.
func (c *Controller) jobsOf(cj *batchv1.CronJob) ([]*batchv1.Job, error) {
	var jobs []*batchv1.Job
	if c.hasOwnerIndex {
		objs, err := c.jobIndexer.ByIndex(ownerIndex, string(cj.UID))
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			if job, ok := obj.(*batchv1.Job); ok && job.Namespace == cj.Namespace {
				jobs = append(jobs, job)
			}
		}
		return jobs, nil
	}
	all, err := c.jobLister.Jobs(cj.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, job := range all {
		if metav1.IsControlledBy(job, cj) {
			jobs = append(jobs, job)
		}
	}
	return jobs, nil
}

// syncCronJob brings status.active up to date with the CronJob's Jobs and
// starts the most recent unmet scheduled run, if any. It works on cj (a
// copy), possibly replacing it with a fresher copy read from the API, and
// returns the copy to write, the requeue delay and whether the status changed.
func (c *Controller) syncCronJob(ctx context.Context, key string, cj *batchv1.CronJob, jobs []*batchv1.Job) (*batchv1.CronJob, *time.Duration, bool, error) {
	logger := klog.FromContext(ctx)
	now := c.clock.Now()
	updateStatus := false

	children := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		children[string(j.UID)] = true
		found := inActiveList(cj, j.UID)
		switch {
		case !found && !isJobFinished(j):
			// Not created by this controller, or forgotten (a crash between
			// the Job creation and the status write), or created by hand.
			c.recorder.Eventf(cj, corev1.EventTypeWarning, "UnexpectedJob", "Saw a job that the controller did not create or forgot: %s", j.Name)
		case found && isJobFinished(j):
			deleteFromActiveList(cj, j.UID)
			c.recorder.Eventf(cj, corev1.EventTypeNormal, "SawCompletedJob", "Saw completed job: %s, condition: %v", j.Name, finishedCondition(j))
			updateStatus = true
		}
		if isJobSucceeded(j) && j.Status.CompletionTime != nil &&
			(cj.Status.LastSuccessfulTime == nil || j.Status.CompletionTime.After(cj.Status.LastSuccessfulTime.Time)) {
			cj.Status.LastSuccessfulTime = j.Status.CompletionTime.DeepCopy()
			updateStatus = true
		}
	}

	// Drop active references whose Job is gone (or no longer ours), checking
	// the API first so a slow informer does not make us forget a running Job.
	for _, ref := range append([]corev1.ObjectReference(nil), cj.Status.Active...) {
		if children[string(ref.UID)] {
			continue
		}
		job, err := c.client.BatchV1().Jobs(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			c.recorder.Eventf(cj, corev1.EventTypeNormal, "MissingJob", "Active job went missing: %v", ref.Name)
			deleteFromActiveList(cj, ref.UID)
			updateStatus = true
		case err != nil:
			return cj, nil, updateStatus, err
		case job.UID != ref.UID || !metav1.IsControlledBy(job, cj):
			logger.V(2).Info("Active job is not ours any more", "cronjob", klog.KObj(cj), "job", klog.KObj(job))
			deleteFromActiveList(cj, ref.UID)
			updateStatus = true
		}
	}

	if cj.DeletionTimestamp != nil {
		// Being deleted: only the status is kept up to date.
		return cj, nil, updateStatus, nil
	}

	if cj.Spec.TimeZone != nil {
		if _, err := loadLocation(*cj.Spec.TimeZone); err != nil {
			logger.V(4).Info("Not starting job because timeZone is invalid", "cronjob", klog.KObj(cj), "timeZone", *cj.Spec.TimeZone, "err", err)
			c.recorder.Eventf(cj, corev1.EventTypeWarning, "UnknownTimeZone", "invalid timeZone: %q: %s", *cj.Spec.TimeZone, err)
			return cj, nil, updateStatus, nil
		}
	}

	if ptr.Deref(cj.Spec.Suspend, false) {
		logger.V(4).Info("Not starting job because the CronJob is suspended", "cronjob", klog.KObj(cj))
		return cj, nil, updateStatus, nil
	}

	if scheduleHasTZ(cj) {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "UnsupportedSchedule", "CRON_TZ or TZ used in schedule %q is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details", cj.Spec.Schedule)
	}
	sched, err := parseSchedule(cj)
	if err != nil {
		logger.V(2).Info("Unparseable schedule", "cronjob", klog.KObj(cj), "schedule", cj.Spec.Schedule, "err", err)
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "UnparseableSchedule", "unparseable schedule: %q : %s", cj.Spec.Schedule, err)
		return cj, nil, updateStatus, nil
	}

	res, err := mostRecentScheduleTime(cj, now, sched, true)
	if err != nil {
		logger.V(2).Info("Invalid schedule", "cronjob", klog.KObj(cj), "schedule", cj.Spec.Schedule, "err", err)
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "InvalidSchedule", "invalid schedule: %s : %s", cj.Spec.Schedule, err)
		return cj, nil, updateStatus, nil
	}
	requeue := func() *time.Duration {
		if d, ok := nextScheduleDelay(cj, now, sched); ok {
			return &d
		}
		return nil
	}

	if res.mostRecent == nil {
		// Nothing to start inside the deadline window. A scheduled time that
		// passed before the window is a missed run: say so once.
		if cj.Spec.StartingDeadlineSeconds != nil {
			if all, err := mostRecentScheduleTime(cj, now, sched, false); err == nil && all.mostRecent != nil && c.firstMissReport(key, *all.mostRecent) {
				logger.V(4).Info("Missed starting window", "cronjob", klog.KObj(cj), "scheduledTime", *all.mostRecent)
				c.recorder.Eventf(cj, corev1.EventTypeWarning, "MissSchedule", "Missed scheduled time to start a job: %s", all.mostRecent.UTC().Format(time.RFC1123Z))
			}
		}
		logger.V(4).Info("No unmet start times", "cronjob", klog.KObj(cj))
		return cj, requeue(), updateStatus, nil
	}
	scheduled := *res.mostRecent
	if res.missed > tooManyMissed {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "TooManyMissedTimes", "too many missed start times: %d. Set or decrease .spec.startingDeadlineSeconds or check clock skew", res.missed)
		logger.V(2).Info("Too many missed start times", "cronjob", klog.KObj(cj), "missedTimes", res.missed)
	}
	// The window [now-startingDeadlineSeconds, now] bounds the search, so a
	// time found here is never too late to start.

	name := jobName(cj, scheduled)
	if inActiveListByName(cj, name) || (cj.Status.LastScheduleTime != nil && cj.Status.LastScheduleTime.Time.Equal(scheduled)) {
		logger.V(4).Info("Not starting job because the scheduled time is already processed", "cronjob", klog.KObj(cj), "scheduledTime", scheduled)
		return cj, requeue(), updateStatus, nil
	}

	if cj.Spec.ConcurrencyPolicy == batchv1.ForbidConcurrent && len(cj.Status.Active) > 0 {
		logger.V(4).Info("Not starting job because prior execution is still running and concurrency policy is Forbid", "cronjob", klog.KObj(cj))
		c.recorder.Eventf(cj, corev1.EventTypeNormal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
		return cj, requeue(), updateStatus, nil
	}
	if cj.Spec.ConcurrencyPolicy == batchv1.ReplaceConcurrent {
		for _, ref := range append([]corev1.ObjectReference(nil), cj.Status.Active...) {
			logger.V(4).Info("Deleting job that was still running at next scheduled start time", "job", klog.KRef(ref.Namespace, ref.Name))
			job, err := c.client.BatchV1().Jobs(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				deleteFromActiveList(cj, ref.UID)
				updateStatus = true
				continue
			}
			if err != nil {
				c.recorder.Eventf(cj, corev1.EventTypeWarning, "FailedGet", "Get job: %v", err)
				return cj, nil, updateStatus, err
			}
			if !c.deleteJobOf(ctx, cj, job) {
				return cj, nil, updateStatus, fmt.Errorf("could not replace job %s/%s", job.Namespace, job.Name)
			}
			updateStatus = true
		}
	}

	jobReq, err := jobFromTemplate(cj, scheduled)
	if err != nil {
		logger.Error(err, "Unable to make Job from template", "cronjob", klog.KObj(cj))
		return cj, nil, updateStatus, err
	}
	job, err := c.client.BatchV1().Jobs(cj.Namespace).Create(ctx, jobReq, metav1.CreateOptions{})
	if err == nil {
		c.consistency.WroteAt(types.NamespacedName{Namespace: cj.Namespace, Name: cj.Name}, cj.UID, batchv1.Resource("jobs"), job.ResourceVersion)
	}
	alreadyExists := false
	switch {
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return cj, nil, updateStatus, err
	case apierrors.IsAlreadyExists(err):
		// Created before (by us before a restart or a lost status write, or
		// by someone else). Ours but not in active: record it now.
		alreadyExists = true
		job, err = c.client.BatchV1().Jobs(jobReq.Namespace).Get(ctx, jobReq.Name, metav1.GetOptions{})
		if err != nil {
			return cj, nil, updateStatus, err
		}
		if !metav1.IsControlledBy(job, cj) || inActiveList(cj, job.UID) {
			logger.V(2).Info("Job already exists", "cronjob", klog.KObj(cj), "job", klog.KObj(job))
			return cj, requeue(), updateStatus, nil
		}
	case err != nil:
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
		return cj, nil, updateStatus, err
	}
	if alreadyExists {
		logger.V(2).Info("Job already exists, adding it to the active list", "cronjob", klog.KObj(cj), "job", klog.KObj(job))
	} else {
		logger.V(4).Info("Created Job", "job", klog.KObj(job), "cronjob", klog.KObj(cj), "lateness", now.Sub(scheduled))
		c.recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job %v", job.Name)
	}

	cj.Status.Active = append(cj.Status.Active, jobRef(job))
	cj.Status.LastScheduleTime = &metav1.Time{Time: scheduled}
	return cj, requeue(), true, nil
}

// firstMissReport records that a MissSchedule event is about to be emitted
// for scheduled and reports whether none was emitted for it yet.
func (c *Controller) firstMissReport(key string, scheduled time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if last, ok := c.missReported[key]; ok && last.Equal(scheduled) {
		return false
	}
	c.missReported[key] = scheduled
	return true
}

// cleanupFinishedJobs deletes the oldest finished Jobs beyond
// successfulJobsHistoryLimit and failedJobsHistoryLimit.
func (c *Controller) cleanupFinishedJobs(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) bool {
	if cj.Spec.SuccessfulJobsHistoryLimit == nil && cj.Spec.FailedJobsHistoryLimit == nil {
		return false
	}
	var succeeded, failed []*batchv1.Job
	for _, j := range jobs {
		switch finishedCondition(j) {
		case batchv1.JobComplete:
			succeeded = append(succeeded, j)
		case batchv1.JobFailed:
			failed = append(failed, j)
		}
	}
	updated := false
	if cj.Spec.SuccessfulJobsHistoryLimit != nil && c.removeOldestJobs(ctx, cj, succeeded, *cj.Spec.SuccessfulJobsHistoryLimit) {
		updated = true
	}
	if cj.Spec.FailedJobsHistoryLimit != nil && c.removeOldestJobs(ctx, cj, failed, *cj.Spec.FailedJobsHistoryLimit) {
		updated = true
	}
	return updated
}

func (c *Controller) removeOldestJobs(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job, limit int32) bool {
	toDelete := len(jobs) - int(limit)
	if toDelete <= 0 {
		return false
	}
	klog.FromContext(ctx).V(4).Info("Cleaning up finished jobs of CronJob", "cronjob", klog.KObj(cj), "delete", toDelete, "finished", len(jobs))
	sorted := append([]*batchv1.Job(nil), jobs...)
	sortJobs(sorted)
	updated := false
	for _, j := range sorted[:toDelete] {
		if c.deleteJobOf(ctx, cj, j) {
			updated = true
		}
	}
	return updated
}

// deleteJobOf deletes a Job of the CronJob with background propagation (its
// pods go through the garbage collector) and drops it from status.active.
func (c *Controller) deleteJobOf(ctx context.Context, cj *batchv1.CronJob, job *batchv1.Job) bool {
	err := c.client.BatchV1().Jobs(job.Namespace).Delete(ctx, job.Name, metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationBackground),
	})
	if err != nil && !apierrors.IsNotFound(err) {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "FailedDelete", "Deleted job: %v", err)
		klog.FromContext(ctx).Error(err, "Error deleting job of CronJob", "job", klog.KObj(job), "cronjob", klog.KObj(cj))
		return false
	}
	deleteFromActiveList(cj, job.UID)
	c.recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job %v", job.Name)
	return true
}

// Event handlers.

func (c *Controller) enqueue(obj interface{}) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(fmt.Errorf("couldn't get key for object %+v: %w", obj, err))
		return
	}
	c.queue.Add(key)
}

// updateCronJob requeues a CronJob whose schedule or zone changed for its new
// next time (a sooner time wins over an already queued later one), and any
// other change right away.
func (c *Controller) updateCronJob(oldObj, newObj interface{}) {
	oldCJ, okOld := oldObj.(*batchv1.CronJob)
	newCJ, okNew := newObj.(*batchv1.CronJob)
	if !okOld || !okNew {
		return
	}
	if oldCJ.Spec.Schedule != newCJ.Spec.Schedule || !ptr.Equal(oldCJ.Spec.TimeZone, newCJ.Spec.TimeZone) {
		key, err := cache.MetaNamespaceKeyFunc(newCJ)
		if err != nil {
			return
		}
		if newCJ.Spec.TimeZone != nil {
			if _, err := loadLocation(*newCJ.Spec.TimeZone); err != nil {
				c.queue.Add(key) // the sync reports the bad zone
				return
			}
		}
		sched, err := parseSchedule(newCJ)
		if err != nil {
			klog.V(2).InfoS("Unparseable schedule for CronJob", "cronjob", klog.KObj(newCJ), "schedule", newCJ.Spec.Schedule, "err", err)
			c.recorder.Eventf(newCJ, corev1.EventTypeWarning, "UnParseableCronJobSchedule", "unparseable schedule for cronjob: %s", newCJ.Spec.Schedule)
			return
		}
		if d, ok := nextScheduleDelay(newCJ, c.clock.Now(), sched); ok {
			c.queue.AddAfter(key, d)
		}
		return
	}
	c.enqueue(newCJ)
}

// cronJobForJob returns the CronJob that controls job, if it exists.
func (c *Controller) cronJobForJob(job *batchv1.Job, ref *metav1.OwnerReference) *batchv1.CronJob {
	if ref == nil || ref.Kind != controllerKind.Kind {
		return nil
	}
	cj, err := c.cronJobLister.CronJobs(job.Namespace).Get(ref.Name)
	if err != nil || cj.UID != ref.UID {
		return nil
	}
	return cj
}

func (c *Controller) addJob(obj interface{}) {
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return
	}
	if job.DeletionTimestamp != nil {
		c.deleteJob(job)
		return
	}
	if cj := c.cronJobForJob(job, metav1.GetControllerOf(job)); cj != nil {
		c.enqueue(cj)
	}
}

func (c *Controller) updateJob(oldObj, newObj interface{}) {
	oldJob, okOld := oldObj.(*batchv1.Job)
	newJob, okNew := newObj.(*batchv1.Job)
	if !okOld || !okNew || oldJob.ResourceVersion == newJob.ResourceVersion {
		return
	}
	oldRef, newRef := metav1.GetControllerOf(oldJob), metav1.GetControllerOf(newJob)
	if oldRef != nil && (newRef == nil || oldRef.UID != newRef.UID) {
		if cj := c.cronJobForJob(oldJob, oldRef); cj != nil {
			c.enqueue(cj)
		}
	}
	if cj := c.cronJobForJob(newJob, newRef); cj != nil {
		c.enqueue(cj)
	}
}

func (c *Controller) deleteJob(obj interface{}) {
	job, ok := obj.(*batchv1.Job)
	if !ok {
		tombstone, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if job, ok = tombstone.Obj.(*batchv1.Job); !ok {
			return
		}
	}
	if cj := c.cronJobForJob(job, metav1.GetControllerOf(job)); cj != nil {
		c.enqueue(cj)
	}
}
