package cronjob

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"

	apisbatch "github.com/herd-project/herd/pkg/apis/batch"
)

// nextScheduleDelta pads every requeue so that the sync runs just after the
// scheduled instant even with small clock differences (Kubernetes uses the
// same 100 ms).
const nextScheduleDelta = 100 * time.Millisecond

// tooManyMissed is the number of missed start times above which the
// TooManyMissedTimes warning is emitted.
const tooManyMissed = 100

// locations caches time.LoadLocation results: loading reads the zone
// database every time, which is measurable with thousands of CronJobs.
var locations sync.Map // string -> *time.Location

func loadLocation(name string) (*time.Location, error) {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc)
	return loc, nil
}

// zonedSchedule evaluates a cron schedule in a fixed zone. robfig/cron treats
// a schedule without zone as "local to the time passed in"; converting the
// input first makes the result independent of the zone the caller's time
// happens to carry (API times, fake clocks).
type zonedSchedule struct {
	cron.Schedule
	loc *time.Location
}

func (s zonedSchedule) Next(t time.Time) time.Time {
	return s.Schedule.Next(t.In(s.loc))
}

// scheduleHasTZ reports whether the schedule carries its own TZ= or CRON_TZ=
// prefix. Like Kubernetes, any "TZ" in the text counts: such a schedule wins
// over spec.timeZone.
func scheduleHasTZ(cj *batchv1.CronJob) bool {
	return strings.Contains(cj.Spec.Schedule, "TZ")
}

// parseSchedule parses the CronJob's schedule (five fields, or a macro such as
// @hourly) and binds it to its time zone: the TZ=/CRON_TZ= prefix of the
// schedule if present, else spec.timeZone, else the process' local zone.
// The caller has already checked that spec.timeZone loads.
func parseSchedule(cj *batchv1.CronJob) (cron.Schedule, error) {
	sched, err := apisbatch.ValidateCronSchedule(cj.Spec.Schedule)
	if err != nil {
		return nil, err
	}
	loc := time.Local
	if !scheduleHasTZ(cj) && cj.Spec.TimeZone != nil {
		loc, err = loadLocation(*cj.Spec.TimeZone)
		if err != nil {
			return nil, err
		}
		if spec, ok := sched.(*cron.SpecSchedule); ok {
			spec.Location = loc
		}
	}
	return zonedSchedule{Schedule: sched, loc: loc}, nil
}

// scheduleResult is what mostRecentScheduleTime found.
type scheduleResult struct {
	// earliest is the time the search started from: the last schedule time
	// or the creation time, raised to now-startingDeadlineSeconds if asked.
	earliest time.Time
	// mostRecent is the latest scheduled time in (earliest, now], or nil.
	mostRecent *time.Time
	// missed is the (approximate, as in Kubernetes) number of scheduled
	// times in (earliest, now].
	missed int64
}

// mostRecentScheduleTime finds the most recent scheduled time that has not
// been started, counting from the later of status.lastScheduleTime and the
// creation time (and, with includeDeadline, not earlier than
// now-startingDeadlineSeconds). The number of missed times is computed
// arithmetically from the interval between two consecutive times, so a
// CronJob that missed years of runs costs no more than one that missed two.
// It fails for schedules that never fire or fire twice in the same second
// (for example 31 February).
func mostRecentScheduleTime(cj *batchv1.CronJob, now time.Time, sched cron.Schedule, includeDeadline bool) (scheduleResult, error) {
	res := scheduleResult{earliest: cj.CreationTimestamp.Time}
	if cj.Status.LastScheduleTime != nil {
		res.earliest = cj.Status.LastScheduleTime.Time
	}
	if includeDeadline && cj.Spec.StartingDeadlineSeconds != nil {
		deadline := now.Add(-time.Duration(*cj.Spec.StartingDeadlineSeconds) * time.Second)
		if deadline.After(res.earliest) {
			res.earliest = deadline
		}
	}

	t1 := sched.Next(res.earliest)
	t2 := sched.Next(t1)
	if now.Before(t1) {
		return res, nil
	}
	if now.Before(t2) {
		res.mostRecent = &t1
		res.missed = 1
		return res, nil
	}
	interval := int64(t2.Sub(t1).Round(time.Second).Seconds())
	if interval < 1 {
		return res, fmt.Errorf("time difference between two schedules is less than 1 second")
	}
	elapsed := int64(now.Sub(t1).Seconds())
	res.missed = elapsed/interval + 1

	// Start one interval before the estimated last run and let the schedule
	// find the exact one: irregular schedules (30 6-16/4 * * 1-5) and @every
	// both come out right.
	start := t1.Add(time.Duration((res.missed-2)*interval) * time.Second)
	var recent time.Time
	for t := sched.Next(start); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		recent = t
	}
	// With gaps (nights, weekends) the estimate can overshoot the last run
	// (Kubernetes then finds nothing and skips the catch-up run). Search
	// backwards from now in doubling windows until one holds a run; t1 is a
	// run before now, so this ends.
	for span := 2 * interval; recent.IsZero(); span *= 2 {
		start := res.earliest
		if span <= elapsed {
			if s := now.Add(-time.Duration(span) * time.Second); s.After(start) {
				start = s
			}
		}
		for t := sched.Next(start); !t.IsZero() && !t.After(now); t = sched.Next(t) {
			recent = t
		}
		if start.Equal(res.earliest) {
			break
		}
	}
	if !recent.IsZero() {
		res.mostRecent = &recent
	}
	return res, nil
}

// nextScheduleDelay is how long to wait before the next sync: until the next
// scheduled time after the most recent one (not bounded by the deadline),
// plus nextScheduleDelta. ok is false when the schedule has no next time
// (robfig/cron gives up after five years).
func nextScheduleDelay(cj *batchv1.CronJob, now time.Time, sched cron.Schedule) (delay time.Duration, ok bool) {
	res, err := mostRecentScheduleTime(cj, now, sched, false)
	from := res.earliest
	switch {
	case err != nil:
		from = now
	case res.mostRecent != nil:
		from = *res.mostRecent
	case res.missed > 0:
		from = now
	}
	next := sched.Next(from)
	if next.IsZero() {
		return 0, false
	}
	return next.Add(nextScheduleDelta).Sub(now), true
}
