package cronjob

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
)

const ns = "default"

// fixture is a controller on a fake clientset and a fake clock whose
// informer caches are filled by hand from the clientset (resync).
type fixture struct {
	t        testing.TB
	client   *fake.Clientset
	factory  informers.SharedInformerFactory
	clock    *testingclock.FakeClock
	recorder *record.FakeRecorder
	c        *Controller
}

func newFixture(t testing.TB, now time.Time, objs ...runtime.Object) *fixture {
	t.Helper()
	return newFixtureWithClient(t, fake.NewClientset(objs...), now)
}

func newFixtureWithClient(t testing.TB, client *fake.Clientset, now time.Time) *fixture {
	t.Helper()
	clk := testingclock.NewFakeClock(now)
	// The fake API server sets no UID or creation time: do it as the real one would.
	client.PrependReactor("create", "jobs", func(action k8stesting.Action) (bool, runtime.Object, error) {
		job := action.(k8stesting.CreateAction).GetObject().(*batchv1.Job)
		if job.UID == "" {
			job.UID = types.UID("uid-" + job.Name)
		}
		job.CreationTimestamp = metav1.NewTime(clk.Now())
		return false, nil, nil
	})
	factory := informers.NewSharedInformerFactory(client, 0)
	recorder := record.NewFakeRecorder(10000)
	f := &fixture{t: t, client: client, factory: factory, clock: clk, recorder: recorder}
	f.c = New(client, factory, recorder, clk)
	return f
}

// resync replaces the informer caches with the fake API server's contents.
func (f *fixture) resync() {
	f.t.Helper()
	ctx := context.Background()
	cjs, err := f.client.BatchV1().CronJobs("").List(ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	var cjObjs []interface{}
	for i := range cjs.Items {
		cjObjs = append(cjObjs, &cjs.Items[i])
	}
	if err := f.factory.Batch().V1().CronJobs().Informer().GetIndexer().Replace(cjObjs, ""); err != nil {
		f.t.Fatal(err)
	}
	jobs, err := f.client.BatchV1().Jobs("").List(ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	var jobObjs []interface{}
	for i := range jobs.Items {
		jobObjs = append(jobObjs, &jobs.Items[i])
	}
	if err := f.factory.Batch().V1().Jobs().Informer().GetIndexer().Replace(jobObjs, ""); err != nil {
		f.t.Fatal(err)
	}
}

// sync refreshes the caches, clears recorded actions and events, and syncs one CronJob.
func (f *fixture) sync(name string) *time.Duration {
	f.t.Helper()
	f.resync()
	f.client.ClearActions()
	f.drainEvents()
	d, err := f.c.sync(context.Background(), ns+"/"+name)
	if err != nil {
		f.t.Fatalf("sync %s: %v", name, err)
	}
	return d
}

func (f *fixture) cronJob(name string) *batchv1.CronJob {
	f.t.Helper()
	cj, err := f.client.BatchV1().CronJobs(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return cj
}

func (f *fixture) jobNames() []string {
	f.t.Helper()
	jobs, err := f.client.BatchV1().Jobs(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	var names []string
	for _, j := range jobs.Items {
		names = append(names, j.Name)
	}
	sort.Strings(names)
	return names
}

func (f *fixture) job(name string) *batchv1.Job {
	f.t.Helper()
	j, err := f.client.BatchV1().Jobs(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return j
}

func (f *fixture) drainEvents() []string {
	var out []string
	for {
		select {
		case e := <-f.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// actions lists the recorded writes as "verb resource[/subresource] name".
func (f *fixture) writes() []string {
	var out []string
	for _, a := range f.client.Actions() {
		if a.GetVerb() == "get" || a.GetVerb() == "list" || a.GetVerb() == "watch" {
			continue
		}
		res := a.GetResource().Resource
		if a.GetSubresource() != "" {
			res += "/" + a.GetSubresource()
		}
		name := ""
		switch act := a.(type) {
		case k8stesting.CreateAction:
			name = act.GetObject().(metav1.Object).GetName()
		case k8stesting.UpdateAction:
			name = act.GetObject().(metav1.Object).GetName()
		case k8stesting.DeleteAction:
			name = act.GetName()
		}
		out = append(out, a.GetVerb()+" "+res+" "+name)
	}
	return out
}

func newCronJob(name, schedule string, created time.Time) *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns, UID: types.UID("cj-" + name),
			CreationTimestamp: metav1.NewTime(created),
		},
		Spec: batchv1.CronJobSpec{
			Schedule:          schedule,
			ConcurrencyPolicy: batchv1.AllowConcurrent,
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      map[string]string{"app": name},
					Annotations: map[string]string{"team": "batch"},
				},
				Spec: batchv1.JobSpec{
					BackoffLimit: ptr.To[int32](2),
					Template: corev1.PodTemplateSpec{
						Spec: corev1.PodSpec{
							RestartPolicy: corev1.RestartPolicyNever,
							Containers:    []corev1.Container{{Name: "c", Image: "busybox"}},
						},
					},
				},
			},
		},
	}
}

// ownedJob is a Job of cj for the given scheduled time, as the controller
// would have created it.
func ownedJob(cj *batchv1.CronJob, scheduled time.Time) *batchv1.Job {
	j, err := jobFromTemplate(cj, scheduled)
	if err != nil {
		panic(err)
	}
	j.UID = types.UID("uid-" + j.Name)
	j.CreationTimestamp = metav1.NewTime(scheduled)
	j.Status.StartTime = ptr.To(metav1.NewTime(scheduled))
	return j
}

func finish(j *batchv1.Job, cond batchv1.JobConditionType, at time.Time) *batchv1.Job {
	j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{Type: cond, Status: corev1.ConditionTrue})
	if cond == batchv1.JobComplete {
		j.Status.CompletionTime = ptr.To(metav1.NewTime(at))
	}
	return j
}

func activeNames(cj *batchv1.CronJob) string {
	var names []string
	for _, r := range cj.Status.Active {
		names = append(names, r.Name)
	}
	return strings.Join(names, ",")
}

func expectStrings(t testing.TB, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func expectDelay(t testing.TB, got *time.Duration, want time.Duration) {
	t.Helper()
	if got == nil {
		t.Fatalf("requeue: got none, want %v", want)
	}
	if *got != want {
		t.Errorf("requeue: got %v, want %v", *got, want)
	}
}

func minutes(t time.Time) string { return strings.TrimPrefix(jobName(&batchv1.CronJob{}, t), "-") }
