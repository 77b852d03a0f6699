package printers

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func jobCond(t batchv1.JobConditionType, s corev1.ConditionStatus) batchv1.JobCondition {
	return batchv1.JobCondition{Type: t, Status: s}
}

func TestJobs(t *testing.T) {
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "u1"}}
	tests := []struct {
		name        string
		spec        batchv1.JobSpec
		status      batchv1.JobStatus
		deleted     bool
		wantStatus  string
		completions string
		duration    string
	}{
		{
			name:       "not started",
			spec:       batchv1.JobSpec{Completions: ptr(int32(1)), Parallelism: ptr(int32(1))},
			wantStatus: "Running", completions: "0/1", duration: "",
		},
		{
			name:       "running: duration so far",
			spec:       batchv1.JobSpec{Completions: ptr(int32(3)), Parallelism: ptr(int32(2))},
			status:     batchv1.JobStatus{StartTime: agoPtr(95 * time.Second), Succeeded: 1, Active: 2},
			wantStatus: "Running", completions: "1/3", duration: "95s",
		},
		{
			name: "complete: start to completion",
			spec: batchv1.JobSpec{Completions: ptr(int32(3))},
			status: batchv1.JobStatus{StartTime: agoPtr(10 * time.Minute), CompletionTime: agoPtr(4 * time.Minute), Succeeded: 3,
				Conditions: []batchv1.JobCondition{jobCond(batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue), jobCond(batchv1.JobComplete, corev1.ConditionTrue)}},
			wantStatus: "Complete", completions: "3/3", duration: "6m",
		},
		{
			name: "complete wins over deletion",
			spec: batchv1.JobSpec{Completions: ptr(int32(1))},
			status: batchv1.JobStatus{StartTime: agoPtr(time.Hour), CompletionTime: agoPtr(time.Hour - 3*time.Second), Succeeded: 1,
				Conditions: []batchv1.JobCondition{jobCond(batchv1.JobComplete, corev1.ConditionTrue)}},
			deleted:    true,
			wantStatus: "Complete", completions: "1/1", duration: "3s",
		},
		{
			name: "failed",
			spec: batchv1.JobSpec{Completions: ptr(int32(1))},
			status: batchv1.JobStatus{StartTime: agoPtr(5 * time.Hour), Failed: 7,
				Conditions: []batchv1.JobCondition{jobCond(batchv1.JobFailureTarget, corev1.ConditionTrue), jobCond(batchv1.JobFailed, corev1.ConditionTrue)}},
			wantStatus: "Failed", completions: "0/1", duration: "5h",
		},
		{
			name:       "terminating",
			spec:       batchv1.JobSpec{Completions: ptr(int32(2))},
			status:     batchv1.JobStatus{StartTime: agoPtr(30 * time.Second), Conditions: []batchv1.JobCondition{jobCond(batchv1.JobSuspended, corev1.ConditionTrue)}},
			deleted:    true,
			wantStatus: "Terminating", completions: "0/2", duration: "30s",
		},
		{
			name:       "suspended",
			spec:       batchv1.JobSpec{Completions: ptr(int32(2)), Suspend: ptr(true)},
			status:     batchv1.JobStatus{Conditions: []batchv1.JobCondition{jobCond(batchv1.JobSuspended, corev1.ConditionTrue)}},
			wantStatus: "Suspended", completions: "0/2", duration: "",
		},
		{
			name:       "resumed job (Suspended=False) is running",
			spec:       batchv1.JobSpec{Completions: ptr(int32(2))},
			status:     batchv1.JobStatus{StartTime: agoPtr(time.Minute), Conditions: []batchv1.JobCondition{jobCond(batchv1.JobSuspended, corev1.ConditionFalse)}},
			wantStatus: "Running", completions: "0/2", duration: "60s",
		},
		{
			name:       "failure target",
			spec:       batchv1.JobSpec{Completions: ptr(int32(1))},
			status:     batchv1.JobStatus{StartTime: agoPtr(time.Minute), Failed: 1, Conditions: []batchv1.JobCondition{jobCond(batchv1.JobFailureTarget, corev1.ConditionTrue)}},
			wantStatus: "FailureTarget", completions: "0/1", duration: "60s",
		},
		{
			name: "success criteria met",
			spec: batchv1.JobSpec{Completions: ptr(int32(5)), CompletionMode: ptr(batchv1.IndexedCompletion)},
			status: batchv1.JobStatus{StartTime: agoPtr(3 * time.Minute), Succeeded: 2,
				Conditions: []batchv1.JobCondition{jobCond(batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue)}},
			wantStatus: "SuccessCriteriaMet", completions: "2/5", duration: "3m",
		},
		{
			name:       "work queue with parallelism",
			spec:       batchv1.JobSpec{Parallelism: ptr(int32(3))},
			status:     batchv1.JobStatus{StartTime: agoPtr(2 * time.Minute), Active: 3},
			wantStatus: "Running", completions: "0/1 of 3", duration: "2m",
		},
		{
			name:       "work queue with parallelism one",
			spec:       batchv1.JobSpec{Parallelism: ptr(int32(1))},
			status:     batchv1.JobStatus{Succeeded: 1},
			wantStatus: "Running", completions: "1/1", duration: "",
		},
		{
			name:       "work queue without parallelism",
			wantStatus: "Running", completions: "0/1", duration: "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "j", CreationTimestamp: ago(6 * time.Hour)}, Spec: tc.spec, Status: tc.status}
			job.Spec.Selector = selector
			job.Spec.Template.Spec.Containers = []corev1.Container{{Name: "work", Image: "busybox:1.36"}}
			if tc.deleted {
				job.DeletionTimestamp = agoPtr(time.Second)
			}
			checkCells(t, cellsOf(t, jobsGR, job), []interface{}{
				"j", tc.wantStatus, tc.completions, tc.duration, "6h", "work", "busybox:1.36", "batch.kubernetes.io/controller-uid=u1",
			})
		})
	}
}

func TestCronJobs(t *testing.T) {
	gr := schema.GroupResource{Group: "batch", Resource: "cronjobs"}
	base := func() *batchv1.CronJob {
		cj := &batchv1.CronJob{
			ObjectMeta: metav1.ObjectMeta{Name: "c", CreationTimestamp: ago(3 * 24 * time.Hour)},
			Spec:       batchv1.CronJobSpec{Schedule: "*/5 * * * *"},
		}
		cj.Spec.JobTemplate.Spec.Template.Spec.Containers = containers("x", "y")
		return cj
	}
	tests := []struct {
		name   string
		modify func(*batchv1.CronJob)
		want   []interface{}
	}{
		{"defaults", func(*batchv1.CronJob) {},
			[]interface{}{"c", "*/5 * * * *", "<none>", "<unset>", int64(0), "<none>", "3d", "x,y", "img,img", "<none>"}},
		{"scheduled, suspended, with time zone and active jobs", func(cj *batchv1.CronJob) {
			cj.Spec.TimeZone = ptr("Europe/Berlin")
			cj.Spec.Suspend = ptr(true)
			cj.Status.LastScheduleTime = agoPtr(4*time.Minute + 10*time.Second)
			cj.Status.Active = []corev1.ObjectReference{{Name: "c-1"}, {Name: "c-2"}}
			cj.Spec.JobTemplate.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"k": "v"}}
		}, []interface{}{"c", "*/5 * * * *", "Europe/Berlin", "True", int64(2), "4m10s", "3d", "x,y", "img,img", "k=v"}},
		{"not suspended", func(cj *batchv1.CronJob) {
			cj.Spec.Suspend = ptr(false)
			cj.Status.LastScheduleTime = agoPtr(20 * time.Minute)
		}, []interface{}{"c", "*/5 * * * *", "<none>", "False", int64(0), "20m", "3d", "x,y", "img,img", "<none>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cj := base()
			tc.modify(cj)
			checkCells(t, cellsOf(t, gr, cj), tc.want)
		})
	}
}

func TestAppsWorkloads(t *testing.T) {
	template := corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		Containers:   []corev1.Container{{Name: "app", Image: "app:v2"}},
		NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
	}}
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}
	meta := metav1.ObjectMeta{Name: "x", CreationTimestamp: ago(45 * time.Minute)}

	rs := &appsv1.ReplicaSet{ObjectMeta: meta,
		Spec:   appsv1.ReplicaSetSpec{Replicas: ptr(int32(4)), Selector: selector, Template: template},
		Status: appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 2}}
	checkCells(t, cellsOf(t, schema.GroupResource{Group: "apps", Resource: "replicasets"}, rs),
		[]interface{}{"x", int64(4), int64(3), int64(2), "45m", "app", "app:v2", "app=x"})

	ss := &appsv1.StatefulSet{ObjectMeta: meta,
		Spec:   appsv1.StatefulSetSpec{Replicas: ptr(int32(3)), Selector: selector, Template: template},
		Status: appsv1.StatefulSetStatus{Replicas: 3, ReadyReplicas: 1}}
	checkCells(t, cellsOf(t, schema.GroupResource{Group: "apps", Resource: "statefulsets"}, ss),
		[]interface{}{"x", "1/3", "45m", "app", "app:v2"})

	ds := &appsv1.DaemonSet{ObjectMeta: meta,
		Spec: appsv1.DaemonSetSpec{Selector: selector, Template: template},
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 5, CurrentNumberScheduled: 4, NumberReady: 3,
			UpdatedNumberScheduled: 2, NumberAvailable: 1}}
	checkCells(t, cellsOf(t, schema.GroupResource{Group: "apps", Resource: "daemonsets"}, ds),
		[]interface{}{"x", int64(5), int64(4), int64(3), int64(2), int64(1), "kubernetes.io/os=linux", "45m", "app", "app:v2", "app=x"})

	ds.Spec.Template.Spec.NodeSelector = nil
	if got := cellsOf(t, schema.GroupResource{Group: "apps", Resource: "daemonsets"}, ds)[6]; got != "<none>" {
		t.Errorf("empty node selector: %v", got)
	}
}

func TestControllerRevisions(t *testing.T) {
	gr := schema.GroupResource{Group: "apps", Resource: "controllerrevisions"}
	cr := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: "web-7f9c", CreationTimestamp: ago(2 * time.Minute),
			OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "v1", Kind: "Pod", Name: "not-controller"},
				{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web", Controller: ptr(true)},
			}},
		Revision: 3,
	}
	checkCells(t, cellsOf(t, gr, cr), []interface{}{"web-7f9c", "statefulset.apps/web", int64(3), "2m"})

	cr.OwnerReferences = nil
	checkCells(t, cellsOf(t, gr, cr), []interface{}{"web-7f9c", "<none>", int64(3), "2m"})

	cr.OwnerReferences = []metav1.OwnerReference{{APIVersion: "a/b/c", Kind: "X", Name: "y", Controller: ptr(true)}}
	if _, err := ForWithClock(gr, clock).ConvertToTable(t.Context(), cr, nil); err == nil {
		t.Error("unparsable controller apiVersion accepted")
	}
}
