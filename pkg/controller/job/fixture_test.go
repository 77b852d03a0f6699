package job

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	apisbatch "github.com/herd-project/herd/pkg/apis/batch"
	"github.com/herd-project/herd/pkg/controller/internal/podcontrol"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	t       testing.TB
	ctx     context.Context
	client  *fake.Clientset
	clk     *testingclock.FakeClock
	rec     *record.FakeRecorder
	c       *Controller
	jobIdx  cache.Indexer
	podIdx  cache.Indexer
	mu      sync.Mutex
	nextPod int
	rv      int
}

func newFixture(t testing.TB) *fixture { return newFixtureWith(t, fake.NewClientset()) }

func newFixtureWith(t testing.TB, client *fake.Clientset) *fixture {
	f := &fixture{t: t, ctx: context.Background(), clk: testingclock.NewFakeClock(t0)}
	f.client = client
	f.rec = record.NewFakeRecorder(10000)
	factory := informers.NewSharedInformerFactory(f.client, 0)
	c, err := NewWithOptions(f.client, factory, f.rec, f.clk, Options{SyncBatchPeriod: -1})
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.jobIdx = factory.Batch().V1().Jobs().Informer().GetIndexer()
	f.podIdx = factory.Core().V1().Pods().Informer().GetIndexer()
	// The API server names pods from generateName and gives them uids.
	f.client.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		p := a.(clienttesting.CreateAction).GetObject().(*corev1.Pod)
		f.mu.Lock()
		f.nextPod++
		n := f.nextPod
		f.mu.Unlock()
		if p.Name == "" {
			p.Name = fmt.Sprintf("%s%05d", p.GenerateName, n)
		}
		p.UID = types.UID(fmt.Sprintf("pod-uid-%d", n))
		p.CreationTimestamp = metav1.NewTime(f.clk.Now())
		return false, nil, nil
	})
	// The fake tracker keeps no resourceVersions: give written Jobs
	// increasing ones, as the API server does.
	f.client.PrependReactor("*", "jobs", func(a clienttesting.Action) (bool, runtime.Object, error) {
		var obj runtime.Object
		switch a := a.(type) {
		case clienttesting.CreateAction:
			obj = a.GetObject()
		case clienttesting.UpdateAction:
			obj = a.GetObject()
		default:
			return false, nil, nil
		}
		f.mu.Lock()
		f.rv++
		obj.(*batchv1.Job).ResourceVersion = fmt.Sprint(f.rv)
		f.mu.Unlock()
		return false, nil, nil
	})
	// Status writes must pass the API server's Job status validation.
	f.client.PrependReactor("update", "jobs", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "status" {
			return false, nil, nil
		}
		newJob := a.(clienttesting.UpdateAction).GetObject().(*batchv1.Job)
		old, err := f.client.Tracker().Get(batchv1.SchemeGroupVersion.WithResource("jobs"), newJob.Namespace, newJob.Name)
		if err != nil {
			return false, nil, nil
		}
		n, o := newJob.DeepCopy(), old.(*batchv1.Job).DeepCopy()
		if n.ResourceVersion == "" { // the fake tracker keeps none
			n.ResourceVersion, o.ResourceVersion = "1", "1"
		}
		if errs := apisbatch.ValidateJobStatusUpdate(n, o); len(errs) > 0 {
			f.t.Errorf("invalid status update: %v", errs.ToAggregate())
			return true, nil, errs.ToAggregate()
		}
		return false, nil, nil
	})
	t.Cleanup(func() { f.c.queue.ShutDown() })
	return f
}

// newJob returns a defaulted Job with its generated selector.
func newJob(name string, completions, parallelism *int32) *batchv1.Job {
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)},
		Spec: batchv1.JobSpec{
			Completions: completions,
			Parallelism: parallelism,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{{Name: "main", Image: "busybox"}},
				},
			},
		},
	}
	apisbatch.SetDefaultsJob(j)
	apisbatch.GenerateJobSelector(j)
	return j
}

func indexed(j *batchv1.Job) *batchv1.Job {
	j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
	return j
}

func (f *fixture) addJob(j *batchv1.Job) *batchv1.Job {
	f.t.Helper()
	if _, err := f.client.BatchV1().Jobs(j.Namespace).Create(f.ctx, j, metav1.CreateOptions{}); err != nil {
		f.t.Fatal(err)
	}
	f.observe()
	return f.job(j.Name)
}

func (f *fixture) updateJob(j *batchv1.Job) {
	f.t.Helper()
	if _, err := f.client.BatchV1().Jobs(j.Namespace).Update(f.ctx, j, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
	f.observe()
}

// job reads the Job from the API.
func (f *fixture) job(name string) *batchv1.Job {
	f.t.Helper()
	j, err := f.client.BatchV1().Jobs("default").Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return j
}

// pods reads the pods from the API, sorted by name.
func (f *fixture) pods() []*corev1.Pod {
	f.t.Helper()
	list, err := f.client.CoreV1().Pods("default").List(f.ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]*corev1.Pod, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// podsIn returns the pods in a phase that are not being deleted.
func (f *fixture) activePods() []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range f.pods() {
		if isActive(p) {
			out = append(out, p)
		}
	}
	return out
}

func (f *fixture) addPod(p *corev1.Pod) {
	f.t.Helper()
	if _, err := f.client.CoreV1().Pods(p.Namespace).Create(f.ctx, p, metav1.CreateOptions{}); err != nil {
		f.t.Fatal(err)
	}
	f.observe()
}

// observe plays the informers: copy the API state into the caches and call
// the event handlers for what changed.
func (f *fixture) observe() {
	f.t.Helper()
	jobs, err := f.client.BatchV1().Jobs("default").List(f.ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := range jobs.Items {
		j := jobs.Items[i].DeepCopy()
		seen[j.Name] = true
		old, ok, _ := f.jobIdx.Get(j)
		if ok && apiequality.Semantic.DeepEqual(old.(*batchv1.Job).Spec, j.Spec) && apiequality.Semantic.DeepEqual(old.(*batchv1.Job).Status, j.Status) && old.(*batchv1.Job).DeletionTimestamp.Equal(j.DeletionTimestamp) {
			continue
		}
		f.mu.Lock()
		f.rv++
		j.ResourceVersion = fmt.Sprint(f.rv)
		f.mu.Unlock()
		_ = f.jobIdx.Update(j)
	}
	for _, o := range f.jobIdx.List() {
		if j := o.(*batchv1.Job); !seen[j.Name] {
			_ = f.jobIdx.Delete(j)
		}
	}
	pods := f.pods()
	seenPods := map[string]bool{}
	for _, p := range pods {
		p = p.DeepCopy()
		seenPods[p.Name] = true
		oldObj, ok, _ := f.podIdx.Get(p)
		if ok {
			old := oldObj.(*corev1.Pod)
			oldCmp := old.DeepCopy()
			oldCmp.ResourceVersion = p.ResourceVersion
			if apiequality.Semantic.DeepEqual(oldCmp, p) {
				continue
			}
			f.mu.Lock()
			f.rv++
			p.ResourceVersion = fmt.Sprint(f.rv)
			f.mu.Unlock()
			_ = f.podIdx.Update(p)
			f.c.updatePod(old, p)
			continue
		}
		f.mu.Lock()
		f.rv++
		p.ResourceVersion = fmt.Sprint(f.rv)
		f.mu.Unlock()
		_ = f.podIdx.Add(p)
		f.c.addPod(p)
	}
	for _, o := range f.podIdx.List() {
		if p := o.(*corev1.Pod); !seenPods[p.Name] {
			_ = f.podIdx.Delete(p)
			f.c.deletePod(p)
		}
	}
}

// sync runs syncJob and then lets the caches catch up.
func (f *fixture) sync(name string) error {
	f.t.Helper()
	err := f.c.syncJob(f.ctx, "default/"+name)
	f.observe()
	return err
}

func (f *fixture) mustSync(name string) {
	f.t.Helper()
	if err := f.sync(name); err != nil {
		f.t.Fatalf("syncJob: %v", err)
	}
}

// setPod changes a pod in the API as the node agent would.
func (f *fixture) setPod(name string, mutate func(p *corev1.Pod)) {
	f.t.Helper()
	p, err := f.client.CoreV1().Pods("default").Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	mutate(p)
	// The fake tracker keeps no resourceVersions; informers need them to
	// tell updates from resyncs.
	f.mu.Lock()
	f.rv++
	p.ResourceVersion = fmt.Sprintf("set-%d", f.rv)
	f.mu.Unlock()
	if _, err := f.client.CoreV1().Pods("default").Update(f.ctx, p, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) finishPod(name string, phase corev1.PodPhase, exitCode int32) {
	f.t.Helper()
	f.setPod(name, func(p *corev1.Pod) { finish(p, phase, exitCode, f.clk.Now()) })
}

func finish(p *corev1.Pod, phase corev1.PodPhase, exitCode int32, at time.Time) {
	p.Spec.NodeName = "node-1"
	p.Status.Phase = phase
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: exitCode, FinishedAt: metav1.NewTime(at)}}}}
}

func (f *fixture) runPod(name string, ready bool) {
	f.t.Helper()
	f.setPod(name, func(p *corev1.Pod) {
		p.Spec.NodeName = "node-1"
		p.Status.Phase = corev1.PodRunning
		st := corev1.ConditionFalse
		if ready {
			st = corev1.ConditionTrue
		}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}
	})
}

// markDeleted sets a deletionTimestamp as a graceful delete would (the
// tracking finalizer keeps the pod).
func (f *fixture) markDeleted(name string) {
	f.t.Helper()
	f.setPod(name, func(p *corev1.Pod) { p.DeletionTimestamp = ptr.To(metav1.NewTime(f.clk.Now())) })
}

// reapDeleted plays the node agent and the API server for pods being
// deleted: they end (Failed) and vanish once no finalizer holds them.
func (f *fixture) reapDeleted() {
	f.t.Helper()
	for _, p := range f.pods() {
		if p.DeletionTimestamp == nil {
			continue
		}
		if len(p.Finalizers) == 0 {
			_ = f.client.CoreV1().Pods("default").Delete(f.ctx, p.Name, metav1.DeleteOptions{})
		}
	}
	f.observe()
}

// killTerminating plays the node agent: scheduled pods being deleted end
// Failed (exit 137).
func (f *fixture) killTerminating() {
	f.t.Helper()
	for _, p := range f.pods() {
		if isTerminating(p) && p.Spec.NodeName != "" {
			f.finishPod(p.Name, corev1.PodFailed, 137)
		}
	}
	f.observe()
}

// gracefulDeletes turns controller deletes into graceful deletions: the fake
// API removes pods at once, so we re-create them with a deletionTimestamp
// when they still had the finalizer.
func (f *fixture) gracefulDeletes() {
	f.client.PrependReactor("delete", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		name := a.(clienttesting.DeleteAction).GetName()
		obj, err := f.client.Tracker().Get(corev1.SchemeGroupVersion.WithResource("pods"), "default", name)
		if err != nil {
			return false, nil, nil
		}
		p := obj.(*corev1.Pod)
		if len(p.Finalizers) == 0 {
			return false, nil, nil
		}
		p.DeletionTimestamp = ptr.To(metav1.NewTime(f.clk.Now()))
		if err := f.client.Tracker().Update(corev1.SchemeGroupVersion.WithResource("pods"), p, "default"); err != nil {
			return true, nil, err
		}
		return true, nil, nil
	})
}

func (f *fixture) events() []string {
	var out []string
	for {
		select {
		case e := <-f.rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func hasEvent(events []string, want string) bool {
	for _, e := range events {
		if e == want {
			return true
		}
	}
	return false
}

func countEventsWithPrefix(events []string, prefix string) int {
	n := 0
	for _, e := range events {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

func cond(j *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == t {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

func condTypes(j *batchv1.Job) []string {
	var out []string
	for _, c := range j.Status.Conditions {
		out = append(out, fmt.Sprintf("%s=%s", c.Type, c.Status))
	}
	return out
}

type counts struct{ active, ready, terminating, succeeded, failed int32 }

func statusCounts(j *batchv1.Job) counts {
	return counts{j.Status.Active, ptr.Deref(j.Status.Ready, -1), ptr.Deref(j.Status.Terminating, -1), j.Status.Succeeded, j.Status.Failed}
}

func (f *fixture) expectCounts(name string, want counts) {
	f.t.Helper()
	if got := statusCounts(f.job(name)); got != want {
		f.t.Fatalf("status counts = %+v, want %+v", got, want)
	}
}

// queueHas waits briefly (real time) for the delaying queue to hand over key.
func (f *fixture) queueHas(key string) bool {
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if f.c.queue.Len() > 0 {
			k, _ := f.c.queue.Get()
			f.c.queue.Done(k)
			f.c.queue.Forget(k)
			if k == key {
				return true
			}
			continue
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

func (f *fixture) drainQueue() {
	for f.c.queue.Len() > 0 {
		k, _ := f.c.queue.Get()
		f.c.queue.Done(k)
		f.c.queue.Forget(k)
	}
}

// fmtPending describes key's pending expectations for test logs.
func fmtPending(e *podcontrol.Expectations, key string) string {
	adds, dels, ok := e.Pending(key)
	return fmt.Sprintf("adds=%d dels=%d recorded=%v finalizerRemovals=%v", adds, dels, ok, sets.List(e.ExpectedFinalizerRemovals(key)))
}
