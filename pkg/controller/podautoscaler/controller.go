// Package podautoscaler is the HorizontalPodAutoscaler controller: every
// sync period it reads each HPA's target through the /scale subresource,
// the target's pods and their resource usage (metrics.k8s.io), computes the
// desired replica count with Kubernetes' algorithm (usage ratio with a 10%
// tolerance, unready and missing pods handled as upstream, stabilization
// windows and scaling policies) and writes the new count through /scale and
// the HPA's status (conditions AbleToScale, ScalingActive, ScalingLimited,
// currentMetrics). Resource and ContainerResource metrics are supported;
// Pods, Object and External metrics (custom and external metrics APIs) are
// not served by herd and make the HPA report FailedGetMetric.
package podautoscaler

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	autoscalinglisters "k8s.io/client-go/listers/autoscaling/v2"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
)

// DefaultSyncPeriod is kube-controller-manager's
// --horizontal-pod-autoscaler-sync-period.
const DefaultSyncPeriod = 15 * time.Second

// Options tune the controller; zero values take Kubernetes' defaults.
type Options struct {
	SyncPeriod                   time.Duration
	DownscaleStabilizationWindow time.Duration
	Tolerance                    float64
}

// Controller is the HPA controller.
type Controller struct {
	client  kubernetes.Interface
	metrics MetricsClient
	hpas    autoscalinglisters.HorizontalPodAutoscalerLister
	pods    corelisters.PodLister
	synced  []cache.InformerSynced
	rec     record.EventRecorder
	clk     clock.WithTicker
	opts    Options
	calc    *ReplicaCalculator
	queue   workqueue.TypedRateLimitingInterface[string]

	mu         sync.Mutex
	recs       map[string][]timestampedRecommendation
	upEvents   map[string][]timestampedScaleEvent
	downEvents map[string][]timestampedScaleEvent
}

// New returns the controller; Run starts it.
func New(client kubernetes.Interface, metrics MetricsClient, f informers.SharedInformerFactory, rec record.EventRecorder, clk clock.WithTicker, opts Options) *Controller {
	if opts.SyncPeriod == 0 {
		opts.SyncPeriod = DefaultSyncPeriod
	}
	if opts.DownscaleStabilizationWindow == 0 {
		opts.DownscaleStabilizationWindow = DefaultDownscaleStabilizationWindow
	}
	if opts.Tolerance == 0 {
		opts.Tolerance = DefaultTolerance
	}
	hpaInf := f.Autoscaling().V2().HorizontalPodAutoscalers()
	podInf := f.Core().V1().Pods()
	c := &Controller{
		client: client, metrics: metrics, hpas: hpaInf.Lister(), pods: podInf.Lister(),
		synced: []cache.InformerSynced{hpaInf.Informer().HasSynced, podInf.Informer().HasSynced},
		rec:    rec, clk: clk, opts: opts,
		calc: &ReplicaCalculator{Tolerance: opts.Tolerance, Now: clk.Now},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "horizontalpodautoscaler", Clock: clk}),
		recs: map[string][]timestampedRecommendation{}, upEvents: map[string][]timestampedScaleEvent{},
		downEvents: map[string][]timestampedScaleEvent{},
	}
	_, _ = hpaInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueue,
		UpdateFunc: func(old, cur interface{}) {
			// Status writes of our own need no new sync: only spec changes.
			if old.(*autoscalingv2.HorizontalPodAutoscaler).Generation != cur.(*autoscalingv2.HorizontalPodAutoscaler).Generation {
				c.enqueue(cur)
			}
		},
		DeleteFunc: func(obj interface{}) {
			key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
			if err == nil {
				c.queue.Forget(key)
				c.mu.Lock()
				delete(c.recs, key)
				delete(c.upEvents, key)
				delete(c.downEvents, key)
				c.mu.Unlock()
			}
		},
	})
	return c
}

func (c *Controller) enqueue(obj interface{}) {
	key, err := cache.MetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.queue.Add(key)
}

// Run syncs with workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	if !cache.WaitForNamedCacheSync("horizontal pod autoscaler", ctx.Done(), c.synced...) {
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
	deleted, err := c.sync(ctx, key)
	if err != nil {
		utilruntime.HandleError(fmt.Errorf("horizontal pod autoscaler %s: %w", key, err))
	}
	c.queue.Forget(key)
	// Every HPA is looked at again after the sync period, as upstream.
	if !deleted {
		c.queue.AddAfter(key, c.opts.SyncPeriod)
	}
	return true
}

// sync reconciles one HPA; deleted reports that it no longer exists.
func (c *Controller) sync(ctx context.Context, key string) (deleted bool, err error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return true, err
	}
	shared, err := c.hpas.HorizontalPodAutoscalers(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, c.reconcile(ctx, key, shared.DeepCopy())
}

func setCondition(hpa *autoscalingv2.HorizontalPodAutoscaler, t autoscalingv2.HorizontalPodAutoscalerConditionType, status corev1.ConditionStatus, reason, msg string, now metav1.Time) {
	for i := range hpa.Status.Conditions {
		cnd := &hpa.Status.Conditions[i]
		if cnd.Type != t {
			continue
		}
		if cnd.Status != status {
			cnd.LastTransitionTime = now
		}
		cnd.Status, cnd.Reason, cnd.Message = status, reason, msg
		return
	}
	hpa.Status.Conditions = append(hpa.Status.Conditions, autoscalingv2.HorizontalPodAutoscalerCondition{
		Type: t, Status: status, Reason: reason, Message: msg, LastTransitionTime: now})
}

func (c *Controller) reconcile(ctx context.Context, key string, hpa *autoscalingv2.HorizontalPodAutoscaler) error {
	old := hpa.DeepCopy()
	now := metav1.NewTime(c.clk.Now())
	ref := hpa.Spec.ScaleTargetRef
	scale, err := c.getScale(ctx, hpa.Namespace, ref)
	if err != nil {
		c.rec.Event(hpa, corev1.EventTypeWarning, "FailedGetScale", err.Error())
		setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedGetScale",
			fmt.Sprintf("the HPA controller was unable to get the target's current scale: %v", err), now)
		return c.updateStatus(ctx, old, hpa, err)
	}
	setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededGetScale",
		"the HPA controller was able to get the target's current scale", now)
	current := scale.Status.Replicas
	if scale.Spec.Replicas != current {
		current = scale.Spec.Replicas
	}
	minReplicas := ptr.Deref(hpa.Spec.MinReplicas, 1)
	var desired int32
	var reason string
	var metricStatuses []autoscalingv2.MetricStatus
	disabled := false
	switch {
	case scale.Spec.Replicas == 0 && minReplicas != 0:
		desired, disabled = 0, true
		setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionFalse, "ScalingDisabled",
			"scaling is disabled since the replica count of the target is zero", now)
	case current > hpa.Spec.MaxReplicas:
		desired, reason = hpa.Spec.MaxReplicas, "Current number of replicas above Spec.MaxReplicas"
	case current < minReplicas:
		desired, reason = minReplicas, "Current number of replicas below Spec.MinReplicas"
	default:
		proposal, metricName, statuses, cerr := c.computeReplicas(ctx, hpa, scale, current, now)
		metricStatuses = statuses
		if cerr != nil {
			hpa.Status.CurrentReplicas = current
			hpa.Status.CurrentMetrics = statuses
			return c.updateStatus(ctx, old, hpa, cerr)
		}
		c.mu.Lock()
		var lim limit
		if hpa.Spec.Behavior == nil {
			var stab int32
			stab, c.recs[key] = stabilize(c.recs[key], now.Time, c.opts.DownscaleStabilizationWindow, proposal)
			setStabilized(hpa, stab, proposal, current, now)
			desired, lim = limitWithoutBehavior(current, stab, minReplicas, hpa.Spec.MaxReplicas)
		} else {
			b := hpa.Spec.Behavior
			up, down := time.Duration(0), c.opts.DownscaleStabilizationWindow
			if b.ScaleUp != nil && b.ScaleUp.StabilizationWindowSeconds != nil {
				up = time.Duration(*b.ScaleUp.StabilizationWindowSeconds) * time.Second
			}
			if b.ScaleDown != nil && b.ScaleDown.StabilizationWindowSeconds != nil {
				down = time.Duration(*b.ScaleDown.StabilizationWindowSeconds) * time.Second
			}
			var stab int32
			stab, c.recs[key] = stabilizeWithBehavior(c.recs[key], now.Time, current, proposal, up, down)
			setStabilized(hpa, stab, proposal, current, now)
			c.upEvents[key] = pruneEvents(c.upEvents[key], b.ScaleUp, now.Time)
			c.downEvents[key] = pruneEvents(c.downEvents[key], b.ScaleDown, now.Time)
			desired, lim = limitWithBehavior(current, stab, minReplicas, hpa.Spec.MaxReplicas, b, c.upEvents[key], c.downEvents[key], now.Time)
		}
		c.mu.Unlock()
		if lim.limited {
			setCondition(hpa, autoscalingv2.ScalingLimited, corev1.ConditionTrue, lim.reason, lim.message, now)
		} else {
			setCondition(hpa, autoscalingv2.ScalingLimited, corev1.ConditionFalse, lim.reason, lim.message, now)
		}
		if desired > current {
			reason = fmt.Sprintf("%s above target", metricName)
		} else {
			reason = "All metrics below target"
		}
	}
	if !disabled && desired != current {
		scale.Spec.Replicas = desired
		if err := c.updateScale(ctx, hpa.Namespace, ref, scale); err != nil {
			c.rec.Eventf(hpa, corev1.EventTypeWarning, "FailedRescale", "New size: %d; reason: %s; error: %v", desired, reason, err)
			setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedUpdateScale",
				fmt.Sprintf("the HPA controller was unable to update the target scale: %v", err), now)
			hpa.Status.CurrentMetrics = metricStatuses
			return c.updateStatus(ctx, old, hpa, err)
		}
		setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededRescale",
			fmt.Sprintf("the HPA controller was able to update the target scale to %d", desired), now)
		c.rec.Eventf(hpa, corev1.EventTypeNormal, "SuccessfulRescale", "New size: %d; reason: %s", desired, reason)
		c.mu.Lock()
		if desired > current {
			c.upEvents[key] = append(c.upEvents[key], timestampedScaleEvent{replicaChange: desired - current, timestamp: now.Time})
		} else {
			c.downEvents[key] = append(c.downEvents[key], timestampedScaleEvent{replicaChange: current - desired, timestamp: now.Time})
		}
		c.mu.Unlock()
		klog.V(2).InfoS("Successful rescale", "hpa", klog.KObj(hpa), "currentReplicas", current, "desiredReplicas", desired, "reason", reason)
		hpa.Status.LastScaleTime = &now
	} else {
		klog.V(4).InfoS("Decided not to scale", "hpa", klog.KObj(hpa), "desiredReplicas", desired, "lastScaleTime", hpa.Status.LastScaleTime)
	}
	hpa.Status.CurrentReplicas = current
	hpa.Status.DesiredReplicas = desired
	hpa.Status.CurrentMetrics = metricStatuses
	return c.updateStatus(ctx, old, hpa, nil)
}

// setStabilized says in AbleToScale whether a stabilization window held the
// recommendation back, as upstream does.
func setStabilized(hpa *autoscalingv2.HorizontalPodAutoscaler, stabilized, proposal, current int32, now metav1.Time) {
	switch {
	case stabilized == proposal:
		setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, "ReadyForNewScale", "recommended size matches current size", now)
	case proposal >= current:
		setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, "ScaleUpStabilized",
			"recent recommendations were lower than current one, applying the lowest recent recommendation", now)
	default:
		setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, "ScaleDownStabilized",
			"recent recommendations were higher than current one, applying the highest recent recommendation", now)
	}
}

// computeReplicas evaluates every metric and proposes the largest count.
func (c *Controller) computeReplicas(ctx context.Context, hpa *autoscalingv2.HorizontalPodAutoscaler, scale *autoscalingv1.Scale, current int32, now metav1.Time) (int32, string, []autoscalingv2.MetricStatus, error) {
	selector, err := labels.Parse(scale.Status.Selector)
	if err != nil || scale.Status.Selector == "" {
		msg := "the HPA target's scale is missing a selector"
		if err != nil {
			msg = fmt.Sprintf("couldn't convert selector into a corresponding internal selector object: %v", err)
		}
		c.rec.Event(hpa, corev1.EventTypeWarning, "InvalidSelector", msg)
		setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionFalse, "InvalidSelector", msg, now)
		return 0, "", nil, fmt.Errorf("%s", msg)
	}
	pods, err := c.pods.Pods(hpa.Namespace).List(selector)
	if err != nil {
		return 0, "", nil, err
	}
	statuses := make([]autoscalingv2.MetricStatus, len(hpa.Spec.Metrics))
	var proposal int32
	var metricName string
	var invalid int
	var lastErr error
	var lastReason, lastMsg string
	for i, spec := range hpa.Spec.Metrics {
		replicas, name, status, reason, err := c.computeMetric(ctx, hpa, &spec, current, selector, pods)
		if err != nil {
			invalid++
			lastErr, lastReason = err, reason
			lastMsg = fmt.Sprintf("the HPA was unable to compute the replica count: %v", err)
			c.rec.Event(hpa, corev1.EventTypeWarning, reason, err.Error())
			c.rec.Event(hpa, corev1.EventTypeWarning, "FailedComputeMetricsReplicas", fmt.Sprintf("invalid metrics (%d invalid out of %d), first error is: %v", invalid, len(hpa.Spec.Metrics), err))
			statuses[i] = autoscalingv2.MetricStatus{}
			continue
		}
		statuses[i] = status
		if metricName == "" || replicas > proposal {
			proposal, metricName = replicas, name
		}
	}
	// As upstream: fail only when every metric failed, or when some failed
	// and the valid ones would scale down.
	if invalid == len(hpa.Spec.Metrics) || (invalid > 0 && proposal < current) {
		setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionFalse, lastReason, lastMsg, now)
		return 0, "", statuses, fmt.Errorf("invalid metrics (%d invalid out of %d), first error is: %w", invalid, len(hpa.Spec.Metrics), lastErr)
	}
	setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionTrue, "ValidMetricFound",
		fmt.Sprintf("the HPA was able to successfully calculate a replica count from %s", metricName), now)
	return proposal, metricName, statuses, nil
}

func (c *Controller) computeMetric(ctx context.Context, hpa *autoscalingv2.HorizontalPodAutoscaler, spec *autoscalingv2.MetricSpec, current int32,
	selector labels.Selector, pods []*corev1.Pod) (int32, string, autoscalingv2.MetricStatus, string, error) {
	var resName corev1.ResourceName
	var target autoscalingv2.MetricTarget
	var container string
	switch {
	case spec.Type == autoscalingv2.ResourceMetricSourceType && spec.Resource != nil:
		resName, target = spec.Resource.Name, spec.Resource.Target
	case spec.Type == autoscalingv2.ContainerResourceMetricSourceType && spec.ContainerResource != nil:
		resName, target, container = spec.ContainerResource.Name, spec.ContainerResource.Target, spec.ContainerResource.Container
	default:
		return 0, "", autoscalingv2.MetricStatus{}, "FailedGetMetric",
			fmt.Errorf("metric type %s is not supported by herd (only Resource and ContainerResource metrics are)", spec.Type)
	}
	metrics, _, err := c.metrics.ResourceMetric(ctx, resName, hpa.Namespace, selector, container)
	if err != nil {
		reason := "FailedGetResourceMetric"
		if container != "" {
			reason = "FailedGetContainerResourceMetric"
		}
		return 0, "", autoscalingv2.MetricStatus{}, reason, fmt.Errorf("failed to get %s utilization: %w", resName, err)
	}
	calc := c.calculatorFor(hpa)
	var replicas int32
	var value autoscalingv2.MetricValueStatus
	var name string
	if target.AverageValue != nil {
		var avg int64
		replicas, avg, err = calc.ResourceAverageValueReplicas(current, target.AverageValue.MilliValue(), resName, pods, metrics)
		value.AverageValue = resource.NewMilliQuantity(avg, resource.DecimalSI)
		name = fmt.Sprintf("%s resource", resName)
	} else {
		util := ptr.Deref(target.AverageUtilization, 80)
		var pct int32
		var avg int64
		replicas, pct, avg, err = calc.ResourceUtilizationReplicas(current, util, resName, pods, metrics, container)
		value.AverageUtilization = ptr.To(pct)
		value.AverageValue = resource.NewMilliQuantity(avg, resource.DecimalSI)
		name = fmt.Sprintf("%s resource utilization (percentage of request)", resName)
	}
	if err != nil {
		reason := "FailedGetResourceMetric"
		if container != "" {
			reason = "FailedGetContainerResourceMetric"
		}
		return 0, "", autoscalingv2.MetricStatus{}, reason, fmt.Errorf("failed to get %s utilization: %w", resName, err)
	}
	if resName == corev1.ResourceMemory && value.AverageValue != nil {
		value.AverageValue = resource.NewQuantity(value.AverageValue.Value(), resource.BinarySI)
	}
	st := autoscalingv2.MetricStatus{Type: spec.Type}
	if container != "" {
		st.ContainerResource = &autoscalingv2.ContainerResourceMetricStatus{Name: resName, Container: container, Current: value}
		name = "container " + name
	} else {
		st.Resource = &autoscalingv2.ResourceMetricStatus{Name: resName, Current: value}
	}
	return replicas, name, st, "", nil
}

// calculatorFor applies the tolerances of hpa's behavior, if any.
func (c *Controller) calculatorFor(hpa *autoscalingv2.HorizontalPodAutoscaler) *ReplicaCalculator {
	calc := *c.calc
	if b := hpa.Spec.Behavior; b != nil {
		if b.ScaleUp != nil && b.ScaleUp.Tolerance != nil {
			calc.ScaleUpTolerance = ptr.To(b.ScaleUp.Tolerance.AsApproximateFloat64())
		}
		if b.ScaleDown != nil && b.ScaleDown.Tolerance != nil {
			calc.ScaleDownTolerance = ptr.To(b.ScaleDown.Tolerance.AsApproximateFloat64())
		}
	}
	return &calc
}

func (c *Controller) updateStatus(ctx context.Context, old, hpa *autoscalingv2.HorizontalPodAutoscaler, cause error) error {
	hpa.Status.ObservedGeneration = ptr.To(hpa.Generation)
	if !statusEqual(old, hpa) {
		if _, err := c.client.AutoscalingV2().HorizontalPodAutoscalers(hpa.Namespace).UpdateStatus(ctx, hpa, metav1.UpdateOptions{}); err != nil {
			c.rec.Event(hpa, corev1.EventTypeWarning, "FailedUpdateStatus", err.Error())
			return fmt.Errorf("updating status: %w", err)
		}
	}
	return cause
}

func statusEqual(a, b *autoscalingv2.HorizontalPodAutoscaler) bool {
	return apiequality.Semantic.DeepEqual(a.Status, b.Status)
}

// getScale reads the target's /scale subresource.
func (c *Controller) getScale(ctx context.Context, ns string, ref autoscalingv2.CrossVersionObjectReference) (*autoscalingv1.Scale, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil, fmt.Errorf("invalid API version in scale target reference: %w", err)
	}
	switch gk := (schema.GroupKind{Group: gv.Group, Kind: ref.Kind}); gk {
	case schema.GroupKind{Group: "apps", Kind: "Deployment"}:
		return c.client.AppsV1().Deployments(ns).GetScale(ctx, ref.Name, metav1.GetOptions{})
	case schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}:
		return c.client.AppsV1().ReplicaSets(ns).GetScale(ctx, ref.Name, metav1.GetOptions{})
	case schema.GroupKind{Group: "apps", Kind: "StatefulSet"}:
		return c.client.AppsV1().StatefulSets(ns).GetScale(ctx, ref.Name, metav1.GetOptions{})
	case schema.GroupKind{Kind: "ReplicationController"}:
		return c.client.CoreV1().ReplicationControllers(ns).GetScale(ctx, ref.Name, metav1.GetOptions{})
	default:
		return nil, fmt.Errorf("unable to get scale for %s: no scale subresource is served for it", strings.TrimPrefix(gk.String(), "."))
	}
}

func (c *Controller) updateScale(ctx context.Context, ns string, ref autoscalingv2.CrossVersionObjectReference, scale *autoscalingv1.Scale) error {
	gv, _ := schema.ParseGroupVersion(ref.APIVersion)
	var err error
	switch gk := (schema.GroupKind{Group: gv.Group, Kind: ref.Kind}); gk {
	case schema.GroupKind{Group: "apps", Kind: "Deployment"}:
		_, err = c.client.AppsV1().Deployments(ns).UpdateScale(ctx, ref.Name, scale, metav1.UpdateOptions{})
	case schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}:
		_, err = c.client.AppsV1().ReplicaSets(ns).UpdateScale(ctx, ref.Name, scale, metav1.UpdateOptions{})
	case schema.GroupKind{Group: "apps", Kind: "StatefulSet"}:
		_, err = c.client.AppsV1().StatefulSets(ns).UpdateScale(ctx, ref.Name, scale, metav1.UpdateOptions{})
	case schema.GroupKind{Kind: "ReplicationController"}:
		_, err = c.client.CoreV1().ReplicationControllers(ns).UpdateScale(ctx, ref.Name, scale, metav1.UpdateOptions{})
	default:
		err = fmt.Errorf("no scale subresource is served for %s", gk)
	}
	return err
}
