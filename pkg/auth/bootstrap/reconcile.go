// Package bootstrap holds herd's default RBAC policy — Kubernetes' bootstrap
// ClusterRoles and ClusterRoleBindings, one role per built-in controller —
// and reconciles it into the API at start the way kube-apiserver does:
// missing objects are created; objects annotated
// rbac.authorization.kubernetes.io/autoupdate=true get missing rules,
// subjects, labels, annotations and aggregation selectors added; nothing a
// user added is removed, and objects annotated autoupdate=false are left
// alone. It also creates the controllers' ServiceAccounts in kube-system.
package bootstrap

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	rbachelpers "k8s.io/component-helpers/auth/rbac/validation"
	"k8s.io/klog/v2"
)

// Ensure reconciles the bootstrap policy, retrying until it succeeds or ctx
// ends (the API may not serve every write at the first attempt).
func Ensure(ctx context.Context, c kubernetes.Interface) error {
	for {
		err := ensureOnce(ctx, c)
		if err == nil {
			return nil
		}
		klog.V(2).InfoS("reconciling the bootstrap RBAC policy failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("reconciling the bootstrap RBAC policy: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ensureOnce reads the current policy with three LISTs (served from the
// watch cache) and writes only what is missing or lacking, so a restart with
// the policy in place makes no writes and a handful of requests, not one
// GET per object.
func ensureOnce(ctx context.Context, c kubernetes.Interface) error {
	roles, err := c.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing clusterroles: %w", err)
	}
	haveRoles := make(map[string]*rbacv1.ClusterRole, len(roles.Items))
	for i := range roles.Items {
		haveRoles[roles.Items[i].Name] = &roles.Items[i]
	}
	for _, r := range ClusterRoles() {
		if err := reconcileClusterRole(ctx, c, haveRoles[r.Name], r); err != nil {
			return fmt.Errorf("clusterrole %s: %w", r.Name, err)
		}
	}
	bindings, err := c.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing clusterrolebindings: %w", err)
	}
	haveBindings := make(map[string]*rbacv1.ClusterRoleBinding, len(bindings.Items))
	for i := range bindings.Items {
		haveBindings[bindings.Items[i].Name] = &bindings.Items[i]
	}
	for _, b := range ClusterRoleBindings() {
		if err := reconcileClusterRoleBinding(ctx, c, haveBindings[b.Name], b); err != nil {
			return fmt.Errorf("clusterrolebinding %s: %w", b.Name, err)
		}
	}
	accounts, err := c.CoreV1().ServiceAccounts(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing serviceaccounts in kube-system: %w", err)
	}
	haveAccounts := make(map[string]bool, len(accounts.Items))
	for _, sa := range accounts.Items {
		haveAccounts[sa.Name] = true
	}
	for _, n := range ControllerNames() {
		if haveAccounts[n] {
			continue
		}
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: metav1.NamespaceSystem}}
		if _, err := c.CoreV1().ServiceAccounts(metav1.NamespaceSystem).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("serviceaccount kube-system/%s: %w", n, err)
		}
	}
	return nil
}

func protected(m metav1.ObjectMeta) bool { return m.Annotations[AutoUpdateAnnotation] == "false" }

// mergeMaps adds the keys of want missing from have; it reports a change.
func mergeMaps(have *map[string]string, want map[string]string) bool {
	changed := false
	for k, v := range want {
		if _, ok := (*have)[k]; ok {
			continue
		}
		if *have == nil {
			*have = map[string]string{}
		}
		(*have)[k] = v
		changed = true
	}
	return changed
}

// ReconcileClusterRole creates role, or adds to the existing one what it
// lacks of role (rules, labels, annotations, aggregation selectors).
func ReconcileClusterRole(ctx context.Context, c kubernetes.Interface, role rbacv1.ClusterRole) error {
	existing, err := c.RbacV1().ClusterRoles().Get(ctx, role.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		existing, err = nil, nil
	}
	if err != nil {
		return err
	}
	return reconcileClusterRole(ctx, c, existing, role)
}

// reconcileClusterRole brings existing (nil: absent) up to role.
func reconcileClusterRole(ctx context.Context, c kubernetes.Interface, existing *rbacv1.ClusterRole, role rbacv1.ClusterRole) error {
	client := c.RbacV1().ClusterRoles()
	if existing == nil {
		_, err := client.Create(ctx, &role, metav1.CreateOptions{})
		if err == nil {
			klog.V(2).InfoS("created bootstrap clusterrole", "name", role.Name)
		}
		return err
	}
	if protected(existing.ObjectMeta) {
		return nil
	}
	updated, changed := ReconciledClusterRole(existing, &role)
	if !changed {
		return nil
	}
	_, err := client.Update(ctx, updated, metav1.UpdateOptions{})
	return err
}

// ReconciledClusterRole returns existing with what it lacks of want added,
// and whether anything was.
func ReconciledClusterRole(existing, want *rbacv1.ClusterRole) (*rbacv1.ClusterRole, bool) {
	out := existing.DeepCopy()
	changed := mergeMaps(&out.Labels, want.Labels)
	changed = mergeMaps(&out.Annotations, want.Annotations) || changed
	if covered, missing := rbachelpers.Covers(out.Rules, want.Rules); !covered {
		out.Rules = append(out.Rules, missing...)
		changed = true
	}
	if want.AggregationRule != nil {
		if out.AggregationRule == nil {
			out.AggregationRule = &rbacv1.AggregationRule{}
		}
		for _, sel := range want.AggregationRule.ClusterRoleSelectors {
			found := false
			for _, have := range out.AggregationRule.ClusterRoleSelectors {
				if apiequality.Semantic.DeepEqual(sel, have) {
					found = true
					break
				}
			}
			if !found {
				out.AggregationRule.ClusterRoleSelectors = append(out.AggregationRule.ClusterRoleSelectors, *sel.DeepCopy())
				changed = true
			}
		}
	}
	return out, changed
}

// ReconcileClusterRoleBinding creates binding, or adds to the existing one
// the subjects, labels and annotations it lacks; a binding to another role
// is recreated (roleRef cannot change).
func ReconcileClusterRoleBinding(ctx context.Context, c kubernetes.Interface, binding rbacv1.ClusterRoleBinding) error {
	existing, err := c.RbacV1().ClusterRoleBindings().Get(ctx, binding.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		existing, err = nil, nil
	}
	if err != nil {
		return err
	}
	return reconcileClusterRoleBinding(ctx, c, existing, binding)
}

// reconcileClusterRoleBinding brings existing (nil: absent) up to binding.
func reconcileClusterRoleBinding(ctx context.Context, c kubernetes.Interface, existing *rbacv1.ClusterRoleBinding, binding rbacv1.ClusterRoleBinding) error {
	client := c.RbacV1().ClusterRoleBindings()
	if existing == nil {
		_, err := client.Create(ctx, &binding, metav1.CreateOptions{})
		return err
	}
	if protected(existing.ObjectMeta) {
		return nil
	}
	updated, changed, recreate := ReconciledClusterRoleBinding(existing, &binding)
	if recreate {
		if err := client.Delete(ctx, existing.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &existing.UID}}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		updated.ResourceVersion, updated.UID = "", ""
		_, err := client.Create(ctx, updated, metav1.CreateOptions{})
		return err
	}
	if !changed {
		return nil
	}
	_, err := client.Update(ctx, updated, metav1.UpdateOptions{})
	return err
}

// ReconciledClusterRoleBinding returns existing with the subjects, labels
// and annotations of want it lacks added; recreate says the roleRef differs.
func ReconciledClusterRoleBinding(existing, want *rbacv1.ClusterRoleBinding) (out *rbacv1.ClusterRoleBinding, changed, recreate bool) {
	out = existing.DeepCopy()
	changed = mergeMaps(&out.Labels, want.Labels)
	changed = mergeMaps(&out.Annotations, want.Annotations) || changed
	if out.RoleRef != want.RoleRef {
		out.RoleRef = want.RoleRef
		recreate = true
	}
	for _, s := range want.Subjects {
		found := false
		for _, have := range out.Subjects {
			if have == s {
				found = true
				break
			}
		}
		if !found {
			out.Subjects = append(out.Subjects, s)
			changed = true
		}
	}
	return out, changed || recreate, recreate
}
