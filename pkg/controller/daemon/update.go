package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/herd-project/herd/pkg/controller/daemon/util"
	deploymentutil "github.com/herd-project/herd/pkg/controller/deployment/util"
	"github.com/herd-project/herd/pkg/controller/history"
	"github.com/herd-project/herd/pkg/controller/internal/replication"
)

// rollingUpdate replaces old pods within the budget: without surge it
// deletes old pods so that at most maxUnavailable nodes lack an available
// pod (the manage step then creates new ones); with surge it creates new
// pods next to old ones on at most maxSurge nodes and deletes an old pod
// once the new one is available.
func (c *Controller) rollingUpdate(ctx context.Context, ds *appsv1.DaemonSet, nodes []*corev1.Node, pred *util.NodePredicate, nodeToPods map[string][]*corev1.Pod, hash string) error {
	logger := klog.FromContext(ctx)
	maxSurge, maxUnavailable, desired, err := c.updatedDesiredNodeCounts(ctx, ds, nodes, pred, nodeToPods)
	if err != nil {
		return fmt.Errorf("couldn't get unavailable numbers: %w", err)
	}
	now := c.clock.Now()
	available := func(p *corev1.Pod) bool { return replication.IsPodAvailable(p, ds.Spec.MinReadySeconds, now) }
	generation, err := util.GetTemplateGeneration(ds)
	if err != nil {
		generation = nil
	}

	if maxSurge == 0 {
		// Deleted pods do not count as unavailable, so updates progress
		// while nodes are down.
		var numUnavailable int
		var allowedReplacements, candidates []*corev1.Pod
		for nodeName, pods := range nodeToPods {
			newPod, oldPod, ok := findUpdatedPodsOnNode(pods, hash, generation)
			if !ok {
				logger.V(3).Info("DaemonSet has excess pods on node, skipping to allow the core loop to process", "daemonSet", klog.KObj(ds), "node", nodeName)
				numUnavailable++
				continue
			}
			switch {
			case oldPod == nil && newPod == nil, oldPod != nil && newPod != nil:
				// The manage step creates or deletes here.
				numUnavailable++
			case newPod != nil:
				if !available(newPod) {
					numUnavailable++
				}
			default:
				switch {
				case !available(oldPod):
					// An old pod that is unavailable anyway is replaced at once.
					allowedReplacements = append(allowedReplacements, oldPod)
					numUnavailable++
				case numUnavailable >= maxUnavailable:
				default:
					candidates = append(candidates, oldPod)
				}
			}
		}
		remaining := max(0, maxUnavailable-numUnavailable)
		remaining = min(remaining, len(candidates))
		logger.V(5).Info("DaemonSet allowing replacements", "daemonSet", klog.KObj(ds), "replacements", len(allowedReplacements),
			"maxUnavailable", maxUnavailable, "numUnavailable", numUnavailable, "candidates", len(candidates))
		return c.syncNodes(ctx, ds, append(allowedReplacements, candidates[:remaining]...), nil, hash)
	}

	var oldPodsToDelete, shouldNotRunPodsToDelete []*corev1.Pod
	var candidateNewNodes, allowedNewNodes []string
	var numSurge, numAvailable int
	for nodeName, pods := range nodeToPods {
		newPod, oldPod, ok := findUpdatedPodsOnNode(pods, hash, generation)
		if !ok {
			logger.V(3).Info("DaemonSet has excess pods on node, skipping to allow the core loop to process", "daemonSet", klog.KObj(ds), "node", nodeName)
			numSurge++
			continue
		}
		if oldPod != nil {
			if available(oldPod) {
				numAvailable++
			}
		} else if newPod != nil && available(newPod) {
			numAvailable++
		}
		switch {
		case oldPod == nil:
			// The manage step handles this node.
		case newPod == nil:
			node, err := c.nodeLister.Get(nodeName)
			if err != nil {
				return fmt.Errorf("couldn't get node for nodeName %q: %w", nodeName, err)
			}
			shouldRun, _ := pred.ShouldRun(node)
			switch {
			case !available(oldPod):
				if !shouldRun {
					oldPodsToDelete = append(oldPodsToDelete, oldPod)
					continue
				}
				allowedNewNodes = append(allowedNewNodes, nodeName)
			case !shouldRun:
				shouldNotRunPodsToDelete = append(shouldNotRunPodsToDelete, oldPod)
			case numSurge >= maxSurge:
			default:
				candidateNewNodes = append(candidateNewNodes, nodeName)
			}
		default:
			// Already surged here: the old pod goes once the new one is available.
			if !available(newPod) {
				numSurge++
				continue
			}
			oldPodsToDelete = append(oldPodsToDelete, oldPod)
		}
	}
	// With surge the owner expects full availability: a pod on a node that
	// no longer qualifies goes only once enough pods are available elsewhere.
	if deletable := numAvailable - desired; deletable > 0 {
		deletable = min(deletable, len(shouldNotRunPodsToDelete))
		oldPodsToDelete = append(oldPodsToDelete, shouldNotRunPodsToDelete[:deletable]...)
	}
	remaining := max(0, maxSurge-numSurge)
	remaining = min(remaining, len(candidateNewNodes))
	logger.V(5).Info("DaemonSet allowing surge", "daemonSet", klog.KObj(ds), "replacements", len(allowedNewNodes),
		"maxSurge", maxSurge, "numSurge", numSurge, "candidates", len(candidateNewNodes))
	return c.syncNodes(ctx, ds, oldPodsToDelete, append(allowedNewNodes, candidateNewNodes[:remaining]...), hash)
}

// updatedDesiredNodeCounts returns maxSurge, maxUnavailable and the desired
// number of nodes, and adds an empty entry to nodeToPods for every desired
// node without pods.
func (c *Controller) updatedDesiredNodeCounts(ctx context.Context, ds *appsv1.DaemonSet, nodes []*corev1.Node, pred *util.NodePredicate, nodeToPods map[string][]*corev1.Pod) (int, int, int, error) {
	var desired int
	for _, node := range nodes {
		if shouldRun, _ := pred.ShouldRun(node); !shouldRun {
			continue
		}
		desired++
		if _, ok := nodeToPods[node.Name]; !ok {
			nodeToPods[node.Name] = nil
		}
	}
	maxUnavailable, err := util.UnavailableCount(ds, desired)
	if err != nil {
		return -1, -1, -1, fmt.Errorf("invalid value for MaxUnavailable: %w", err)
	}
	maxSurge, err := util.SurgeCount(ds, desired)
	if err != nil {
		return -1, -1, -1, fmt.Errorf("invalid value for MaxSurge: %w", err)
	}
	// An impossible configuration (both 0) falls back to one unavailable.
	if desired > 0 && maxUnavailable == 0 && maxSurge == 0 {
		klog.FromContext(ctx).Info("DaemonSet is not configured for surge or unavailability, defaulting to accepting unavailability", "daemonSet", klog.KObj(ds))
		maxUnavailable = 1
	}
	return maxSurge, maxUnavailable, desired, nil
}

// findUpdatedPodsOnNode returns the node's live new and old pod; ok is false
// when there are several of either (the manage step prunes them first).
func findUpdatedPodsOnNode(pods []*corev1.Pod, hash string, generation *int64) (newPod, oldPod *corev1.Pod, ok bool) {
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		if util.IsPodUpdated(pod, hash, generation) {
			if newPod != nil {
				return nil, nil, false
			}
			newPod = pod
		} else {
			if oldPod != nil {
				return nil, nil, false
			}
			oldPod = pod
		}
	}
	return newPod, oldPod, true
}

// getPatch is what a ControllerRevision of a DaemonSet stores: a strategic
// merge patch replacing spec.template, the form kubectl rollout undo applies.
func getPatch(ds *appsv1.DaemonSet) ([]byte, error) {
	b, err := json.Marshal(ds)
	if err != nil {
		return nil, err
	}
	var raw map[string]interface{}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	spec, _ := raw["spec"].(map[string]interface{})
	template, _ := spec["template"].(map[string]interface{})
	if template == nil {
		template = map[string]interface{}{}
	}
	template["$patch"] = "replace"
	return json.Marshal(map[string]interface{}{"spec": map[string]interface{}{"template": template}})
}

// Match reports whether rev holds ds's current template (compared by meaning).
func Match(ds *appsv1.DaemonSet, rev *appsv1.ControllerRevision) (bool, error) {
	patch, err := getPatch(ds)
	if err != nil {
		return false, err
	}
	return history.Equal(&appsv1.ControllerRevision{Data: runtime.RawExtension{Raw: patch}}, rev, nil), nil
}

// constructHistory claims ds's revisions and returns the current one
// (created, or renumbered to the newest number, as needed) and the others.
func (c *Controller) constructHistory(ctx context.Context, ds *appsv1.DaemonSet, selector labels.Selector) (cur *appsv1.ControllerRevision, old []*appsv1.ControllerRevision, err error) {
	revs, err := c.history.List(ctx, history.Owner{Object: ds, Kind: controllerKind, Selector: selector, CanAdopt: c.canAdopt(ds)})
	if err != nil {
		return nil, nil, err
	}
	var current []*appsv1.ControllerRevision
	for _, rev := range revs {
		// Older revisions may lack the hash label: their name stands in.
		if _, ok := rev.Labels[util.RevisionHashLabel]; !ok {
			upd := rev.DeepCopy()
			if upd.Labels == nil {
				upd.Labels = map[string]string{}
			}
			upd.Labels[util.RevisionHashLabel] = upd.Name
			if rev, err = c.client.AppsV1().ControllerRevisions(ds.Namespace).Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
				return nil, nil, err
			}
		}
		found, err := Match(ds, rev)
		if err != nil {
			return nil, nil, err
		}
		if found {
			current = append(current, rev)
		} else {
			old = append(old, rev)
		}
	}
	next := history.NextRevision(old)
	if len(current) == 0 {
		cur, err = c.snapshot(ctx, ds, next)
		return cur, old, err
	}
	cur, err = c.dedupCurHistories(ctx, ds, selector, current)
	if err != nil {
		return nil, nil, err
	}
	if cur.Revision < next {
		if cur, err = c.history.Renumber(ctx, cur, next); err != nil {
			return nil, nil, err
		}
	}
	return cur, old, nil
}

// dedupCurHistories keeps the newest of several revisions holding the
// current template, relabels the pods of the others and deletes them.
func (c *Controller) dedupCurHistories(ctx context.Context, ds *appsv1.DaemonSet, selector labels.Selector, current []*appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	if len(current) == 1 {
		return current[0], nil
	}
	var keep *appsv1.ControllerRevision
	for _, r := range current {
		if keep == nil || r.Revision >= keep.Revision {
			keep = r
		}
	}
	keepHash := keep.Labels[util.RevisionHashLabel]
	for _, r := range current {
		if r.Name == keep.Name {
			continue
		}
		pods, err := c.getDaemonPods(ctx, ds, selector)
		if err != nil {
			return nil, err
		}
		for _, pod := range pods {
			if pod.Labels[util.RevisionHashLabel] == keepHash {
				continue
			}
			patch, err := json.Marshal(map[string]interface{}{"metadata": map[string]interface{}{"labels": map[string]interface{}{util.RevisionHashLabel: keepHash}}})
			if err != nil {
				return nil, err
			}
			if _, err := c.client.CoreV1().Pods(ds.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
				return nil, err
			}
		}
		if err := c.history.Delete(ctx, r); err != nil {
			return nil, err
		}
	}
	return keep, nil
}

// snapshot creates the revision of ds's current template, named
// "<ds>-<template hash>". A name taken by another template is a hash
// collision: status.collisionCount goes up and the sync is retried.
func (c *Controller) snapshot(ctx context.Context, ds *appsv1.DaemonSet, revision int64) (*appsv1.ControllerRevision, error) {
	patch, err := getPatch(ds)
	if err != nil {
		return nil, err
	}
	hash := deploymentutil.ComputeHash(&ds.Spec.Template, ds.Status.CollisionCount)
	name := ds.Name + "-" + hash
	annotations := make(map[string]string, len(ds.Annotations))
	for k, v := range ds.Annotations {
		annotations[k] = v
	}
	rev := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       ds.Namespace,
			Labels:          deploymentutil.CloneAndAddLabel(ds.Spec.Template.Labels, util.RevisionHashLabel, hash),
			Annotations:     annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, controllerKind)},
		},
		Data:     runtime.RawExtension{Raw: patch},
		Revision: revision,
	}
	created, err := c.client.AppsV1().ControllerRevisions(ds.Namespace).Create(ctx, rev, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return created, err
	}
	outerErr := err
	existing, err := c.client.AppsV1().ControllerRevisions(ds.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	if done, err := Match(ds, existing); err != nil {
		return nil, err
	} else if done {
		return existing, nil
	}
	cur, err := c.client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	if !reflect.DeepEqual(cur.Status.CollisionCount, ds.Status.CollisionCount) {
		return nil, fmt.Errorf("found a stale collision count (%v, expected %v) of DaemonSet %q while processing; will retry until it is updated",
			ptrString(ds.Status.CollisionCount), ptrString(cur.Status.CollisionCount), ds.Name)
	}
	if cur.Status.CollisionCount == nil {
		cur.Status.CollisionCount = new(int32)
	}
	*cur.Status.CollisionCount++
	if _, err := c.client.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return nil, err
	}
	klog.FromContext(ctx).V(2).Info("Found a hash collision for DaemonSet - bumping collisionCount to resolve it", "daemonSet", klog.KObj(ds), "collisionCount", *cur.Status.CollisionCount)
	return nil, outerErr
}

func ptrString(p *int32) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// cleanupHistory deletes the oldest revisions beyond revisionHistoryLimit
// that no pod (terminal ones included) still carries.
func (c *Controller) cleanupHistory(ctx context.Context, ds *appsv1.DaemonSet, nodeToPods map[string][]*corev1.Pod, old []*appsv1.ControllerRevision) error {
	limit := 10
	if ds.Spec.RevisionHistoryLimit != nil {
		limit = int(*ds.Spec.RevisionHistoryLimit)
	}
	toKill := len(old) - limit
	if toKill <= 0 {
		return nil
	}
	live := map[string]bool{}
	for _, pods := range nodeToPods {
		for _, pod := range pods {
			if h := pod.Labels[util.RevisionHashLabel]; h != "" {
				live[h] = true
			}
		}
	}
	sorted := append([]*appsv1.ControllerRevision(nil), old...)
	history.Sort(sorted)
	for _, rev := range sorted {
		if toKill <= 0 {
			break
		}
		if live[rev.Labels[util.RevisionHashLabel]] {
			continue
		}
		if err := c.history.Delete(ctx, rev); err != nil {
			return err
		}
		toKill--
	}
	return nil
}
