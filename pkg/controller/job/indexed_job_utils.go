// Indexed Jobs: completion indexes and their interval lists, index env and
// pod names, and backoffLimitPerIndex bookkeeping.

package job

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// succeededIndexes returns the indexes in status.completedIndexes and those
// plus the indexes of succeeded pods not yet recorded.
func succeededIndexes(job *batchv1.Job, pods []*corev1.Pod, completions int) (intervals, intervals) {
	prev := parseIntervals(job.Status.CompletedIndexes, completions)
	var add []int
	for _, p := range pods {
		if p.Status.Phase != corev1.PodSucceeded || !hasFinalizer(p) {
			continue
		}
		if ix, ok := validIndex(p, completions); ok {
			add = append(add, ix)
		}
	}
	return prev, prev.withIndexes(add)
}

// failedIndexes returns status.failedIndexes plus indexes newly failed.
func failedIndexes(job *batchv1.Job, pods []*corev1.Pod, completions int) intervals {
	prev := intervals{}
	if job.Status.FailedIndexes != nil {
		prev = parseIntervals(*job.Status.FailedIndexes, completions)
	}
	var add []int
	for _, p := range pods {
		if !hasFinalizer(p) || !isIndexFailed(job, p) {
			continue
		}
		if ix, ok := validIndex(p, completions); ok {
			add = append(add, ix)
		}
	}
	return prev.withIndexes(add)
}

// podsWithDelayedDeletionPerIndex: for each index still to run and without
// an active pod, its latest failed pod; that pod keeps its finalizer until
// its replacement (which inherits its failure count) exists.
func podsWithDelayedDeletionPerIndex(jc *syncCtx, completions int) map[int]*corev1.Pod {
	out := map[int]*corev1.Pod{}
	withActive := map[int]bool{}
	for _, p := range jc.activePods {
		if ix, ok := validIndex(p, completions); ok {
			withActive[ix] = true
		}
	}
	for _, p := range jc.pods {
		if !isPodFailed(p) || !hasFinalizer(p) || jc.expectedRm.Has(string(p.UID)) {
			continue
		}
		ix, ok := validIndex(p, completions)
		if !ok || withActive[ix] || jc.succeededIndexes.has(ix) || jc.failedIndexes.has(ix) {
			continue
		}
		if last, ok := out[ix]; !ok || finishTime(last).Before(finishTime(p)) {
			out[ix] = p
		}
	}
	return out
}

// addCompletionIndexEnv gives every container JOB_COMPLETION_INDEX from the
// completion index annotation (downward API).
func addCompletionIndexEnv(tmpl *corev1.PodTemplateSpec) {
	add := func(cs []corev1.Container) {
		for i := range cs {
			found := false
			for _, e := range cs[i].Env {
				if e.Name == CompletionIndexEnvName {
					found = true
					break
				}
			}
			if found {
				continue
			}
			cs[i].Env = append(cs[i].Env, corev1.EnvVar{Name: CompletionIndexEnvName, ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{FieldPath: fmt.Sprintf("metadata.annotations['%s']", batchv1.JobCompletionIndexAnnotation)},
			}})
		}
	}
	add(tmpl.Spec.InitContainers)
	add(tmpl.Spec.Containers)
}

// CompletionIndexEnvName is the env var carrying an Indexed pod's index.
const CompletionIndexEnvName = "JOB_COMPLETION_INDEX"

const maxGeneratedNameLength = 63 - 5

// generateNamePrefix is "<job>-" or "<job>-<index>-", trimmed so that the
// server's 5 random characters fit in 63.
func generateNamePrefix(jobName string, ix int) string {
	suffix := "-"
	if ix != unknownIndex {
		suffix = "-" + strconv.Itoa(ix) + "-"
	}
	if len(jobName)+len(suffix) > maxGeneratedNameLength {
		jobName = jobName[:maxGeneratedNameLength-len(suffix)]
	}
	return jobName + suffix
}

func isIndexed(job *batchv1.Job) bool {
	return ptr.Deref(job.Spec.CompletionMode, batchv1.NonIndexedCompletion) == batchv1.IndexedCompletion
}

func hasBackoffLimitPerIndex(job *batchv1.Job) bool {
	return isIndexed(job) && job.Spec.BackoffLimitPerIndex != nil
}

func annotationInt(p *corev1.Pod, key string) int32 {
	if p == nil {
		return 0
	}
	v, err := strconv.Atoi(p.Annotations[key])
	if err != nil || v < 0 {
		return 0
	}
	return int32(v)
}

// isIndexFailed: the pod's failure makes its index fail (FailIndex rule, or
// the per-index backoff limit is used up).
func isIndexFailed(job *batchv1.Job, p *corev1.Pod) bool {
	if !isPodFailed(p) {
		return false
	}
	counted := true
	if job.Spec.PodFailurePolicy != nil {
		_, c, action := matchPodFailurePolicy(job.Spec.PodFailurePolicy, p)
		if action != nil && *action == batchv1.PodFailurePolicyActionFailIndex {
			return true
		}
		counted = c
	}
	return counted && annotationInt(p, batchv1.JobIndexFailureCountAnnotation) >= *job.Spec.BackoffLimitPerIndex
}

// nextIndexFailureCounts: the failure and ignored-failure counts a
// replacement of failed pod p carries.
func nextIndexFailureCounts(job *batchv1.Job, p *corev1.Pod) (int32, int32) {
	failures := annotationInt(p, batchv1.JobIndexFailureCountAnnotation)
	ignored := annotationInt(p, batchv1.JobIndexIgnoredFailureCountAnnotation)
	if p == nil {
		return 0, 0
	}
	counted := true
	if job.Spec.PodFailurePolicy != nil {
		_, counted, _ = matchPodFailurePolicy(job.Spec.PodFailurePolicy, p)
	}
	if counted {
		failures++
	} else {
		ignored++
	}
	return failures, ignored
}

// unknownIndex marks a pod without a valid completion index.
const unknownIndex = -1

// interval is a closed range of completion indexes.
type interval struct{ first, last int }

// intervals is a sorted list of disjoint, non-adjacent intervals.
type intervals []interval

// parseIntervals reads Kubernetes' interval form ("0-3,5"), dropping indexes
// outside [0, completions) and anything it cannot parse.
func parseIntervals(s string, completions int) intervals {
	var out intervals
	if s == "" {
		return out
	}
	for _, part := range strings.Split(s, ",") {
		lim := strings.SplitN(part, "-", 2)
		x, err := strconv.Atoi(lim[0])
		if err != nil {
			continue
		}
		y := x
		if len(lim) == 2 {
			if y, err = strconv.Atoi(lim[1]); err != nil {
				continue
			}
		}
		if x < 0 {
			x = 0
		}
		if y >= completions {
			y = completions - 1
		}
		if x > y {
			continue
		}
		out = append(out, interval{x, y})
	}
	return intervals(nil).merge(out)
}

// merge returns the union of two interval lists.
func (a intervals) merge(b intervals) intervals {
	all := make(intervals, 0, len(a)+len(b))
	all = append(all, a...)
	all = append(all, b...)
	sort.Slice(all, func(i, j int) bool { return all[i].first < all[j].first })
	var out intervals
	for _, iv := range all {
		if n := len(out); n > 0 && iv.first <= out[n-1].last+1 {
			if iv.last > out[n-1].last {
				out[n-1].last = iv.last
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}

// withIndexes returns the union with single indexes (in any order).
func (a intervals) withIndexes(idx []int) intervals {
	if len(idx) == 0 {
		return a
	}
	b := make(intervals, 0, len(idx))
	for _, i := range idx {
		b = append(b, interval{i, i})
	}
	return a.merge(b)
}

func (a intervals) has(ix int) bool {
	i := sort.Search(len(a), func(i int) bool { return a[i].last >= ix })
	return i < len(a) && a[i].first <= ix
}

func (a intervals) total() int {
	n := 0
	for _, iv := range a {
		n += iv.last - iv.first + 1
	}
	return n
}

// String renders Kubernetes' interval form: "1,3-5,7,8" — a range only for
// three or more consecutive indexes, two consecutive ones as "7,8".
func (a intervals) String() string {
	var b strings.Builder
	for i, iv := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(iv.first))
		switch {
		case iv.last == iv.first+1:
			b.WriteByte(',')
			b.WriteString(strconv.Itoa(iv.last))
		case iv.last > iv.first:
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(iv.last))
		}
	}
	return b.String()
}

// completionIndex reads the completion index annotation of a pod (the label
// is only a copy for selection).
func completionIndex(p *corev1.Pod) int {
	if p == nil {
		return unknownIndex
	}
	v, ok := p.Annotations[batchv1.JobCompletionIndexAnnotation]
	if !ok {
		return unknownIndex
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return unknownIndex
	}
	return i
}

// validIndex reports the pod's index when it is within [0, completions).
func validIndex(p *corev1.Pod, completions int) (int, bool) {
	ix := completionIndex(p)
	return ix, ix != unknownIndex && ix < completions
}

// firstPendingIndexes returns up to count indexes that are neither
// succeeded, failed, nor held by an active (or, with podReplacementPolicy
// Failed, terminating) pod.
func firstPendingIndexes(jc *syncCtx, count, completions int) []int {
	if count == 0 {
		return nil
	}
	busy := make(map[int]bool, len(jc.activePods))
	for _, p := range jc.activePods {
		if ix, ok := validIndex(p, completions); ok {
			busy[ix] = true
		}
	}
	if onlyReplaceFailedPods(jc.job) {
		for _, p := range jc.pods {
			if isTerminating(p) {
				if ix, ok := validIndex(p, completions); ok {
					busy[ix] = true
				}
			}
		}
	}
	var out []int
	for ix := 0; ix < completions && len(out) < count; ix++ {
		if busy[ix] || jc.succeededIndexes.has(ix) || jc.failedIndexes.has(ix) {
			continue
		}
		out = append(out, ix)
	}
	return out
}
