// Package stats holds the resource-usage summary a node agent serves on
// GET /stats/resource?node=NAME (as the kubelet's /metrics/resource feeds
// metrics-server) and the Sampler that turns cumulative CPU counters into
// usage rates over a window. It reads no counters itself: runtimes and the
// agent give it samples; the API server's metrics.k8s.io storage reads the
// summary.
package stats

import (
	"sync"
	"time"
)

// Path is the agent endpoint serving a node's Summary (query: node=NAME).
const Path = "/stats/resource"

// Usage is one measurement of CPU and memory.
type Usage struct {
	// Timestamp is when the figures were read; Window the period the CPU
	// rate was measured over.
	Timestamp time.Time     `json:"timestamp"`
	Window    time.Duration `json:"window"`
	// CPUNanoCores is the CPU usage rate (1e9 is one core).
	CPUNanoCores uint64 `json:"cpuNanoCores"`
	// MemoryWorkingSetBytes is memory in use that cannot be reclaimed
	// (usage minus inactive file pages).
	MemoryWorkingSetBytes uint64 `json:"memoryWorkingSetBytes"`
}

// ContainerUsage is one container's usage.
type ContainerUsage struct {
	Name string `json:"name"`
	Usage
}

// PodUsage is the usage of a pod's running containers.
type PodUsage struct {
	Namespace  string           `json:"namespace"`
	Name       string           `json:"name"`
	Containers []ContainerUsage `json:"containers"`
}

// Summary is a node's usage and its pods'.
type Summary struct {
	Node  string     `json:"node"`
	Usage *Usage     `json:"usage,omitempty"`
	Pods  []PodUsage `json:"pods"`
}

// Sample is a raw reading: a cumulative CPU counter, or a rate a
// simulated container reports directly, and the memory working set.
type Sample struct {
	Time time.Time
	// CPUUsageNanoSeconds is cumulative CPU time; ignored when
	// CPUNanoCores is set.
	CPUUsageNanoSeconds uint64
	// CPUNanoCores, when set, is the rate itself.
	CPUNanoCores          *uint64
	MemoryWorkingSetBytes uint64
}

// MinWindow is the shortest period a rate is computed over; a reading
// closer to the previous one gets the previous rate.
const MinWindow = time.Second

// Sampler keeps the last reading of each key (a container run, a node) and
// turns the next one into a rate.
type Sampler struct {
	mu   sync.Mutex
	last map[string]*entry
}

type entry struct {
	sample Sample
	usage  *Usage
	seen   bool
}

// NewSampler returns an empty sampler.
func NewSampler() *Sampler { return &Sampler{last: map[string]*entry{}} }

// Observe records s for key and returns the usage it yields: nil for the
// first reading of a cumulative counter (a rate needs two).
func (p *Sampler) Observe(key string, s Sample) *Usage {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.last[key]
	if s.CPUNanoCores != nil {
		u := &Usage{Timestamp: s.Time, Window: MinWindow, CPUNanoCores: *s.CPUNanoCores, MemoryWorkingSetBytes: s.MemoryWorkingSetBytes}
		p.last[key] = &entry{sample: s, usage: u, seen: true}
		return u
	}
	if e == nil {
		p.last[key] = &entry{sample: s, seen: true}
		return nil
	}
	e.seen = true
	dt := s.Time.Sub(e.sample.Time)
	if dt < MinWindow {
		if e.usage == nil {
			return nil
		}
		u := *e.usage
		u.MemoryWorkingSetBytes = s.MemoryWorkingSetBytes
		return &u
	}
	var rate uint64
	if s.CPUUsageNanoSeconds > e.sample.CPUUsageNanoSeconds {
		rate = uint64(float64(s.CPUUsageNanoSeconds-e.sample.CPUUsageNanoSeconds) / dt.Seconds())
	}
	e.usage = &Usage{Timestamp: s.Time, Window: dt, CPUNanoCores: rate, MemoryWorkingSetBytes: s.MemoryWorkingSetBytes}
	e.sample = s
	u := *e.usage
	return &u
}

// Forget drops the keys not observed since the last Forget (runs that
// ended), so the sampler does not grow without bound.
func (p *Sampler) Forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, e := range p.last {
		if !e.seen {
			delete(p.last, k)
			continue
		}
		e.seen = false
	}
}
