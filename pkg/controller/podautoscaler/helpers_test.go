package podautoscaler

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/apis/autoscaling"
)

// behavior is a defaulted behavior with the given stabilization windows.
func behavior(up, down int32) *autoscalingv2.HorizontalPodAutoscalerBehavior {
	b := &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleUp:   &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To(up)},
		ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To(down)},
	}
	b.ScaleUp = autoscaling.ScaleUpRules(b.ScaleUp)
	b.ScaleDown = autoscaling.ScaleDownRules(b.ScaleDown)
	return b
}

func autoscalingDisabled() autoscalingv2.ScalingPolicySelect {
	return autoscalingv2.DisabledPolicySelect
}
