package agent

import (
	"context"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/herd-project/herd/pkg/agent/runtime/simulated"
)

// refreshingRuntime is the simulated runtime with volumes to refresh.
type refreshingRuntime struct {
	*simulated.Runtime
	mu        sync.Mutex
	refreshed map[string]int
}

func (r *refreshingRuntime) RefreshVolumes(_ context.Context, pod *corev1.Pod) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refreshed[pod.Name]++
	return nil
}

func (r *refreshingRuntime) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refreshed[name]
}

func TestRunningPodsVolumesAreRefreshedEveryInterval(t *testing.T) {
	e := &env{t: t, client: fake.NewClientset(), clk: clocktesting.NewFakeClock(t0)}
	e.rt = simulated.New(simulated.Options{LogDir: t.TempDir(), Clock: e.clk})
	rr := &refreshingRuntime{Runtime: e.rt, refreshed: map[string]int{}}
	e.rtOverride = rr
	e.start([]string{"node-a"})

	e.create(newPod("web", corev1.RestartPolicyAlways, nil))
	e.waitPod("web", "running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	if n := rr.count("web"); n != 0 {
		t.Fatalf("refreshed %d times before the interval", n)
	}
	e.step(VolumeRefreshInterval)
	e.eventually("first refresh", func() bool { return rr.count("web") == 1 })
	e.step(VolumeRefreshInterval)
	e.eventually("second refresh", func() bool { return rr.count("web") == 2 })

	// A pod being deleted is not refreshed.
	if err := e.client.CoreV1().Pods("default").Delete(context.Background(), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.eventually("pod gone", func() bool { return e.get("web") == nil })
	e.step(VolumeRefreshInterval)
	e.step(0)
	if n := rr.count("web"); n != 2 {
		t.Errorf("deleted pod refreshed: %d", n)
	}
}
