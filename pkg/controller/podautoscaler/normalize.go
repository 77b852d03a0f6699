package podautoscaler

import (
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

const (
	// DefaultDownscaleStabilizationWindow is kube-controller-manager's
	// --horizontal-pod-autoscaler-downscale-stabilization.
	DefaultDownscaleStabilizationWindow = 5 * time.Minute
	scaleUpLimitFactor                  = 2.0
	scaleUpLimitMinimum                 = 4.0
)

type timestampedRecommendation struct {
	recommendation int32
	timestamp      time.Time
}

type timestampedScaleEvent struct {
	replicaChange int32
	timestamp     time.Time
	outdated      bool
}

// limit says why a desired count was bounded, for the ScalingLimited
// condition.
type limit struct {
	limited bool
	reason  string
	message string
}

func withinRange() limit {
	return limit{reason: "DesiredWithinRange", message: "the desired count is within the acceptable range"}
}

// stabilize (HPAs without behavior) keeps the highest recommendation of the
// downscale window: scale-downs happen only once every recent
// recommendation allows them.
func stabilize(recs []timestampedRecommendation, now time.Time, window time.Duration, prenormalized int32) (int32, []timestampedRecommendation) {
	maxRec := prenormalized
	cutoff := now.Add(-window)
	kept := recs[:0]
	for _, r := range recs {
		if r.timestamp.After(cutoff) {
			kept = append(kept, r)
			if r.recommendation > maxRec {
				maxRec = r.recommendation
			}
		}
	}
	kept = append(kept, timestampedRecommendation{prenormalized, now})
	return maxRec, kept
}

// limitWithoutBehavior applies minReplicas, maxReplicas and the fixed
// scale-up rate (twice the current count, at least 4).
func limitWithoutBehavior(current, desired, minReplicas, maxReplicas int32) (int32, limit) {
	scaleUpLimit := int32(math.Max(scaleUpLimitFactor*float64(current), scaleUpLimitMinimum))
	maxAllowed := maxReplicas
	maxReason, maxMsg := "TooManyReplicas", "the desired replica count is more than the maximum replica count"
	if scaleUpLimit < maxReplicas {
		maxAllowed = scaleUpLimit
		maxReason, maxMsg = "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"
	}
	switch {
	case desired < minReplicas:
		return minReplicas, limit{true, "TooFewReplicas", "the desired replica count is less than the minimum replica count"}
	case desired > maxAllowed:
		return maxAllowed, limit{true, maxReason, maxMsg}
	}
	return desired, withinRange()
}

// stabilizeWithBehavior applies the scale-up and scale-down stabilization
// windows: the result moves from current no further than the lowest
// recommendation of the up window and the highest of the down window.
func stabilizeWithBehavior(recs []timestampedRecommendation, now time.Time, current, prenormalized int32, upWindow, downWindow time.Duration) (int32, []timestampedRecommendation) {
	up, down := prenormalized, prenormalized
	upCutoff, downCutoff := now.Add(-upWindow), now.Add(-downWindow)
	longest := upWindow
	if downWindow > longest {
		longest = downWindow
	}
	kept := recs[:0]
	for _, r := range recs {
		if r.timestamp.After(upCutoff) && r.recommendation < up {
			up = r.recommendation
		}
		if r.timestamp.After(downCutoff) && r.recommendation > down {
			down = r.recommendation
		}
		if r.timestamp.After(now.Add(-longest)) {
			kept = append(kept, r)
		}
	}
	rec := current
	if rec < up {
		rec = up
	}
	if rec > down {
		rec = down
	}
	kept = append(kept, timestampedRecommendation{prenormalized, now})
	return rec, kept
}

// limitWithBehavior applies minReplicas, maxReplicas and the scaling
// policies of behavior, given the scale events of the policies' periods.
func limitWithBehavior(current, desired, minReplicas, maxReplicas int32, b *autoscalingv2.HorizontalPodAutoscalerBehavior,
	upEvents, downEvents []timestampedScaleEvent, now time.Time) (int32, limit) {
	if desired > current {
		upLimit := scaleUpLimit(current, upEvents, downEvents, b.ScaleUp, now)
		if upLimit < current {
			upLimit = current
		}
		maxAllowed, reason, msg := maxReplicas, "TooManyReplicas", "the desired replica count is more than the maximum replica count"
		if upLimit < maxReplicas {
			maxAllowed, reason, msg = upLimit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"
		}
		if desired > maxAllowed {
			return maxAllowed, limit{true, reason, msg}
		}
	} else if desired < current {
		downLimit := scaleDownLimit(current, upEvents, downEvents, b.ScaleDown, now)
		if downLimit > current {
			downLimit = current
		}
		minAllowed, reason, msg := minReplicas, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
		if downLimit > minReplicas {
			minAllowed, reason, msg = downLimit, "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate"
		}
		if desired < minAllowed {
			return minAllowed, limit{true, reason, msg}
		}
	}
	if desired > maxReplicas {
		return maxReplicas, limit{true, "TooManyReplicas", "the desired replica count is more than the maximum replica count"}
	}
	if desired < minReplicas {
		return minReplicas, limit{true, "TooFewReplicas", "the desired replica count is less than the minimum replica count"}
	}
	return desired, withinRange()
}

func changeInPeriod(events []timestampedScaleEvent, periodSeconds int32, now time.Time) int32 {
	cutoff := now.Add(-time.Duration(periodSeconds) * time.Second)
	var sum int32
	for _, e := range events {
		if e.timestamp.After(cutoff) {
			sum += e.replicaChange
		}
	}
	return sum
}

func scaleUpLimit(current int32, upEvents, downEvents []timestampedScaleEvent, rules *autoscalingv2.HPAScalingRules, now time.Time) int32 {
	if rules == nil || (rules.SelectPolicy != nil && *rules.SelectPolicy == autoscalingv2.DisabledPolicySelect) {
		return current
	}
	selectMin := rules.SelectPolicy != nil && *rules.SelectPolicy == autoscalingv2.MinChangePolicySelect
	result := int32(math.MinInt32)
	if selectMin {
		result = math.MaxInt32
	}
	for _, p := range rules.Policies {
		start := current - changeInPeriod(upEvents, p.PeriodSeconds, now) + changeInPeriod(downEvents, p.PeriodSeconds, now)
		var proposed int32
		if p.Type == autoscalingv2.PodsScalingPolicy {
			proposed = start + p.Value
		} else {
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		}
		if selectMin {
			result = min(result, proposed)
		} else {
			result = max(result, proposed)
		}
	}
	return result
}

func scaleDownLimit(current int32, upEvents, downEvents []timestampedScaleEvent, rules *autoscalingv2.HPAScalingRules, now time.Time) int32 {
	if rules == nil || (rules.SelectPolicy != nil && *rules.SelectPolicy == autoscalingv2.DisabledPolicySelect) {
		return current
	}
	selectMin := rules.SelectPolicy != nil && *rules.SelectPolicy == autoscalingv2.MinChangePolicySelect
	result := int32(math.MaxInt32)
	if selectMin {
		result = math.MinInt32
	}
	for _, p := range rules.Policies {
		start := current + changeInPeriod(downEvents, p.PeriodSeconds, now) - changeInPeriod(upEvents, p.PeriodSeconds, now)
		var proposed int32
		if p.Type == autoscalingv2.PodsScalingPolicy {
			proposed = start - p.Value
		} else {
			proposed = int32(float64(start) * (1 - float64(p.Value)/100))
		}
		if selectMin {
			result = max(result, proposed)
		} else {
			result = min(result, proposed)
		}
	}
	return result
}

// pruneEvents drops the events older than the longest policy period.
func pruneEvents(events []timestampedScaleEvent, rules *autoscalingv2.HPAScalingRules, now time.Time) []timestampedScaleEvent {
	var longest int32
	if rules != nil {
		for _, p := range rules.Policies {
			longest = max(longest, p.PeriodSeconds)
		}
	}
	cutoff := now.Add(-time.Duration(longest) * time.Second)
	kept := events[:0]
	for _, e := range events {
		if e.timestamp.After(cutoff) {
			kept = append(kept, e)
		}
	}
	return kept
}
