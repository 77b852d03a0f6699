package scheduler

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Default requests the scoring (never the fitting) assumes for a container
// that requests no cpu or memory, as kube-scheduler does.
const (
	defaultMilliCPURequest int64 = 100               // 0.1 core
	defaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// resources is a flat, integer view of a ResourceList: cpu in millicores,
// everything else in its base unit.
type resources struct {
	milliCPU  int64
	memory    int64
	ephemeral int64
	scalar    map[v1.ResourceName]int64
}

func (r *resources) add(rl v1.ResourceList) {
	for name, q := range rl {
		switch name {
		case v1.ResourceCPU:
			r.milliCPU += q.MilliValue()
		case v1.ResourceMemory:
			r.memory += q.Value()
		case v1.ResourceEphemeralStorage:
			r.ephemeral += q.Value()
		case v1.ResourcePods:
			// pods is a node capacity, never a request.
		default:
			if r.scalar == nil {
				r.scalar = map[v1.ResourceName]int64{}
			}
			r.scalar[name] += q.Value()
		}
	}
}

func (r *resources) addResources(o resources) {
	r.milliCPU += o.milliCPU
	r.memory += o.memory
	r.ephemeral += o.ephemeral
	for name, v := range o.scalar {
		if r.scalar == nil {
			r.scalar = map[v1.ResourceName]int64{}
		}
		r.scalar[name] += v
	}
}

func (r *resources) subResources(o resources) {
	r.milliCPU -= o.milliCPU
	r.memory -= o.memory
	r.ephemeral -= o.ephemeral
	for name, v := range o.scalar {
		if r.scalar == nil {
			r.scalar = map[v1.ResourceName]int64{}
		}
		r.scalar[name] -= v
		if r.scalar[name] == 0 {
			delete(r.scalar, name)
		}
	}
}

// maxWith raises every quantity of r to at least the one in o.
func (r *resources) maxWith(o resources) {
	r.milliCPU = max(r.milliCPU, o.milliCPU)
	r.memory = max(r.memory, o.memory)
	r.ephemeral = max(r.ephemeral, o.ephemeral)
	for name, v := range o.scalar {
		if r.scalar == nil {
			r.scalar = map[v1.ResourceName]int64{}
		}
		r.scalar[name] = max(r.scalar[name], v)
	}
}

func (r resources) clone() resources {
	c := r
	if r.scalar != nil {
		c.scalar = make(map[v1.ResourceName]int64, len(r.scalar))
		for k, v := range r.scalar {
			c.scalar[k] = v
		}
	}
	return c
}

func (r resources) isZero() bool {
	if r.milliCPU != 0 || r.memory != 0 || r.ephemeral != 0 {
		return false
	}
	for _, v := range r.scalar {
		if v != 0 {
			return false
		}
	}
	return true
}

// podRequests computes what a pod asks of a node, with Kubernetes' rules:
// the app containers and the restartable init containers (sidecars) run
// together; each regular init container runs alone next to the sidecars
// started before it, so the pod needs the maximum of the two; pod-level
// requests (spec.resources) replace the container sum for cpu and memory;
// the pod overhead is added last.
//
// With nonZero set, a container that requests no cpu (memory) counts as
// 100m (200Mi) unless the pod sets that resource at pod level: this is the
// view LeastAllocated scoring uses so that request-less pods still spread.
func podRequests(pod *v1.Pod, nonZero bool) resources {
	podLevel := v1.ResourceList(nil)
	if pod.Spec.Resources != nil {
		podLevel = pod.Spec.Resources.Requests
	}
	containerReqs := func(c *v1.Container) v1.ResourceList {
		if !nonZero {
			return c.Resources.Requests
		}
		rl := v1.ResourceList{}
		for k, v := range c.Resources.Requests {
			rl[k] = v
		}
		if _, ok := rl[v1.ResourceCPU]; !ok && podLevel == nil {
			rl[v1.ResourceCPU] = *resourceMilli(defaultMilliCPURequest)
		}
		if _, ok := rl[v1.ResourceMemory]; !ok && podLevel == nil {
			rl[v1.ResourceMemory] = *resourceBytes(defaultMemoryRequest)
		}
		return rl
	}

	var req resources
	for i := range pod.Spec.Containers {
		req.add(containerReqs(&pod.Spec.Containers[i]))
	}
	var sidecars, initMax resources
	for i := range pod.Spec.InitContainers {
		ic := &pod.Spec.InitContainers[i]
		rl := containerReqs(ic)
		if ic.RestartPolicy != nil && *ic.RestartPolicy == v1.ContainerRestartPolicyAlways {
			req.add(rl)
			sidecars.add(rl)
			initMax.maxWith(sidecars)
			continue
		}
		step := sidecars.clone()
		step.add(rl)
		initMax.maxWith(step)
	}
	req.maxWith(initMax)

	if podLevel != nil {
		if q, ok := podLevel[v1.ResourceCPU]; ok {
			req.milliCPU = q.MilliValue()
		} else if nonZero && req.milliCPU == 0 {
			req.milliCPU = defaultMilliCPURequest
		}
		if q, ok := podLevel[v1.ResourceMemory]; ok {
			req.memory = q.Value()
		} else if nonZero && req.memory == 0 {
			req.memory = defaultMemoryRequest
		}
	}
	req.add(pod.Spec.Overhead)
	return req
}

func resourceMilli(v int64) *resource.Quantity {
	return resource.NewMilliQuantity(v, resource.DecimalSI)
}

func resourceBytes(v int64) *resource.Quantity { return resource.NewQuantity(v, resource.BinarySI) }
