package batch

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/herd-project/herd/pkg/apis/internal/fuzzing"
)

// FuzzValidateJob: Job validation never panics and gives the same answer
// twice, whatever the Job (a JSON merge patch on a valid one, or filled at
// random).
func FuzzValidateJob(f *testing.F) {
	fuzzing.Validate(f, []string{
		`{}`,
		`{"spec":{"completionMode":"Indexed","completions":3,"parallelism":5,"backoffLimitPerIndex":1,"maxFailedIndexes":4}}`,
		`{"spec":{"completionMode":"Indexed","completions":4,"successPolicy":{"rules":[{"succeededIndexes":"0-2,1-3,x","succeededCount":9}]}}}`,
		`{"spec":{"podFailurePolicy":{"rules":[{"action":"FailIndex","onExitCodes":{"operator":"In","values":[0,0]}},{"action":"Ignore","onPodConditions":[{"type":"","status":"Maybe"}]}]}}}`,
		`{"spec":{"podReplacementPolicy":"Failed","activeDeadlineSeconds":0,"ttlSecondsAfterFinished":-1,"managedBy":"x/"}}`,
		`{"spec":{"manualSelector":true,"selector":{"matchLabels":{"a":"b"}},"template":{"spec":{"restartPolicy":"Always"}}}}`,
		`{"spec":{"completions":2147483647,"parallelism":2147483647,"completionMode":"Indexed"}}`,
		`{"status":{"completedIndexes":"0-1,5","failedIndexes":"9-2","uncountedTerminatedPods":{"succeeded":["a","a"]}}}`,
		"R\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f",
		"R\x10\x32\x54\x76\x98\xba\xdc\xfe\x01\x23\x45\x67\x89\xab\xcd\xef\x00",
	}, validJob(), false, SetDefaultsJob,
		ValidateJob,
		func(j *batchv1.Job) field.ErrorList { return ValidateJobUpdate(j, validJob()) },
		func(j *batchv1.Job) field.ErrorList { return ValidateJobStatusUpdate(j, validJob()) })
}

// FuzzValidateCronSchedule: the API server's schedule check never panics,
// for any string.
func FuzzValidateCronSchedule(f *testing.F) {
	for _, s := range []string{"*/5 * * * *", "@hourly", "@every 1h", "TZ=Europe/Paris 0 3 * * *", "CRON_TZ=Nowhere 0 0 * * *",
		"0 0 31 2 *", "*/0 * * * *", "1-0 * * * *", "60 * * * *", "* * * * * *", "", "TZ=", "0-59/61 0-23 1-31 1-12 0-7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ValidateCronSchedule(s)
	})
}

// Found by FuzzValidateCronSchedule: robfig/cron panics on "TZ=" without a
// following space; the API answers 422 instead.
func TestCronScheduleTZWithoutSpaceIsInvalid(t *testing.T) {
	for _, s := range []string{"TZ=", "CRON_TZ=UTC", "TZ=Europe/Paris"} {
		if _, err := ValidateCronSchedule(s); err == nil {
			t.Errorf("schedule %q accepted", s)
		}
		cj := validCronJob()
		cj.Spec.Schedule = s
		if errs := ValidateCronJob(cj); len(errs) == 0 {
			t.Errorf("CronJob with schedule %q accepted", s)
		}
	}
}
