package rbac

import (
	"context"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/authorization/union"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"

	rbacauth "github.com/herd-project/herd/pkg/auth/authorizer/rbac"
)

func newGuard(t *testing.T, objs ...interface{}) *Guard {
	t.Helper()
	idx := func() cache.Indexer {
		return cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
	roles, rbs, crs, crbs := idx(), idx(), idx(), idx()
	for _, o := range objs {
		switch o.(type) {
		case *rbacv1.Role:
			roles.Add(o)
		case *rbacv1.RoleBinding:
			rbs.Add(o)
		case *rbacv1.ClusterRole:
			crs.Add(o)
		case *rbacv1.ClusterRoleBinding:
			crbs.Add(o)
		}
	}
	resolver := &rbacauth.RuleResolver{
		Roles: rbaclisters.NewRoleLister(roles), RoleBindings: rbaclisters.NewRoleBindingLister(rbs),
		ClusterRoles: rbaclisters.NewClusterRoleLister(crs), ClusterRoleBindings: rbaclisters.NewClusterRoleBindingLister(crbs),
	}
	g := NewGuard()
	g.Set(union.New(authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup), &rbacauth.Authorizer{Resolver: resolver}), resolver)
	return g
}

func cr(name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
}

func rb(ns, name, kind, role, userName string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: role},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: userName}}}
}

func r(verbs, groups, resources, names []string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names}
}

func l(s ...string) []string { return s }

func ctxFor(name, ns string, groups ...string) context.Context {
	ctx := genericapirequest.WithUser(context.Background(), &user.DefaultInfo{Name: name, Groups: groups})
	return genericapirequest.WithNamespace(ctx, ns)
}

var (
	rolesGR    = schema.GroupResource{Group: rbacv1.GroupName, Resource: "roles"}
	bindingsGR = schema.GroupResource{Group: rbacv1.GroupName, Resource: "rolebindings"}
	crbGR      = schema.GroupResource{Group: rbacv1.GroupName, Resource: "clusterrolebindings"}
)

func TestConfirmRole(t *testing.T) {
	g := newGuard(t,
		cr("pods-rw", r(l("get", "list", "create"), l(""), l("pods"), nil)),
		rb("ns1", "jane-pods", "ClusterRole", "pods-rw", "jane"),
		cr("escalator", r(l("escalate"), l(rbacv1.GroupName), l("roles"), nil)),
		rb("ns1", "bob-escalates", "ClusterRole", "escalator", "bob"),
	)
	within := []rbacv1.PolicyRule{r(l("get", "list"), l(""), l("pods"), nil)}
	beyond := []rbacv1.PolicyRule{r(l("get"), l(""), l("secrets"), nil), r(l("delete"), l(""), l("pods"), nil)}

	if err := g.ConfirmRole(ctxFor("jane", "ns1"), rolesGR, "r", "ns1", within); err != nil {
		t.Errorf("role within held permissions: %v", err)
	}
	err := g.ConfirmRole(ctxFor("jane", "ns1"), rolesGR, "r", "ns1", beyond)
	if !apierrors.IsForbidden(err) {
		t.Fatalf("role beyond held permissions: %v, want 403", err)
	}
	msg := err.Error()
	for _, want := range []string{`user "jane" (groups=[]) is attempting to grant RBAC permissions not currently held:`,
		`{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`, `{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	// The same permissions in another namespace are not held.
	if err := g.ConfirmRole(ctxFor("jane", "ns2"), rolesGR, "r", "ns2", within); !apierrors.IsForbidden(err) {
		t.Errorf("role in a namespace without permissions: %v, want 403", err)
	}
	// escalate on roles in ns1.
	if err := g.ConfirmRole(ctxFor("bob", "ns1"), rolesGR, "r", "ns1", beyond); err != nil {
		t.Errorf("escalate verb: %v", err)
	}
	if err := g.ConfirmRole(ctxFor("bob", "ns2"), rolesGR, "r", "ns2", beyond); !apierrors.IsForbidden(err) {
		t.Errorf("escalate verb in another namespace: %v, want 403", err)
	}
	// system:masters is exempt.
	if err := g.ConfirmRole(ctxFor("root", "ns2", user.SystemPrivilegedGroup), rolesGR, "r", "ns2", beyond); err != nil {
		t.Errorf("system:masters: %v", err)
	}
}

func TestConfirmBinding(t *testing.T) {
	g := newGuard(t,
		cr("view", r(l("get", "list"), l(""), l("pods"), nil)),
		cr("admin", r(l("*"), l("*"), l("*"), nil)),
		cr("edit", r(l("get", "list", "create", "delete"), l(""), l("pods"), nil)),
		rb("ns1", "jane-edit", "ClusterRole", "edit", "jane"),
		cr("bind-admin", r(l("bind"), l(rbacv1.GroupName), l("clusterroles"), l("admin"))),
		rb("ns1", "bob-binds", "ClusterRole", "bind-admin", "bob"),
	)
	ref := func(name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}
	}
	if err := g.ConfirmBinding(ctxFor("jane", "ns1"), bindingsGR, "b", "ns1", ref("view")); err != nil {
		t.Errorf("binding a role whose permissions are held: %v", err)
	}
	err := g.ConfirmBinding(ctxFor("jane", "ns1"), bindingsGR, "b", "ns1", ref("admin"))
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "is attempting to grant RBAC permissions not currently held") {
		t.Errorf("binding admin: %v, want 403 naming the escalation", err)
	}
	// Held in ns1 only: a ClusterRoleBinding needs them cluster-wide.
	if err := g.ConfirmBinding(ctxFor("jane", ""), crbGR, "b", "", ref("view")); !apierrors.IsForbidden(err) {
		t.Errorf("cluster binding with namespaced permissions: %v, want 403", err)
	}
	// bind on admin, by name.
	if err := g.ConfirmBinding(ctxFor("bob", "ns1"), bindingsGR, "b", "ns1", ref("admin")); err != nil {
		t.Errorf("bind verb on admin: %v", err)
	}
	if err := g.ConfirmBinding(ctxFor("bob", "ns1"), bindingsGR, "b", "ns1", ref("edit")); !apierrors.IsForbidden(err) {
		t.Errorf("bind verb names admin only, binding edit: %v, want 403", err)
	}
	if err := g.ConfirmBinding(ctxFor("bob", "ns1"), bindingsGR, "b", "ns1", ref("missing")); !apierrors.IsNotFound(err) {
		t.Errorf("binding a missing role: %v, want 404", err)
	}
	if err := g.ConfirmBinding(ctxFor("root", "ns1", user.SystemPrivilegedGroup), bindingsGR, "b", "ns1", ref("admin")); err != nil {
		t.Errorf("system:masters: %v", err)
	}
}

func TestOnlyGCFieldsChanged(t *testing.T) {
	a := cr("x", r(l("get"), l(""), l("pods"), nil))
	b := a.DeepCopy()
	b.Finalizers = []string{"foregroundDeletion"}
	b.OwnerReferences = []metav1.OwnerReference{{Name: "o"}}
	if !OnlyGCFieldsChanged(b, a) {
		t.Error("finalizers and owners only: want true")
	}
	b.Rules[0].Verbs = l("delete")
	if OnlyGCFieldsChanged(b, a) {
		t.Error("rules changed: want false")
	}
}
