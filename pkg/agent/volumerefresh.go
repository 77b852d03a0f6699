package agent

import (
	"context"
	"time"

	"k8s.io/klog/v2"

	"github.com/herd-project/herd/pkg/agent/runtime"
)

// VolumeRefreshInterval is how often running pods' volumes are refreshed
// when the runtime can (runtime.VolumeRefresher): the kubelet's pod sync
// period. A token is renewed at 80% of its lifetime, so it is on disk well
// before the old one expires.
const VolumeRefreshInterval = time.Minute

// volumeRefreshLoop refreshes the volumes of every prepared, running pod
// every VolumeRefreshInterval until ctx is done.
func (a *Agent) volumeRefreshLoop(ctx context.Context) {
	vr, ok := a.rt.(runtime.VolumeRefresher)
	if !ok {
		return
	}
	t := a.clk.NewTicker(VolumeRefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			a.refreshVolumes(ctx, vr)
		}
	}
}

// refreshVolumes runs one refresh round.
func (a *Agent) refreshVolumes(ctx context.Context, vr runtime.VolumeRefresher) {
	a.mu.Lock()
	states := make([]*podState, 0, len(a.pods))
	for _, st := range a.pods {
		states = append(states, st)
	}
	a.mu.Unlock()
	for _, st := range states {
		st.mu.Lock()
		live := st.prepared && !st.terminating && !st.deleted
		st.mu.Unlock()
		if !live {
			continue
		}
		pod := a.podByUID(st.uid)
		if pod == nil || pod.DeletionTimestamp != nil {
			continue
		}
		if err := vr.RefreshVolumes(ctx, pod); err != nil {
			klog.FromContext(ctx).V(2).Info("Refreshing pod volumes failed; retrying at the next round", "pod", klog.KObj(pod), "err", err)
		}
	}
}
