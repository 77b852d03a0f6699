// Package pvprotection is Kubernetes' PV protection controller: a
// PersistentVolume being deleted keeps its kubernetes.io/pv-protection
// finalizer while it is Bound to a claim and loses it once it is not;
// volumes that miss the finalizer get it.
package pvprotection

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/herd-project/herd/pkg/volume"
)

// Controller manages the pv-protection finalizer.
type Controller struct {
	client kubernetes.Interface
	pvs    corelisters.PersistentVolumeLister
	synced cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
}

// New wires the controller to the volume informer of factory.
func New(client kubernetes.Interface, f informers.SharedInformerFactory) *Controller {
	inf := f.Core().V1().PersistentVolumes()
	c := &Controller{
		client: client,
		pvs:    inf.Lister(),
		synced: inf.Informer().HasSynced,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "pvprotection"}),
	}
	inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.changed,
		UpdateFunc: func(_, obj interface{}) { c.changed(obj) },
	})
	return c
}

func (c *Controller) changed(obj interface{}) {
	pv, ok := obj.(*corev1.PersistentVolume)
	if !ok {
		return
	}
	has := hasFinalizer(pv.Finalizers)
	if (pv.DeletionTimestamp != nil && has) || (pv.DeletionTimestamp == nil && !has) {
		c.queue.Add(pv.Name)
	}
}

// Run works until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	klog.FromContext(ctx).V(2).Info("Starting PV protection controller")
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
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
		if !apierrors.IsConflict(err) {
			utilruntime.HandleErrorWithContext(ctx, err, "PV protection", "volume", key)
		}
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

func (c *Controller) sync(ctx context.Context, name string) error {
	pv, err := c.pvs.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	has := hasFinalizer(pv.Finalizers)
	upd := pv.DeepCopy()
	switch {
	case pv.DeletionTimestamp == nil && !has:
		upd.Finalizers = append(upd.Finalizers, volume.PVProtectionFinalizer)
	case pv.DeletionTimestamp != nil && has && pv.Status.Phase != corev1.VolumeBound:
		upd.Finalizers = nil
		for _, f := range pv.Finalizers {
			if f != volume.PVProtectionFinalizer {
				upd.Finalizers = append(upd.Finalizers, f)
			}
		}
	default:
		return nil
	}
	_, err = c.client.CoreV1().PersistentVolumes().Update(ctx, upd, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func hasFinalizer(list []string) bool {
	for _, f := range list {
		if f == volume.PVProtectionFinalizer {
			return true
		}
	}
	return false
}
