package batch

import (
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func TestValidateCronJob(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(cj *batchv1.CronJob)
		want   []want
	}{
		{name: "valid", mutate: func(cj *batchv1.CronJob) {}},
		{name: "valid descriptor and time zone", mutate: func(cj *batchv1.CronJob) {
			cj.Spec.Schedule = "@hourly"
			cj.Spec.TimeZone = ptr.To("Europe/Berlin")
		}},
		{name: "name of 52 characters", mutate: func(cj *batchv1.CronJob) { cj.Name = strings.Repeat("a", 52) }},
		{name: "name longer than 52", mutate: func(cj *batchv1.CronJob) { cj.Name = strings.Repeat("a", 53) },
			want: []want{{field.ErrorTypeInvalid, "metadata.name"}}},
		{name: "schedule missing", mutate: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "" },
			want: []want{{field.ErrorTypeRequired, "spec.schedule"}}},
		{name: "schedule invalid", mutate: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "61 * * * *" },
			want: []want{{field.ErrorTypeInvalid, "spec.schedule"}}},
		{name: "schedule with six fields", mutate: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "0 0 * * * *" },
			want: []want{{field.ErrorTypeInvalid, "spec.schedule"}}},
		{name: "TZ in schedule", mutate: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "TZ=UTC 0 * * * *" },
			want: []want{{field.ErrorTypeInvalid, "spec.schedule"}}},
		{name: "CRON_TZ in schedule", mutate: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "CRON_TZ=UTC 0 * * * *" },
			want: []want{{field.ErrorTypeInvalid, "spec.schedule"}}},
		{name: "unknown time zone", mutate: func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("Mars/Olympus") },
			want: []want{{field.ErrorTypeInvalid, "spec.timeZone"}}},
		{name: "malformed time zone", mutate: func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("../etc/passwd") },
			want: []want{{field.ErrorTypeInvalid, "spec.timeZone"}}},
		{name: "empty time zone", mutate: func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("") },
			want: []want{{field.ErrorTypeInvalid, "spec.timeZone"}}},
		{name: "Local time zone", mutate: func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("Local") },
			want: []want{{field.ErrorTypeInvalid, "spec.timeZone"}}},
		{name: "negative deadline and limits", mutate: func(cj *batchv1.CronJob) {
			cj.Spec.StartingDeadlineSeconds = ptr.To[int64](-1)
			cj.Spec.SuccessfulJobsHistoryLimit = ptr.To[int32](-1)
			cj.Spec.FailedJobsHistoryLimit = ptr.To[int32](-1)
		}, want: []want{
			{field.ErrorTypeInvalid, "spec.startingDeadlineSeconds"},
			{field.ErrorTypeInvalid, "spec.successfulJobsHistoryLimit"},
			{field.ErrorTypeInvalid, "spec.failedJobsHistoryLimit"},
		}},
		{name: "zero history limits allowed", mutate: func(cj *batchv1.CronJob) {
			cj.Spec.SuccessfulJobsHistoryLimit = ptr.To[int32](0)
			cj.Spec.FailedJobsHistoryLimit = ptr.To[int32](0)
		}},
		{name: "concurrency policy unknown", mutate: func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = "Sometimes" },
			want: []want{{field.ErrorTypeNotSupported, "spec.concurrencyPolicy"}}},
		{name: "concurrency policy empty", mutate: func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = "" },
			want: []want{{field.ErrorTypeRequired, "spec.concurrencyPolicy"}}},
		{name: "job template restart policy", mutate: func(cj *batchv1.CronJob) {
			cj.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
		}, want: []want{{field.ErrorTypeRequired, "spec.jobTemplate.spec.template.spec.restartPolicy"}}},
		{name: "job template rules", mutate: func(cj *batchv1.CronJob) {
			cj.Spec.JobTemplate.Spec.Parallelism = ptr.To[int32](-1)
			cj.Spec.JobTemplate.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
		}, want: []want{{field.ErrorTypeInvalid, "spec.jobTemplate.spec.parallelism"}, {field.ErrorTypeRequired, "spec.jobTemplate.spec.completions"}}},
		{name: "job template selector and manual selector", mutate: func(cj *batchv1.CronJob) {
			cj.Spec.JobTemplate.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}
			cj.Spec.JobTemplate.Spec.ManualSelector = ptr.To(true)
		}, want: []want{{field.ErrorTypeInvalid, "spec.jobTemplate.spec.selector"}, {field.ErrorTypeNotSupported, "spec.jobTemplate.spec.manualSelector"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cj := validCronJob()
			tc.mutate(cj)
			checkErrors(t, ValidateCronJob(cj), tc.want...)
		})
	}
}

func TestValidateCronJobUpdate(t *testing.T) {
	tests := []struct {
		name   string
		old    func(cj *batchv1.CronJob)
		mutate func(cj *batchv1.CronJob)
		want   []want
	}{
		{name: "schedule change", mutate: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "@daily" }},
		{name: "long name kept on update", old: func(cj *batchv1.CronJob) { cj.Name = strings.Repeat("a", 60) },
			mutate: func(cj *batchv1.CronJob) { cj.Spec.Suspend = ptr.To(true) }},
		{name: "TZ newly added to schedule", mutate: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "TZ=UTC 0 * * * *" },
			want: []want{{field.ErrorTypeInvalid, "spec.schedule"}}},
		{name: "TZ kept in old schedule", old: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "TZ=UTC 0 * * * *" },
			mutate: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "TZ=UTC 5 * * * *" }},
		{name: "TZ in schedule plus timeZone", old: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "TZ=UTC 0 * * * *" },
			mutate: func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("UTC") },
			want:   []want{{field.ErrorTypeInvalid, "spec.schedule"}}},
		{name: "new time zone checked", mutate: func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("Nowhere/Land") },
			want: []want{{field.ErrorTypeInvalid, "spec.timeZone"}}},
		{name: "namespace immutable", mutate: func(cj *batchv1.CronJob) { cj.Namespace = "other" },
			want: []want{{field.ErrorTypeInvalid, "metadata.namespace"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := validCronJob()
			if tc.old != nil {
				tc.old(old)
			}
			old.ResourceVersion = "1"
			updated := old.DeepCopy()
			tc.mutate(updated)
			checkErrors(t, ValidateCronJobUpdate(updated, old), tc.want...)
		})
	}
}

func TestValidateCronJobStatusUpdate(t *testing.T) {
	old := validCronJob()
	old.ResourceVersion = "1"
	updated := old.DeepCopy()
	updated.Status.LastScheduleTime = &metav1.Time{}
	checkErrors(t, ValidateCronJobStatusUpdate(updated, old))
	updated.Name = "renamed"
	checkErrors(t, ValidateCronJobStatusUpdate(updated, old), want{field.ErrorTypeInvalid, "metadata.name"})
}

func TestValidateCronSchedule(t *testing.T) {
	for _, s := range []string{"* * * * *", "*/15 0-6 1,15 * MON-FRI", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@every 5m", "0 0 ? * *"} {
		if _, err := ValidateCronSchedule(s); err != nil {
			t.Errorf("%q: unexpected error %v", s, err)
		}
	}
	for _, s := range []string{"", "* * * *", "60 * * * *", "@fortnightly", "0 0 0 * * *"} {
		if _, err := ValidateCronSchedule(s); err == nil {
			t.Errorf("%q: expected an error", s)
		}
	}
}
