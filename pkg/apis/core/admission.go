package core

import (
	corev1 "k8s.io/api/core/v1"
)

// Well-known values of the admission plugins of a default cluster.
const (
	// DefaultServiceAccountName is what the ServiceAccount admission plugin
	// puts in spec.serviceAccountName when it is empty.
	DefaultServiceAccountName = "default"
	// DefaultTolerationSeconds is the tolerationSeconds the
	// DefaultTolerationSeconds admission plugin uses (--default-not-ready-
	// toleration-seconds and --default-unreachable-toleration-seconds).
	DefaultTolerationSeconds int64 = 300
	// SystemClusterCritical and SystemNodeCritical are the built-in
	// priority classes and their values.
	SystemClusterCritical         = "system-cluster-critical"
	SystemNodeCritical            = "system-node-critical"
	SystemClusterCriticalPriority = int32(2000000000)
	SystemNodeCriticalPriority    = int32(2000001000)
)

// SetAdmissionDefaultsPod applies what the admission plugins of a default
// cluster add to a pod and users see in `kubectl get pod -o yaml`:
//   - ServiceAccount: serviceAccountName (and its serviceAccount alias)
//     "default" when empty;
//   - Priority: priority 0 (or the value of a built-in system priority
//     class) and preemptionPolicy PreemptLowerPriority when unset;
//   - DefaultTolerationSeconds: NoExecute tolerations of
//     node.kubernetes.io/not-ready and node.kubernetes.io/unreachable for
//     300 s, each unless the pod already tolerates that taint.
//
// The token volume the ServiceAccount plugin mounts is not added.
func SetAdmissionDefaultsPod(pod *corev1.Pod) {
	spec := &pod.Spec
	if spec.ServiceAccountName == "" {
		spec.ServiceAccountName = DefaultServiceAccountName
	}
	spec.DeprecatedServiceAccount = spec.ServiceAccountName

	if spec.Priority == nil {
		switch spec.PriorityClassName {
		case "":
			p := int32(0)
			spec.Priority = &p
		case SystemClusterCritical:
			p := SystemClusterCriticalPriority
			spec.Priority = &p
		case SystemNodeCritical:
			p := SystemNodeCriticalPriority
			spec.Priority = &p
		}
	}
	if spec.PreemptionPolicy == nil && spec.Priority != nil {
		p := corev1.PreemptLowerPriority
		spec.PreemptionPolicy = &p
	}

	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		if toleratesNoExecute(spec.Tolerations, key) {
			continue
		}
		secs := DefaultTolerationSeconds
		spec.Tolerations = append(spec.Tolerations, corev1.Toleration{
			Key:               key,
			Operator:          corev1.TolerationOpExists,
			Effect:            corev1.TaintEffectNoExecute,
			TolerationSeconds: &secs,
		})
	}
}

// toleratesNoExecute reports whether a toleration with the given key (or an
// empty key) and effect NoExecute (or an empty effect) is present, the test
// of the DefaultTolerationSeconds admission plugin.
func toleratesNoExecute(tolerations []corev1.Toleration, key string) bool {
	for _, t := range tolerations {
		if (t.Key == key || t.Key == "") && (t.Effect == corev1.TaintEffectNoExecute || t.Effect == "") {
			return true
		}
	}
	return false
}
