package bootstrap

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	rbachelpers "k8s.io/component-helpers/auth/rbac/validation"
)

func TestEnsureCreatesPolicy(t *testing.T) {
	c := fake.NewSimpleClientset()
	ctx := context.Background()
	if err := Ensure(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery",
		"system:public-info-viewer", "system:monitoring", "system:node", "system:node-bootstrapper",
		"system:kube-scheduler", "system:kube-controller-manager", "system:volume-scheduler",
		"system:controller:job-controller", "system:controller:generic-garbage-collector"} {
		r, err := c.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("clusterrole %s: %v", name, err)
			continue
		}
		if r.Annotations[AutoUpdateAnnotation] != "true" || r.Labels[BootstrapLabel] != BootstrapLabelValue {
			t.Errorf("clusterrole %s: labels %v annotations %v", name, r.Labels, r.Annotations)
		}
	}
	b, err := c.RbacV1().ClusterRoleBindings().Get(ctx, "system:controller:job-controller", metav1.GetOptions{})
	if err != nil || len(b.Subjects) != 1 || b.Subjects[0].Kind != "ServiceAccount" || b.Subjects[0].Namespace != "kube-system" || b.Subjects[0].Name != "job-controller" {
		t.Errorf("job controller binding: %+v %v", b, err)
	}
	if _, err := c.CoreV1().ServiceAccounts("kube-system").Get(ctx, "job-controller", metav1.GetOptions{}); err != nil {
		t.Errorf("job controller service account: %v", err)
	}
	piv, _ := c.RbacV1().ClusterRoleBindings().Get(ctx, "system:public-info-viewer", metav1.GetOptions{})
	if len(piv.Subjects) != 2 {
		t.Errorf("public-info-viewer subjects: %v", piv.Subjects)
	}
}

func TestReconcileAddsButNeverRemoves(t *testing.T) {
	ctx := context.Background()
	want := rbacv1.ClusterRole{ObjectMeta: meta("r", map[string]string{"a": "1"}),
		Rules: []rbacv1.PolicyRule{verbs("get", "list").groups("").resources("pods").rule()}}
	existing := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "r", Labels: map[string]string{"a": "user-value", "mine": "x"},
		Annotations: map[string]string{AutoUpdateAnnotation: "true"}},
		Rules: []rbacv1.PolicyRule{verbs("get").groups("").resources("pods").rule(), verbs("get").groups("").resources("secrets").rule()}}
	c := fake.NewSimpleClientset(existing)
	if err := ReconcileClusterRole(ctx, c, want); err != nil {
		t.Fatal(err)
	}
	got, _ := c.RbacV1().ClusterRoles().Get(ctx, "r", metav1.GetOptions{})
	if ok, missing := rbachelpers.Covers(got.Rules, want.Rules); !ok {
		t.Errorf("missing rules not added: %v", missing)
	}
	if ok, _ := rbachelpers.Covers(got.Rules, existing.Rules); !ok {
		t.Errorf("user's rules removed: %v", got.Rules)
	}
	if got.Labels["a"] != "user-value" || got.Labels["mine"] != "x" || got.Labels[BootstrapLabel] != BootstrapLabelValue {
		t.Errorf("labels %v", got.Labels)
	}

	// autoupdate=false: left alone.
	protectedRole := existing.DeepCopy()
	protectedRole.Annotations[AutoUpdateAnnotation] = "false"
	c = fake.NewSimpleClientset(protectedRole)
	if err := ReconcileClusterRole(ctx, c, want); err != nil {
		t.Fatal(err)
	}
	got, _ = c.RbacV1().ClusterRoles().Get(ctx, "r", metav1.GetOptions{})
	if len(got.Rules) != 2 || got.Labels[BootstrapLabel] != "" {
		t.Errorf("protected role changed: %+v", got)
	}
}

func TestReconcileAggregationRule(t *testing.T) {
	existing := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "edit"}, AggregationRule: &rbacv1.AggregationRule{
		ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"custom": "true"}}}}}
	want := &rbacv1.ClusterRole{ObjectMeta: meta("edit", nil), AggregationRule: aggregation(aggregateToEdit)}
	out, changed := ReconciledClusterRole(existing, want)
	if !changed || len(out.AggregationRule.ClusterRoleSelectors) != 2 {
		t.Fatalf("selectors %v changed %v", out.AggregationRule, changed)
	}
	if _, changed := ReconciledClusterRole(out, want); changed {
		t.Error("second reconcile changed again")
	}
}

func TestReconcileBinding(t *testing.T) {
	ctx := context.Background()
	want := clusterBinding("system:basic-user", groupSubject("system:authenticated"))
	existing := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "system:basic-user"},
		RoleRef:  want.RoleRef,
		Subjects: []rbacv1.Subject{userSubject("jane")}}
	c := fake.NewSimpleClientset(existing)
	if err := ReconcileClusterRoleBinding(ctx, c, want); err != nil {
		t.Fatal(err)
	}
	got, _ := c.RbacV1().ClusterRoleBindings().Get(ctx, "system:basic-user", metav1.GetOptions{})
	if len(got.Subjects) != 2 || got.Subjects[0].Name != "jane" || got.Subjects[1].Name != "system:authenticated" {
		t.Errorf("subjects %v", got.Subjects)
	}

	// A binding to another role is recreated with the expected roleRef,
	// keeping its subjects.
	other := existing.DeepCopy()
	other.RoleRef.Name = "something-else"
	c = fake.NewSimpleClientset(other)
	if err := ReconcileClusterRoleBinding(ctx, c, want); err != nil {
		t.Fatal(err)
	}
	got, _ = c.RbacV1().ClusterRoleBindings().Get(ctx, "system:basic-user", metav1.GetOptions{})
	if got.RoleRef.Name != "system:basic-user" || len(got.Subjects) != 2 {
		t.Errorf("recreated binding %+v", got)
	}
}

// TestEnsureOnExistingPolicyOnlyLists: a restart with the policy in place
// reads it with one LIST per kind and writes nothing.
func TestEnsureOnExistingPolicyOnlyLists(t *testing.T) {
	c := fake.NewSimpleClientset()
	ctx := context.Background()
	if err := Ensure(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.ClearActions()
	if err := Ensure(ctx, c); err != nil {
		t.Fatal(err)
	}
	var verbs []string
	for _, a := range c.Actions() {
		verbs = append(verbs, a.GetVerb()+" "+a.GetResource().Resource)
	}
	want := []string{"list clusterroles", "list clusterrolebindings", "list serviceaccounts"}
	if len(verbs) != len(want) {
		t.Fatalf("requests = %v, want %v", verbs, want)
	}
	for i := range want {
		if verbs[i] != want[i] {
			t.Fatalf("requests = %v, want %v", verbs, want)
		}
	}
}

// TestEnsureCompletesPartialPolicy: objects missing or lacking since the
// last start are created or completed; the others are not written.
func TestEnsureCompletesPartialPolicy(t *testing.T) {
	c := fake.NewSimpleClientset()
	ctx := context.Background()
	if err := Ensure(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := c.RbacV1().ClusterRoles().Delete(ctx, "view", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	b, _ := c.RbacV1().ClusterRoleBindings().Get(ctx, "system:public-info-viewer", metav1.GetOptions{})
	b.Subjects = b.Subjects[:1]
	if _, err := c.RbacV1().ClusterRoleBindings().Update(ctx, b, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.CoreV1().ServiceAccounts("kube-system").Delete(ctx, "job-controller", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	c.ClearActions()
	if err := Ensure(ctx, c); err != nil {
		t.Fatal(err)
	}
	var writes []string
	for _, a := range c.Actions() {
		if a.GetVerb() != "list" {
			writes = append(writes, a.GetVerb()+" "+a.GetResource().Resource)
		}
	}
	want := []string{"create clusterroles", "update clusterrolebindings", "create serviceaccounts"}
	if len(writes) != len(want) {
		t.Fatalf("writes = %v, want %v", writes, want)
	}
	for i := range want {
		if writes[i] != want[i] {
			t.Fatalf("writes = %v, want %v", writes, want)
		}
	}
	if piv, _ := c.RbacV1().ClusterRoleBindings().Get(ctx, "system:public-info-viewer", metav1.GetOptions{}); len(piv.Subjects) != 2 {
		t.Errorf("public-info-viewer subjects: %v", piv.Subjects)
	}
}
