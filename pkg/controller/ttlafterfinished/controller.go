// Package ttlafterfinished deletes finished Jobs (Complete or Failed
// condition True) once spec.ttlSecondsAfterFinished has passed since they
// finished, as Kubernetes' TTL-after-finished controller does. Deletion uses
// background propagation (the garbage collector removes the pods) and
// preconditions on uid and resourceVersion. It does not touch unfinished
// Jobs, Jobs without a TTL, or any other kind of object.
package ttlafterfinished

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// Controller deletes finished Jobs after their TTL.
type Controller struct {
	client    kubernetes.Interface
	clock     clock.WithTicker
	jobLister batchlisters.JobLister
	synced    cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
}

// New builds the controller on the factory's Job informer.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, clk clock.WithTicker) *Controller {
	inf := factory.Batch().V1().Jobs()
	c := &Controller{
		client:    client,
		clock:     clk,
		jobLister: inf.Lister(),
		synced:    inf.Informer().HasSynced,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "ttl_jobs_to_delete", Clock: clk}),
	}
	inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
	})
	return c
}

func (c *Controller) enqueue(obj interface{}) {
	job, ok := obj.(*batchv1.Job)
	if !ok || job.DeletionTimestamp != nil || !needsCleanup(job) {
		return
	}
	key, err := cache.MetaNamespaceKeyFunc(job)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.queue.Add(key)
}

// Run processes Jobs until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	logger := klog.FromContext(ctx)
	logger.V(2).Info("Starting TTL after finished controller")
	defer logger.V(2).Info("Shutting down TTL after finished controller")
	if !cache.WaitForNamedCacheSync("TTL after finished", ctx.Done(), c.synced) {
		return
	}
	for i := 0; i < workers; i++ {
		go wait.UntilWithContext(ctx, func(ctx context.Context) {
			for c.processNext(ctx) {
			}
		}, time.Second)
	}
	<-ctx.Done()
}

func (c *Controller) processNext(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	if err := c.sync(ctx, key); err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "deleting expired job", "key", key)
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

// sync deletes the Job if its TTL has expired, else requeues it for then.
func (c *Controller) sync(ctx context.Context, key string) error {
	logger := klog.FromContext(ctx)
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	job, err := c.jobLister.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if expired, err := c.expired(logger, key, job); err != nil || !expired {
		return err
	}
	// The cache may be stale (TTL changed, Job restarted): re-check the
	// live object before deleting.
	fresh, err := c.client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if expired, err := c.expired(logger, key, fresh); err != nil || !expired {
		return err
	}
	policy := metav1.DeletePropagationBackground
	logger.V(2).Info("Cleaning up Job", "job", klog.KObj(fresh))
	err = c.client.BatchV1().Jobs(ns).Delete(ctx, name, metav1.DeleteOptions{
		PropagationPolicy: &policy,
		Preconditions:     &metav1.Preconditions{UID: &fresh.UID, ResourceVersion: &fresh.ResourceVersion},
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// expired reports whether the Job's TTL has run out; if it has not yet, it
// requeues the key for the moment it will.
func (c *Controller) expired(logger klog.Logger, key string, job *batchv1.Job) (bool, error) {
	if job.DeletionTimestamp != nil || !needsCleanup(job) {
		return false, nil
	}
	left, err := TimeLeft(job, c.clock.Now())
	if err != nil {
		return false, err
	}
	if left <= 0 {
		return true, nil
	}
	logger.V(4).Info("Job TTL not expired yet, requeueing", "job", klog.KObj(job), "after", left)
	c.queue.AddAfter(key, left)
	return false, nil
}

func needsCleanup(job *batchv1.Job) bool {
	return job.Spec.TTLSecondsAfterFinished != nil && finishTime(job) != nil
}

// finishTime is the transition time of the True Complete or Failed
// condition, or nil if the Job has not finished.
func finishTime(job *batchv1.Job) *metav1.Time {
	for i := range job.Status.Conditions {
		c := &job.Status.Conditions[i]
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return &c.LastTransitionTime
		}
	}
	return nil
}

// TimeLeft is how long until a finished Job with a TTL expires (≤0 when it
// has).
func TimeLeft(job *batchv1.Job, now time.Time) (time.Duration, error) {
	ft := finishTime(job)
	if ft == nil || job.Spec.TTLSecondsAfterFinished == nil {
		return 0, fmt.Errorf("job %s/%s has not finished or has no TTL", job.Namespace, job.Name)
	}
	if ft.IsZero() {
		return 0, fmt.Errorf("unable to find the time when the Job %s/%s finished", job.Namespace, job.Name)
	}
	expireAt := ft.Add(time.Duration(*job.Spec.TTLSecondsAfterFinished) * time.Second)
	return expireAt.Sub(now), nil
}
