// Package pvcprotection is Kubernetes' PVC protection controller: a
// PersistentVolumeClaim being deleted keeps its kubernetes.io/pvc-protection
// finalizer while a pod that is not terminated (phase Succeeded or Failed)
// uses it, and loses it once none does; claims that miss the finalizer get
// it. The finalizer itself is added at creation by the API server.
package pvcprotection

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
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

// Controller removes the protection finalizer of unused, deleted claims.
type Controller struct {
	client kubernetes.Interface
	pvcs   corelisters.PersistentVolumeClaimLister
	pods   corelisters.PodLister
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
}

// New wires the controller to the claim and pod informers of factory.
func New(client kubernetes.Interface, f informers.SharedInformerFactory) *Controller {
	pvcInf := f.Core().V1().PersistentVolumeClaims()
	podInf := f.Core().V1().Pods()
	c := &Controller{
		client: client,
		pvcs:   pvcInf.Lister(),
		pods:   podInf.Lister(),
		synced: []cache.InformerSynced{pvcInf.Informer().HasSynced, podInf.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "pvcprotection"}),
	}
	pvcInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.claimChanged,
		UpdateFunc: func(_, obj interface{}) { c.claimChanged(obj) },
	})
	podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.podChanged,
		UpdateFunc: func(_, obj interface{}) { c.podChanged(obj) },
		DeleteFunc: c.podChanged,
	})
	return c
}

func (c *Controller) claimChanged(obj interface{}) {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok {
		return
	}
	has := hasFinalizer(pvc.Finalizers)
	if (pvc.DeletionTimestamp != nil && has) || (pvc.DeletionTimestamp == nil && !has) {
		c.queue.Add(pvc.Namespace + "/" + pvc.Name)
	}
}

// podChanged re-examines the claims of a pod that went away or terminated.
func (c *Controller) podChanged(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	for _, name := range ClaimNames(pod) {
		c.queue.Add(pod.Namespace + "/" + name)
	}
}

// ClaimNames lists the claims a pod's volumes use (ephemeral volumes' claims
// are named <pod>-<volume>).
func ClaimNames(pod *corev1.Pod) []string {
	var out []string
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.PersistentVolumeClaim != nil:
			out = append(out, v.PersistentVolumeClaim.ClaimName)
		case v.Ephemeral != nil:
			out = append(out, pod.Name+"-"+v.Name)
		}
	}
	return out
}

// Run works until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	klog.FromContext(ctx).V(2).Info("Starting PVC protection controller")
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
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
			utilruntime.HandleErrorWithContext(ctx, err, "PVC protection", "claim", key)
		}
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	pvc, err := c.pvcs.PersistentVolumeClaims(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	has := hasFinalizer(pvc.Finalizers)
	if pvc.DeletionTimestamp == nil {
		if has {
			return nil
		}
		upd := pvc.DeepCopy()
		upd.Finalizers = append(upd.Finalizers, volume.PVCProtectionFinalizer)
		_, err := c.client.CoreV1().PersistentVolumeClaims(ns).Update(ctx, upd, metav1.UpdateOptions{})
		return err
	}
	if !has {
		return nil
	}
	used, err := c.inUse(ctx, pvc)
	if err != nil || used {
		return err
	}
	upd := pvc.DeepCopy()
	upd.Finalizers = nil
	for _, f := range pvc.Finalizers {
		if f != volume.PVCProtectionFinalizer {
			upd.Finalizers = append(upd.Finalizers, f)
		}
	}
	_, err = c.client.CoreV1().PersistentVolumeClaims(ns).Update(ctx, upd, metav1.UpdateOptions{})
	if err == nil {
		klog.FromContext(ctx).V(3).Info("Removed protection finalizer from claim", "claim", klog.KObj(pvc))
	}
	return err
}

// inUse asks the cache, then (when the cache says no) the API, as
// Kubernetes does, so that a pod just created is not missed.
func (c *Controller) inUse(ctx context.Context, pvc *corev1.PersistentVolumeClaim) (bool, error) {
	pods, err := c.pods.Pods(pvc.Namespace).List(labels.Everything())
	if err != nil {
		return false, err
	}
	if anyUses(pods, pvc.Name) {
		return true, nil
	}
	list, err := c.client.CoreV1().Pods(pvc.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, err
	}
	live := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		live[i] = &list.Items[i]
	}
	return anyUses(live, pvc.Name), nil
}

func anyUses(pods []*corev1.Pod, claim string) bool {
	for _, p := range pods {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, n := range ClaimNames(p) {
			if n == claim {
				return true
			}
		}
	}
	return false
}

func hasFinalizer(list []string) bool {
	for _, f := range list {
		if f == volume.PVCProtectionFinalizer {
			return true
		}
	}
	return false
}
