package rbac

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func paths(errs field.ErrorList) map[string]field.ErrorType {
	m := map[string]field.ErrorType{}
	for _, e := range errs {
		m[e.Field] = e.Type
	}
	return m
}

func expect(t *testing.T, name string, errs field.ErrorList, want map[string]field.ErrorType) {
	t.Helper()
	got := paths(errs)
	if len(got) != len(want) {
		t.Errorf("%s: errors %v, want fields %v", name, errs, want)
		return
	}
	for f, typ := range want {
		if got[f] != typ {
			t.Errorf("%s: %s is %q, want %q (all: %v)", name, f, got[f], typ, errs)
		}
	}
}

func TestValidateRole(t *testing.T) {
	ok := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "ns"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}
	expect(t, "valid", ValidateRole(ok), nil)

	bad := ok.DeepCopy()
	bad.Name = "a/b"
	bad.Rules = []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}},
		{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}},
		{Verbs: []string{"get"}},
	}
	expect(t, "invalid", ValidateRole(bad), map[string]field.ErrorType{
		"metadata.name":            field.ErrorTypeInvalid,
		"rules[0].verbs":           field.ErrorTypeRequired,
		"rules[1].nonResourceURLs": field.ErrorTypeInvalid,
		"rules[2].apiGroups":       field.ErrorTypeRequired,
		"rules[2].resources":       field.ErrorTypeRequired,
	})
}

func TestValidateClusterRole(t *testing.T) {
	ok := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "system:x"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/metrics"}}}}
	expect(t, "valid", ValidateClusterRole(ok), nil)

	both := ok.DeepCopy()
	both.Rules[0].Resources = []string{"pods"}
	expect(t, "resources and URLs", ValidateClusterRole(both), map[string]field.ErrorType{"rules[0].nonResourceURLs": field.ErrorTypeInvalid})

	agg := ok.DeepCopy()
	agg.AggregationRule = &rbacv1.AggregationRule{}
	expect(t, "empty aggregation", ValidateClusterRole(agg), map[string]field.ErrorType{"aggregationRule.clusterRoleSelectors": field.ErrorTypeRequired})

	agg.AggregationRule.ClusterRoleSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"bad key!": "x"}}}
	errs := ValidateClusterRole(agg)
	if len(errs) == 0 || errs[0].Field != "aggregationRule.clusterRoleSelectors[0].matchLabels" {
		t.Errorf("bad selector: %v", errs)
	}
}

func TestValidateBindings(t *testing.T) {
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "r"},
		Subjects: []rbacv1.Subject{
			{Kind: "User", APIGroup: rbacv1.GroupName, Name: "jane"},
			{Kind: "ServiceAccount", Name: "robot"},
		}}
	expect(t, "valid", ValidateRoleBinding(rb), nil)

	bad := rb.DeepCopy()
	bad.RoleRef = rbacv1.RoleRef{APIGroup: "x", Kind: "Thing"}
	bad.Subjects = []rbacv1.Subject{
		{Kind: "User", Name: "jane"},
		{Kind: "ServiceAccount", APIGroup: rbacv1.GroupName, Name: "Bad_Name"},
		{Kind: "Robot", Name: "r"},
		{Kind: "Group", APIGroup: rbacv1.GroupName},
	}
	expect(t, "invalid", ValidateRoleBinding(bad), map[string]field.ErrorType{
		"roleRef.apiGroup":     field.ErrorTypeNotSupported,
		"roleRef.kind":         field.ErrorTypeNotSupported,
		"roleRef.name":         field.ErrorTypeRequired,
		"subjects[0].apiGroup": field.ErrorTypeNotSupported,
		"subjects[1].name":     field.ErrorTypeInvalid,
		"subjects[1].apiGroup": field.ErrorTypeNotSupported,
		"subjects[2].kind":     field.ErrorTypeNotSupported,
		"subjects[3].name":     field.ErrorTypeRequired,
	})

	changed := rb.DeepCopy()
	changed.ResourceVersion, rb.ResourceVersion = "1", "1"
	changed.RoleRef.Name = "other"
	expect(t, "roleRef change", ValidateRoleBindingUpdate(changed, rb), map[string]field.ErrorType{"roleRef": field.ErrorTypeInvalid})

	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "r"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "robot"}}}
	expect(t, "cluster binding", ValidateClusterRoleBinding(crb), map[string]field.ErrorType{
		"roleRef.kind":          field.ErrorTypeNotSupported,
		"subjects[0].namespace": field.ErrorTypeRequired,
	})
}

func TestDefaults(t *testing.T) {
	subjects := []rbacv1.Subject{{Kind: "User", Name: "a"}, {Kind: "Group", Name: "b"}, {Kind: "ServiceAccount", Name: "c"}}
	SetDefaultsSubjects(subjects)
	if subjects[0].APIGroup != rbacv1.GroupName || subjects[1].APIGroup != rbacv1.GroupName || subjects[2].APIGroup != "" {
		t.Errorf("defaulted subjects: %+v", subjects)
	}
	ref := rbacv1.RoleRef{Kind: "Role", Name: "r"}
	SetDefaultsRoleRef(&ref)
	if ref.APIGroup != rbacv1.GroupName {
		t.Errorf("roleRef apiGroup %q", ref.APIGroup)
	}
}
