package core

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func resList(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func TestValidateResourceQuota(t *testing.T) {
	q := &corev1.ResourceQuota{ObjectMeta: meta("q", "ns"), Spec: corev1.ResourceQuotaSpec{Hard: resList(
		"pods", "100", "requests.cpu", "2", "count/deployments.apps", "3", "gold.storageclass.storage.k8s.io/requests.storage", "1Gi",
		"requests.example.com/gpu", "2")}}
	checkErrors(t, "valid", ValidateResourceQuota(q), nil)

	bad := q.DeepCopy()
	bad.Spec.Hard = resList("pods", "-1", "cpus", "1", "pods-x", "1")
	bad.Spec.Hard["services"] = resource.MustParse("1500m")
	checkErrors(t, "bad hard", ValidateResourceQuota(bad), []want{
		{field.ErrorTypeInvalid, "spec.hard[pods]"}, {field.ErrorTypeInvalid, "spec.hard[cpus]"},
		{field.ErrorTypeInvalid, "spec.hard[services]"},
	})

	scoped := q.DeepCopy()
	scoped.Spec.Hard = resList("pods", "1", "services", "1")
	scoped.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort}
	errs := ValidateResourceQuota(scoped)
	checkErrors(t, "scopes", errs, []want{{field.ErrorTypeInvalid, "spec.scopes"}})
	msgs := map[string]bool{}
	for _, e := range errs {
		msgs[e.Detail] = true
	}
	if !msgs["unsupported scope applied to resource"] || !msgs["conflicting scopes"] {
		t.Errorf("scope errors %v", errs)
	}

	upd := q.DeepCopy()
	upd.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeNotTerminating}
	upd.Spec.Hard = resList("pods", "1")
	checkErrors(t, "scopes immutable", ValidateResourceQuotaUpdate(upd, q), []want{{field.ErrorTypeInvalid, "spec.scopes"}})

	st := q.DeepCopy()
	st.Status.Used = resList("pods", "-1")
	checkErrors(t, "status", ValidateResourceQuotaStatusUpdate(st, q), []want{{field.ErrorTypeInvalid, "status.used[pods]"}})
}

func TestLimitRangeDefaultsAndValidation(t *testing.T) {
	lr := &corev1.LimitRange{ObjectMeta: meta("lr", "ns"), Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{
		{Type: corev1.LimitTypeContainer, Max: resList("cpu", "2"), Min: resList("memory", "64Mi")},
		{Type: corev1.LimitTypePersistentVolumeClaim, Max: resList("storage", "10Gi")},
	}}}
	SetDefaultsLimitRange(lr)
	c := lr.Spec.Limits[0]
	if c.Default.Cpu().String() != "2" || c.DefaultRequest.Cpu().String() != "2" || c.DefaultRequest.Memory().String() != "64Mi" {
		t.Errorf("defaults: default %v, defaultRequest %v", c.Default, c.DefaultRequest)
	}
	checkErrors(t, "valid", ValidateLimitRange(lr), nil)

	for _, tc := range []struct {
		name string
		item corev1.LimitRangeItem
		want want
		msg  string
	}{
		{"min over max", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: resList("cpu", "2"), Max: resList("cpu", "1")},
			want{field.ErrorTypeInvalid, "spec.limits[0].min[cpu]"}, "min value 2 is greater than max value 1"},
		{"default over max", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: resList("cpu", "2"), Max: resList("cpu", "1")},
			want{field.ErrorTypeInvalid, "spec.limits[0].default[cpu]"}, "default value 2 is greater than max value 1"},
		{"pod default", corev1.LimitRangeItem{Type: corev1.LimitTypePod, Default: resList("cpu", "1")},
			want{field.ErrorTypeForbidden, "spec.limits[0].default"}, "may not be specified when `type` is 'Pod'"},
		{"pvc without storage", corev1.LimitRangeItem{Type: corev1.LimitTypePersistentVolumeClaim},
			want{field.ErrorTypeRequired, "spec.limits[0].limits"}, "either minimum or maximum storage value is required, but neither was provided"},
		{"ratio under 1", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, MaxLimitRequestRatio: resList("cpu", "500m")},
			want{field.ErrorTypeInvalid, "spec.limits[0].maxLimitRequestRatio[cpu]"}, "ratio 500m is less than 1"},
		{"ratio over max/min", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: resList("cpu", "1"), Max: resList("cpu", "2"), MaxLimitRequestRatio: resList("cpu", "3")},
			want{field.ErrorTypeInvalid, "spec.limits[0].maxLimitRequestRatio[cpu]"}, "ratio 3 is greater than max/min = 2.000000"},
		{"unknown type", corev1.LimitRangeItem{Type: "Node"},
			want{field.ErrorTypeInvalid, "spec.limits[0].type"}, "must be a standard limit type or fully qualified"},
	} {
		l := &corev1.LimitRange{ObjectMeta: meta("lr", "ns"), Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{tc.item}}}
		errs := ValidateLimitRange(l)
		checkErrors(t, tc.name, errs, []want{tc.want})
		found := false
		for _, e := range errs {
			if e.Detail == tc.msg {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no error %q in %v", tc.name, tc.msg, errs)
		}
	}
	dup := lr.DeepCopy()
	dup.Spec.Limits = append(dup.Spec.Limits, dup.Spec.Limits[0])
	checkErrors(t, "duplicate type", ValidateLimitRange(dup), []want{{field.ErrorTypeDuplicate, "spec.limits[2].type"}})
}
