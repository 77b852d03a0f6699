package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func cronManifest(name, schedule, extraSpec, command string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: CronJob
metadata:
  name: %s
spec:
  schedule: %q
%s
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers:
          - name: main
            image: busybox
            command: ["sh", "-c", %q]
`, name, schedule, extraSpec, command)
}

// TestCronJobEveryMinute is the seeds' CronJob: a Job each minute, on the
// minute, three kept.
func TestCronJobEveryMinute(t *testing.T) {
	t.Parallel()
	s := shared
	ns := s.Namespace(t)
	s.MustKubectl(t, "apply", "-n", ns, "-f", testdata("test-cronjob.yaml"))
	out := s.MustKubectl(t, "get", "cronjobs", "-n", ns)
	for _, col := range []string{"NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE", "*/1 * * * *", "Asia/Shanghai"} {
		if !strings.Contains(out, col) {
			t.Errorf("get cronjobs lacks %q:\n%s", col, out)
		}
	}
	// Manual run from the template.
	s.MustKubectl(t, "create", "job", "manual-run", "-n", ns, "--from=cronjob/test-cronjob")
	if a := s.MustKubectl(t, "get", "job", "manual-run", "-n", ns, "-o", `jsonpath={.metadata.annotations.cronjob\.kubernetes\.io/instantiate}`); a != "manual" {
		t.Errorf("manual job annotation = %q", a)
	}
	// Wait for four scheduled runs.
	deadline := time.Now().Add(5*time.Minute + 10*time.Second)
	var scheduled []string
	for time.Now().Before(deadline) {
		out := s.MustKubectl(t, "get", "jobs", "-n", ns, "-o",
			`jsonpath={range .items[*]}{.metadata.name}={.metadata.creationTimestamp}={.metadata.annotations.batch\.kubernetes\.io/cronjob-scheduled-timestamp}{"\n"}{end}`)
		scheduled = scheduled[:0]
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if strings.HasPrefix(l, "test-cronjob-") {
				scheduled = append(scheduled, l)
			}
		}
		last := s.MustKubectl(t, "get", "cronjob", "test-cronjob", "-n", ns, "-o", "jsonpath={.status.lastScheduleTime}")
		if lt, err := time.Parse(time.RFC3339, last); err == nil && time.Since(lt) < 50*time.Second && countEvents(t, s, ns, "SuccessfulCreate", "test-cronjob") >= 4 {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if n := countEvents(t, s, ns, "SuccessfulCreate", "test-cronjob"); n < 4 {
		t.Fatalf("only %d runs in 5 minutes", n)
	}
	time.Sleep(5 * time.Second) // history cleanup follows the last run's completion
	out = s.MustKubectl(t, "get", "jobs", "-n", ns, "-o", "name")
	kept := strings.Count(out, "job.batch/test-cronjob-")
	if kept != 3 {
		t.Errorf("kept %d scheduled jobs, want 3 (successfulJobsHistoryLimit):\n%s", kept, out)
	}
	for _, l := range scheduled {
		f := strings.Split(l, "=")
		created, err1 := time.Parse(time.RFC3339, f[1])
		sched, err2 := time.Parse(time.RFC3339, f[2])
		if err1 != nil || err2 != nil {
			t.Errorf("job %s: bad times %q %q", f[0], f[1], f[2])
			continue
		}
		if d := created.Sub(sched); d < 0 || d > 2*time.Second {
			t.Errorf("job %s created %s after its scheduled time", f[0], d)
		}
		if want := fmt.Sprintf("test-cronjob-%d", sched.Unix()/60); f[0] != want {
			t.Errorf("job name %s, want %s", f[0], want)
		}
	}
	s.MustKubectl(t, "delete", "cronjob", "test-cronjob", "-n", ns)
	eventually(t, 60*time.Second, func() error {
		out := s.MustKubectl(t, "get", "jobs,pods", "-n", ns, "-o", "name")
		if strings.Contains(out, "test-cronjob-") {
			return fmt.Errorf("left after deleting the cronjob: %s", out)
		}
		return nil
	})
}

func countEvents(t *testing.T, s *Server, ns, reason, object string) int {
	t.Helper()
	out := s.MustKubectl(t, "get", "events", "-n", ns, "--field-selector", "reason="+reason+",involvedObject.name="+object,
		"-o", "jsonpath={range .items[*]}{.count}{\" \"}{end}")
	n := 0
	for _, f := range strings.Fields(out) {
		var c int
		fmt.Sscan(f, &c)
		if c == 0 {
			c = 1
		}
		n += c
	}
	return n
}

func TestCronJobConcurrencyPolicies(t *testing.T) {
	t.Parallel()
	s := shared
	ns := s.Namespace(t)
	applyJob(t, s, ns, cronManifest("forbid", "*/1 * * * *", "  concurrencyPolicy: Forbid", "sleep 90"))
	applyJob(t, s, ns, cronManifest("replace", "*/1 * * * *", "  concurrencyPolicy: Replace", "sleep 90"))
	// Two minute boundaries pass.
	waitMinutes(2)
	time.Sleep(5 * time.Second)
	forbid := s.MustKubectl(t, "get", "jobs", "-n", ns, "-o", "name")
	if n := strings.Count(forbid, "job.batch/forbid-"); n != 1 {
		t.Errorf("Forbid: %d jobs after two schedules, want 1:\n%s", n, forbid)
	}
	if n := countEvents(t, s, ns, "JobAlreadyActive", "forbid"); n < 1 {
		t.Errorf("Forbid: no JobAlreadyActive event")
	}
	if n := strings.Count(forbid, "job.batch/replace-"); n != 1 {
		t.Errorf("Replace: %d jobs, want 1 (the newest):\n%s", n, forbid)
	}
	if n := countEvents(t, s, ns, "SuccessfulCreate", "replace"); n < 2 {
		t.Errorf("Replace: %d jobs created, want 2", n)
	}
	if n := countEvents(t, s, ns, "SuccessfulDelete", "replace"); n < 1 {
		t.Errorf("Replace: the running job was not deleted")
	}
}

// waitMinutes sleeps until n minute boundaries have passed.
func waitMinutes(n int) {
	now := time.Now()
	next := now.Truncate(time.Minute).Add(time.Duration(n) * time.Minute)
	time.Sleep(next.Sub(now) + 2*time.Second)
}

// TestCronJobMissedWhileDown stops the server across schedules: with a
// deadline the catch-up run happens once, past it a MissSchedule event.
func TestCronJobMissedWhileDown(t *testing.T) {
	t.Parallel()
	dir := filepathTemp("cron-down")
	defer os.RemoveAll(dir)
	s, err := startServer(dir, "--disable-agent")
	if err != nil {
		t.Fatal(err)
	}
	applyJob(t, s, "default", cronManifest("catchup", "*/1 * * * *", "  startingDeadlineSeconds: 100", "true"))
	applyJob(t, s, "default", cronManifest("missed", "*/1 * * * *", "  startingDeadlineSeconds: 30", "true"))
	s.Stop()
	// Down across three minute boundaries; restart 40 s after the last one.
	now := time.Now()
	last := now.Truncate(time.Minute).Add(3 * time.Minute)
	time.Sleep(last.Sub(now) + 40*time.Second)
	s, err = startServer(dir, "--disable-agent")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	time.Sleep(5 * time.Second)
	jobs := s.MustKubectl(t, "get", "jobs", "-o", "name")
	if n := strings.Count(jobs, "job.batch/catchup-"); n != 1 {
		t.Errorf("catch-up jobs = %d, want exactly 1:\n%s", n, jobs)
	}
	if n := strings.Count(jobs, "job.batch/missed-"); n != 0 {
		t.Errorf("missed jobs = %d, want 0 (past startingDeadlineSeconds):\n%s", n, jobs)
	}
	if n := countEvents(t, s, "default", "MissSchedule", "missed"); n < 1 {
		t.Errorf("no MissSchedule event for the missed run")
	}
}
