package cronjob

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// runSchedule drives the controller the way its queue would: sync, wait the
// returned delay on the fake clock, sync again, until the clock passes end.
// It returns the scheduled-timestamp annotations of the Jobs created, in order.
func runSchedule(t *testing.T, cj *batchv1.CronJob, start, end time.Time) []string {
	t.Helper()
	f := newFixture(t, start, cj)
	var created []string
	for i := 0; i < 1000; i++ {
		d := f.sync(cj.Name)
		for _, a := range f.client.Actions() {
			if a.GetVerb() == "create" && a.GetResource().Resource == "jobs" {
				job := f.job(a.(k8stesting.CreateAction).GetObject().(*batchv1.Job).Name)
				created = append(created, job.Annotations[batchv1.CronJobScheduledTimestampAnnotation])
			}
		}
		if d == nil {
			t.Fatal("no requeue")
		}
		if *d <= 0 {
			t.Fatalf("non-positive requeue %v at %v", *d, f.clock.Now())
		}
		next := f.clock.Now().Add(*d)
		if next.After(end) {
			return created
		}
		f.clock.SetTime(next)
	}
	t.Fatal("too many iterations")
	return nil
}

func TestTimeZoneDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, schedule string
		start, end     time.Time
		want           []string
	}{
		{
			// 2026-03-08 02:00 EST jumps to 03:00 EDT: 02:30 does not exist
			// that day and robfig/cron (so Kubernetes) skips it.
			name: "spring forward daily 02:30", schedule: "30 2 * * *",
			start: time.Date(2026, 3, 7, 0, 0, 0, 0, ny), end: time.Date(2026, 3, 10, 12, 0, 0, 0, ny),
			want: []string{"2026-03-07T02:30:00-05:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"},
		},
		{
			// 2026-11-01 02:00 EDT falls back to 01:00 EST: 02:30 happens once.
			name: "fall back daily 02:30", schedule: "30 2 * * *",
			start: time.Date(2026, 10, 31, 0, 0, 0, 0, ny), end: time.Date(2026, 11, 2, 12, 0, 0, 0, ny),
			want: []string{"2026-10-31T02:30:00-04:00", "2026-11-01T02:30:00-05:00", "2026-11-02T02:30:00-05:00"},
		},
		{
			// Hourly across spring forward: no 02:00 on March 8.
			name: "spring forward hourly", schedule: "0 * * * *",
			start: time.Date(2026, 3, 8, 0, 30, 0, 0, ny), end: time.Date(2026, 3, 8, 4, 30, 0, 0, ny),
			want: []string{"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"},
		},
		{
			// Hourly across fall back: 01:00 runs twice (EDT then EST), one
			// hour apart in real time.
			name: "fall back hourly", schedule: "0 * * * *",
			start: time.Date(2026, 11, 1, 0, 30, 0, 0, ny), end: time.Date(2026, 11, 1, 3, 30, 0, 0, ny),
			want: []string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cj := newCronJob("ny", tc.schedule, tc.start.Add(-time.Minute))
			cj.Spec.TimeZone = ptr.To("America/New_York")
			got := runSchedule(t, cj, tc.start, tc.end)
			expectStrings(t, "runs", got, tc.want)
		})
	}
}

func TestTimeZoneRequeueAcrossDST(t *testing.T) {
	// Just after the 2026-03-07 02:30 EST run, the next one is 2026-03-09
	// 02:30 EDT: 47 hours later in real time.
	ny, _ := time.LoadLocation("America/New_York")
	cj := newCronJob("ny", "30 2 * * *", time.Date(2026, 3, 1, 0, 0, 0, 0, ny))
	cj.Spec.TimeZone = ptr.To("America/New_York")
	f := newFixture(t, time.Date(2026, 3, 7, 2, 30, 0, 0, ny).Add(pad), cj)
	d := f.sync("ny")
	expectDelay(t, d, 47*time.Hour)
	expectStrings(t, "jobs", f.jobNames(), []string{jobNameAt("ny", time.Date(2026, 3, 7, 7, 30, 0, 0, time.UTC))})
}

func TestTZInSchedule(t *testing.T) {
	// A schedule carrying CRON_TZ= (allowed on old objects) is honoured and
	// wins over spec.timeZone; the annotation stays in spec.timeZone (UTC
	// when unset), as in Kubernetes.
	cj := newCronJob("tz", "CRON_TZ=Asia/Shanghai 0 9 * * *", t0)
	f := newFixture(t, time.Date(2026, 6, 16, 1, 0, 0, 0, time.UTC).Add(pad), cj)
	d := f.sync("tz")
	want := jobNameAt("tz", time.Date(2026, 6, 16, 1, 0, 0, 0, time.UTC))
	expectStrings(t, "events", f.drainEvents(), []string{
		`Warning UnsupportedSchedule CRON_TZ or TZ used in schedule "CRON_TZ=Asia/Shanghai 0 9 * * *" is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`,
		"Normal SuccessfulCreate Created job " + want,
	})
	if got := f.job(want).Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != "2026-06-16T01:00:00Z" {
		t.Errorf("annotation %q", got)
	}
	expectDelay(t, d, 24*time.Hour)

	cj2 := newCronJob("tz2", "TZ=Asia/Shanghai 0 9 * * *", t0)
	cj2.Spec.TimeZone = ptr.To("America/New_York")
	f2 := newFixture(t, time.Date(2026, 6, 16, 1, 0, 0, 0, time.UTC).Add(pad), cj2)
	f2.sync("tz2")
	expectStrings(t, "jobs", f2.jobNames(), []string{jobNameAt("tz2", time.Date(2026, 6, 16, 1, 0, 0, 0, time.UTC))})
}

func TestMacros(t *testing.T) {
	from := time.Date(2026, 6, 15, 10, 0, 30, 0, time.UTC) // a Monday
	for _, tc := range []struct {
		schedule string
		want     time.Time
	}{
		{"@yearly", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"@annually", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"@monthly", time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)},
		{"@weekly", time.Date(2026, 6, 21, 0, 0, 0, 0, time.UTC)},
		{"@daily", time.Date(2026, 6, 16, 0, 0, 0, 0, time.UTC)},
		{"@midnight", time.Date(2026, 6, 16, 0, 0, 0, 0, time.UTC)},
		{"@hourly", time.Date(2026, 6, 15, 11, 0, 0, 0, time.UTC)},
		{"0 9 * JAN,JUN MON-FRI", time.Date(2026, 6, 16, 9, 0, 0, 0, time.UTC)},
		{"*/15 8-17/3 * * SUN", time.Date(2026, 6, 21, 8, 0, 0, 0, time.UTC)},
	} {
		cj := newCronJob("m", tc.schedule, from)
		cj.Spec.TimeZone = ptr.To("UTC")
		sched, err := parseSchedule(cj)
		if err != nil {
			t.Errorf("%s: %v", tc.schedule, err)
			continue
		}
		if got := sched.Next(from); !got.Equal(tc.want) {
			t.Errorf("%s: next %v, want %v", tc.schedule, got, tc.want)
		}
	}
}

func TestMostRecentScheduleTime(t *testing.T) {
	base := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC) // Monday
	for _, tc := range []struct {
		name, schedule string
		last, now      time.Time
		deadline       *int64
		want           *time.Time
		missed         int64
	}{
		{"none yet", "0 * * * *", base.Add(10 * time.Minute), base.Add(50 * time.Minute), nil, nil, 0},
		{"one", "0 * * * *", base.Add(10 * time.Minute), base.Add(70 * time.Minute), nil, ptr.To(base.Add(time.Hour)), 1},
		{"several", "0 * * * *", base, base.Add(5*time.Hour + time.Minute), nil, ptr.To(base.Add(5 * time.Hour)), 5},
		{"irregular", "30 6-16/4 * * 1-5", base, base.Add(5 * 24 * time.Hour), nil, ptr.To(base.Add(4*24*time.Hour + 14*time.Hour + 30*time.Minute)), 29},
		{"every", "@every 90s", base, base.Add(10 * time.Minute), nil, ptr.To(base.Add(9 * time.Minute)), 6},
		{"deadline window", "0 * * * *", base, base.Add(5*time.Hour + 30*time.Minute), ptr.To[int64](3600), ptr.To(base.Add(5 * time.Hour)), 1},
		{"deadline window empty", "0 * * * *", base, base.Add(5*time.Hour + 30*time.Minute), ptr.To[int64](600), nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cj := newCronJob("m", tc.schedule, base.Add(-time.Hour))
			cj.Spec.TimeZone = ptr.To("UTC")
			cj.Status.LastScheduleTime = ptr.To(metav1.NewTime(tc.last))
			cj.Spec.StartingDeadlineSeconds = tc.deadline
			sched, err := parseSchedule(cj)
			if err != nil {
				t.Fatal(err)
			}
			res, err := mostRecentScheduleTime(cj, tc.now, sched, true)
			if err != nil {
				t.Fatal(err)
			}
			if (res.mostRecent == nil) != (tc.want == nil) || (tc.want != nil && !res.mostRecent.Equal(*tc.want)) {
				t.Errorf("most recent %v, want %v", res.mostRecent, tc.want)
			}
			if res.missed != tc.missed {
				t.Errorf("missed %d, want %d", res.missed, tc.missed)
			}
		})
	}
}

func TestNextScheduleDelay(t *testing.T) {
	base := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	cj := newCronJob("m", "*/5 * * * *", base)
	cj.Spec.TimeZone = ptr.To("UTC")
	sched, _ := parseSchedule(cj)
	for _, tc := range []struct {
		last *time.Time
		now  time.Time
		want time.Duration
	}{
		{nil, base.Add(time.Minute), 4*time.Minute + pad},
		{ptr.To(base.Add(5 * time.Minute)), base.Add(5*time.Minute + pad), 5 * time.Minute},
		// Missed runs since lastScheduleTime: the next one after now.
		{ptr.To(base.Add(5 * time.Minute)), base.Add(17 * time.Minute), 3*time.Minute + pad},
		{ptr.To(base.Add(5 * time.Minute)), base.Add(20*time.Minute + 2*time.Second), 5*time.Minute - 2*time.Second + pad},
	} {
		c := cj.DeepCopy()
		if tc.last != nil {
			c.Status.LastScheduleTime = ptr.To(metav1.NewTime(*tc.last))
		}
		got, ok := nextScheduleDelay(c, tc.now, sched)
		if !ok || got != tc.want {
			t.Errorf("last %v now %v: delay %v (%v), want %v", tc.last, tc.now, got, ok, tc.want)
		}
	}
}

func TestNoTimeZoneUsesLocalZone(t *testing.T) {
	// Without spec.timeZone the schedule is read in the process' zone,
	// whatever zone the times handed in carry (API times, clocks).
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 6, 15, 12, 0, 0, 0, time.Local).In(sh)
	sched, err := parseSchedule(newCronJob("l", "0 9 * * *", from))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 6, 16, 9, 0, 0, 0, time.Local)
	if got := sched.Next(from); !got.Equal(want) {
		t.Errorf("next %v, want %v", got, want)
	}
}
