// Package namespace empties namespaces that are being deleted, as
// Kubernetes' namespace controller does: every namespaced resource found
// through discovery is deleted, the namespace's status conditions report what
// blocks, and once nothing is left the "kubernetes" finalizer is removed
// through the finalize subresource so the API server deletes the namespace.
// It does not refuse new objects in a terminating namespace (the API server's
// admission does), nor protect default, kube-system and kube-public.
package namespace

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// FinalizerKubernetes is the namespace finalizer this controller owns.
const FinalizerKubernetes = corev1.FinalizerKubernetes

// finalizerEstimateSeconds is the wait assumed for objects held by finalizers.
const finalizerEstimateSeconds int64 = 1

// Controller deletes the content of terminating namespaces.
type Controller struct {
	client     kubernetes.Interface
	metadata   metadata.Interface
	discovery  discovery.DiscoveryInterface
	clock      clock.WithTicker
	namespaces corelisters.NamespaceLister
	synced     cache.InformerSynced
	queue      workqueue.TypedRateLimitingInterface[string]
}

// New wires the controller to the namespace informer.
func New(client kubernetes.Interface, md metadata.Interface, disc discovery.DiscoveryInterface, nsInformer coreinformers.NamespaceInformer, clk clock.WithTicker) *Controller {
	if clk == nil {
		clk = clock.RealClock{}
	}
	c := &Controller{
		client:     client,
		metadata:   md,
		discovery:  disc,
		clock:      clk,
		namespaces: nsInformer.Lister(),
		synced:     nsInformer.Informer().HasSynced,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](5*time.Millisecond, 60*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "namespace", Clock: clk}),
	}
	enqueue := func(obj interface{}) {
		if ns, ok := obj.(*corev1.Namespace); ok && ns.DeletionTimestamp != nil {
			c.queue.Add(ns.Name)
		}
	}
	_, _ = nsInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj interface{}) { enqueue(obj) },
	})
	return c
}

// Run processes namespaces until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	klog.FromContext(ctx).V(2).Info("Starting namespace controller")
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
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
	var remaining *ResourcesRemainingError
	if errors.As(err, &remaining) {
		delay := time.Duration(remaining.Estimate/2+1) * time.Second
		klog.FromContext(ctx).V(2).Info("Namespace content remains, checking again later", "namespace", key, "after", delay)
		c.queue.AddAfter(key, delay)
		return true
	}
	utilruntime.HandleErrorWithContext(ctx, err, "Namespace deletion failed", "namespace", key)
	c.queue.AddRateLimited(key)
	return true
}

// ResourcesRemainingError: content remains; Estimate is the expected wait in seconds.
type ResourcesRemainingError struct {
	Estimate int64
}

func (e *ResourcesRemainingError) Error() string {
	return fmt.Sprintf("some content remains in the namespace, estimate %d seconds before it is removed", e.Estimate)
}

// sync empties a terminating namespace and finalizes it once empty.
func (c *Controller) sync(ctx context.Context, name string) error {
	logger := klog.FromContext(ctx)
	cached, err := c.namespaces.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if cached.DeletionTimestamp == nil {
		return nil
	}
	// read live: the cache may lag behind a finalize already done.
	ns, err := c.client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.DeletionTimestamp == nil || !hasFinalizer(ns) {
		return nil
	}
	if ns.Status.Phase != corev1.NamespaceTerminating {
		ns = ns.DeepCopy()
		ns.Status.Phase = corev1.NamespaceTerminating
		if ns, err = c.client.CoreV1().Namespaces().UpdateStatus(ctx, ns, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	estimate, ns, err := c.deleteAllContent(ctx, ns)
	if err != nil {
		return err
	}
	if estimate > 0 {
		return &ResourcesRemainingError{Estimate: estimate}
	}
	logger.V(2).Info("Namespace is empty, removing the kubernetes finalizer", "namespace", name)
	fin := ns.DeepCopy()
	fin.Spec.Finalizers = nil
	for _, f := range ns.Spec.Finalizers {
		if f != FinalizerKubernetes {
			fin.Spec.Finalizers = append(fin.Spec.Finalizers, f)
		}
	}
	_, err = c.client.CoreV1().Namespaces().Finalize(ctx, fin, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func hasFinalizer(ns *corev1.Namespace) bool {
	for _, f := range ns.Spec.Finalizers {
		if f == FinalizerKubernetes {
			return true
		}
	}
	return false
}

type resourceInfo struct {
	gvr              schema.GroupVersionResource
	deleteCollection bool
}

// discover returns the namespaced, deletable resources in their preferred
// versions.
func (c *Controller) discover() ([]resourceInfo, error, error) {
	if cd, ok := c.discovery.(discovery.CachedDiscoveryInterface); ok {
		// resources added since the last look must be emptied too.
		cd.Invalidate()
	}
	groups, lists, err := c.discovery.ServerGroupsAndResources()
	var discoveryErr, parseErr error
	if err != nil {
		discoveryErr = err
		if !discovery.IsGroupDiscoveryFailedError(err) {
			return nil, discoveryErr, nil
		}
	}
	preferred := map[string]string{}
	for _, g := range groups {
		if g != nil {
			preferred[g.Name] = g.PreferredVersion.Version
		}
	}
	var out []resourceInfo
	var parseErrs []error
	for _, list := range lists {
		if list == nil {
			continue
		}
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			parseErrs = append(parseErrs, err)
			continue
		}
		if v, ok := preferred[gv.Group]; ok && v != gv.Version {
			continue
		}
		for _, r := range list.APIResources {
			if !r.Namespaced || strings.Contains(r.Name, "/") {
				continue
			}
			verbs := sets.New[string](r.Verbs...)
			if !verbs.Has("delete") {
				continue
			}
			out = append(out, resourceInfo{gvr: gv.WithResource(r.Name), deleteCollection: verbs.Has("deletecollection")})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].gvr.String() < out[j].gvr.String() })
	if len(parseErrs) > 0 {
		parseErr = utilerrors.NewAggregate(parseErrs)
	}
	return out, discoveryErr, parseErr
}

// deleteAllContent deletes every namespaced object and returns the estimated
// seconds before what remains is gone; conditions are written to status and
// the namespace as last written is returned.
func (c *Controller) deleteAllContent(ctx context.Context, ns *corev1.Namespace) (int64, *corev1.Namespace, error) {
	var conds []corev1.NamespaceCondition
	now := metav1.NewTime(c.clock.Now())
	resources, discoveryErr, parseErr := c.discover()
	if discoveryErr != nil {
		msg := discoveryErr.Error()
		var gdf *discovery.ErrGroupDiscoveryFailed
		if errors.As(discoveryErr, &gdf) {
			msg = fmt.Sprintf("Discovery failed for some groups, %d failing: %v", len(gdf.Groups), discoveryErr)
		}
		conds = append(conds, corev1.NamespaceCondition{Type: corev1.NamespaceDeletionDiscoveryFailure,
			Status: corev1.ConditionTrue, Reason: "DiscoveryFailed", Message: msg, LastTransitionTime: now})
	}
	if parseErr != nil {
		conds = append(conds, corev1.NamespaceCondition{Type: corev1.NamespaceDeletionGVParsingFailure,
			Status: corev1.ConditionTrue, Reason: "GroupVersionParsingFailed", Message: parseErr.Error(), LastTransitionTime: now})
	}
	var estimate int64
	var errs []error
	remaining := map[schema.GroupVersionResource]int{}
	finalizers := map[string]int{}
	for _, r := range resources {
		e, err := c.deleteResource(ctx, ns.Name, r, remaining, finalizers)
		if err != nil {
			errs = append(errs, err)
		}
		if e > estimate {
			estimate = e
		}
	}
	if len(errs) > 0 {
		conds = append(conds, corev1.NamespaceCondition{Type: corev1.NamespaceDeletionContentFailure,
			Status: corev1.ConditionTrue, Reason: "ContentDeletionFailed", Message: utilerrors.NewAggregate(errs).Error(), LastTransitionTime: now})
	}
	if len(remaining) > 0 {
		var parts []string
		for gvr, n := range remaining {
			parts = append(parts, fmt.Sprintf("%s.%s has %d resource instances", gvr.Resource, gvr.Group, n))
		}
		sort.Strings(parts)
		conds = append(conds, corev1.NamespaceCondition{Type: corev1.NamespaceContentRemaining,
			Status: corev1.ConditionTrue, Reason: "SomeResourcesRemain",
			Message: "Some resources are remaining: " + strings.Join(parts, ", "), LastTransitionTime: now})
	}
	if len(finalizers) > 0 {
		var parts []string
		for f, n := range finalizers {
			parts = append(parts, fmt.Sprintf("%s in %d resource instances", f, n))
		}
		sort.Strings(parts)
		conds = append(conds, corev1.NamespaceCondition{Type: corev1.NamespaceFinalizersRemaining,
			Status: corev1.ConditionTrue, Reason: "SomeFinalizersRemain",
			Message: "Some content in the namespace has finalizers remaining: " + strings.Join(parts, ", "), LastTransitionTime: now})
	}
	if status, changed := updateConditions(ns.Status, conds, now); changed {
		upd := ns.DeepCopy()
		upd.Status = status
		if written, err := c.client.CoreV1().Namespaces().UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			errs = append(errs, err)
		} else {
			ns = written
		}
	}
	// Unseen groups may still hold content: a discovery or parsing failure
	// keeps the namespace from being finalized.
	if discoveryErr != nil {
		errs = append(errs, discoveryErr)
	}
	if parseErr != nil {
		errs = append(errs, parseErr)
	}
	return estimate, ns, utilerrors.NewAggregate(errs)
}

// deleteResource deletes all objects of one resource in the namespace and
// counts what remains (and under which finalizers).
func (c *Controller) deleteResource(ctx context.Context, ns string, r resourceInfo, remaining map[schema.GroupVersionResource]int, finalizers map[string]int) (int64, error) {
	var estimate int64
	if r.gvr.Group == "" && r.gvr.Resource == "pods" {
		e, err := c.estimatePods(ctx, ns)
		if err != nil {
			return 0, err
		}
		estimate = e
	}
	rc := c.metadata.Resource(r.gvr).Namespace(ns)
	background := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &background}
	deleted := false
	if r.deleteCollection {
		err := rc.DeleteCollection(ctx, opts, metav1.ListOptions{})
		switch {
		case err == nil:
			deleted = true
		case apierrors.IsMethodNotSupported(err) || apierrors.IsNotFound(err):
		default:
			return estimate, err
		}
	}
	if !deleted {
		list, err := rc.List(ctx, metav1.ListOptions{})
		if err != nil {
			if apierrors.IsMethodNotSupported(err) || apierrors.IsNotFound(err) {
				return estimate, nil
			}
			return estimate, err
		}
		var errs []error
		for i := range list.Items {
			it := &list.Items[i]
			if it.DeletionTimestamp != nil {
				continue
			}
			if err := rc.Delete(ctx, it.Name, opts); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return estimate, utilerrors.NewAggregate(errs)
		}
	}
	list, err := rc.List(ctx, metav1.ListOptions{})
	if err != nil {
		return estimate, err
	}
	if len(list.Items) == 0 {
		return estimate, nil
	}
	remaining[r.gvr] += len(list.Items)
	withFinalizers := false
	for _, it := range list.Items {
		for _, f := range it.Finalizers {
			finalizers[f]++
			withFinalizers = true
		}
	}
	if estimate == 0 {
		if !withFinalizers {
			return estimate, fmt.Errorf("unexpected items still remain in namespace: %s for gvr: %v", ns, r.gvr)
		}
		estimate = finalizerEstimateSeconds
	}
	return estimate, nil
}

// estimatePods returns the longest termination grace period of the pods that
// are not yet terminal.
func (c *Controller) estimatePods(ctx context.Context, ns string) (int64, error) {
	pods, err := c.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	var estimate int64
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
		if p.Spec.TerminationGracePeriodSeconds != nil {
			grace = *p.Spec.TerminationGracePeriodSeconds
		}
		if p.DeletionGracePeriodSeconds != nil {
			grace = *p.DeletionGracePeriodSeconds
		}
		if grace > estimate {
			estimate = grace
		}
	}
	return estimate, nil
}

var conditionTypes = []corev1.NamespaceConditionType{
	corev1.NamespaceDeletionDiscoveryFailure,
	corev1.NamespaceDeletionGVParsingFailure,
	corev1.NamespaceDeletionContentFailure,
	corev1.NamespaceContentRemaining,
	corev1.NamespaceFinalizersRemaining,
}

var okConditions = map[corev1.NamespaceConditionType][2]string{
	corev1.NamespaceDeletionDiscoveryFailure: {"ResourcesDiscovered", "All resources successfully discovered"},
	corev1.NamespaceDeletionGVParsingFailure: {"ParsedGroupVersions", "All legacy kube types successfully parsed"},
	corev1.NamespaceDeletionContentFailure:   {"ContentDeleted", "All content successfully deleted, may be waiting on finalization"},
	corev1.NamespaceContentRemaining:         {"ContentRemoved", "All content successfully removed"},
	corev1.NamespaceFinalizersRemaining:      {"ContentHasNoFinalizers", "All content-preserving finalizers finished"},
}

// updateConditions sets all five deletion conditions: the failing ones from
// conds, the others to their "False" success form. An unchanged condition
// keeps its lastTransitionTime.
func updateConditions(status corev1.NamespaceStatus, conds []corev1.NamespaceCondition, now metav1.Time) (corev1.NamespaceStatus, bool) {
	out := status.DeepCopy()
	changed := false
	for _, t := range conditionTypes {
		want := corev1.NamespaceCondition{Type: t, Status: corev1.ConditionFalse, Reason: okConditions[t][0],
			Message: okConditions[t][1], LastTransitionTime: now}
		for _, c := range conds {
			if c.Type == t {
				want = c
			}
		}
		idx := -1
		for i, c := range out.Conditions {
			if c.Type == t {
				idx = i
			}
		}
		switch {
		case idx < 0:
			out.Conditions = append(out.Conditions, want)
			changed = true
		case out.Conditions[idx].Status != want.Status || out.Conditions[idx].Reason != want.Reason ||
			out.Conditions[idx].Message != want.Message:
			if out.Conditions[idx].Status == want.Status {
				want.LastTransitionTime = out.Conditions[idx].LastTransitionTime
			}
			out.Conditions[idx] = want
			changed = true
		}
	}
	return *out, changed
}
