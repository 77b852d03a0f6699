// successPolicy: whether the succeeded indexes meet a rule.

package job

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
)

// matchSuccessPolicy returns the message of the first rule that is met.
func matchSuccessPolicy(policy *batchv1.SuccessPolicy, completions int, succeeded intervals) (string, bool) {
	if policy == nil || len(succeeded) == 0 {
		return "", false
	}
	for i, rule := range policy.Rules {
		if rule.SucceededIndexes != nil {
			want := parseIntervals(*rule.SucceededIndexes, completions)
			n := 0
			for _, iv := range want {
				for ix := iv.first; ix <= iv.last; ix++ {
					if succeeded.has(ix) {
						n++
					}
				}
			}
			if rule.SucceededCount == nil && n == want.total() || rule.SucceededCount != nil && n >= int(*rule.SucceededCount) {
				return fmt.Sprintf("Matched rules at index %d", i), true
			}
		} else if rule.SucceededCount != nil && succeeded.total() >= int(*rule.SucceededCount) {
			return fmt.Sprintf("Matched rules at index %d", i), true
		}
	}
	return "", false
}
