// Package quota is herd's quota evaluator registry: how much of each quota
// resource an object uses (pods: count, cpu, memory, ephemeral storage,
// extended resources; services: count, node ports, load balancers;
// persistentvolumeclaims: count and storage, per storage class) and object
// counts (count/<resource>.<group> and the legacy names configmaps, secrets,
// replicationcontrollers, resourcequotas), on the interfaces of
// k8s.io/apiserver/pkg/quota/v1. The resourcequota admission plugin and
// pkg/controller/resourcequota use it; it does not read or write quotas.
package quota
