package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRBACServiceAccountCanI: a ServiceAccount bound to a Role allowing
// get,list on pods may list pods and not read secrets, and `kubectl auth
// can-i --as` agrees.
func TestRBACServiceAccountCanI(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	s.MustKubectl(t, "-n", ns, "create", "serviceaccount", "reader")
	s.MustKubectl(t, "-n", ns, "create", "role", "pod-reader", "--verb=get,list", "--resource=pods")
	s.MustKubectl(t, "-n", ns, "create", "rolebinding", "reader", "--role=pod-reader", "--serviceaccount="+ns+":reader")
	as := "--as=system:serviceaccount:" + ns + ":reader"
	eventually(t, 10*time.Second, func() error {
		out, err := s.Kubectl(t, "-n", ns, "auth", "can-i", "list", "pods", as)
		if err != nil || strings.TrimSpace(out) != "yes" {
			return fmt.Errorf("can-i list pods: %v %q", err, out)
		}
		return nil
	})
	out, err := s.Kubectl(t, "-n", ns, "auth", "can-i", "get", "secrets", as)
	if err == nil || strings.TrimSpace(out) != "no" {
		t.Errorf("can-i get secrets = %q (%v), want no", out, err)
	}
	// The answers hold for real requests as that identity.
	s.MustKubectl(t, "-n", ns, "get", "pods", as)
	out, err = s.Kubectl(t, "-n", ns, "get", "secrets", as)
	if err == nil || !strings.Contains(out, `secrets is forbidden: User "system:serviceaccount:`+ns+`:reader" cannot list resource "secrets"`) {
		t.Errorf("get secrets as the ServiceAccount: %v\n%s", err, out)
	}
	// Not in another namespace.
	out, _ = s.Kubectl(t, "-n", "default", "auth", "can-i", "list", "pods", as)
	if strings.TrimSpace(out) != "no" {
		t.Errorf("can-i list pods in default = %q, want no", out)
	}
	// --list names the role's rules.
	out = s.MustKubectl(t, "-n", ns, "auth", "can-i", "--list", as)
	if !strings.Contains(out, "pods ") || !strings.Contains(out, "[get list]") {
		t.Errorf("can-i --list:\n%s", out)
	}
}

// TestRBACEscalationPrevented: a user may bind only roles whose permissions
// they hold, or roles they have the bind verb on.
func TestRBACEscalationPrevented(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	s.MustKubectl(t, "-n", ns, "create", "rolebinding", "jane-edit", "--clusterrole=edit", "--user=jane")
	s.MustKubectl(t, "-n", ns, "create", "role", "binder", "--verb=create,get,list", "--resource=rolebindings.rbac.authorization.k8s.io")
	s.MustKubectl(t, "-n", ns, "create", "rolebinding", "jane-binder", "--role=binder", "--user=jane")
	eventually(t, 10*time.Second, func() error {
		out, _ := s.Kubectl(t, "-n", ns, "auth", "can-i", "create", "rolebindings", "--as=jane")
		if strings.TrimSpace(out) != "yes" {
			return fmt.Errorf("jane cannot create rolebindings yet: %q", out)
		}
		return nil
	})

	out, err := s.Kubectl(t, "-n", ns, "create", "rolebinding", "grab", "--clusterrole=cluster-admin", "--user=jane", "--as=jane")
	if err == nil || !strings.Contains(out, `is forbidden: user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:`) {
		t.Fatalf("binding cluster-admin as jane: %v\n%s", err, out)
	}
	if !strings.Contains(out, `{APIGroups:["*"], Resources:["*"], Verbs:["*"]}`) {
		t.Errorf("escalation message does not name the missing permissions:\n%s", out)
	}
	// view's permissions are all in edit: allowed.
	s.MustKubectl(t, "-n", ns, "create", "rolebinding", "bob-view", "--clusterrole=view", "--user=bob", "--as=jane")
	// admin's are not, until jane may bind admin (by name).
	if out, err := s.Kubectl(t, "-n", ns, "create", "rolebinding", "bob-admin", "--clusterrole=admin", "--user=bob", "--as=jane"); err == nil {
		t.Fatalf("binding admin without bind:\n%s", out)
	}
	s.MustKubectl(t, "-n", ns, "create", "role", "bind-admin", "--verb=bind", "--resource=clusterroles.rbac.authorization.k8s.io", "--resource-name=admin")
	s.MustKubectl(t, "-n", ns, "create", "rolebinding", "jane-bind-admin", "--role=bind-admin", "--user=jane")
	eventually(t, 10*time.Second, func() error {
		out, err := s.Kubectl(t, "-n", ns, "create", "rolebinding", "bob-admin", "--clusterrole=admin", "--user=bob", "--as=jane")
		if err != nil {
			return fmt.Errorf("binding admin with bind: %v %s", err, out)
		}
		return nil
	})
	if out, err := s.Kubectl(t, "-n", ns, "create", "rolebinding", "grab2", "--clusterrole=cluster-admin", "--user=jane", "--as=jane"); err == nil {
		t.Fatalf("bind on admin let jane bind cluster-admin:\n%s", out)
	}
	// Creating a role with more than she holds is refused too.
	out, err = s.Kubectl(t, "-n", ns, "create", "role", "nodes", "--verb=get", "--resource=nodes", "--as=jane")
	if err == nil || (!strings.Contains(out, "forbidden")) {
		t.Errorf("creating a role as jane: %v\n%s", err, out)
	}
	// She may not impersonate.
	out, _ = s.Kubectl(t, "auth", "can-i", "impersonate", "users", "--as=jane")
	if strings.TrimSpace(out) != "no" {
		t.Errorf("can-i impersonate users as jane = %q", out)
	}
}

// TestRBACBootstrapPolicy: the bootstrap roles exist, aggregated roles are
// filled, bindings print their subjects, and the admin may do anything.
func TestRBACBootstrapPolicy(t *testing.T) {
	s := shared
	out := s.MustKubectl(t, "get", "clusterroles")
	if !strings.HasPrefix(out, "NAME") || !strings.Contains(out, "CREATED AT") {
		t.Errorf("clusterroles table:\n%s", out)
	}
	for _, name := range []string{"cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery",
		"system:public-info-viewer", "system:monitoring", "system:node", "system:kube-scheduler",
		"system:controller:job-controller", "system:controller:clusterrole-aggregation-controller"} {
		if !strings.Contains(out, "\n"+name+" ") {
			t.Errorf("clusterrole %s missing", name)
		}
	}
	eventually(t, 10*time.Second, func() error {
		out := s.MustKubectl(t, "get", "clusterrole", "admin", "-o", "yaml")
		if !strings.Contains(out, "rolebindings") || !strings.Contains(out, "deployments") || !strings.Contains(out, "pods/log") {
			return fmt.Errorf("admin not aggregated:\n%s", out)
		}
		return nil
	})
	out = s.MustKubectl(t, "get", "clusterrolebindings", "cluster-admin", "system:controller:job-controller", "-o", "wide")
	if !strings.Contains(out, "ClusterRole/cluster-admin") || !strings.Contains(out, "system:masters") ||
		!strings.Contains(out, "kube-system/job-controller") || !strings.Contains(out, "SERVICEACCOUNTS") {
		t.Errorf("bindings wide table:\n%s", out)
	}
	out = s.MustKubectl(t, "auth", "can-i", "--list")
	if !strings.Contains(out, "*.*") {
		t.Errorf("admin can-i --list:\n%s", out)
	}
	// /metrics needs system:monitoring (or more).
	if out, err := s.Kubectl(t, "get", "--raw", "/metrics", "--as=jane"); err == nil {
		t.Errorf("jane read /metrics:\n%.200s", out)
	}
	out = s.MustKubectl(t, "get", "--raw", "/metrics", "--as=jane", "--as-group=system:monitoring")
	if !strings.Contains(out, "apiserver_request_total") {
		t.Errorf("metrics as system:monitoring:\n%.300s", out)
	}
	if _, err := s.Kubectl(t, "get", "--raw", "/debug/pprof/", "--as=jane", "--as-group=system:monitoring"); err == nil {
		t.Error("system:monitoring read /debug/pprof/")
	}
	s.MustKubectl(t, "get", "--raw", "/debug/pprof/")
}

// TestRBACValidation: invalid RBAC objects get 422 with Kubernetes' field
// paths and are not stored.
func TestRBACValidation(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	cases := []struct{ manifest, want string }{
		{`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: bad}
rules:
- apiGroups: [""]
  resources: [pods]
- verbs: [get]
  nonResourceURLs: [/healthz]`, `rules[0].verbs: Required value`},
		{`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bad}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Thing, name: x}
subjects:
- {kind: ServiceAccount, name: robot, apiGroup: rbac.authorization.k8s.io}`, `roleRef.kind: Unsupported value: "Thing"`},
		{`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: rbac-validation-bad}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: x}
subjects:
- {kind: ServiceAccount, name: robot}`, `subjects[0].namespace: Required value`},
	}
	for _, c := range cases {
		out, err := s.KubectlIn(t, c.manifest, "-n", ns, "create", "-f", "-")
		if err == nil || !strings.Contains(out, "is invalid") || !strings.Contains(out, c.want) {
			t.Errorf("creating:\n%s\ngot %v\n%s\nwant %q", c.manifest, err, out, c.want)
		}
	}
	if out, _ := s.Kubectl(t, "-n", ns, "get", "roles,rolebindings", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Errorf("invalid objects stored: %s", out)
	}
	s.MustKubectl(t, "-n", ns, "create", "role", "r", "--verb=get", "--resource=pods")
	s.MustKubectl(t, "-n", ns, "create", "rolebinding", "b", "--role=r", "--user=jane")
	out, err := s.Kubectl(t, "-n", ns, "patch", "rolebinding", "b", "--type=merge", "-p", `{"roleRef":{"name":"other"}}`)
	if err == nil || !strings.Contains(out, "roleRef: Invalid value") || !strings.Contains(out, "cannot change roleRef") {
		t.Errorf("changing roleRef: %v\n%s", err, out)
	}
}
