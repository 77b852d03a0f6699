package apps

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
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
// Findings of the core pod spec rules (paths inside the template's spec the
// test does not expect) are ignored: this package does not own them.
func checkErrors(t *testing.T, errs field.ErrorList, expected ...want) {
	t.Helper()
	exp := map[string]bool{}
	var wantList []string
	for _, w := range expected {
		exp[w.String()] = true
		wantList = append(wantList, w.String())
	}
	var got []string
	for _, e := range errs {
		w := want{e.Type, e.Field}.String()
		if strings.HasPrefix(e.Field, "spec.template.spec.") && !exp[w] {
			continue
		}
		got = append(got, w)
	}
	sort.Strings(got)
	sort.Strings(wantList)
	if strings.Join(got, "\n") != strings.Join(wantList, "\n") {
		t.Errorf("errors mismatch\n got: %q\nwant: %q\nfull: %v", got, wantList, errs)
	}
}

var testLabels = map[string]string{"app": "web"}

// validPodTemplate returns a complete pod template (core defaults applied).
func validPodTemplate() corev1.PodTemplateSpec {
	tmpl := corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		RestartPolicy:                 corev1.RestartPolicyAlways,
		DNSPolicy:                     corev1.DNSClusterFirst,
		TerminationGracePeriodSeconds: ptr.To[int64](30),
		SchedulerName:                 corev1.DefaultSchedulerName,
		SecurityContext:               &corev1.PodSecurityContext{},
		Containers: []corev1.Container{{
			Name:                     "web",
			Image:                    "nginx",
			ImagePullPolicy:          corev1.PullIfNotPresent,
			TerminationMessagePath:   corev1.TerminationMessagePathDefault,
			TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		}},
	}}
	tmpl.Labels = map[string]string{"app": "web"}
	core.SetDefaultsPodSpec(&tmpl.Spec)
	return tmpl
}
