package bootstrap

import (
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ControllerRolePrefix prefixes the ClusterRole of each controller.
const ControllerRolePrefix = "system:controller:"

// controllerRules are the permissions of each built-in controller (those
// herd runs or will soon run), as Kubernetes' controller policy gives them.
// Each runs as the ServiceAccount kube-system/<name>.
var controllerRules = map[string][]rbacv1.PolicyRule{
	"clusterrole-aggregation-controller": {
		verbs("escalate", "get", "list", "watch", "update", "patch").groups(rbacGroup).resources("clusterroles").rule(),
	},
	"cronjob-controller": {
		verbs("get", "list", "watch", "update").groups(batchGroup).resources("cronjobs").rule(),
		verbs("get", "list", "watch", "create", "update", "delete", "patch").groups(batchGroup).resources("jobs").rule(),
		verbs("update").groups(batchGroup).resources("cronjobs/status").rule(),
		verbs("update").groups(batchGroup).resources("cronjobs/finalizers").rule(),
		verbs("list", "watch", "delete").groups(legacyGroup).resources("pods").rule(),
		eventsRule(),
	},
	"daemon-set-controller": {
		verbs("get", "list", "watch").groups(extensionsGroup, appsGroup).resources("daemonsets").rule(),
		verbs("update").groups(extensionsGroup, appsGroup).resources("daemonsets/status").rule(),
		verbs("update").groups(extensionsGroup, appsGroup).resources("daemonsets/finalizers").rule(),
		verbs("list", "watch").groups(legacyGroup).resources("nodes").rule(),
		verbs("list", "watch", "create", "delete", "patch").groups(legacyGroup).resources("pods").rule(),
		verbs("create").groups(legacyGroup).resources("pods/binding").rule(),
		verbs("get", "list", "watch", "create", "delete", "update", "patch").groups(appsGroup).resources("controllerrevisions").rule(),
		eventsRule(),
	},
	"deployment-controller": {
		verbs("get", "list", "watch", "update").groups(extensionsGroup, appsGroup).resources("deployments").rule(),
		verbs("update").groups(extensionsGroup, appsGroup).resources("deployments/status").rule(),
		verbs("update").groups(extensionsGroup, appsGroup).resources("deployments/finalizers").rule(),
		verbs("get", "list", "watch", "create", "update", "patch", "delete").groups(appsGroup, extensionsGroup).resources("replicasets").rule(),
		verbs("get", "list", "watch", "update").groups(legacyGroup).resources("pods").rule(),
		eventsRule(),
	},
	"disruption-controller": {
		verbs("get", "list", "watch").groups(extensionsGroup, appsGroup).resources("deployments").rule(),
		verbs("get", "list", "watch").groups(appsGroup, extensionsGroup).resources("replicasets").rule(),
		verbs("get", "list", "watch").groups(legacyGroup).resources("replicationcontrollers").rule(),
		verbs("get", "list", "watch").groups(policyGroup).resources("poddisruptionbudgets").rule(),
		verbs("get", "list", "watch").groups(appsGroup).resources("statefulsets").rule(),
		verbs("update").groups(policyGroup).resources("poddisruptionbudgets/status").rule(),
		verbs("patch", "update").groups(legacyGroup).resources("pods/status").rule(),
		verbs("get").groups("*").resources("*/scale").rule(),
		eventsRule(),
	},
	"endpoint-controller": {
		verbs("get", "list", "watch").groups(legacyGroup).resources("services", "pods").rule(),
		verbs("get", "list", "watch", "create", "update", "delete").groups(legacyGroup).resources("endpoints").rule(),
		verbs("create").groups(legacyGroup).resources("endpoints/restricted").rule(),
		eventsRule(),
	},
	"endpointslice-controller": {
		verbs("get", "list", "watch").groups(legacyGroup).resources("services", "pods", "nodes").rule(),
		verbs("update").groups(legacyGroup).resources("services/finalizers").rule(),
		verbs("get", "list", "watch", "create", "update", "delete").groups(discoveryGroup).resources("endpointslices").rule(),
		eventsRule(),
	},
	"endpointslicemirroring-controller": {
		verbs("get", "list", "watch").groups(legacyGroup).resources("services", "endpoints").rule(),
		verbs("update").groups(legacyGroup).resources("services/finalizers").rule(),
		verbs("update").groups(legacyGroup).resources("endpoints/finalizers").rule(),
		verbs("get", "list", "watch", "create", "update", "delete").groups(discoveryGroup).resources("endpointslices").rule(),
		eventsRule(),
	},
	"generic-garbage-collector": {
		verbs("get", "list", "watch", "patch", "update", "delete").groups("*").resources("*").rule(),
		eventsRule(),
	},
	"horizontal-pod-autoscaler": {
		verbs("get", "list", "watch").groups(autoscalingGroup).resources("horizontalpodautoscalers").rule(),
		verbs("update").groups(autoscalingGroup).resources("horizontalpodautoscalers/status").rule(),
		verbs("get", "update").groups("*").resources("*/scale").rule(),
		verbs("list", "watch").groups(legacyGroup).resources("pods").rule(),
		verbs("list", "watch").groups("metrics.k8s.io").resources("pods").rule(),
		verbs("get", "list", "watch").groups("custom.metrics.k8s.io").resources("*").rule(),
		verbs("get", "list", "watch").groups("external.metrics.k8s.io").resources("*").rule(),
		eventsRule(),
	},
	"job-controller": {
		verbs("get", "list", "watch", "update", "patch").groups(batchGroup).resources("jobs").rule(),
		verbs("update").groups(batchGroup).resources("jobs/status").rule(),
		verbs("update").groups(batchGroup).resources("jobs/finalizers").rule(),
		verbs("list", "watch", "create", "delete", "patch").groups(legacyGroup).resources("pods").rule(),
		eventsRule(),
	},
	"namespace-controller": {
		verbs("get", "list", "watch", "delete").groups(legacyGroup).resources("namespaces").rule(),
		verbs("update").groups(legacyGroup).resources("namespaces/finalize", "namespaces/status").rule(),
		verbs("get", "list", "watch", "delete", "deletecollection").groups("*").resources("*").rule(),
	},
	"node-controller": {
		verbs("get", "list", "watch", "update", "delete", "patch").groups(legacyGroup).resources("nodes").rule(),
		verbs("patch", "update").groups(legacyGroup).resources("nodes/status").rule(),
		verbs("patch", "update").groups(legacyGroup).resources("pods/status").rule(),
		verbs("list", "watch", "get", "delete").groups(legacyGroup).resources("pods").rule(),
		eventsRule(),
	},
	"persistent-volume-binder": {
		verbs("get", "list", "watch", "update", "create", "delete").groups(legacyGroup).resources("persistentvolumes").rule(),
		verbs("update").groups(legacyGroup).resources("persistentvolumes/status").rule(),
		verbs("get", "list", "watch", "update").groups(legacyGroup).resources("persistentvolumeclaims").rule(),
		verbs("update").groups(legacyGroup).resources("persistentvolumeclaims/status").rule(),
		verbs("list", "watch", "get", "create", "delete").groups(legacyGroup).resources("pods").rule(),
		verbs("get", "list", "watch").groups(storageGroup).resources("storageclasses").rule(),
		verbs("list", "watch").groups(legacyGroup).resources("nodes").rule(),
		eventsRule(),
		verbs("watch").groups(legacyGroup).resources("events").rule(),
		verbs("get").groups(legacyGroup).resources("services").rule(),
	},
	"pod-garbage-collector": {
		verbs("list", "watch", "delete").groups(legacyGroup).resources("pods").rule(),
		verbs("get", "list", "watch").groups(legacyGroup).resources("nodes").rule(),
		verbs("patch").groups(legacyGroup).resources("pods/status").rule(),
	},
	"pv-protection-controller": {
		verbs("get", "list", "watch", "update").groups(legacyGroup).resources("persistentvolumes").rule(),
		eventsRule(),
	},
	"pvc-protection-controller": {
		verbs("get", "list", "watch", "update").groups(legacyGroup).resources("persistentvolumeclaims").rule(),
		verbs("list", "watch", "get").groups(legacyGroup).resources("pods").rule(),
		eventsRule(),
	},
	"replicaset-controller": {
		verbs("get", "list", "watch", "update").groups(appsGroup, extensionsGroup).resources("replicasets").rule(),
		verbs("update").groups(appsGroup, extensionsGroup).resources("replicasets/status").rule(),
		verbs("update").groups(appsGroup, extensionsGroup).resources("replicasets/finalizers").rule(),
		verbs("list", "watch", "patch", "create", "delete").groups(legacyGroup).resources("pods").rule(),
		eventsRule(),
	},
	"replication-controller": {
		verbs("get", "list", "watch", "update").groups(legacyGroup).resources("replicationcontrollers").rule(),
		verbs("update").groups(legacyGroup).resources("replicationcontrollers/status").rule(),
		verbs("update").groups(legacyGroup).resources("replicationcontrollers/finalizers").rule(),
		verbs("list", "watch", "patch", "create", "delete").groups(legacyGroup).resources("pods").rule(),
		eventsRule(),
	},
	"resourcequota-controller": {
		verbs("list", "watch").groups("*").resources("*").rule(),
		verbs("update").groups(legacyGroup).resources("resourcequotas/status").rule(),
		eventsRule(),
	},
	"root-ca-cert-publisher": {
		verbs("create", "update").groups(legacyGroup).resources("configmaps").rule(),
		eventsRule(),
	},
	"service-account-controller": {
		verbs("create").groups(legacyGroup).resources("serviceaccounts").rule(),
		eventsRule(),
	},
	"statefulset-controller": {
		verbs("list", "watch").groups(legacyGroup).resources("pods").rule(),
		verbs("get", "list", "watch").groups(appsGroup).resources("statefulsets").rule(),
		verbs("update").groups(appsGroup).resources("statefulsets/status").rule(),
		verbs("update").groups(appsGroup).resources("statefulsets/finalizers").rule(),
		verbs("get", "create", "delete", "update", "patch").groups(legacyGroup).resources("pods").rule(),
		verbs("get", "create", "delete", "update", "patch", "list", "watch").groups(appsGroup).resources("controllerrevisions").rule(),
		verbs("get", "create", "list", "watch").groups(legacyGroup).resources("persistentvolumeclaims").rule(),
		verbs("update", "delete").groups(legacyGroup).resources("persistentvolumeclaims").rule(),
		verbs("update").groups(legacyGroup).resources("pods/finalizers").rule(),
		eventsRule(),
	},
	"ttl-after-finished-controller": {
		verbs("get", "list", "watch", "delete").groups(batchGroup).resources("jobs").rule(),
		eventsRule(),
	},
	"certificate-controller": {
		verbs("get", "list", "watch", "delete").groups(certificatesGroup).resources("certificatesigningrequests").rule(),
		verbs("update").groups(certificatesGroup).resources("certificatesigningrequests/status", "certificatesigningrequests/approval").rule(),
		verbs("approve").groups(certificatesGroup).resources("signers").names("kubernetes.io/kube-apiserver-client-kubelet").rule(),
		verbs("sign").groups(certificatesGroup).resources("signers").names("kubernetes.io/legacy-unknown",
			"kubernetes.io/kube-apiserver-client", "kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving").rule(),
		verbs("create").groups(authorizationGroup).resources("subjectaccessreviews").rule(),
		eventsRule(),
	},
}

// ControllerNames lists the controllers with a bootstrap role, sorted.
func ControllerNames() []string {
	names := make([]string, 0, len(controllerRules))
	for n := range controllerRules {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ControllerRoles returns the system:controller:<name> ClusterRoles.
func ControllerRoles() []rbacv1.ClusterRole {
	var roles []rbacv1.ClusterRole
	for _, n := range ControllerNames() {
		rules := make([]rbacv1.PolicyRule, len(controllerRules[n]))
		for i := range controllerRules[n] {
			rules[i] = *controllerRules[n][i].DeepCopy()
		}
		roles = append(roles, rbacv1.ClusterRole{ObjectMeta: meta(ControllerRolePrefix+n, nil), Rules: rules})
	}
	return roles
}

// ControllerRoleBindings binds each controller role to the ServiceAccount
// kube-system/<name>.
func ControllerRoleBindings() []rbacv1.ClusterRoleBinding {
	var bindings []rbacv1.ClusterRoleBinding
	for _, n := range ControllerNames() {
		bindings = append(bindings, clusterBinding(ControllerRolePrefix+n,
			rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: n, Namespace: metav1.NamespaceSystem}))
	}
	return bindings
}
