package batch

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/apis/core"
)

// want is an expected error: its type and field path.
type want struct {
	typ  field.ErrorType
	path string
}

func (w want) String() string { return fmt.Sprintf("%s %s", w.typ, w.path) }

// checkErrors compares errs with the expected errors by type and path.
// Findings of the core pod spec rules (paths inside a template's spec that
// the test does not expect) are ignored: this package does not own them.
func checkErrors(t *testing.T, errs field.ErrorList, expected ...want) {
	t.Helper()
	exp := map[string]bool{}
	for _, w := range expected {
		exp[w.String()] = true
	}
	var got []string
	for _, e := range errs {
		w := want{e.Type, e.Field}.String()
		if strings.Contains(e.Field, "template.spec.") && !exp[w] {
			continue
		}
		got = append(got, w)
	}
	var wantList []string
	for _, w := range expected {
		wantList = append(wantList, w.String())
	}
	sort.Strings(got)
	sort.Strings(wantList)
	if strings.Join(got, "\n") != strings.Join(wantList, "\n") {
		t.Errorf("errors mismatch\n got: %q\nwant: %q\nfull: %v", got, wantList, errs)
	}
}

const testUID = types.UID("1a2b3c4d-0000-4000-8000-000000000001")

// validPodTemplate returns a complete pod template (core defaults applied).
func validPodTemplate(restart corev1.RestartPolicy) corev1.PodTemplateSpec {
	tmpl := corev1.PodTemplateSpec{
		Spec: corev1.PodSpec{
			RestartPolicy:                 restart,
			DNSPolicy:                     corev1.DNSClusterFirst,
			TerminationGracePeriodSeconds: ptr.To[int64](30),
			SchedulerName:                 corev1.DefaultSchedulerName,
			SecurityContext:               &corev1.PodSecurityContext{},
			Containers: []corev1.Container{{
				Name:                     "main",
				Image:                    "busybox",
				ImagePullPolicy:          corev1.PullIfNotPresent,
				TerminationMessagePath:   corev1.TerminationMessagePathDefault,
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			}},
		},
	}
	core.SetDefaultsPodSpec(&tmpl.Spec)
	return tmpl
}

// validJob returns a defaulted Job with a generated selector.
func validJob() *batchv1.Job {
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "default", UID: testUID},
		Spec: batchv1.JobSpec{
			Template: validPodTemplate(corev1.RestartPolicyNever),
		},
	}
	SetDefaultsJob(job)
	GenerateJobSelector(job)
	return job
}

func validIndexedJob(completions int32) *batchv1.Job {
	job := validJob()
	job.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
	job.Spec.Completions = ptr.To(completions)
	job.Spec.Parallelism = ptr.To(completions)
	return job
}

func validCronJob() *batchv1.CronJob {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "default", UID: testUID},
		Spec: batchv1.CronJobSpec{
			Schedule: "*/5 * * * *",
			JobTemplate: batchv1.JobTemplateSpec{
				Spec: batchv1.JobSpec{Template: validPodTemplate(corev1.RestartPolicyOnFailure)},
			},
		},
	}
	SetDefaultsCronJob(cj)
	return cj
}
