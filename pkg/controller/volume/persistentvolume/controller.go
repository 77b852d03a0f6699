// Package persistentvolume is herd's PersistentVolume controller, the
// binder of Kubernetes' kube-controller-manager: it binds claims to
// matching volumes (class, volume mode, access modes, capacity, selector,
// pre-binding by spec.volumeName or claimRef, the selected node of
// WaitForFirstConsumer claims), keeps the phases (claims Pending, Bound,
// Lost; volumes Available, Bound, Released, Failed) and the annotations
// Kubernetes writes, hands claims of provisioning classes to their
// provisioner (volume.kubernetes.io/storage-provisioner) and applies the
// reclaim policy of released volumes. Volumes of an external provisioner
// (such as herd's local-path) are deleted by that provisioner; the
// controller deletes nothing itself and has no volume plugins.
package persistentvolume

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/admission/defaultstorageclass"
	"github.com/herd-project/herd/pkg/volume"
)

// Event reasons, as Kubernetes writes them.
const (
	EventWaitForFirstConsumer = "WaitForFirstConsumer"
	EventExternalProvisioning = "ExternalProvisioning"
	EventFailedBinding        = "FailedBinding"
	EventProvisioningFailed   = "ProvisioningFailed"
	EventClaimLost            = "ClaimLost"
	EventClaimMisbound        = "ClaimMisbound"
	EventVolumeFailedDelete   = "VolumeFailedDelete"
	EventVolumeFailedRecycle  = "VolumeFailedRecycle"

	// MessageWaitForFirstConsumer is the event message of a claim whose
	// class waits for a pod.
	MessageWaitForFirstConsumer = "waiting for first consumer to be created before binding"
)

// resync re-examines every claim and volume this often, as Kubernetes'
// controller does (its default is 15 s), so that nothing stays stuck on a
// missed event.
const resync = 15 * time.Second

// Controller binds claims and volumes.
type Controller struct {
	client   kubernetes.Interface
	pvs      corelisters.PersistentVolumeLister
	pvcs     corelisters.PersistentVolumeClaimLister
	classes  storagelisters.StorageClassLister
	nodes    corelisters.NodeLister
	synced   []cache.InformerSynced
	recorder record.EventRecorder
	clock    clock.WithTicker

	claimQueue  workqueue.TypedRateLimitingInterface[string]
	volumeQueue workqueue.TypedRateLimitingInterface[string]
}

// New wires the controller to the informers of factory.
func New(client kubernetes.Interface, f informers.SharedInformerFactory, recorder record.EventRecorder, clk clock.WithTicker) *Controller {
	if clk == nil {
		clk = clock.RealClock{}
	}
	pvInf := f.Core().V1().PersistentVolumes()
	pvcInf := f.Core().V1().PersistentVolumeClaims()
	scInf := f.Storage().V1().StorageClasses()
	nodeInf := f.Core().V1().Nodes()
	c := &Controller{
		client:   client,
		pvs:      pvInf.Lister(),
		pvcs:     pvcInf.Lister(),
		classes:  scInf.Lister(),
		nodes:    nodeInf.Lister(),
		synced:   []cache.InformerSynced{pvInf.Informer().HasSynced, pvcInf.Informer().HasSynced, scInf.Informer().HasSynced, nodeInf.Informer().HasSynced},
		recorder: recorder,
		clock:    clk,
		claimQueue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "claims", Clock: clk}),
		volumeQueue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "volumes", Clock: clk}),
	}
	pvcInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueClaim,
		UpdateFunc: func(_, obj interface{}) { c.enqueueClaim(obj) },
		DeleteFunc: c.claimDeleted,
	})
	pvInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueVolume,
		UpdateFunc: func(_, obj interface{}) { c.enqueueVolume(obj) },
		DeleteFunc: c.volumeDeleted,
	})
	return c
}

func (c *Controller) enqueueClaim(obj interface{}) {
	if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		c.claimQueue.Add(key)
	}
}

func (c *Controller) enqueueVolume(obj interface{}) {
	if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		c.volumeQueue.Add(key)
	}
}

// claimDeleted: the claim's volume is now released.
func (c *Controller) claimDeleted(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if pvc, ok := obj.(*corev1.PersistentVolumeClaim); ok && pvc.Spec.VolumeName != "" {
		c.volumeQueue.Add(pvc.Spec.VolumeName)
	}
}

// volumeDeleted: a claim bound to it is now lost.
func (c *Controller) volumeDeleted(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if pv, ok := obj.(*corev1.PersistentVolume); ok && pv.Spec.ClaimRef != nil {
		c.claimQueue.Add(pv.Spec.ClaimRef.Namespace + "/" + pv.Spec.ClaimRef.Name)
	}
}

// Run syncs until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.claimQueue.ShutDown()
	defer c.volumeQueue.ShutDown()
	klog.FromContext(ctx).V(2).Info("Starting persistent volume controller")
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return
	}
	for i := 0; i < workers; i++ {
		go wait.UntilWithContext(ctx, func(ctx context.Context) {
			for c.processNext(ctx, c.claimQueue, c.syncClaimKey) {
			}
		}, time.Second)
		go wait.UntilWithContext(ctx, func(ctx context.Context) {
			for c.processNext(ctx, c.volumeQueue, c.syncVolumeKey) {
			}
		}, time.Second)
	}
	go wait.UntilWithContext(ctx, c.resyncAll, resync)
	<-ctx.Done()
}

func (c *Controller) resyncAll(context.Context) {
	pvcs, _ := c.pvcs.List(labels.Everything())
	for _, pvc := range pvcs {
		c.enqueueClaim(pvc)
	}
	pvs, _ := c.pvs.List(labels.Everything())
	for _, pv := range pvs {
		c.enqueueVolume(pv)
	}
}

func (c *Controller) processNext(ctx context.Context, q workqueue.TypedRateLimitingInterface[string], sync func(context.Context, string) error) bool {
	key, quit := q.Get()
	if quit {
		return false
	}
	defer q.Done(key)
	if err := sync(ctx, key); err != nil {
		if !apierrors.IsConflict(err) {
			utilruntime.HandleErrorWithContext(ctx, err, "Syncing persistent volumes", "key", key)
		}
		q.AddRateLimited(key)
		return true
	}
	q.Forget(key)
	return true
}

func (c *Controller) syncClaimKey(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pvc, err := c.pvcs.PersistentVolumeClaims(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return c.syncClaim(ctx, pvc.DeepCopy())
}

func (c *Controller) syncVolumeKey(ctx context.Context, key string) error {
	pv, err := c.pvs.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return c.syncVolume(ctx, pv.DeepCopy())
}

// ---------------- claims ----------------

// syncClaim binds an unbound claim or checks a bound one.
func (c *Controller) syncClaim(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	if pvc.Annotations[volume.AnnBindCompleted] == "" {
		return c.syncUnboundClaim(ctx, pvc)
	}
	return c.syncBoundClaim(ctx, pvc)
}

func (c *Controller) syncUnboundClaim(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	if pvc.Spec.VolumeName != "" {
		// Pre-bound by the user to a named volume.
		pv, err := c.pvs.Get(pvc.Spec.VolumeName)
		if apierrors.IsNotFound(err) {
			return c.setClaimPhase(ctx, pvc, corev1.ClaimPending)
		}
		if err != nil {
			return err
		}
		if pv.Spec.ClaimRef == nil || IsBoundTo(pv, pvc) || volume.IsPreboundTo(pv, pvc) {
			if pv.Spec.ClaimRef == nil {
				if why := volume.Mismatch(pv, pvc); why != "" {
					c.recorder.Eventf(pvc, corev1.EventTypeWarning, EventFailedBinding,
						"Cannot bind to requested volume %q: %s", pv.Name, why)
					return c.setClaimPhase(ctx, pvc, corev1.ClaimPending)
				}
			}
			return c.bind(ctx, pv.DeepCopy(), pvc)
		}
		// The volume belongs to another claim; wait.
		c.recorder.Eventf(pvc, corev1.EventTypeWarning, EventFailedBinding, "volume %q already bound to a different claim.", pv.Name)
		return c.setClaimPhase(ctx, pvc, corev1.ClaimPending)
	}

	if pvc.Spec.StorageClassName == nil && pvc.Annotations[corev1.BetaStorageClassAnnotation] == "" {
		// Retroactive default class: a claim created while no class was
		// the default gets the default once there is one.
		if def, _ := defaultstorageclass.DefaultClass(c.classes); def != nil {
			name := def.Name
			pvc.Spec.StorageClassName = &name
			updated, err := c.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).Update(ctx, pvc, metav1.UpdateOptions{})
			if err != nil {
				return err
			}
			pvc = updated
		}
	}
	class := volume.ClaimClass(pvc)
	var sc = c.class(class)
	delayed := volume.IsWaitForFirstConsumer(sc)
	var node *corev1.Node
	if delayed {
		if name := pvc.Annotations[volume.AnnSelectedNode]; name != "" {
			node, _ = c.nodes.Get(name)
		}
	}
	pv, err := c.findVolume(pvc, delayed, node)
	if err != nil {
		return err
	}
	if pv != nil {
		return c.bind(ctx, pv.DeepCopy(), pvc)
	}
	if delayed && pvc.Annotations[volume.AnnSelectedNode] == "" {
		c.recorder.Event(pvc, corev1.EventTypeNormal, EventWaitForFirstConsumer, MessageWaitForFirstConsumer)
		return c.setClaimPhase(ctx, pvc, corev1.ClaimPending)
	}
	switch {
	case class == "":
		c.recorder.Event(pvc, corev1.EventTypeNormal, EventFailedBinding, "no persistent volumes available for this claim and no storage class is set")
	case sc == nil:
		c.recorder.Eventf(pvc, corev1.EventTypeWarning, EventProvisioningFailed, "storageclass.storage.k8s.io %q not found", class)
	case sc.Provisioner == volume.NoProvisioner:
		c.recorder.Eventf(pvc, corev1.EventTypeNormal, EventFailedBinding,
			"no persistent volumes available for this claim and storage class %q does not provision volumes", class)
	default:
		if pvc.Annotations[volume.AnnStorageProvisioner] != sc.Provisioner {
			if pvc.Annotations == nil {
				pvc.Annotations = map[string]string{}
			}
			pvc.Annotations[volume.AnnStorageProvisioner] = sc.Provisioner
			pvc.Annotations[volume.AnnBetaStorageProvisioner] = sc.Provisioner
			updated, err := c.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).Update(ctx, pvc, metav1.UpdateOptions{})
			if err != nil {
				return err
			}
			pvc = updated
		}
		c.recorder.Eventf(pvc, corev1.EventTypeNormal, EventExternalProvisioning,
			"Waiting for a volume to be created either by the external provisioner '%s' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.", sc.Provisioner)
	}
	return c.setClaimPhase(ctx, pvc, corev1.ClaimPending)
}

func (c *Controller) class(name string) *storagev1.StorageClass {
	if name == "" {
		return nil
	}
	sc, err := c.classes.Get(name)
	if err != nil {
		return nil
	}
	return sc
}

// findVolume picks the volume for an unbound claim: one pre-bound to it by
// claimRef first, else the smallest available matching volume (on the
// selected node for delayed binding). Delayed claims without a selected
// node only take pre-bound volumes.
func (c *Controller) findVolume(pvc *corev1.PersistentVolumeClaim, delayed bool, node *corev1.Node) (*corev1.PersistentVolume, error) {
	pvs, err := c.pvs.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	return volume.FindMatchingVolume(pvc, pvs, delayed, node), nil
}

// IsBoundTo reports whether the volume's claimRef is the claim, UID included.
func IsBoundTo(pv *corev1.PersistentVolume, pvc *corev1.PersistentVolumeClaim) bool {
	ref := pv.Spec.ClaimRef
	return ref != nil && ref.Namespace == pvc.Namespace && ref.Name == pvc.Name && ref.UID == pvc.UID
}

// bind writes the binding: the volume's claimRef and phase, then the
// claim's volumeName, annotations and status.
func (c *Controller) bind(ctx context.Context, pv *corev1.PersistentVolume, pvc *corev1.PersistentVolumeClaim) error {
	logger := klog.FromContext(ctx)
	if !IsBoundTo(pv, pvc) {
		if pv.Spec.ClaimRef == nil {
			setAnn(&pv.ObjectMeta, volume.AnnBoundByController, "yes")
		}
		pv.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
			Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID, ResourceVersion: pvc.ResourceVersion}
		updated, err := c.client.CoreV1().PersistentVolumes().Update(ctx, pv, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		pv = updated
	}
	if pv.Status.Phase != corev1.VolumeBound {
		pv.Status.Phase = corev1.VolumeBound
		pv.Status.Reason, pv.Status.Message = "", ""
		now := metav1.NewTime(c.clock.Now())
		pv.Status.LastPhaseTransitionTime = &now
		if _, err := c.client.CoreV1().PersistentVolumes().UpdateStatus(ctx, pv, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	if pvc.Spec.VolumeName != pv.Name || pvc.Annotations[volume.AnnBindCompleted] != "yes" {
		if pvc.Spec.VolumeName == "" {
			setAnn(&pvc.ObjectMeta, volume.AnnBoundByController, "yes")
		}
		pvc.Spec.VolumeName = pv.Name
		setAnn(&pvc.ObjectMeta, volume.AnnBindCompleted, "yes")
		updated, err := c.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).Update(ctx, pvc, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		pvc = updated
	}
	logger.V(2).Info("Bound claim to volume", "claim", klog.KObj(pvc), "volume", pv.Name)
	return c.setClaimBoundStatus(ctx, pvc, pv)
}

func setAnn(m *metav1.ObjectMeta, k, v string) {
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[k] = v
}

func (c *Controller) setClaimBoundStatus(ctx context.Context, pvc *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) error {
	capacity := pv.Spec.Capacity[corev1.ResourceStorage]
	cur := pvc.Status.Capacity[corev1.ResourceStorage]
	if pvc.Status.Phase == corev1.ClaimBound && cur.Cmp(capacity) == 0 && len(pvc.Status.AccessModes) == len(pv.Spec.AccessModes) {
		return nil
	}
	pvc.Status.Phase = corev1.ClaimBound
	pvc.Status.AccessModes = append([]corev1.PersistentVolumeAccessMode(nil), pv.Spec.AccessModes...)
	pvc.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: capacity}
	_, err := c.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).UpdateStatus(ctx, pvc, metav1.UpdateOptions{})
	return err
}

func (c *Controller) setClaimPhase(ctx context.Context, pvc *corev1.PersistentVolumeClaim, phase corev1.PersistentVolumeClaimPhase) error {
	if pvc.Status.Phase == phase {
		return nil
	}
	pvc.Status.Phase = phase
	if phase == corev1.ClaimLost {
		pvc.Status.Capacity, pvc.Status.AccessModes = nil, nil
	}
	_, err := c.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).UpdateStatus(ctx, pvc, metav1.UpdateOptions{})
	return err
}

// syncBoundClaim checks a claim the controller bound: its volume must still
// exist and point back at it.
func (c *Controller) syncBoundClaim(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	if pvc.Spec.VolumeName == "" {
		// Kubernetes: a bound claim without volume is lost.
		return c.lose(ctx, pvc, EventClaimLost, "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!")
	}
	pv, err := c.pvs.Get(pvc.Spec.VolumeName)
	if apierrors.IsNotFound(err) {
		return c.lose(ctx, pvc, EventClaimLost, "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
	}
	if err != nil {
		return err
	}
	switch {
	case pv.Spec.ClaimRef == nil:
		// The volume forgot the claim (e.g. it was recreated): bind it again.
		return c.bind(ctx, pv.DeepCopy(), pvc)
	case IsBoundTo(pv, pvc):
		return c.bind(ctx, pv.DeepCopy(), pvc)
	default:
		return c.lose(ctx, pvc, EventClaimMisbound, "Two claims are bound to the same volume, this one is bound incorrectly")
	}
}

func (c *Controller) lose(ctx context.Context, pvc *corev1.PersistentVolumeClaim, reason, msg string) error {
	if pvc.Status.Phase == corev1.ClaimLost {
		return nil
	}
	c.recorder.Event(pvc, corev1.EventTypeWarning, reason, msg)
	return c.setClaimPhase(ctx, pvc, corev1.ClaimLost)
}

// ---------------- volumes ----------------

// syncVolume keeps a volume's phase and applies its reclaim policy once
// its claim is gone.
func (c *Controller) syncVolume(ctx context.Context, pv *corev1.PersistentVolume) error {
	ref := pv.Spec.ClaimRef
	if ref == nil {
		return c.setVolumePhase(ctx, pv, corev1.VolumeAvailable, "", "")
	}
	if ref.UID == "" {
		// Pre-bound by the user; the claim's sync binds it.
		c.claimQueue.Add(ref.Namespace + "/" + ref.Name)
		return c.setVolumePhase(ctx, pv, corev1.VolumeAvailable, "", "")
	}
	pvc, err := c.pvcs.PersistentVolumeClaims(ref.Namespace).Get(ref.Name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if pvc != nil && pvc.UID != ref.UID {
		pvc = nil
	}
	if pvc == nil {
		// The lister may lag behind a claim just created: ask the API
		// before declaring the volume released.
		live, err := c.client.CoreV1().PersistentVolumeClaims(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err == nil && live.UID == ref.UID {
			c.claimQueue.Add(ref.Namespace + "/" + ref.Name)
			return nil
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		return c.reclaim(ctx, pv)
	}
	switch pvc.Spec.VolumeName {
	case "":
		// Binding in progress (or the provisioner pre-bound the volume).
		c.claimQueue.Add(ref.Namespace + "/" + ref.Name)
		return nil
	case pv.Name:
		return c.setVolumePhase(ctx, pv, corev1.VolumeBound, "", "")
	default:
		// The claim is bound to another volume.
		if pv.Annotations[volume.AnnBoundByController] == "yes" {
			pv.Spec.ClaimRef = nil
			delete(pv.Annotations, volume.AnnBoundByController)
			updated, err := c.client.CoreV1().PersistentVolumes().Update(ctx, pv, metav1.UpdateOptions{})
			if err != nil {
				return err
			}
			return c.setVolumePhase(ctx, updated, corev1.VolumeAvailable, "", "")
		}
		return nil
	}
}

// reclaim releases a volume whose claim is gone and applies its policy.
func (c *Controller) reclaim(ctx context.Context, pv *corev1.PersistentVolume) error {
	if pv.Status.Phase == corev1.VolumeFailed {
		return nil
	}
	if pv.Status.Phase != corev1.VolumeReleased {
		if err := c.setVolumePhase(ctx, pv, corev1.VolumeReleased, "", ""); err != nil {
			return err
		}
		updated, err := c.client.CoreV1().PersistentVolumes().Get(ctx, pv.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		pv = updated
	}
	switch pv.Spec.PersistentVolumeReclaimPolicy {
	case corev1.PersistentVolumeReclaimRetain:
		return nil
	case corev1.PersistentVolumeReclaimDelete:
		if pv.Annotations[volume.AnnDynamicallyProvisioned] != "" {
			// Its (external) provisioner deletes it.
			return nil
		}
		msg := fmt.Sprintf("error getting deleter volume plugin for volume %q: no deletable volume plugin matched", pv.Name)
		c.recorder.Event(pv, corev1.EventTypeWarning, EventVolumeFailedDelete, msg)
		return c.setVolumePhase(ctx, pv, corev1.VolumeFailed, EventVolumeFailedDelete, msg)
	case corev1.PersistentVolumeReclaimRecycle:
		msg := "No recycler plugin found for the volume!"
		c.recorder.Event(pv, corev1.EventTypeWarning, EventVolumeFailedRecycle, msg)
		return c.setVolumePhase(ctx, pv, corev1.VolumeFailed, EventVolumeFailedRecycle, msg)
	}
	return nil
}

func (c *Controller) setVolumePhase(ctx context.Context, pv *corev1.PersistentVolume, phase corev1.PersistentVolumePhase, reason, msg string) error {
	if pv.Status.Phase == phase && pv.Status.Reason == reason && pv.Status.Message == msg {
		return nil
	}
	if pv.Status.Phase != phase {
		now := metav1.NewTime(c.clock.Now())
		pv.Status.LastPhaseTransitionTime = &now
	}
	pv.Status.Phase, pv.Status.Reason, pv.Status.Message = phase, reason, msg
	_, err := c.client.CoreV1().PersistentVolumes().UpdateStatus(ctx, pv, metav1.UpdateOptions{})
	return err
}
