package agent

import (
	"encoding/json"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/herd-project/herd/pkg/agent/runtime"
	"github.com/herd-project/herd/pkg/agent/stats"
)

// StatsInterval is how often the agent reads its containers' counters in
// the background, so that a request always finds a previous reading to
// compute a rate from (the kubelet's cAdvisor housekeeping is 10 s too).
const StatsInterval = 10 * time.Second

// statsLoop samples every running container and the machine periodically.
func (a *Agent) statsLoop() {
	t := a.clk.NewTicker(StatsInterval)
	defer t.Stop()
	for {
		a.summaries("")
		a.stats.Forget()
		select {
		case <-a.ctx.Done():
			return
		case <-t.C():
		}
	}
}

// summaries reads the usage of the served nodes (only one when only is
// set) and their running pods.
func (a *Agent) summaries(only string) map[string]*stats.Summary {
	out := map[string]*stats.Summary{}
	sp, ok := a.rt.(runtime.StatsProvider)
	if !ok {
		return out
	}
	a.servedMu.RLock()
	for n := range a.nodes {
		if only == "" || n == only {
			out[n] = &stats.Summary{Node: n, Pods: []stats.PodUsage{}}
		}
	}
	a.servedMu.RUnlock()
	for _, obj := range a.podInf.GetStore().List() {
		pod := obj.(*corev1.Pod)
		sum := out[pod.Spec.NodeName]
		if sum == nil {
			continue
		}
		a.mu.Lock()
		st := a.pods[pod.UID]
		a.mu.Unlock()
		if st == nil {
			continue
		}
		st.mu.Lock()
		running := map[string]runtime.ContainerID{}
		for name, l := range st.latest {
			if l.State == runtime.StateRunning {
				running[name] = l.ID
			}
		}
		st.mu.Unlock()
		if len(running) == 0 {
			continue
		}
		pu := stats.PodUsage{Namespace: pod.Namespace, Name: pod.Name}
		complete := true
		for _, c := range pod.Spec.Containers {
			id, ok := running[c.Name]
			if !ok {
				continue
			}
			s, err := sp.ContainerStats(pod, id)
			if err != nil {
				complete = false
				continue
			}
			u := a.stats.Observe(string(id), s)
			if u == nil {
				complete = false
				continue
			}
			pu.Containers = append(pu.Containers, stats.ContainerUsage{Name: c.Name, Usage: *u})
		}
		// As metrics-server, a pod is reported only with every running
		// container measured.
		if complete && len(pu.Containers) > 0 {
			sum.Pods = append(sum.Pods, pu)
		}
	}
	np, machine := a.rt.(runtime.NodeStatsProvider)
	a.servedMu.RLock()
	single := len(a.nodes) == 1
	a.servedMu.RUnlock()
	for name, sum := range out {
		if machine && single {
			if s, err := np.NodeStats(); err == nil {
				sum.Usage = a.stats.Observe("node/"+name, s)
			}
			continue
		}
		// Simulated nodes use what their pods use.
		u := &stats.Usage{Timestamp: a.clk.Now(), Window: StatsInterval}
		for _, p := range sum.Pods {
			for _, c := range p.Containers {
				u.CPUNanoCores += c.CPUNanoCores
				u.MemoryWorkingSetBytes += c.MemoryWorkingSetBytes
			}
		}
		sum.Usage = u
	}
	return out
}

// serveResourceStats answers GET /stats/resource?node=NAME with the
// node's stats.Summary.
func (a *Agent) serveResourceStats(w http.ResponseWriter, r *http.Request) {
	node := r.URL.Query().Get("node")
	if node == "" {
		node = a.cfg.NodeNames[0]
	}
	if !a.servesNode(node) {
		http.Error(w, "node "+node+" is not served by this agent", http.StatusNotFound)
		return
	}
	sum := a.summaries(node)[node]
	if sum == nil {
		sum = &stats.Summary{Node: node, Pods: []stats.PodUsage{}}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(sum)
}
