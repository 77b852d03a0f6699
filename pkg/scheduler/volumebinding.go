package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/herd-project/herd/pkg/volume"
)

// Volume binding, as Kubernetes' VolumeBinding plugin does it:
//   - PreFilter: every claim of the pod must exist and not be deleting, and
//     claims of Immediate classes must already be bound;
//   - Filter: volumes of bound claims must allow the node (node affinity);
//     an unbound WaitForFirstConsumer claim needs an available matching
//     volume on the node or a class that provisions there;
//   - PreBind: the chosen node is written on the unbound claims
//     (volume.kubernetes.io/selected-node) and the pod is bound only once
//     the PV controller (and provisioner) have bound them all.
const (
	ReasonVolumeNodeAffinityConflict = "node(s) had volume node affinity conflict"
	ReasonVolumeBindConflict         = "node(s) didn't find available persistent volumes to bind"
	ReasonVolumePVNotExist           = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
	// MsgUnboundImmediateClaims is the PreFilter message of a pod with an
	// unbound claim of an Immediate class.
	MsgUnboundImmediateClaims = "pod has unbound immediate PersistentVolumeClaims"

	// volumeBindTimeout is how long PreBind waits for claims to be bound
	// (kube-scheduler's bindTimeoutSeconds default).
	volumeBindTimeout = 600 * time.Second
	volumeBindPoll    = 50 * time.Millisecond
)

// errPodGone ends PreBind of a pod deleted (or replaced) meanwhile.
var errPodGone = errors.New("pod deleted while its volumes were being bound")

// volumeListers read claims, volumes and classes for volume binding.
type volumeListers struct {
	pvcs    corelisters.PersistentVolumeClaimLister
	pvs     corelisters.PersistentVolumeLister
	classes storagelisters.StorageClassLister
	synced  []toolscache.InformerSynced
}

// newVolumeListers registers the claim, volume and class informers and
// the handlers that retry parked pods when they change.
func (s *Scheduler) newVolumeListers(f informers.SharedInformerFactory) *volumeListers {
	pvcInf := f.Core().V1().PersistentVolumeClaims()
	pvInf := f.Core().V1().PersistentVolumes()
	scInf := f.Storage().V1().StorageClasses()
	h := toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.moveAllToActive() },
		UpdateFunc: func(any, any) { s.moveAllToActive() },
	}
	r1, _ := pvcInf.Informer().AddEventHandler(h)
	r2, _ := pvInf.Informer().AddEventHandler(h)
	r3, _ := scInf.Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: func(any) { s.moveAllToActive() }})
	return &volumeListers{
		pvcs:    pvcInf.Lister(),
		pvs:     pvInf.Lister(),
		classes: scInf.Lister(),
		synced:  []toolscache.InformerSynced{r1.HasSynced, r2.HasSynced, r3.HasSynced},
	}
}

// podVolumes is what Filter and PreBind need to know of a pod's claims.
type podVolumes struct {
	bound     []*v1.PersistentVolume      // volumes of the bound claims
	missingPV bool                        // a bound claim's volume does not exist
	delayed   []*v1.PersistentVolumeClaim // unbound WaitForFirstConsumer claims
	classes   map[string]*storagev1.StorageClass
	all       []*v1.PersistentVolume // every volume, to match delayed claims
	claims    []string               // every claim name of the pod
}

// claimNames lists the claims a pod's volumes use, in order.
func claimNames(pod *v1.Pod) []string {
	var out []string
	for _, vol := range pod.Spec.Volumes {
		switch {
		case vol.PersistentVolumeClaim != nil:
			out = append(out, vol.PersistentVolumeClaim.ClaimName)
		case vol.Ephemeral != nil:
			out = append(out, pod.Name+"-"+vol.Name)
		}
	}
	return out
}

// preFilterVolumes gathers the pod's claims; a non-empty message makes the
// pod unschedulable on every node. nil, "" for a pod without claims.
func (vl *volumeListers) preFilterVolumes(pod *v1.Pod) (*podVolumes, string) {
	names := claimNames(pod)
	if len(names) == 0 || vl == nil {
		return nil, ""
	}
	pv := &podVolumes{classes: map[string]*storagev1.StorageClass{}, claims: names}
	immediate := false
	for _, name := range names {
		pvc, err := vl.pvcs.PersistentVolumeClaims(pod.Namespace).Get(name)
		if err != nil {
			return nil, fmt.Sprintf("persistentvolumeclaim %q not found", name)
		}
		if pvc.DeletionTimestamp != nil {
			return nil, fmt.Sprintf("persistentvolumeclaim %q is being deleted", name)
		}
		if pvc.Spec.VolumeName != "" {
			vol, err := vl.pvs.Get(pvc.Spec.VolumeName)
			if err != nil {
				pv.missingPV = true
				continue
			}
			pv.bound = append(pv.bound, vol)
			continue
		}
		className := volume.ClaimClass(pvc)
		sc, _ := vl.classes.Get(className)
		if className == "" || !volume.IsWaitForFirstConsumer(sc) {
			immediate = true
			continue
		}
		pv.classes[className] = sc
		pv.delayed = append(pv.delayed, pvc)
	}
	if immediate {
		return nil, MsgUnboundImmediateClaims
	}
	if len(pv.delayed) > 0 {
		pv.all, _ = vl.pvs.List(labels.Everything())
	}
	return pv, ""
}

// filter is VolumeBinding's Filter for one node: "" when the pod's volumes
// allow it.
func (pv *podVolumes) filter(node *v1.Node) string {
	if pv == nil {
		return ""
	}
	if pv.missingPV {
		return ReasonVolumePVNotExist
	}
	for _, vol := range pv.bound {
		if !volume.NodeMatches(vol, node) {
			return ReasonVolumeNodeAffinityConflict
		}
	}
	for _, pvc := range pv.delayed {
		if volume.FindMatchingVolume(pvc, pv.all, true, node) != nil {
			continue
		}
		sc := pv.classes[volume.ClaimClass(pvc)]
		if sc == nil || sc.Provisioner == volume.NoProvisioner || !topologyAllows(sc.AllowedTopologies, node) {
			return ReasonVolumeBindConflict
		}
	}
	return ""
}

// topologyAllows: no allowed topologies, or one term whose label
// expressions all match the node's labels.
func topologyAllows(terms []v1.TopologySelectorTerm, node *v1.Node) bool {
	if len(terms) == 0 {
		return true
	}
	for _, t := range terms {
		ok := true
		for _, e := range t.MatchLabelExpressions {
			if !contains(e.Values, node.Labels[e.Key]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// preBindVolumes writes the selected node on the pod's unbound delayed
// claims and waits until all its claims are bound.
func (s *Scheduler) preBindVolumes(ctx context.Context, pod *v1.Pod, pv *podVolumes, node string) error {
	for _, pvc := range pv.delayed {
		if pvc.Annotations[volume.AnnSelectedNode] == node {
			continue
		}
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
			"annotations": map[string]string{volume.AnnSelectedNode: node}}})
		if err != nil {
			return err
		}
		if _, err := s.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).Patch(ctx, pvc.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("setting the selected node of claim %q: %w", pvc.Name, err)
		}
	}
	var last string
	err := wait.PollUntilContextTimeout(ctx, volumeBindPoll, volumeBindTimeout, true, func(context.Context) (bool, error) {
		if cur, err := s.podLister.Pods(pod.Namespace).Get(pod.Name); err != nil || cur.UID != pod.UID {
			return false, errPodGone
		}
		for _, name := range pv.claims {
			pvc, err := s.volumes.pvcs.PersistentVolumeClaims(pod.Namespace).Get(name)
			if apierrors.IsNotFound(err) {
				return false, fmt.Errorf("persistentvolumeclaim %q not found", name)
			}
			if err != nil {
				return false, err
			}
			if pvc.Spec.VolumeName == "" || pvc.Annotations[volume.AnnBindCompleted] == "" {
				last = name
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil && ctx.Err() == nil && wait.Interrupted(err) {
		return fmt.Errorf("binding volumes: timed out waiting for claim %q to be bound", last)
	}
	return err
}

// bindWithVolumes runs PreBind for the pod's delayed claims in its own
// goroutine, then binds the pod; a failure forgets the pod and retries it
// after its backoff.
func (s *Scheduler) bindWithVolumes(ctx context.Context, pod *v1.Pod, pv *podVolumes, node string) {
	s.binds.Add(1)
	go func() {
		defer s.binds.Done()
		if err := s.preBindVolumes(ctx, pod, pv, node); err != nil {
			s.cache.forget(pod.UID)
			s.moveAllToActive()
			key := podKey(pod)
			if ctx.Err() != nil || errors.Is(err, errPodGone) {
				s.dropPending(key)
				return
			}
			s.recorder.Eventf(pod, v1.EventTypeWarning, EventFailedScheduling, "running PreBind plugin %q: %v", "VolumeBinding", err)
			s.mu.Lock()
			pb := s.pendingLocked(key)
			pb.attempts++
			pb.lastFailure = s.clock.Now()
			delay := backoffFor(pb.attempts)
			s.mu.Unlock()
			s.queue.AddAfter(key, delay)
			return
		}
		s.bind(ctx, pod, node)
	}()
}
