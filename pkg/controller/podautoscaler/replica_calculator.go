package podautoscaler

import (
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

const (
	// DefaultTolerance: usage within 10% of the target changes nothing.
	DefaultTolerance = 0.1
	// CPUInitializationPeriod: for this long after a pod starts, its CPU
	// figures count only once it is ready and measured since then.
	CPUInitializationPeriod = 5 * time.Minute
	// DelayOfInitialReadinessStatus: a pod that turned unready within this
	// time of starting is still initializing.
	DelayOfInitialReadinessStatus = 30 * time.Second
)

// PodMetric is one pod's usage of a resource (summed over its containers,
// in milli-units: millicores, or bytes*1000), when it was measured and
// over which window.
type PodMetric struct {
	Timestamp time.Time
	Window    time.Duration
	Value     int64
}

// PodMetricsInfo maps pod names to their metric.
type PodMetricsInfo map[string]PodMetric

// ReplicaCalculator computes desired replica counts as Kubernetes' HPA
// controller does.
type ReplicaCalculator struct {
	// Tolerance applies both ways; ScaleUpTolerance and
	// ScaleDownTolerance, when set (an HPA's behavior.scaleUp.tolerance and
	// behavior.scaleDown.tolerance), override it for one direction.
	Tolerance                            float64
	ScaleUpTolerance, ScaleDownTolerance *float64
	Now                                  func() time.Time
}

// within says whether a usage ratio is close enough to 1 to change nothing.
func (c *ReplicaCalculator) within(ratio float64) bool {
	up, down := c.Tolerance, c.Tolerance
	if c.ScaleUpTolerance != nil {
		up = *c.ScaleUpTolerance
	}
	if c.ScaleDownTolerance != nil {
		down = *c.ScaleDownTolerance
	}
	return ratio >= 1.0-down && ratio <= 1.0+up
}

// ResourceUtilizationReplicas is the replica count for a target average
// utilization (percent of request) of resource, given the target's pods
// and their metrics; it also returns the current utilization and average
// usage (milli-units).
func (c *ReplicaCalculator) ResourceUtilizationReplicas(currentReplicas int32, targetUtilization int32, resource corev1.ResourceName,
	pods []*corev1.Pod, metrics PodMetricsInfo, container string) (replicas int32, utilization int32, rawAverage int64, err error) {
	if len(pods) == 0 {
		return 0, 0, 0, fmt.Errorf("no pods returned by selector while calculating replica count")
	}
	metrics = copyMetrics(metrics)
	readyCount, unready, missing, ignored := c.groupPods(pods, metrics, resource)
	removeMetrics(metrics, ignored)
	removeMetrics(metrics, unready)
	requests, err := podRequests(pods, container, resource)
	if err != nil {
		return 0, 0, 0, err
	}
	if len(metrics) == 0 {
		return 0, 0, 0, fmt.Errorf("did not receive metrics for targeted pods (pods might be unready)")
	}
	ratio, utilization, rawAverage, err := utilizationRatio(metrics, requests, targetUtilization)
	if err != nil {
		return 0, 0, 0, err
	}
	scaleUpWithUnready := len(unready) > 0 && ratio > 1.0
	if !scaleUpWithUnready && len(missing) == 0 {
		if c.within(ratio) {
			return currentReplicas, utilization, rawAverage, nil
		}
		return int32(math.Ceil(ratio * float64(readyCount))), utilization, rawAverage, nil
	}
	if len(missing) > 0 {
		for name := range missing {
			if ratio < 1.0 {
				// Scaling down: a pod without figures counts as using its request.
				metrics[name] = PodMetric{Value: requests[name]}
			} else {
				// Scaling up: as using nothing.
				metrics[name] = PodMetric{Value: 0}
			}
		}
	}
	if scaleUpWithUnready {
		for name := range unready {
			metrics[name] = PodMetric{Value: 0}
		}
	}
	newRatio, _, _, err := utilizationRatio(metrics, requests, targetUtilization)
	if err != nil {
		return 0, utilization, rawAverage, err
	}
	if c.within(newRatio) || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0) {
		return currentReplicas, utilization, rawAverage, nil
	}
	n := int32(math.Ceil(newRatio * float64(len(metrics))))
	if (newRatio < 1.0 && n > currentReplicas) || (newRatio > 1.0 && n < currentReplicas) {
		return currentReplicas, utilization, rawAverage, nil
	}
	return n, utilization, rawAverage, nil
}

// ResourceAverageValueReplicas is the replica count for a target average
// usage per pod (milli-units) of resource.
func (c *ReplicaCalculator) ResourceAverageValueReplicas(currentReplicas int32, targetAverage int64, resource corev1.ResourceName,
	pods []*corev1.Pod, metrics PodMetricsInfo) (replicas int32, rawAverage int64, err error) {
	if len(pods) == 0 {
		return 0, 0, fmt.Errorf("no pods returned by selector while calculating replica count")
	}
	metrics = copyMetrics(metrics)
	readyCount, unready, missing, ignored := c.groupPods(pods, metrics, resource)
	removeMetrics(metrics, ignored)
	removeMetrics(metrics, unready)
	if len(metrics) == 0 {
		return 0, 0, fmt.Errorf("did not receive metrics for targeted pods (pods might be unready)")
	}
	ratio, avg := averageRatio(metrics, targetAverage)
	scaleUpWithUnready := len(unready) > 0 && ratio > 1.0
	if !scaleUpWithUnready && len(missing) == 0 {
		if c.within(ratio) {
			return currentReplicas, avg, nil
		}
		return int32(math.Ceil(ratio * float64(readyCount))), avg, nil
	}
	for name := range missing {
		if ratio < 1.0 {
			metrics[name] = PodMetric{Value: targetAverage}
		} else {
			metrics[name] = PodMetric{Value: 0}
		}
	}
	if scaleUpWithUnready {
		for name := range unready {
			metrics[name] = PodMetric{Value: 0}
		}
	}
	newRatio, _ := averageRatio(metrics, targetAverage)
	if c.within(newRatio) || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0) {
		return currentReplicas, avg, nil
	}
	n := int32(math.Ceil(newRatio * float64(len(metrics))))
	if (newRatio < 1.0 && n > currentReplicas) || (newRatio > 1.0 && n < currentReplicas) {
		return currentReplicas, avg, nil
	}
	return n, avg, nil
}

// groupPods sorts the target's pods: deleted and failed pods are ignored,
// pending pods and (for CPU) pods still initializing are unready, pods
// without figures are missing; the others count as ready.
func (c *ReplicaCalculator) groupPods(pods []*corev1.Pod, metrics PodMetricsInfo, resource corev1.ResourceName) (readyCount int, unready, missing, ignored sets.Set[string]) {
	unready, missing, ignored = sets.New[string](), sets.New[string](), sets.New[string]()
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodFailed {
			ignored.Insert(pod.Name)
			continue
		}
		if pod.Status.Phase == corev1.PodPending {
			unready.Insert(pod.Name)
			continue
		}
		m, found := metrics[pod.Name]
		if !found {
			missing.Insert(pod.Name)
			continue
		}
		if resource == corev1.ResourceCPU {
			var cond *corev1.PodCondition
			for i := range pod.Status.Conditions {
				if pod.Status.Conditions[i].Type == corev1.PodReady {
					cond = &pod.Status.Conditions[i]
				}
			}
			isUnready := false
			if cond == nil || pod.Status.StartTime == nil {
				isUnready = true
			} else if pod.Status.StartTime.Add(CPUInitializationPeriod).After(now()) {
				// Still initializing: only figures taken after it became ready count.
				isUnready = cond.Status == corev1.ConditionFalse || m.Timestamp.Before(cond.LastTransitionTime.Time.Add(m.Window))
			} else {
				// Unready for a while after starting: it never became ready.
				isUnready = cond.Status == corev1.ConditionFalse && pod.Status.StartTime.Add(DelayOfInitialReadinessStatus).After(cond.LastTransitionTime.Time)
			}
			if isUnready {
				unready.Insert(pod.Name)
				continue
			}
		}
		readyCount++
	}
	return readyCount, unready, missing, ignored
}

// podRequests sums each pod's requests of resource (of one container when
// container is set); a container without a request is an error.
func podRequests(pods []*corev1.Pod, container string, resource corev1.ResourceName) (map[string]int64, error) {
	requests := make(map[string]int64, len(pods))
	for _, pod := range pods {
		var sum int64
		for _, c := range pod.Spec.Containers {
			if container != "" && c.Name != container {
				continue
			}
			q, ok := c.Resources.Requests[resource]
			if !ok {
				return nil, fmt.Errorf("missing request for %s in container %s of Pod %s", resource, c.Name, pod.Name)
			}
			sum += q.MilliValue()
		}
		requests[pod.Name] = sum
	}
	return requests, nil
}

func utilizationRatio(metrics PodMetricsInfo, requests map[string]int64, target int32) (float64, int32, int64, error) {
	var usage, req int64
	for name, m := range metrics {
		r, ok := requests[name]
		if !ok {
			continue
		}
		usage += m.Value
		req += r
	}
	if req == 0 {
		return 0, 0, 0, fmt.Errorf("no metrics returned matched known pods")
	}
	utilization := int32((usage * 100) / req)
	return float64(utilization) / float64(target), utilization, usage / int64(len(metrics)), nil
}

func averageRatio(metrics PodMetricsInfo, target int64) (float64, int64) {
	var sum int64
	for _, m := range metrics {
		sum += m.Value
	}
	avg := sum / int64(len(metrics))
	return float64(avg) / float64(target), avg
}

func copyMetrics(m PodMetricsInfo) PodMetricsInfo {
	out := make(PodMetricsInfo, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func removeMetrics(m PodMetricsInfo, names sets.Set[string]) {
	for n := range names {
		delete(m, n)
	}
}
