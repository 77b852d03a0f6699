package printers

import (
	"fmt"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func init() {
	register(schema.GroupResource{Group: autoscalingv2.GroupName, Resource: "horizontalpodautoscalers"}, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Reference", "string", "reference to the scaled resource"),
		column("Targets", "string", "the targets of the metrics and their current values"),
		column("MinPods", "string", "the lower limit of the number of replicas"),
		column("MaxPods", "integer", "the upper limit of the number of replicas"),
		column("Replicas", "integer", "the current number of replicas"),
		ageColumn(),
	}, typed(func(h *autoscalingv2.HorizontalPodAutoscaler, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		ref := h.Spec.ScaleTargetRef.Kind + "/" + h.Spec.ScaleTargetRef.Name
		minPods := "<unset>"
		if h.Spec.MinReplicas != nil {
			minPods = fmt.Sprintf("%d", *h.Spec.MinReplicas)
		}
		return cells(h.Name, ref, hpaTargets(h.Spec.Metrics, h.Status.CurrentMetrics), minPods,
			int64(h.Spec.MaxReplicas), int64(h.Status.CurrentReplicas), since(h.CreationTimestamp, now))
	}))
}

// hpaTargets renders up to three metrics as "current/target", as
// Kubernetes' printer does.
func hpaTargets(specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) string {
	if len(specs) == 0 {
		return "<none>"
	}
	var list []string
	for i, spec := range specs {
		var st *autoscalingv2.MetricStatus
		if i < len(statuses) {
			st = &statuses[i]
		}
		current := "<unknown>"
		switch spec.Type {
		case autoscalingv2.ResourceMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType:
			name, target := "", autoscalingv2.MetricTarget{}
			var cur *autoscalingv2.MetricValueStatus
			if spec.Resource != nil {
				name, target = string(spec.Resource.Name), spec.Resource.Target
				if st != nil && st.Resource != nil {
					cur = &st.Resource.Current
				}
			} else if spec.ContainerResource != nil {
				name, target = string(spec.ContainerResource.Name), spec.ContainerResource.Target
				if st != nil && st.ContainerResource != nil {
					cur = &st.ContainerResource.Current
				}
			}
			if target.AverageValue != nil {
				if cur != nil && cur.AverageValue != nil {
					current = cur.AverageValue.String()
				}
				list = append(list, fmt.Sprintf("%s: %s/%s", name, current, target.AverageValue.String()))
				continue
			}
			if cur != nil && cur.AverageUtilization != nil {
				current = fmt.Sprintf("%d%%", *cur.AverageUtilization)
			}
			t := "<auto>"
			if target.AverageUtilization != nil {
				t = fmt.Sprintf("%d%%", *target.AverageUtilization)
			}
			list = append(list, fmt.Sprintf("%s: %s/%s", name, current, t))
		default:
			list = append(list, fmt.Sprintf("<unknown>/<unknown> (%s)", spec.Type))
		}
	}
	if len(list) > 3 {
		return strings.Join(list[:3], ", ") + fmt.Sprintf(" + %d more...", len(list)-3)
	}
	return strings.Join(list, ", ")
}
