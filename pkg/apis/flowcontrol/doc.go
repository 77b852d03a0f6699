// Package flowcontrol holds defaulting and validation of
// flowcontrol.apiserver.k8s.io/v1 FlowSchemas and PriorityLevelConfigurations
// with Kubernetes' rules and messages. Serving is in
// pkg/registry/flowcontrol/...; the bootstrap objects are ensured by
// pkg/registry/flowcontrol/ensurer.
package flowcontrol
