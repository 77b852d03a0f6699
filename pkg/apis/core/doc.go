// Package core holds herd's defaulting and validation for the core/v1 types
// (pods, pod templates, namespaces, nodes, services, config maps, secrets,
// service accounts, events, endpoints, persistent volumes and claims), with
// Kubernetes' rules, field paths and error types. It works on the versioned
// k8s.io/api types, which herd also uses as its in-memory (hub)
// representation.
//
// Defaulting (RegisterDefaults, SetDefaults*) covers Kubernetes' core/v1
// defaults, the bits of the v1 conversion herd needs without internal types
// (serviceAccount alias, secret stringData), and, for pods, what the
// admission plugins of a default cluster add (SetAdmissionDefaultsPod).
// Validation (Validate*) expects defaulted objects, as in Kubernetes.
//
// It knows nothing about storage or HTTP: the registry packages call it.
package core
