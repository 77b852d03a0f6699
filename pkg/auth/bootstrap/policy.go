package bootstrap

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
)

// Labels and annotations of the bootstrap objects, as Kubernetes sets them.
const (
	BootstrapLabel       = "kubernetes.io/bootstrapping"
	BootstrapLabelValue  = "rbac-defaults"
	AutoUpdateAnnotation = "rbac.authorization.kubernetes.io/autoupdate"

	aggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin"
	aggregateToEdit  = "rbac.authorization.k8s.io/aggregate-to-edit"
	aggregateToView  = "rbac.authorization.k8s.io/aggregate-to-view"
)

func meta(name string, labels map[string]string) metav1.ObjectMeta {
	l := map[string]string{BootstrapLabel: BootstrapLabelValue}
	for k, v := range labels {
		l[k] = v
	}
	return metav1.ObjectMeta{Name: name, Labels: l, Annotations: map[string]string{AutoUpdateAnnotation: "true"}}
}

func aggregation(label string) *rbacv1.AggregationRule {
	return &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{label: "true"}}}}
}

// ClusterRoles returns the bootstrap ClusterRoles: the user-facing roles,
// the system components' roles and one role per built-in controller.
func ClusterRoles() []rbacv1.ClusterRole {
	roles := []rbacv1.ClusterRole{
		{
			ObjectMeta: meta("cluster-admin", nil),
			Rules: []rbacv1.PolicyRule{
				verbs("*").groups("*").resources("*").rule(),
				verbs("*").urls("*"),
			},
		},
		{
			ObjectMeta: meta("system:discovery", nil),
			Rules: []rbacv1.PolicyRule{
				verbs("get").urls("/livez", "/readyz", "/healthz", "/version", "/version/",
					"/openapi", "/openapi/*", "/api", "/api/*", "/apis", "/apis/*"),
			},
		},
		{
			ObjectMeta: meta("system:monitoring", nil),
			Rules: []rbacv1.PolicyRule{
				verbs("get").urls("/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz",
					"/livez/*", "/readyz/*", "/healthz/*"),
			},
		},
		{
			ObjectMeta: meta("system:basic-user", nil),
			Rules: []rbacv1.PolicyRule{
				verbs("create").groups(authorizationGroup).resources("selfsubjectaccessreviews", "selfsubjectrulesreviews").rule(),
				verbs("create").groups(authenticationGroup).resources("selfsubjectreviews").rule(),
			},
		},
		{
			ObjectMeta: meta("system:public-info-viewer", nil),
			Rules: []rbacv1.PolicyRule{
				verbs("get").urls("/livez", "/readyz", "/healthz", "/version", "/version/"),
			},
		},
		{ObjectMeta: meta("admin", nil), AggregationRule: aggregation(aggregateToAdmin)},
		{ObjectMeta: meta("edit", map[string]string{aggregateToAdmin: "true"}), AggregationRule: aggregation(aggregateToEdit)},
		{ObjectMeta: meta("view", map[string]string{aggregateToEdit: "true"}), AggregationRule: aggregation(aggregateToView)},
		// metrics-server's manifest ships this role: admin, edit and view
		// may read metrics.k8s.io (kubectl top).
		{
			ObjectMeta: meta("system:aggregated-metrics-reader", map[string]string{
				aggregateToAdmin: "true", aggregateToEdit: "true", aggregateToView: "true"}),
			Rules: []rbacv1.PolicyRule{
				verbs("get", "list", "watch").groups("metrics.k8s.io").resources("pods", "nodes").rule(),
			},
		},
		{
			ObjectMeta: meta("system:aggregate-to-admin", map[string]string{aggregateToAdmin: "true"}),
			Rules: []rbacv1.PolicyRule{
				verbs("create").groups(authorizationGroup).resources("localsubjectaccessreviews").rule(),
				verbs(readWrite...).groups(rbacGroup).resources("roles", "rolebindings").rule(),
			},
		},
		{
			ObjectMeta: meta("system:aggregate-to-edit", map[string]string{aggregateToEdit: "true"}),
			Rules: []rbacv1.PolicyRule{
				verbs(read...).groups(legacyGroup).resources("pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy").rule(),
				verbs("impersonate").groups(legacyGroup).resources("serviceaccounts").rule(),
				verbs(write...).groups(legacyGroup).resources("pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward").rule(),
				verbs("create").groups(legacyGroup).resources("pods/eviction").rule(),
				verbs(write...).groups(legacyGroup).resources("replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
					"services", "services/proxy", "persistentvolumeclaims", "configmaps", "secrets", "events").rule(),
				verbs("create").groups(legacyGroup).resources("serviceaccounts/token").rule(),
				verbs(write...).groups(appsGroup).resources("statefulsets", "statefulsets/scale", "daemonsets",
					"deployments", "deployments/scale", "deployments/rollback", "replicasets", "replicasets/scale").rule(),
				verbs(write...).groups(autoscalingGroup).resources("horizontalpodautoscalers").rule(),
				verbs(write...).groups(batchGroup).resources("jobs", "cronjobs").rule(),
				verbs(write...).groups(extensionsGroup).resources("daemonsets", "deployments", "deployments/scale", "deployments/rollback",
					"ingresses", "replicasets", "replicasets/scale", "replicationcontrollers/scale", "networkpolicies").rule(),
				verbs(write...).groups(policyGroup).resources("poddisruptionbudgets").rule(),
				verbs(write...).groups(networkingGroup).resources("networkpolicies", "ingresses").rule(),
				verbs(write...).groups(coordinationGroup).resources("leases").rule(),
			},
		},
		{
			ObjectMeta: meta("system:aggregate-to-view", map[string]string{aggregateToView: "true"}),
			Rules: []rbacv1.PolicyRule{
				verbs(read...).groups(legacyGroup).resources("pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
					"services", "services/status", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps").rule(),
				verbs(read...).groups(legacyGroup).resources("limitranges", "resourcequotas", "bindings", "events",
					"pods/status", "resourcequotas/status", "namespaces/status", "replicationcontrollers/status", "pods/log").rule(),
				verbs(read...).groups(legacyGroup).resources("namespaces").rule(),
				verbs(read...).groups(discoveryGroup).resources("endpointslices").rule(),
				verbs(read...).groups(appsGroup).resources("controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale",
					"daemonsets", "daemonsets/status", "deployments", "deployments/status", "deployments/scale",
					"replicasets", "replicasets/status", "replicasets/scale").rule(),
				verbs(read...).groups(autoscalingGroup).resources("horizontalpodautoscalers", "horizontalpodautoscalers/status").rule(),
				verbs(read...).groups(batchGroup).resources("jobs", "cronjobs", "cronjobs/status", "jobs/status").rule(),
				verbs(read...).groups(extensionsGroup).resources("daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
					"ingresses", "ingresses/status", "replicasets", "replicasets/scale", "replicasets/status", "replicationcontrollers/scale",
					"networkpolicies").rule(),
				verbs(read...).groups(policyGroup).resources("poddisruptionbudgets", "poddisruptionbudgets/status").rule(),
				verbs(read...).groups(networkingGroup).resources("networkpolicies", "ingresses", "ingresses/status").rule(),
			},
		},
		{
			// herd has no Node authorizer yet: the nodes' role is bound to
			// the system:nodes group (see ClusterRoleBindings).
			ObjectMeta: meta("system:node", nil),
			Rules: []rbacv1.PolicyRule{
				verbs("create").groups(authenticationGroup).resources("tokenreviews").rule(),
				verbs("create").groups(authorizationGroup).resources("subjectaccessreviews", "localsubjectaccessreviews").rule(),
				verbs(read...).groups(legacyGroup).resources("services").rule(),
				verbs("create", "get", "list", "watch").groups(legacyGroup).resources("nodes").rule(),
				verbs("update", "patch").groups(legacyGroup).resources("nodes/status").rule(),
				verbs("update", "patch").groups(legacyGroup).resources("nodes").rule(),
				verbs("create", "update", "patch").groups(legacyGroup).resources("events").rule(),
				verbs(read...).groups(legacyGroup).resources("pods").rule(),
				verbs("create", "delete").groups(legacyGroup).resources("pods").rule(),
				verbs("update", "patch").groups(legacyGroup).resources("pods/status").rule(),
				verbs("create").groups(legacyGroup).resources("pods/eviction").rule(),
				verbs("get", "list", "watch").groups(legacyGroup).resources("secrets", "configmaps").rule(),
				verbs("get").groups(legacyGroup).resources("persistentvolumeclaims", "persistentvolumes").rule(),
				verbs("get").groups(legacyGroup).resources("endpoints").rule(),
				verbs("create", "get", "list", "watch").groups(certificatesGroup).resources("certificatesigningrequests").rule(),
				verbs("get", "create", "update", "patch", "delete").groups(coordinationGroup).resources("leases").rule(),
				verbs("get").groups(storageGroup).resources("volumeattachments").rule(),
				verbs("get", "update", "patch").groups(legacyGroup).resources("persistentvolumeclaims/status").rule(),
				verbs("create").groups(legacyGroup).resources("serviceaccounts/token").rule(),
				verbs("get", "watch", "list").groups(storageGroup).resources("csidrivers").rule(),
				verbs("get", "create", "update", "patch", "delete").groups(storageGroup).resources("csinodes").rule(),
				verbs("get", "list", "watch").groups(nodeGroup).resources("runtimeclasses").rule(),
			},
		},
		{
			// herd's own: a node agent removes the directories of its
			// deleted local-path volumes, then their cleanup finalizer
			// (pkg/agent/localpath).
			ObjectMeta: meta(LocalPathNodeRole, nil),
			Rules: []rbacv1.PolicyRule{
				verbs("get", "list", "watch", "update").groups(legacyGroup).resources("persistentvolumes").rule(),
			},
		},
		{
			ObjectMeta: meta("system:node-bootstrapper", nil),
			Rules: []rbacv1.PolicyRule{
				verbs("create", "get", "list", "watch").groups(certificatesGroup).resources("certificatesigningrequests").rule(),
			},
		},
		{
			ObjectMeta: meta("system:kube-controller-manager", nil),
			Rules: []rbacv1.PolicyRule{
				eventsRule(),
				verbs("create").groups(coordinationGroup).resources("leases").rule(),
				verbs("get", "update").groups(coordinationGroup).resources("leases").names("kube-controller-manager").rule(),
				verbs("create").groups(legacyGroup).resources("secrets", "serviceaccounts").rule(),
				verbs("delete").groups(legacyGroup).resources("secrets").rule(),
				verbs("get").groups(legacyGroup).resources("namespaces", "secrets", "serviceaccounts", "configmaps").rule(),
				verbs("update").groups(legacyGroup).resources("secrets", "serviceaccounts").rule(),
				verbs("create").groups(authenticationGroup).resources("tokenreviews").rule(),
				verbs("create").groups(authorizationGroup).resources("subjectaccessreviews").rule(),
				verbs("list", "watch").groups("*").resources("*").rule(),
				verbs("create").groups(legacyGroup).resources("serviceaccounts/token").rule(),
			},
		},
		{
			ObjectMeta: meta("system:kube-scheduler", nil),
			Rules: []rbacv1.PolicyRule{
				eventsRule(),
				verbs("create").groups(coordinationGroup).resources("leases").rule(),
				verbs("get", "update").groups(coordinationGroup).resources("leases").names("kube-scheduler").rule(),
				verbs(read...).groups(legacyGroup).resources("nodes").rule(),
				verbs("get", "list", "watch", "delete").groups(legacyGroup).resources("pods").rule(),
				verbs("create").groups(legacyGroup).resources("pods/binding", "bindings").rule(),
				verbs("patch", "update").groups(legacyGroup).resources("pods/status").rule(),
				verbs(read...).groups(legacyGroup).resources("services", "replicationcontrollers").rule(),
				verbs(read...).groups(appsGroup, extensionsGroup).resources("replicasets").rule(),
				verbs(read...).groups(appsGroup).resources("statefulsets").rule(),
				verbs(read...).groups(policyGroup).resources("poddisruptionbudgets").rule(),
				verbs(read...).groups(legacyGroup).resources("persistentvolumeclaims", "persistentvolumes").rule(),
				verbs("create").groups(authenticationGroup).resources("tokenreviews").rule(),
				verbs("create").groups(authorizationGroup).resources("subjectaccessreviews").rule(),
				verbs(read...).groups(storageGroup).resources("csinodes").rule(),
				verbs(read...).groups(legacyGroup).resources("namespaces").rule(),
				verbs(read...).groups(storageGroup).resources("csidrivers").rule(),
				verbs(read...).groups(storageGroup).resources("csistoragecapacities").rule(),
			},
		},
		{
			ObjectMeta: meta("system:volume-scheduler", nil),
			Rules: []rbacv1.PolicyRule{
				verbs(readUpdate...).groups(legacyGroup).resources("persistentvolumes").rule(),
				verbs(read...).groups(storageGroup).resources("storageclasses").rule(),
				verbs(readUpdate...).groups(legacyGroup).resources("persistentvolumeclaims").rule(),
			},
		},
	}
	return append(roles, ControllerRoles()...)
}

// LocalPathNodeRole lets node agents clean up their local-path volumes.
const LocalPathNodeRole = "system:herd:local-path-node"

func clusterBinding(role string, subjects ...rbacv1.Subject) rbacv1.ClusterRoleBinding {
	return rbacv1.ClusterRoleBinding{
		ObjectMeta: meta(role, nil),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   subjects,
	}
}

func groupSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

func userSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

// ClusterRoleBindings returns the bootstrap ClusterRoleBindings, the
// controllers' included.
func ClusterRoleBindings() []rbacv1.ClusterRoleBinding {
	bindings := []rbacv1.ClusterRoleBinding{
		clusterBinding("cluster-admin", groupSubject(user.SystemPrivilegedGroup)),
		clusterBinding("system:monitoring", groupSubject("system:monitoring")),
		clusterBinding("system:discovery", groupSubject(user.AllAuthenticated)),
		clusterBinding("system:basic-user", groupSubject(user.AllAuthenticated)),
		clusterBinding("system:public-info-viewer", groupSubject(user.AllAuthenticated), groupSubject(user.AllUnauthenticated)),
		clusterBinding("system:kube-controller-manager", userSubject(user.KubeControllerManager)),
		clusterBinding("system:kube-scheduler", userSubject(user.KubeScheduler)),
		clusterBinding("system:volume-scheduler", userSubject(user.KubeScheduler)),
		// Kubernetes leaves this binding empty and lets its Node authorizer
		// decide for nodes; herd has no Node authorizer yet.
		clusterBinding("system:node", groupSubject(user.NodesGroup)),
		clusterBinding("system:node-bootstrapper", groupSubject("system:bootstrappers")),
		clusterBinding(LocalPathNodeRole, groupSubject(user.NodesGroup)),
	}
	return append(bindings, ControllerRoleBindings()...)
}
