// Package replication holds the pieces the ReplicaSet and Deployment
// controllers share, modelled on Kubernetes' pkg/controller/controller_utils.go
// and controller_ref_manager.go: pod readiness and
// availability, the scale-down victim ranking, slow-start batching, pod
// construction from a template and controllerRef adoption/release. It does not
// run any controller loop itself.
package replication
