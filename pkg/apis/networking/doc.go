// Package networking holds herd's defaulting and validation for the
// networking.k8s.io/v1 types (Ingress, IngressClass, NetworkPolicy) with
// Kubernetes' rules, field paths and error types. herd stores and validates
// them; it does not route Ingress traffic or enforce NetworkPolicies.
//
// It knows nothing about storage, HTTP or controllers: the registry packages
// call it.
package networking
