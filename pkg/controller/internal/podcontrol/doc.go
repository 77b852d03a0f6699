// Package podcontrol holds what every pod-owning controller (Job,
// ReplicaSet, ReplicationController, DaemonSet, StatefulSet) shares, as
// Kubernetes' pkg/controller/controller_utils.go does: one index of the
// shared pod informer by controller owner UID (orphans by namespace), the
// owned-pods lookup on it, and the expectations a controller keeps of its
// own in-flight pod writes. It runs no controller loop and writes nothing.
package podcontrol
