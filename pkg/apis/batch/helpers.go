package batch

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/herd-project/herd/pkg/apis/core"
)

// validateHasLabel checks that meta carries label key with value expected.
func validateHasLabel(meta metav1.ObjectMeta, fldPath *field.Path, key, expected string) field.ErrorList {
	var allErrs field.ErrorList
	actual, ok := meta.Labels[key]
	if !ok {
		allErrs = append(allErrs, field.Required(fldPath.Child("labels").Key(key), "must be '"+expected+"'"))
	} else if actual != expected {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("labels").Key(key), meta.Labels, "must be '"+expected+"'"))
	}
	return allErrs
}

// validateQualifiedName checks a qualified name (for example a condition type).
func validateQualifiedName(value string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range utilvalidation.IsQualifiedName(value) {
		allErrs = append(allErrs, field.Invalid(fldPath, value, msg))
	}
	return allErrs
}

// validatePodTemplate runs the core pod template validation but drops its
// findings about spec.restartPolicy: the batch rules report restart policy
// errors themselves, with Kubernetes' exact error types for Jobs.
func validatePodTemplate(tmpl *corev1.PodTemplateSpec, fldPath *field.Path) field.ErrorList {
	opts := core.PodValidationOptions{
		AllowedRestartPolicies: []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever},
	}
	restartPath := fldPath.Child("spec", "restartPolicy").String()
	var allErrs field.ErrorList
	for _, err := range core.ValidatePodTemplateSpec(tmpl, fldPath, opts) {
		if err.Field == restartPath {
			continue
		}
		allErrs = append(allErrs, err)
	}
	return allErrs
}

// validateIndexesFormat checks an interval list such as "1,3-5,7" against
// the number of completions and returns how many indexes it holds.
func validateIndexesFormat(indexes string, completions int32) (int32, error) {
	if len(indexes) == 0 {
		return 0, nil
	}
	var last *int32
	var total int32
	for _, interval := range strings.Split(indexes, ",") {
		x, y, err := parseIndexInterval(interval, completions)
		if err != nil {
			return 0, err
		}
		if last != nil && *last >= x {
			return 0, fmt.Errorf("non-increasing order, previous: %d, current: %d", *last, x)
		}
		total += y - x + 1
		last = &y
	}
	return total, nil
}

func parseIndexInterval(interval string, completions int32) (int32, int32, error) {
	limits := strings.Split(interval, "-")
	if len(limits) > 2 {
		return 0, 0, fmt.Errorf("the fragment %q violates the requirement that an index interval can have at most two parts separated by '-'", interval)
	}
	x, err := strconv.Atoi(limits[0])
	if err != nil {
		return 0, 0, fmt.Errorf("cannot convert string to integer for index: %q", limits[0])
	}
	if x >= int(completions) {
		return 0, 0, fmt.Errorf("too large index: %q", limits[0])
	}
	if len(limits) == 1 {
		return int32(x), int32(x), nil
	}
	y, err := strconv.Atoi(limits[1])
	if err != nil {
		return 0, 0, fmt.Errorf("cannot convert string to integer for index: %q", limits[1])
	}
	if y >= int(completions) {
		return 0, 0, fmt.Errorf("too large index: %q", limits[1])
	}
	if x >= y {
		return 0, 0, fmt.Errorf("non-increasing order, previous: %d, current: %d", x, y)
	}
	return int32(x), int32(y), nil
}

// validateFailedIndexesNotOverlapCompleted reports the first index present in
// both interval lists (unparsable intervals are skipped; the format check
// reports them).
func validateFailedIndexesNotOverlapCompleted(completed, failed string, completions int32) error {
	if len(completed) == 0 || len(failed) == 0 {
		return nil
	}
	cIntervals := strings.Split(completed, ",")
	fIntervals := strings.Split(failed, ",")
	ci, fi := 0, 0
	cX, cY, cErr := parseIndexInterval(cIntervals[ci], completions)
	fX, fY, fErr := parseIndexInterval(fIntervals[fi], completions)
	for ci < len(cIntervals) && fi < len(fIntervals) {
		switch {
		case cErr != nil:
			ci++
			if ci < len(cIntervals) {
				cX, cY, cErr = parseIndexInterval(cIntervals[ci], completions)
			}
		case fErr != nil:
			fi++
			if fi < len(fIntervals) {
				fX, fY, fErr = parseIndexInterval(fIntervals[fi], completions)
			}
		default:
			if cX <= fY && fX <= cY {
				return fmt.Errorf("failedIndexes and completedIndexes overlap at index: %d", max(cX, fX))
			}
			if cX <= fX {
				ci++
				if ci < len(cIntervals) {
					cX, cY, cErr = parseIndexInterval(cIntervals[ci], completions)
				}
			} else {
				fi++
				if fi < len(fIntervals) {
					fX, fY, fErr = parseIndexInterval(fIntervals[fi], completions)
				}
			}
		}
	}
	return nil
}
