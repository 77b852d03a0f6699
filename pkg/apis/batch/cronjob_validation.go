package batch

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	// Bundled IANA data, so time zones load on hosts without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// maxCronJobNameLength: the controller appends an 11-character suffix
// ("-<timestamp>") to Job names, which must stay within 63 characters.
const maxCronJobNameLength = utilvalidation.DNS1035LabelMaxLength - 11

// ValidateCronJob validates a CronJob on create.
func ValidateCronJob(cj *batchv1.CronJob) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMeta(&cj.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateCronJobSpec(&cj.Spec, nil, field.NewPath("spec"))...)
	if len(cj.Name) > maxCronJobNameLength {
		allErrs = append(allErrs, field.Invalid(field.NewPath("metadata").Child("name"), cj.Name, "must be no more than 52 characters"))
	}
	return allErrs
}

// ValidateCronJobUpdate validates an update of a CronJob's spec and metadata.
// The 52-character name limit is not re-checked so that old CronJobs with
// longer names can still be updated and deleted.
func ValidateCronJobUpdate(newCJ, oldCJ *batchv1.CronJob) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newCJ.ObjectMeta, &oldCJ.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateCronJobSpec(&newCJ.Spec, &oldCJ.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidateCronJobStatusUpdate validates an update of a CronJob's status
// subresource. Like Kubernetes, only the metadata rules apply.
func ValidateCronJobStatusUpdate(newCJ, oldCJ *batchv1.CronJob) field.ErrorList {
	return apivalidation.ValidateObjectMetaUpdate(&newCJ.ObjectMeta, &oldCJ.ObjectMeta, field.NewPath("metadata"))
}

func validateCronJobSpec(spec, oldSpec *batchv1.CronJobSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(spec.Schedule) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("schedule"), ""))
	} else {
		// TZ= / CRON_TZ= in the schedule is only tolerated on objects that
		// already had it (created before this was rejected).
		allowTZ := oldSpec != nil && strings.Contains(oldSpec.Schedule, "TZ")
		allErrs = append(allErrs, validateScheduleFormat(spec.Schedule, allowTZ, spec.TimeZone, fldPath.Child("schedule"))...)
	}
	if spec.StartingDeadlineSeconds != nil {
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(*spec.StartingDeadlineSeconds, fldPath.Child("startingDeadlineSeconds"))...)
	}
	if oldSpec == nil || !ptr.Equal(oldSpec.TimeZone, spec.TimeZone) {
		allErrs = append(allErrs, validateTimeZone(spec.TimeZone, fldPath.Child("timeZone"))...)
	}
	allErrs = append(allErrs, validateConcurrencyPolicy(spec.ConcurrencyPolicy, fldPath.Child("concurrencyPolicy"))...)
	allErrs = append(allErrs, validateJobTemplateSpec(&spec.JobTemplate, fldPath.Child("jobTemplate"))...)
	if spec.SuccessfulJobsHistoryLimit != nil {
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(*spec.SuccessfulJobsHistoryLimit), fldPath.Child("successfulJobsHistoryLimit"))...)
	}
	if spec.FailedJobsHistoryLimit != nil {
		allErrs = append(allErrs, apivalidation.ValidateNonnegativeField(int64(*spec.FailedJobsHistoryLimit), fldPath.Child("failedJobsHistoryLimit"))...)
	}
	return allErrs
}

func validateConcurrencyPolicy(policy batchv1.ConcurrencyPolicy, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch policy {
	case batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	case "":
		allErrs = append(allErrs, field.Required(fldPath, ""))
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath, policy,
			[]batchv1.ConcurrencyPolicy{batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent}))
	}
	return allErrs
}

// ValidateCronSchedule parses a CronJob schedule the way the CronJob
// controller does: five standard fields or a descriptor (@hourly, @daily,
// @weekly, @monthly, @yearly/@annually, @midnight, @every <duration>).
// robfig/cron panics on some input ("TZ=" without a following space);
// that is reported as an invalid schedule, never as a crash.
func ValidateCronSchedule(schedule string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("unparseable schedule %q: a TZ= or CRON_TZ= prefix must be followed by a time zone and a space", schedule)
		}
	}()
	return cron.ParseStandard(schedule)
}

func validateScheduleFormat(schedule string, allowTZInSchedule bool, timeZone *string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if _, err := ValidateCronSchedule(schedule); err != nil {
		allErrs = append(allErrs, field.Invalid(fldPath, schedule, err.Error()))
	}
	switch {
	case allowTZInSchedule && strings.Contains(schedule, "TZ") && timeZone != nil:
		allErrs = append(allErrs, field.Invalid(fldPath, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
	case !allowTZInSchedule && strings.Contains(schedule, "TZ"):
		allErrs = append(allErrs, field.Invalid(fldPath, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
	}
	return allErrs
}

// validTimeZoneCharacters follows the IANA naming rules for one path
// component (https://data.iana.org/time-zones/theory.html#naming), also
// tolerating digits and '+' used by legacy names.
var validTimeZoneCharacters = regexp.MustCompile(`^[A-Za-z\.\-_0-9+]{1,14}$`)

func validateTimeZone(timeZone *string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if timeZone == nil {
		return allErrs
	}
	if len(*timeZone) == 0 {
		return append(allErrs, field.Invalid(fldPath, timeZone, "timeZone must be nil or non-empty string"))
	}
	for _, part := range strings.Split(*timeZone, "/") {
		if part == "." || part == ".." || strings.HasPrefix(part, "-") || !validTimeZoneCharacters.MatchString(part) {
			return append(allErrs, field.Invalid(fldPath, timeZone, fmt.Sprintf("unknown time zone %s", *timeZone)))
		}
	}
	if strings.EqualFold(*timeZone, "Local") {
		allErrs = append(allErrs, field.Invalid(fldPath, timeZone, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"))
	}
	if _, err := time.LoadLocation(*timeZone); err != nil {
		allErrs = append(allErrs, field.Invalid(fldPath, timeZone, err.Error()))
	}
	return allErrs
}

// validateJobTemplateSpec validates a CronJob's job template: the Job spec
// rules, and no selector (it is generated for every Job).
func validateJobTemplateSpec(spec *batchv1.JobTemplateSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateJobSpecCommon(&spec.Spec, fldPath.Child("spec"))
	if spec.Spec.Selector != nil {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("spec", "selector"), spec.Spec.Selector, "`selector` will be auto-generated"))
	}
	if ptr.Deref(spec.Spec.ManualSelector, false) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("spec", "manualSelector"), spec.Spec.ManualSelector, []string{"nil", "false"}))
	}
	return allErrs
}
