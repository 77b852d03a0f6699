package agent

import (
	"encoding/json"
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/herd-project/herd/pkg/agent/stats"
)

func TestResourceStatsEndpoint(t *testing.T) {
	e := newEnv(t, "node-a", "node-b")
	e.create(newPod("web", corev1.RestartPolicyAlways, map[string]string{
		"simulate.herd.dev/cpu-usage": "250m", "simulate.herd.dev/memory-usage.side": "64Mi"}, "main", "side"))
	e.waitPod("web", "running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })

	code, body := e.getLogs(stats.Path+"?node=node-a", testClientCertUser)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var sum stats.Summary
	if err := json.Unmarshal([]byte(body), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Node != "node-a" || len(sum.Pods) != 1 || len(sum.Pods[0].Containers) != 2 {
		t.Fatalf("summary %+v", sum)
	}
	byName := map[string]stats.ContainerUsage{}
	for _, c := range sum.Pods[0].Containers {
		byName[c.Name] = c
	}
	if byName["main"].CPUNanoCores != 250_000_000 || byName["side"].MemoryWorkingSetBytes != 64<<20 || byName["main"].MemoryWorkingSetBytes != 0 {
		t.Fatalf("containers %+v", byName)
	}
	// A simulated node uses what its pods use.
	if sum.Usage == nil || sum.Usage.CPUNanoCores != 500_000_000 || sum.Usage.MemoryWorkingSetBytes != 64<<20 {
		t.Fatalf("node usage %+v", sum.Usage)
	}
	// The other node runs nothing; an unknown node is 404; no certificate, 401.
	code, body = e.getLogs(stats.Path+"?node=node-b", testClientCertUser)
	if err := json.Unmarshal([]byte(body), &sum); code != http.StatusOK || err != nil || len(sum.Pods) != 0 || sum.Usage.CPUNanoCores != 0 {
		t.Fatalf("node-b: %d %s", code, body)
	}
	if code, _ := e.getLogs(stats.Path+"?node=elsewhere", testClientCertUser); code != http.StatusNotFound {
		t.Fatalf("unknown node: %d", code)
	}
	if code, _ := e.getLogs(stats.Path+"?node=node-a", ""); code != http.StatusUnauthorized {
		t.Fatalf("without certificate: %d", code)
	}
}
