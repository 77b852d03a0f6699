package apps

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestReplicationControllerDefaultsAndValidation(t *testing.T) {
	rc := &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "rc", Namespace: "ns"},
		Spec: corev1.ReplicationControllerSpec{Template: &corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
		}},
	}
	SetDefaultsReplicationController(rc)
	if rc.Spec.Selector["app"] != "x" || rc.Labels["app"] != "x" || ptr.Deref(rc.Spec.Replicas, 0) != 1 || rc.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Fatalf("defaults: %+v", rc)
	}
	if errs := ValidateReplicationController(rc); len(errs) != 0 {
		t.Fatalf("valid: %v", errs)
	}
	for name, tc := range map[string]struct {
		mutate func(*corev1.ReplicationController)
		want   string
	}{
		"no selector":    {func(r *corev1.ReplicationController) { r.Spec.Selector = nil }, "spec.selector: Required value"},
		"no template":    {func(r *corev1.ReplicationController) { r.Spec.Template = nil }, "spec.template: Required value"},
		"mismatch":       {func(r *corev1.ReplicationController) { r.Spec.Selector = map[string]string{"app": "y"} }, "spec.template.metadata.labels: Invalid value"},
		"restart Never":  {func(r *corev1.ReplicationController) { r.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever }, `spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"`},
		"deadline":       {func(r *corev1.ReplicationController) { r.Spec.Template.Spec.ActiveDeadlineSeconds = ptr.To[int64](5) }, "activeDeadlineSeconds in ReplicationController is not Supported"},
		"negative count": {func(r *corev1.ReplicationController) { r.Spec.Replicas = ptr.To[int32](-1) }, "spec.replicas: Invalid value: -1"},
	} {
		r := rc.DeepCopy()
		tc.mutate(r)
		if errs := ValidateReplicationController(r); !strings.Contains(errs.ToAggregate().Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, errs, tc.want)
		}
	}
}
