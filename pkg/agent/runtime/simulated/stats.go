package simulated

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/herd-project/herd/pkg/agent/runtime"
	"github.com/herd-project/herd/pkg/agent/stats"
)

// ContainerStats implements runtime.StatsProvider: a simulated container
// uses what its pod's annotations cpu-usage and memory-usage say
// (quantities, e.g. "250m" and "64Mi"; suffixed ".<container>" for one
// container), else its requests, else nothing. The figures are read from
// the pod as it is now, so annotating a running pod changes its usage.
func (r *Runtime) ContainerStats(pod *corev1.Pod, id runtime.ContainerID) (stats.Sample, error) {
	r.mu.Lock()
	ru, ok := r.runs[id]
	var name string
	if ok {
		name = ru.status.Name
	}
	r.mu.Unlock()
	if !ok {
		return stats.Sample{}, fmt.Errorf("no container run %s", id)
	}
	var req corev1.ResourceList
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			req = pod.Spec.Containers[i].Resources.Requests
		}
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			req = pod.Spec.InitContainers[i].Resources.Requests
		}
	}
	cpu, err := usageAnnotation(pod, name, "cpu-usage", req[corev1.ResourceCPU])
	if err != nil {
		return stats.Sample{}, err
	}
	mem, err := usageAnnotation(pod, name, "memory-usage", req[corev1.ResourceMemory])
	if err != nil {
		return stats.Sample{}, err
	}
	nano := uint64(cpu.ScaledValue(resource.Nano))
	return stats.Sample{Time: r.clk.Now(), CPUNanoCores: &nano, MemoryWorkingSetBytes: uint64(mem.Value())}, nil
}

// usageAnnotation reads a non-negative quantity annotation, else def.
func usageAnnotation(pod *corev1.Pod, container, key string, def resource.Quantity) (resource.Quantity, error) {
	v, ok := annotation(pod, container, key)
	if !ok {
		return def, nil
	}
	q, err := resource.ParseQuantity(v)
	if err != nil {
		return resource.Quantity{}, fmt.Errorf("annotation %s%s: invalid quantity %q", AnnotationPrefix, key, v)
	}
	if q.Sign() < 0 {
		return resource.Quantity{}, fmt.Errorf("annotation %s%s: quantity %q must not be negative", AnnotationPrefix, key, v)
	}
	return q, nil
}
