package cronjob

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// FuzzSchedule: for any schedule, time zone, creation time, last schedule
// time and deadline, parsing and the scheduling arithmetic never panic, the
// most recent scheduled time is never in the future, and the next delay is
// never negative.
func FuzzSchedule(f *testing.F) {
	for _, s := range []struct {
		sched, tz             string
		created, last, nowOff int64
		deadline              int64
	}{
		{"*/5 * * * *", "", 0, 0, 3600, -1},
		{"0 0 31 2 *", "", 0, 0, 86400 * 400, -1},
		{"@every 1s", "", 0, 30, 3600 * 24 * 365 * 5, 10},
		{"TZ=Europe/Paris 30 2 * * *", "", 1711846800, 0, 86400, -1},
		{"0 3 * * *", "America/New_York", 1699164000, 1699164000, 7 * 86400, 100},
		{"59 23 31 12 *", "Pacific/Kiritimati", -62135596800, 0, 1, 0},
		{"@yearly", "Nowhere/Zone", 253402300799, 0, -10, -1},
		{"TZ=", "", 0, 0, 0, -1},
		{"* * * * *", "", 0, 0, 1 << 40, 1 << 40},
	} {
		f.Add(s.sched, s.tz, s.created, s.last, s.nowOff, s.deadline)
	}
	f.Fuzz(func(t *testing.T, schedule, tz string, created, last, nowOffset, deadline int64) {
		cj := newCronJob("cj", schedule, time.Unix(created, 0).UTC())
		if tz != "" {
			cj.Spec.TimeZone = ptr.To(tz)
			if _, err := loadLocation(tz); err != nil {
				return // refused by validation and by the controller
			}
		}
		if last != 0 {
			cj.Status.LastScheduleTime = ptr.To(metav1.Unix(last, 0))
		}
		if deadline >= 0 {
			cj.Spec.StartingDeadlineSeconds = ptr.To(deadline)
		}
		sched, err := parseSchedule(cj)
		if err != nil {
			return
		}
		now := time.Unix(created, 0).Add(time.Duration(nowOffset) * time.Second)
		res, err := mostRecentScheduleTime(cj, now, sched, true)
		if err == nil && res.mostRecent != nil && res.mostRecent.After(now) {
			t.Fatalf("most recent scheduled time %v is after now %v", res.mostRecent, now)
		}
		if d, ok := nextScheduleDelay(cj, now, sched); ok && d < 0 {
			t.Fatalf("negative next delay %v", d)
		}
	})
}
