package job

import (
	"sync/atomic"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// One suspension, one Suspended event, even when the status write that
// records it fails once (a conflict) and the sync runs again.
func TestSuspendedEventOncePerSuspension(t *testing.T) {
	f := newFixture(t)
	f.gracefulDeletes()
	j := newJob("s", ptr.To[int32](2), ptr.To[int32](2))
	f.addJob(j)
	f.mustSync("s")
	f.observe()
	f.events()
	var fail atomic.Bool
	f.client.PrependReactor("update", "jobs", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "status" && fail.CompareAndSwap(true, false) {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "batch", Resource: "jobs"}, "s", nil)
		}
		return false, nil, nil
	})
	j = f.job("s")
	j.Spec.Suspend = ptr.To(true)
	f.updateJob(j)
	fail.Store(true)
	_ = f.sync("s")
	f.observe()
	f.mustSync("s")
	f.observe()
	f.mustSync("s")
	if c := cond(f.job("s"), batchv1.JobSuspended); c == nil || c.Reason != "JobSuspended" {
		t.Fatalf("not suspended: %v", condTypes(f.job("s")))
	}
	if n := countEventsWithPrefix(f.events(), "Normal Suspended"); n != 1 {
		t.Errorf("%d Suspended events, want 1", n)
	}
}
