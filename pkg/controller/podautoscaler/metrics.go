package podautoscaler

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned/typed/metrics/v1beta1"
)

// MetricsClient reads the pods' resource usage.
type MetricsClient interface {
	// ResourceMetric returns the usage of resource (milli-units) of the
	// pods of namespace matching selector, per pod (of one container when
	// container is set), and the oldest timestamp.
	ResourceMetric(ctx context.Context, resource corev1.ResourceName, namespace string, selector labels.Selector, container string) (PodMetricsInfo, time.Time, error)
}

// NewMetricsClient reads metrics.k8s.io/v1beta1 PodMetrics.
func NewMetricsClient(c metricsclient.PodMetricsesGetter) MetricsClient { return &resourceMetrics{c} }

type resourceMetrics struct {
	c metricsclient.PodMetricsesGetter
}

func (r *resourceMetrics) ResourceMetric(ctx context.Context, resource corev1.ResourceName, namespace string, selector labels.Selector, container string) (PodMetricsInfo, time.Time, error) {
	list, err := r.c.PodMetricses(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("unable to fetch metrics from resource metrics API: %w", err)
	}
	if len(list.Items) == 0 {
		return nil, time.Time{}, fmt.Errorf("no metrics returned from resource metrics API")
	}
	out := PodMetricsInfo{}
	var oldest time.Time
	for _, m := range list.Items {
		var sum int64
		found := false
		for _, c := range m.Containers {
			if container != "" && c.Name != container {
				continue
			}
			q, ok := c.Usage[resource]
			if !ok {
				found = false
				break
			}
			sum += q.MilliValue()
			found = true
		}
		if !found {
			continue
		}
		out[m.Name] = PodMetric{Timestamp: m.Timestamp.Time, Window: m.Window.Duration, Value: sum}
		if oldest.IsZero() || m.Timestamp.Time.Before(oldest) {
			oldest = m.Timestamp.Time
		}
	}
	return out, oldest, nil
}
