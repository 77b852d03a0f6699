package rbac

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
)

// newAuthorizer builds an authorizer over the given objects.
func newAuthorizer(t *testing.T, objs ...interface{}) *Authorizer {
	t.Helper()
	idx := func() cache.Indexer {
		return cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
	roles, rbs, crs, crbs := idx(), idx(), idx(), idx()
	for _, o := range objs {
		var err error
		switch o.(type) {
		case *rbacv1.Role:
			err = roles.Add(o)
		case *rbacv1.RoleBinding:
			err = rbs.Add(o)
		case *rbacv1.ClusterRole:
			err = crs.Add(o)
		case *rbacv1.ClusterRoleBinding:
			err = crbs.Add(o)
		default:
			t.Fatalf("unexpected %T", o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return &Authorizer{Resolver: &RuleResolver{
		Roles:               rbaclisters.NewRoleLister(roles),
		RoleBindings:        rbaclisters.NewRoleBindingLister(rbs),
		ClusterRoles:        rbaclisters.NewClusterRoleLister(crs),
		ClusterRoleBindings: rbaclisters.NewClusterRoleBindingLister(crbs),
	}}
}

func role(ns, name string, rules ...rbacv1.PolicyRule) *rbacv1.Role {
	return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules}
}

func clusterRole(name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
}

func roleBinding(ns, name, kind, roleName string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: roleName}, Subjects: subjects}
}

func clusterRoleBinding(name, roleName string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roleName}, Subjects: subjects}
}

func userSubject(n string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: n}
}
func groupSubject(n string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: n}
}
func saSubject(ns, n string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: n}
}

func rule(verbs, groups, resources, names []string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names}
}

func l(s ...string) []string { return s }

func res(u user.Info, verb, group, resource, sub, ns, name string) authorizer.AttributesRecord {
	return authorizer.AttributesRecord{User: u, Verb: verb, APIGroup: group, Resource: resource, Subresource: sub,
		Namespace: ns, Name: name, ResourceRequest: true}
}

func nonRes(u user.Info, verb, path string) authorizer.AttributesRecord {
	return authorizer.AttributesRecord{User: u, Verb: verb, Path: path}
}

func TestAuthorize(t *testing.T) {
	jane := &user.DefaultInfo{Name: "jane", Groups: []string{"devs", user.AllAuthenticated}}
	bob := &user.DefaultInfo{Name: "bob", Groups: []string{user.AllAuthenticated}}
	sa := &user.DefaultInfo{Name: "system:serviceaccount:ns1:robot", Groups: []string{"system:serviceaccounts"}}
	saOther := &user.DefaultInfo{Name: "system:serviceaccount:ns2:robot"}

	a := newAuthorizer(t,
		role("ns1", "pod-reader", rule(l("get", "list"), l(""), l("pods"), nil)),
		roleBinding("ns1", "jane-reads", "Role", "pod-reader", userSubject("jane")),
		// A ServiceAccount subject without a namespace means the binding's.
		roleBinding("ns1", "robot-reads", "Role", "pod-reader", rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "robot"}),
		clusterRole("cm-one", rule(l("get", "update"), l(""), l("configmaps"), l("one"))),
		roleBinding("ns1", "devs-cm", "ClusterRole", "cm-one", groupSubject("devs")),
		clusterRole("logs", rule(l("get"), l(""), l("pods/log"), nil), rule(l("get"), l("*"), l("*/scale"), nil)),
		clusterRoleBinding("bob-logs", "logs", userSubject("bob")),
		clusterRole("metrics", rbacv1.PolicyRule{Verbs: l("get"), NonResourceURLs: l("/metrics", "/debug/*")}),
		clusterRoleBinding("bob-metrics", "metrics", userSubject("bob")),
		clusterRole("everything", rule(l("*"), l("*"), l("*"), nil)),
		clusterRoleBinding("sa2-all", "everything", saSubject("ns2", "robot")),
		// A ServiceAccount without a namespace in a ClusterRoleBinding matches nobody.
		clusterRoleBinding("broken", "everything", rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "robot"}),
	)
	cases := []struct {
		name  string
		attrs authorizer.AttributesRecord
		allow bool
	}{
		{"user in bound namespace", res(jane, "list", "", "pods", "", "ns1", ""), true},
		{"user in another namespace", res(jane, "list", "", "pods", "", "ns2", ""), false},
		{"verb not granted", res(jane, "delete", "", "pods", "", "ns1", "p"), false},
		{"subresource not granted by resource", res(jane, "get", "", "pods", "log", "ns1", "p"), false},
		{"other user", res(bob, "list", "", "pods", "", "ns1", ""), false},
		{"service account of binding namespace", res(sa, "get", "", "pods", "", "ns1", "p"), true},
		{"same SA name, other namespace", res(&user.DefaultInfo{Name: "system:serviceaccount:ns3:robot"}, "get", "", "pods", "", "ns1", "p"), false},
		{"group subject, named resource", res(jane, "get", "", "configmaps", "", "ns1", "one"), true},
		{"group subject, other name", res(jane, "get", "", "configmaps", "", "ns1", "two"), false},
		{"resourceNames and list", res(jane, "list", "", "configmaps", "", "ns1", ""), false},
		{"subresource rule", res(bob, "get", "", "pods", "log", "any", "p"), true},
		{"subresource rule, main resource", res(bob, "get", "", "pods", "", "any", "p"), false},
		{"*/subresource", res(bob, "get", "apps", "deployments", "scale", "any", "d"), true},
		{"*/subresource wrong verb", res(bob, "update", "apps", "deployments", "scale", "any", "d"), false},
		{"non-resource exact", nonRes(bob, "get", "/metrics"), true},
		{"non-resource glob", nonRes(bob, "get", "/debug/pprof/heap"), true},
		{"non-resource glob prefix only", nonRes(bob, "get", "/debugger"), false},
		{"non-resource not granted", nonRes(bob, "get", "/logs"), false},
		{"non-resource wrong verb", nonRes(bob, "post", "/metrics"), false},
		{"wildcards cluster-wide", res(saOther, "deletecollection", "batch", "jobs", "", "", ""), true},
		{"wildcards cover subresources", res(saOther, "update", "", "pods", "status", "x", "p"), true},
		{"wildcard resources do not cover non-resource URLs", nonRes(saOther, "get", "/metrics"), false},
	}
	for _, c := range cases {
		d, _, err := a.Authorize(context.Background(), c.attrs)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := d == authorizer.DecisionAllow; got != c.allow {
			t.Errorf("%s: allowed=%v, want %v", c.name, got, c.allow)
		}
	}
}

func TestMissingRoleIsReported(t *testing.T) {
	a := newAuthorizer(t, clusterRoleBinding("dangling", "nope", userSubject("jane")))
	d, reason, _ := a.Authorize(context.Background(), res(&user.DefaultInfo{Name: "jane"}, "get", "", "pods", "", "x", ""))
	if d == authorizer.DecisionAllow || reason == "" {
		t.Fatalf("decision %v reason %q: want no opinion with the missing role named", d, reason)
	}
}

func TestRulesFor(t *testing.T) {
	a := newAuthorizer(t,
		role("ns1", "r", rule(l("get"), l(""), l("pods"), nil)),
		roleBinding("ns1", "b", "Role", "r", userSubject("jane")),
		clusterRole("c", rbacv1.PolicyRule{Verbs: l("get"), NonResourceURLs: l("/healthz")}),
		clusterRoleBinding("cb", "c", groupSubject(user.AllAuthenticated)),
	)
	jane := &user.DefaultInfo{Name: "jane", Groups: []string{user.AllAuthenticated}}
	resRules, nonResRules, incomplete, err := a.RulesFor(context.Background(), jane, "ns1")
	if err != nil || incomplete {
		t.Fatal(err, incomplete)
	}
	if len(resRules) != 1 || resRules[0].GetResources()[0] != "pods" || len(nonResRules) != 1 {
		t.Fatalf("rules in ns1: %v %v", resRules, nonResRules)
	}
	resRules, _, _, _ = a.RulesFor(context.Background(), jane, "ns2")
	if len(resRules) != 0 {
		t.Fatalf("rules in ns2: %v", resRules)
	}
}
