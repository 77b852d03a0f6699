// Package apps holds herd's defaulting and validation for the apps/v1 types
// (Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision), with
// Kubernetes' rules, field paths and error types. It works on the versioned
// k8s.io/api types, which herd also uses as its in-memory representation, and
// delegates pod template rules to pkg/apis/core.
//
// It knows nothing about storage, HTTP or controllers: the registry packages
// call it (including SetDaemonSetTemplateGeneration, the DaemonSet
// strategy's template-generation bookkeeping).
package apps
