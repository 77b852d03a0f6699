package simulated

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/herd-project/herd/pkg/agent/runtime"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func pod(policy corev1.RestartPolicy, ann map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1", Annotations: ann},
		Spec:       corev1.PodSpec{RestartPolicy: policy, Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}},
	}
}

func exit(t *testing.T, r *Runtime) runtime.ContainerStatus {
	t.Helper()
	select {
	case st := <-r.Exits():
		return st
	case <-time.After(5 * time.Second):
		t.Fatal("no exit")
	}
	return runtime.ContainerStatus{}
}

func noExit(t *testing.T, r *Runtime) {
	t.Helper()
	select {
	case st := <-r.Exits():
		t.Fatalf("unexpected exit %+v", st)
	case <-time.After(20 * time.Millisecond):
	}
}

func TestLifecycle(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	r := New(Options{LogDir: t.TempDir(), Clock: clk})
	ctx := context.Background()
	p := pod(corev1.RestartPolicyNever, map[string]string{
		AnnotationPrefix + "duration": "10s", AnnotationPrefix + "exit-code.b": "4",
	})
	stida, err := r.StartContainer(ctx, p, &p.Spec.Containers[0], runtime.StartOptions{})
	ida := stida.ID
	if err != nil {
		t.Fatal(err)
	}
	stidb, _ := r.StartContainer(ctx, p, &p.Spec.Containers[1], runtime.StartOptions{Attempt: 2})
	idb := stidb.ID
	noExit(t, r)
	clk.Step(10 * time.Second)
	got := map[runtime.ContainerID]runtime.ContainerStatus{}
	for i := 0; i < 2; i++ {
		st := exit(t, r)
		got[st.ID] = st
	}
	a, b := got[ida], got[idb]
	if a.ExitCode != 0 || a.Reason != "Completed" || !a.FinishedAt.Equal(t0.Add(10*time.Second)) || !a.StartedAt.Equal(t0) {
		t.Errorf("a %+v", a)
	}
	if b.ExitCode != 4 || b.Reason != "Error" || b.Attempt != 2 || b.Name != "b" {
		t.Errorf("b %+v", b)
	}
	list, _ := r.ListContainers(ctx)
	if len(list) != 2 || list[0].State != runtime.StateExited {
		t.Errorf("list %+v", list)
	}
	log, err := os.ReadFile(r.LogPath("u1", "b", 2))
	if err != nil || !strings.Contains(string(log), "2026-01-02T03:04:05Z stdout F simulated container b started (attempt 2)\n") ||
		!strings.Contains(string(log), "2026-01-02T03:04:15Z stdout F simulated container b exited with code 4\n") {
		t.Errorf("log %q %v", log, err)
	}
	if err := r.RemovePod(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if list, _ := r.ListContainers(ctx); len(list) != 0 {
		t.Errorf("after RemovePod %+v", list)
	}
	if _, err := os.Stat(r.LogPath("u1", "b", 2)); !os.IsNotExist(err) {
		t.Errorf("logs not removed: %v", err)
	}
}

func TestDefaultsAndStop(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	r := New(Options{LogDir: t.TempDir(), Clock: clk})
	ctx := context.Background()
	// Always: runs until stopped
	p := pod(corev1.RestartPolicyAlways, map[string]string{AnnotationPrefix + "stop-delay": "5s"})
	stid, _ := r.StartContainer(ctx, p, &p.Spec.Containers[0], runtime.StartOptions{})
	id := stid.ID
	clk.Step(time.Hour)
	noExit(t, r)
	done := make(chan error)
	go func() { done <- r.StopContainer(ctx, id, 30*time.Second) }()
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	clk.Step(5 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := exit(t, r); st.ExitCode != 0 || st.Reason != "Completed" {
		t.Errorf("graceful stop %+v", st)
	}
	// stop-delay longer than grace: killed at the end of grace
	stid2, _ := r.StartContainer(ctx, p, &p.Spec.Containers[1], runtime.StartOptions{})
	id2 := stid2.ID
	go func() { done <- r.StopContainer(ctx, id2, 2*time.Second) }()
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	clk.Step(2 * time.Second)
	<-done
	if st := exit(t, r); st.ExitCode != 137 || st.Reason != "Error" {
		t.Errorf("killed %+v", st)
	}
	// OnFailure without annotations exits 0 at once
	p2 := pod(corev1.RestartPolicyOnFailure, nil)
	p2.UID = "u2"
	r.StartContainer(ctx, p2, &p2.Spec.Containers[0], runtime.StartOptions{})
	if st := exit(t, r); st.ExitCode != 0 || !st.FinishedAt.Equal(st.StartedAt) {
		t.Errorf("default %+v", st)
	}
}

func TestFailuresAndProbes(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	r := New(Options{LogDir: t.TempDir(), Clock: clk})
	ctx := context.Background()
	p := pod(corev1.RestartPolicyAlways, map[string]string{AnnotationPrefix + "start-error.b": "no command"})
	_, err := r.StartContainer(ctx, p, &p.Spec.Containers[1], runtime.StartOptions{})
	var se *runtime.StartError
	if !errors.As(err, &se) || se.Reason != "CreateContainerError" || se.Message != "no command" {
		t.Fatalf("start error %v", err)
	}
	p = pod(corev1.RestartPolicyAlways, map[string]string{AnnotationPrefix + "duration": "bogus"})
	if _, err := r.StartContainer(ctx, p, &p.Spec.Containers[0], runtime.StartOptions{}); !errors.As(err, &se) || se.Reason != "CreateContainerConfigError" {
		t.Fatalf("bad annotation %v", err)
	}
	p = pod(corev1.RestartPolicyAlways, map[string]string{
		AnnotationPrefix + "readiness-delay": "20s", AnnotationPrefix + "liveness-fail-after": "1m",
		AnnotationPrefix + "fail-attempts": "2", AnnotationPrefix + "oom.b": "true", AnnotationPrefix + "duration.b": "3s",
	})
	stid, _ := r.StartContainer(ctx, p, &p.Spec.Containers[0], runtime.StartOptions{})
	id := stid.ID
	probe := func(k runtime.ProbeType) bool {
		ok, _, err := r.Probe(ctx, id, k, &corev1.ProbeHandler{})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if st := exit(t, r); st.ExitCode != 1 || st.ID != id {
		t.Fatalf("fail-attempts run 0: %+v", st)
	}
	stid, _ = r.StartContainer(ctx, p, &p.Spec.Containers[0], runtime.StartOptions{Attempt: 2})
	id = stid.ID
	noExit(t, r)
	if probe(runtime.ProbeReadiness) || !probe(runtime.ProbeLiveness) {
		t.Error("probes at 0s")
	}
	clk.Step(20 * time.Second)
	if !probe(runtime.ProbeReadiness) {
		t.Error("not ready at 20s")
	}
	clk.Step(40 * time.Second)
	if probe(runtime.ProbeLiveness) {
		t.Error("alive at 60s")
	}
	stidb, _ := r.StartContainer(ctx, p, &p.Spec.Containers[1], runtime.StartOptions{})
	idb := stidb.ID
	clk.Step(3 * time.Second)
	if st := exit(t, r); st.ID != idb || st.ExitCode != 137 || st.Reason != "OOMKilled" {
		t.Errorf("oom %+v", st)
	}
}

// TestInstantExitReportedByStart: a run that ends at once is returned ended
// by StartContainer (so the agent writes one status), and delivered on
// Exits once.
func TestInstantExitReportedByStart(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	r := New(Options{LogDir: t.TempDir(), Clock: clk})
	p := pod(corev1.RestartPolicyNever, map[string]string{AnnotationPrefix + "exit-code.a": "3"})
	st, err := r.StartContainer(context.Background(), p, &p.Spec.Containers[0], runtime.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.State != runtime.StateExited || st.ExitCode != 3 || st.Reason != "Error" || !st.StartedAt.Equal(t0) || !st.FinishedAt.Equal(t0) {
		t.Fatalf("StartContainer returned %+v", st)
	}
	if ex := exit(t, r); ex.ID != st.ID || ex.ExitCode != 3 {
		t.Errorf("exit %+v", ex)
	}
	noExit(t, r)
}

// Annotation values are range-checked: no wrap-around, no negative codes
// or durations; a bad value is a CreateContainerConfigError naming it.
func TestAnnotationRanges(t *testing.T) {
	r := New(Options{LogDir: t.TempDir(), Clock: clocktesting.NewFakeClock(t0)})
	for ann, want := range map[string]string{
		"exit-code=99999999999":  `annotation simulate.herd.dev/exit-code: "99999999999" is out of range: must be between 0 and 255`,
		"exit-code=-1":           `annotation simulate.herd.dev/exit-code: "-1" is out of range: must be between 0 and 255`,
		"exit-code=256":          `annotation simulate.herd.dev/exit-code: "256" is out of range: must be between 0 and 255`,
		"stop-exit-code=300":     `annotation simulate.herd.dev/stop-exit-code: "300" is out of range: must be between 0 and 255`,
		"exec-exit-code=-3":      `annotation simulate.herd.dev/exec-exit-code: "-3" is out of range: must be between 0 and 255`,
		"fail-attempts=-1":       `annotation simulate.herd.dev/fail-attempts: "-1" is out of range: must be between 0 and 2147483647`,
		"duration=-1s":           `annotation simulate.herd.dev/duration: duration "-1s" must not be negative`,
		"readiness-delay=banana": `annotation simulate.herd.dev/readiness-delay: invalid duration "banana"`,
	} {
		k, v, _ := strings.Cut(ann, "=")
		p := pod(corev1.RestartPolicyNever, map[string]string{AnnotationPrefix + k: v})
		_, err := r.StartContainer(context.Background(), p, &p.Spec.Containers[0], runtime.StartOptions{})
		var se *runtime.StartError
		if !errors.As(err, &se) || se.Reason != "CreateContainerConfigError" || se.Message != want {
			t.Errorf("%s: got %v, want %s", ann, err, want)
		}
	}
	p := pod(corev1.RestartPolicyNever, map[string]string{AnnotationPrefix + "exit-code": "255"})
	if st, err := r.StartContainer(context.Background(), p, &p.Spec.Containers[0], runtime.StartOptions{}); err != nil || st.ExitCode != 255 {
		t.Errorf("exit-code 255: %+v, %v", st, err)
	}
}

// The image-pull-error annotation and Options.MissingImages fail the start
// with ErrImagePull.
func TestImagePullErrors(t *testing.T) {
	r := New(Options{LogDir: t.TempDir(), Clock: clocktesting.NewFakeClock(t0), MissingImages: []string{"registry.example/gone:1"}})
	p := pod(corev1.RestartPolicyAlways, map[string]string{AnnotationPrefix + "image-pull-error.a": "manifest unknown"})
	p.Spec.Containers[0].Image = "nginx:1"
	p.Spec.Containers[1].Image = "registry.example/gone:1"
	var se *runtime.StartError
	if _, err := r.StartContainer(context.Background(), p, &p.Spec.Containers[0], runtime.StartOptions{}); !errors.As(err, &se) ||
		se.Reason != "ErrImagePull" || se.Message != "manifest unknown" {
		t.Errorf("annotated: %v", err)
	}
	if _, err := r.StartContainer(context.Background(), p, &p.Spec.Containers[1], runtime.StartOptions{}); !errors.As(err, &se) ||
		se.Reason != "ErrImagePull" || !strings.Contains(se.Message, `"registry.example/gone:1": not found`) {
		t.Errorf("missing image: %v", err)
	}
	p.Spec.Containers[1].Image = "registry.example/gone:2"
	if _, err := r.StartContainer(context.Background(), p, &p.Spec.Containers[1], runtime.StartOptions{}); err != nil {
		t.Errorf("present image: %v", err)
	}
}

// A run adopted after a restart goes on: forever runs keep running, timed
// runs end at their original start plus duration (at once if past).
func TestAdopt(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	r := New(Options{LogDir: t.TempDir(), Clock: clk})
	p := pod(corev1.RestartPolicyNever, map[string]string{AnnotationPrefix + "duration.a": "10s", AnnotationPrefix + "duration.b": "3s"})
	st, ok := r.Adopt(p, &p.Spec.Containers[0], "sim-old-a", 2, t0.Add(-5*time.Second))
	if !ok || st.State != runtime.StateRunning || st.ID != "sim-old-a" || st.Attempt != 2 || !st.StartedAt.Equal(t0.Add(-5*time.Second)) {
		t.Fatalf("adopted %+v %v", st, ok)
	}
	if _, ok := r.Adopt(p, &p.Spec.Containers[0], "sim-old-a", 2, t0); ok {
		t.Error("adopted the same run twice")
	}
	stb, ok := r.Adopt(p, &p.Spec.Containers[1], "sim-old-b", 0, t0.Add(-5*time.Second))
	if !ok || stb.State != runtime.StateExited || !stb.FinishedAt.Equal(t0.Add(-2*time.Second)) {
		t.Fatalf("past its end: %+v", stb)
	}
	if ex := exit(t, r); ex.ID != "sim-old-b" {
		t.Fatalf("exit %+v", ex)
	}
	time.Sleep(20 * time.Millisecond)
	clk.Step(5 * time.Second)
	if ex := exit(t, r); ex.ID != "sim-old-a" || ex.ExitCode != 0 || !ex.FinishedAt.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("exit %+v", ex)
	}
	always := pod(corev1.RestartPolicyAlways, nil)
	if st, ok := r.Adopt(always, &always.Spec.Containers[0], "sim-old-c", 0, t0); !ok || st.State != runtime.StateRunning {
		t.Fatalf("forever %+v", st)
	}
	noExit(t, r)
	bad := pod(corev1.RestartPolicyNever, map[string]string{AnnotationPrefix + "exit-code": "-1"})
	if _, ok := r.Adopt(bad, &bad.Spec.Containers[0], "sim-old-d", 0, t0); ok {
		t.Error("adopted a run with a bad annotation")
	}
}

// Close ends the exit-delivery goroutine New starts (it used to run for the
// life of the process, one per runtime), also while exits wait unread.
func TestCloseEndsDeliveryGoroutine(t *testing.T) {
	for _, pending := range []int{0, 2000} {
		r := New(Options{LogDir: t.TempDir()})
		r.qmu.Lock()
		for i := 0; i < pending; i++ { // more than the Exits buffer: delivery blocks
			r.queue = append(r.queue, runtime.ContainerStatus{Name: "c"})
		}
		r.qcond.Signal()
		r.qmu.Unlock()
		r.Close()
		r.Close()
		select {
		case <-r.delivered:
		case <-time.After(30 * time.Second):
			t.Fatalf("delivery goroutine still runs after Close (%d exits pending)", pending)
		}
	}
}
