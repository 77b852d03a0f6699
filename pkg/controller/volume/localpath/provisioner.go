// Package localpath is herd's built-in local-path provisioner, an external
// provisioner in Kubernetes' sense: for a claim handed to it by the PV
// controller (volume.kubernetes.io/storage-provisioner = herd.dev/local-path)
// it creates a PersistentVolume on the claim's node — the selected node of
// a WaitForFirstConsumer claim, a ready node for an Immediate one — whose
// hostPath is <the node's local-path dir>/<volume name> (DirectoryOrCreate),
// with node affinity to that node and a claimRef to the claim; the PV
// controller then binds them. When such a volume is released under the
// Delete reclaim policy it deletes the PersistentVolume; the agent of the
// node removes the directory and then the volume's cleanup finalizer
// (pkg/agent/localpath). It never touches a node's disk itself.
package localpath

import (
	"context"
	"fmt"
	"path"
	"sort"
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

	"github.com/herd-project/herd/pkg/apis/storage"
	"github.com/herd-project/herd/pkg/volume"
)

// Event reasons of external provisioners.
const (
	EventProvisioning          = "Provisioning"
	EventProvisioningSucceeded = "ProvisioningSucceeded"
	EventProvisioningFailed    = "ProvisioningFailed"
)

// DefaultStorageClass is the class herd creates at start: the default one,
// served by this provisioner, deleting volumes with their claims and
// binding when the first pod is scheduled.
func DefaultStorageClass() *storagev1.StorageClass {
	reclaim := corev1.PersistentVolumeReclaimDelete
	mode := storagev1.VolumeBindingWaitForFirstConsumer
	return &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        volume.LocalPathClass,
			Annotations: map[string]string{storage.IsDefaultClassAnnotation: "true"},
		},
		Provisioner:       volume.LocalPathProvisioner,
		ReclaimPolicy:     &reclaim,
		VolumeBindingMode: &mode,
	}
}

// VolumeName is the name of the volume provisioned for a claim.
func VolumeName(pvc *corev1.PersistentVolumeClaim) string { return "pvc-" + string(pvc.UID) }

// Provisioner creates and deletes local-path volumes.
type Provisioner struct {
	client   kubernetes.Interface
	pvs      corelisters.PersistentVolumeLister
	pvcs     corelisters.PersistentVolumeClaimLister
	classes  storagelisters.StorageClassLister
	nodes    corelisters.NodeLister
	synced   []cache.InformerSynced
	recorder record.EventRecorder
	// claims holds namespace/name keys; volumes holds "pv:" + name.
	queue workqueue.TypedRateLimitingInterface[string]
}

// New wires the provisioner to the informers of factory.
func New(client kubernetes.Interface, f informers.SharedInformerFactory, recorder record.EventRecorder) *Provisioner {
	pvInf := f.Core().V1().PersistentVolumes()
	pvcInf := f.Core().V1().PersistentVolumeClaims()
	scInf := f.Storage().V1().StorageClasses()
	nodeInf := f.Core().V1().Nodes()
	p := &Provisioner{
		client:   client,
		pvs:      pvInf.Lister(),
		pvcs:     pvcInf.Lister(),
		classes:  scInf.Lister(),
		nodes:    nodeInf.Lister(),
		synced:   []cache.InformerSynced{pvInf.Informer().HasSynced, pvcInf.Informer().HasSynced, scInf.Informer().HasSynced, nodeInf.Informer().HasSynced},
		recorder: recorder,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](100*time.Millisecond, 30*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "local-path"}),
	}
	pvcInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    p.enqueueClaim,
		UpdateFunc: func(_, obj interface{}) { p.enqueueClaim(obj) },
	})
	pvInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    p.enqueueVolume,
		UpdateFunc: func(_, obj interface{}) { p.enqueueVolume(obj) },
	})
	return p
}

func (p *Provisioner) enqueueClaim(obj interface{}) {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if ok && pvc.Spec.VolumeName == "" && pvc.Annotations[volume.AnnStorageProvisioner] == volume.LocalPathProvisioner {
		p.queue.Add(pvc.Namespace + "/" + pvc.Name)
	}
}

func (p *Provisioner) enqueueVolume(obj interface{}) {
	pv, ok := obj.(*corev1.PersistentVolume)
	if ok && pv.Annotations[volume.AnnDynamicallyProvisioned] == volume.LocalPathProvisioner {
		p.queue.Add("pv:" + pv.Name)
	}
}

// Run provisions and deletes until ctx is done.
func (p *Provisioner) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer p.queue.ShutDown()
	klog.FromContext(ctx).V(2).Info("Starting local-path provisioner")
	if !cache.WaitForCacheSync(ctx.Done(), p.synced...) {
		return
	}
	for i := 0; i < workers; i++ {
		go wait.UntilWithContext(ctx, func(ctx context.Context) {
			for p.processNext(ctx) {
			}
		}, time.Second)
	}
	<-ctx.Done()
}

func (p *Provisioner) processNext(ctx context.Context) bool {
	key, quit := p.queue.Get()
	if quit {
		return false
	}
	defer p.queue.Done(key)
	var err error
	if len(key) > 3 && key[:3] == "pv:" {
		err = p.syncVolume(ctx, key[3:])
	} else {
		err = p.syncClaim(ctx, key)
	}
	if err != nil {
		if !apierrors.IsConflict(err) {
			utilruntime.HandleErrorWithContext(ctx, err, "local-path provisioner", "key", key)
		}
		p.queue.AddRateLimited(key)
		return true
	}
	p.queue.Forget(key)
	return true
}

// errRetry is a failure already reported in an event.
type errRetry struct{ msg string }

func (e errRetry) Error() string { return e.msg }

// syncClaim provisions a volume for a claim that waits for one.
func (p *Provisioner) syncClaim(ctx context.Context, key string) error {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	pvc, err := p.pvcs.PersistentVolumeClaims(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pvc.Spec.VolumeName != "" || pvc.DeletionTimestamp != nil || pvc.Annotations[volume.AnnStorageProvisioner] != volume.LocalPathProvisioner {
		return nil
	}
	if _, err := p.pvs.Get(VolumeName(pvc)); err == nil {
		return nil // already provisioned; the binder binds it
	}
	sc, err := p.classes.Get(volume.ClaimClass(pvc))
	if err != nil {
		return err
	}
	if sc.Provisioner != volume.LocalPathProvisioner {
		return nil
	}
	pv, err := p.volumeFor(pvc, sc)
	if err != nil {
		p.recorder.Event(pvc, corev1.EventTypeWarning, EventProvisioningFailed, err.Error())
		return errRetry{err.Error()}
	}
	if pv == nil {
		return nil
	}
	p.recorder.Eventf(pvc, corev1.EventTypeNormal, EventProvisioning,
		"External provisioner is provisioning volume for claim %q", pvc.Namespace+"/"+pvc.Name)
	if _, err := p.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		p.recorder.Eventf(pvc, corev1.EventTypeWarning, EventProvisioningFailed, "failed to provision volume with StorageClass %q: %v", sc.Name, err)
		return err
	}
	p.recorder.Eventf(pvc, corev1.EventTypeNormal, EventProvisioningSucceeded, "Successfully provisioned volume %s", pv.Name)
	klog.FromContext(ctx).V(2).Info("Provisioned local-path volume", "claim", klog.KObj(pvc), "volume", pv.Name, "path", pv.Spec.HostPath.Path)
	return nil
}

// volumeFor builds the volume of a claim; nil (no error) when the claim
// must wait for a selected node.
func (p *Provisioner) volumeFor(pvc *corev1.PersistentVolumeClaim, sc *storagev1.StorageClass) (*corev1.PersistentVolume, error) {
	nodeName := pvc.Annotations[volume.AnnSelectedNode]
	var node *corev1.Node
	if nodeName != "" {
		n, err := p.nodes.Get(nodeName)
		if err != nil {
			return nil, fmt.Errorf("failed to provision volume with StorageClass %q: selected node %q: %v", sc.Name, nodeName, err)
		}
		node = n
	} else {
		if volume.IsWaitForFirstConsumer(sc) {
			return nil, nil
		}
		n, err := p.anyReadyNode()
		if err != nil {
			return nil, fmt.Errorf("failed to provision volume with StorageClass %q: %v", sc.Name, err)
		}
		node = n
	}
	return BuildVolume(pvc, sc, node)
}

func (p *Provisioner) anyReadyNode() (*corev1.Node, error) {
	nodes, err := p.nodes.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	for _, n := range nodes {
		if n.Spec.Unschedulable || n.Annotations[volume.AnnLocalPathDir] == "" {
			continue
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return n, nil
			}
		}
	}
	return nil, fmt.Errorf("no ready node with local storage")
}

// BuildVolume is the PersistentVolume of a claim on node.
func BuildVolume(pvc *corev1.PersistentVolumeClaim, sc *storagev1.StorageClass, node *corev1.Node) (*corev1.PersistentVolume, error) {
	dir := node.Annotations[volume.AnnLocalPathDir]
	if dir == "" || !path.IsAbs(dir) {
		return nil, fmt.Errorf("failed to provision volume with StorageClass %q: node %q does not say where its local volumes live (annotation %s); is its agent running?",
			sc.Name, node.Name, volume.AnnLocalPathDir)
	}
	name := VolumeName(pvc)
	reclaim := corev1.PersistentVolumeReclaimDelete
	if sc.ReclaimPolicy != nil {
		reclaim = *sc.ReclaimPolicy
	}
	dirType := corev1.HostPathDirectoryOrCreate
	mode := corev1.PersistentVolumeFilesystem
	if pvc.Spec.VolumeMode != nil {
		mode = *pvc.Spec.VolumeMode
	}
	if mode != corev1.PersistentVolumeFilesystem {
		return nil, fmt.Errorf("failed to provision volume with StorageClass %q: local-path volumes are filesystems, not %s", sc.Name, mode)
	}
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{volume.AnnDynamicallyProvisioned: volume.LocalPathProvisioner},
			Finalizers:  []string{volume.LocalPathCleanupFinalizer},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   append([]corev1.PersistentVolumeAccessMode(nil), pvc.Spec.AccessModes...),
			PersistentVolumeReclaimPolicy: reclaim,
			StorageClassName:              sc.Name,
			MountOptions:                  sc.MountOptions,
			VolumeMode:                    &mode,
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID, ResourceVersion: pvc.ResourceVersion},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: path.Join(dir, name), Type: &dirType},
			},
			NodeAffinity: volume.HostnameAffinity(node),
		},
	}, nil
}

// syncVolume deletes a released local-path volume under the Delete policy,
// and frees the finalizer of a deleted volume whose node is gone.
func (p *Provisioner) syncVolume(ctx context.Context, name string) error {
	pv, err := p.pvs.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pv.Annotations[volume.AnnDynamicallyProvisioned] != volume.LocalPathProvisioner {
		return nil
	}
	if pv.DeletionTimestamp != nil {
		node := NodeOf(pv)
		if node == "" || !hasFinalizer(pv.Finalizers, volume.LocalPathCleanupFinalizer) {
			return nil
		}
		if _, err := p.nodes.Get(node); apierrors.IsNotFound(err) {
			// No agent will ever clean it: the node is gone.
			return RemoveCleanupFinalizer(ctx, p.client, pv)
		}
		return nil
	}
	if pv.Status.Phase != corev1.VolumeReleased || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		return nil
	}
	err = p.client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &pv.UID}})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err == nil {
		klog.FromContext(ctx).V(2).Info("Deleted released local-path volume", "volume", pv.Name)
	}
	return err
}

// NodeOf returns the node a local-path volume lives on, from its node
// affinity ("" when it has none of the expected form).
func NodeOf(pv *corev1.PersistentVolume) string {
	na := pv.Spec.NodeAffinity
	if na == nil || na.Required == nil || len(na.Required.NodeSelectorTerms) != 1 {
		return ""
	}
	t := na.Required.NodeSelectorTerms[0]
	for _, r := range append(append([]corev1.NodeSelectorRequirement(nil), t.MatchExpressions...), t.MatchFields...) {
		if (r.Key == corev1.LabelHostname || r.Key == metav1.ObjectNameField) && r.Operator == corev1.NodeSelectorOpIn && len(r.Values) == 1 {
			return r.Values[0]
		}
	}
	return ""
}

func hasFinalizer(list []string, f string) bool {
	for _, x := range list {
		if x == f {
			return true
		}
	}
	return false
}

// RemoveCleanupFinalizer takes the local-path cleanup finalizer off a volume.
func RemoveCleanupFinalizer(ctx context.Context, client kubernetes.Interface, pv *corev1.PersistentVolume) error {
	upd := pv.DeepCopy()
	upd.Finalizers = nil
	for _, f := range pv.Finalizers {
		if f != volume.LocalPathCleanupFinalizer {
			upd.Finalizers = append(upd.Finalizers, f)
		}
	}
	_, err := client.CoreV1().PersistentVolumes().Update(ctx, upd, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
