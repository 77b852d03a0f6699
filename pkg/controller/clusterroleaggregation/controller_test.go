package clusterroleaggregation

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

func clusterRole(name string, labels map[string]string, verbs ...string) *rbacv1.ClusterRole {
	r := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if len(verbs) > 0 {
		r.Rules = []rbacv1.PolicyRule{{Verbs: verbs, APIGroups: []string{""}, Resources: []string{"pods"}}}
	}
	return r
}

func aggregated(name, label string) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{label: "true"}}}}}
}

func TestSync(t *testing.T) {
	objs := []*rbacv1.ClusterRole{
		aggregated("view", "to-view"),
		clusterRole("b-reader", map[string]string{"to-view": "true"}, "list"),
		clusterRole("a-reader", map[string]string{"to-view": "true"}, "get"),
		clusterRole("dup", map[string]string{"to-view": "true"}, "get"),
		clusterRole("unrelated", nil, "delete"),
	}
	c := fake.NewSimpleClientset()
	f := informers.NewSharedInformerFactory(c, 0)
	ctrl := New(c, f.Rbac().V1().ClusterRoles())
	for _, o := range objs {
		if _, err := c.RbacV1().ClusterRoles().Create(context.Background(), o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		f.Rbac().V1().ClusterRoles().Informer().GetIndexer().Add(o)
	}
	if err := ctrl.Sync(context.Background(), "view"); err != nil {
		t.Fatal(err)
	}
	got, _ := c.RbacV1().ClusterRoles().Get(context.Background(), "view", metav1.GetOptions{})
	// a-reader's rule, then b-reader's; dup repeats a-reader's and is dropped.
	if len(got.Rules) != 2 || got.Rules[0].Verbs[0] != "get" || got.Rules[1].Verbs[0] != "list" {
		t.Fatalf("aggregated rules %v", got.Rules)
	}
	// Nothing changes: no write.
	f.Rbac().V1().ClusterRoles().Informer().GetIndexer().Update(got)
	c.ClearActions()
	if err := ctrl.Sync(context.Background(), "view"); err != nil {
		t.Fatal(err)
	}
	for _, a := range c.Actions() {
		if a.GetVerb() == "update" {
			t.Errorf("unexpected write %v", a)
		}
	}
	// Roles without an aggregation rule are never written.
	if err := ctrl.Sync(context.Background(), "unrelated"); err != nil {
		t.Fatal(err)
	}
	for _, a := range c.Actions() {
		if a.GetVerb() == "update" {
			t.Errorf("unexpected write %v", a)
		}
	}
}

func TestAggregatedRulesNestedSelectors(t *testing.T) {
	// admin aggregates edit (labelled to-admin), whose own rules count.
	edit := clusterRole("edit", map[string]string{"to-admin": "true"}, "create")
	admin := aggregated("admin", "to-admin")
	rules, err := AggregatedRules(admin, []*rbacv1.ClusterRole{admin, edit})
	if err != nil || len(rules) != 1 || rules[0].Verbs[0] != "create" {
		t.Fatalf("rules %v err %v", rules, err)
	}
}
