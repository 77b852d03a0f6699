// Package simulated is a container runtime that runs nothing: each container
// run goes through the same lifecycle (start, run, exit) as a real one, on
// timers, so that the node agent reports the same pod statuses without
// processes. It carries tens of thousands of runs in one process: a sleeping
// run costs a timer, not a goroutine. It does not run images, commands,
// probes or hooks; it answers them from pod annotations.
//
// Behaviour is set by pod annotations with the prefix simulate.herd.dev/.
// Each key may be suffixed with ".<container name>" to apply to one
// container only (e.g. simulate.herd.dev/exit-code.worker: "3"); the
// suffixed key wins over the plain one.
//
//	duration            Go duration each run lasts before it exits on its
//	                    own. Default: a container whose restart policy is
//	                    Always (the pod's, or a sidecar init container's)
//	                    and no exit-code runs until stopped; others exit after
//	                    Options.DefaultDuration (default 0: at once).
//	exit-code           exit code of a run that ends on its own (default 0;
//	                    reason Completed for 0, Error otherwise).
//	fail-attempts       N: only runs with attempt < N fail, with exit-code
//	                    (default 1); later runs exit 0 (or, under Always
//	                    and without duration, keep running).
//	oom                 "true": a run ends as OOMKilled with exit code 137
//	                    after duration.
//	start-error         message: starting fails with CreateContainerError.
//	image-pull-error    message (or "true"): pulling the image fails:
//	                    ErrImagePull, then ImagePullBackOff with back-off,
//	                    as with an image the registry does not have.
//	                    Options.MissingImages (herd server
//	                    --simulated-missing-images) marks images missing
//	                    for every pod.
//	config-error        message: starting fails with
//	                    CreateContainerConfigError.
//	readiness-delay     Go duration: readiness probes fail until the run has
//	                    been up this long (default 0).
//	startup-delay       Go duration: startup probes fail until then.
//	liveness-fail-after Go duration: liveness probes fail once the run has
//	                    been up this long (default: never).
//	probe-fail          "true": every probe of the container fails.
//	exec-exit-code      exit code of Exec (default 0).
//	stop-delay          Go duration a run takes to exit after SIGTERM
//	                    (default 0); if longer than the grace period the
//	                    run is killed at the end of it with exit code 137.
//	stop-exit-code      exit code of a run that exits after SIGTERM
//	                    (default 0).
//	cpu-usage           quantity (e.g. "250m"): the CPU the running
//	                    container uses, for metrics.k8s.io (kubectl top,
//	                    HorizontalPodAutoscalers); default: its cpu request,
//	                    else 0. Read from the pod as it is now: annotate a
//	                    running pod to change its usage.
//	memory-usage        quantity (e.g. "64Mi"): its memory working set;
//	                    default: its memory request, else 0.
//
// Integer values are range-checked (exit codes 0–255, fail-attempts ≥ 0)
// and durations must not be negative: a bad value fails the start with
// CreateContainerConfigError and a message naming the annotation.
//
// The runtime keeps nothing on disk: after a restart of the server, the
// agent hands it every run the API shows running (runtime.Adopter) and the
// run goes on, its end timed from its original start.
//
// Every run writes CRI-format log lines ("simulated container x started",
// "... exited with code N") to LogPath so that logs work.
package simulated

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/agent/runtime"
)

// runIDPrefix starts the id of every simulated run.
const runIDPrefix = "sim-"

// AnnotationPrefix starts every annotation the simulated runtime reads.
const AnnotationPrefix = "simulate.herd.dev/"

// Options configures a simulated runtime.
type Options struct {
	// LogDir holds the runs' log files (default: a herd-simulated directory
	// under os.TempDir()).
	LogDir string
	// Clock drives the runs' timers (default: the real clock).
	Clock clock.WithTicker
	// DefaultDuration is how long a run that does not run forever lasts
	// when the pod does not say (default 0).
	DefaultDuration time.Duration
	// DisableLogs skips writing log files (for very large benchmarks).
	DisableLogs bool
	// MissingImages are images whose pull fails (ErrImagePull, then
	// ImagePullBackOff), as if the registry did not have them.
	MissingImages []string
}

// Runtime is the simulated runtime. It is safe for concurrent use.
type Runtime struct {
	opts Options
	clk  clock.WithTicker

	mu   sync.Mutex
	seq  uint64
	runs map[runtime.ContainerID]*run
	pods map[types.UID]map[runtime.ContainerID]*run

	qmu   sync.Mutex
	qcond *sync.Cond
	queue []runtime.ContainerStatus
	exits chan runtime.ContainerStatus

	// stop ends the runtime's goroutines (Close); delivered is closed when
	// the exit delivery goroutine has returned.
	stop      chan struct{}
	stopOnce  sync.Once
	delivered chan struct{}
}

type run struct {
	status runtime.ContainerStatus
	beh    behaviour
	timer  clock.Timer
	done   chan struct{}
}

type behaviour struct {
	forever        bool
	duration       time.Duration
	exitCode       int32
	oom            bool
	readinessDelay time.Duration
	startupDelay   time.Duration
	livenessAfter  time.Duration // <0: never
	probeFail      bool
	execExitCode   int
	stopDelay      time.Duration
	stopExitCode   int32
}

var _ runtime.Runtime = (*Runtime)(nil)
var _ runtime.Prober = (*Runtime)(nil)
var _ runtime.Adopter = (*Runtime)(nil)

// New returns a simulated runtime.
func New(opts Options) *Runtime {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.LogDir == "" {
		opts.LogDir = filepath.Join(os.TempDir(), "herd-simulated")
	}
	r := &Runtime{
		opts:      opts,
		clk:       opts.Clock,
		runs:      map[runtime.ContainerID]*run{},
		pods:      map[types.UID]map[runtime.ContainerID]*run{},
		exits:     make(chan runtime.ContainerStatus, 1024),
		stop:      make(chan struct{}),
		delivered: make(chan struct{}),
	}
	r.qcond = sync.NewCond(&r.qmu)
	go r.deliver()
	return r
}

// Close stops delivering exits and ends the runtime's goroutines; the
// simulated containers are left as they are. Safe to call more than once.
func (r *Runtime) Close() {
	r.stopOnce.Do(func() {
		r.qmu.Lock()
		close(r.stop)
		r.qcond.Broadcast()
		r.qmu.Unlock()
	})
}

func (r *Runtime) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// deliver moves queued exits to the Exits channel, so that timers never
// block on a slow reader. It returns on Close.
func (r *Runtime) deliver() {
	defer close(r.delivered)
	for {
		r.qmu.Lock()
		for len(r.queue) == 0 && !r.stopped() {
			r.qcond.Wait()
		}
		if r.stopped() {
			r.qmu.Unlock()
			return
		}
		st := r.queue[0]
		r.queue[0] = runtime.ContainerStatus{}
		r.queue = r.queue[1:]
		r.qmu.Unlock()
		select {
		case r.exits <- st:
		case <-r.stop:
			return
		}
	}
}

// Name implements runtime.Runtime.
func (r *Runtime) Name() string { return "simulated" }

// Exits implements runtime.Runtime.
func (r *Runtime) Exits() <-chan runtime.ContainerStatus { return r.exits }

// PreparePod implements runtime.Runtime; a simulated sandbox needs nothing.
func (r *Runtime) PreparePod(ctx context.Context, pod *corev1.Pod) error { return nil }

func annotation(pod *corev1.Pod, container, key string) (string, bool) {
	if v, ok := pod.Annotations[AnnotationPrefix+key+"."+container]; ok {
		return v, true
	}
	v, ok := pod.Annotations[AnnotationPrefix+key]
	return v, ok
}

func durationAnnotation(pod *corev1.Pod, container, key string, def time.Duration) (time.Duration, error) {
	v, ok := annotation(pod, container, key)
	if !ok {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("annotation %s%s: invalid duration %q", AnnotationPrefix, key, v)
	}
	if d < 0 {
		return 0, fmt.Errorf("annotation %s%s: duration %q must not be negative", AnnotationPrefix, key, v)
	}
	return d, nil
}

// intAnnotation reads an integer annotation in [min, max].
func intAnnotation(pod *corev1.Pod, container, key string, def, min, max int) (int, error) {
	v, ok := annotation(pod, container, key)
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("annotation %s%s: invalid integer %q", AnnotationPrefix, key, v)
	}
	if n < int64(min) || n > int64(max) {
		return 0, fmt.Errorf("annotation %s%s: %q is out of range: must be between %d and %d", AnnotationPrefix, key, v, min, max)
	}
	return int(n), nil
}

const (
	maxExitCode = 255
	// maxAttempts bounds fail-attempts (a restart count is an int32).
	maxAttempts = 1<<31 - 1
)

func restartsAlways(pod *corev1.Pod, c *corev1.Container) bool {
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == c.Name {
			return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		}
	}
	if c.RestartPolicy != nil {
		return *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
	}
	return pod.Spec.RestartPolicy == corev1.RestartPolicyAlways || pod.Spec.RestartPolicy == ""
}

func (r *Runtime) behaviourFor(pod *corev1.Pod, c *corev1.Container, attempt int) (behaviour, error) {
	var b behaviour
	var err error
	fail := func(e error) {
		if err == nil && e != nil {
			err = e
		}
	}
	_, hasDuration := annotation(pod, c.Name, "duration")
	d, e := durationAnnotation(pod, c.Name, "duration", r.opts.DefaultDuration)
	fail(e)
	b.duration = d
	_, hasExit := annotation(pod, c.Name, "exit-code")
	b.forever = restartsAlways(pod, c) && !hasDuration && !hasExit
	code, e := intAnnotation(pod, c.Name, "exit-code", 0, 0, maxExitCode)
	fail(e)
	if _, ok := annotation(pod, c.Name, "fail-attempts"); ok {
		n, e := intAnnotation(pod, c.Name, "fail-attempts", 1, 0, maxAttempts)
		fail(e)
		if code == 0 {
			code = 1
		}
		b.forever = false
		if attempt >= n {
			code = 0
			b.forever = restartsAlways(pod, c) && !hasDuration
		}
	}
	b.exitCode = int32(code)
	if v, ok := annotation(pod, c.Name, "oom"); ok && v == "true" {
		b.oom = true
		b.forever = false
	}
	b.readinessDelay, e = durationAnnotation(pod, c.Name, "readiness-delay", 0)
	fail(e)
	b.startupDelay, e = durationAnnotation(pod, c.Name, "startup-delay", 0)
	fail(e)
	b.livenessAfter, e = durationAnnotation(pod, c.Name, "liveness-fail-after", -1)
	if _, ok := annotation(pod, c.Name, "liveness-fail-after"); !ok {
		b.livenessAfter = -1
	}
	fail(e)
	if v, ok := annotation(pod, c.Name, "probe-fail"); ok && v == "true" {
		b.probeFail = true
	}
	b.execExitCode, e = intAnnotation(pod, c.Name, "exec-exit-code", 0, 0, maxExitCode)
	fail(e)
	b.stopDelay, e = durationAnnotation(pod, c.Name, "stop-delay", 0)
	fail(e)
	sc, e := intAnnotation(pod, c.Name, "stop-exit-code", 0, 0, maxExitCode)
	fail(e)
	b.stopExitCode = int32(sc)
	return b, err
}

// StartContainer implements runtime.Runtime.
func (r *Runtime) StartContainer(ctx context.Context, pod *corev1.Pod, c *corev1.Container, opts runtime.StartOptions) (runtime.ContainerStatus, error) {
	if v, ok := annotation(pod, c.Name, "config-error"); ok {
		return runtime.ContainerStatus{}, &runtime.StartError{Reason: "CreateContainerConfigError", Message: v}
	}
	if v, ok := annotation(pod, c.Name, "start-error"); ok {
		return runtime.ContainerStatus{}, &runtime.StartError{Reason: "CreateContainerError", Message: v}
	}
	if msg, failed := r.imagePullError(pod, c); failed {
		return runtime.ContainerStatus{}, &runtime.StartError{Reason: runtime.ReasonErrImagePull, Message: msg}
	}
	beh, err := r.behaviourFor(pod, c, opts.Attempt)
	if err != nil {
		return runtime.ContainerStatus{}, &runtime.StartError{Reason: "CreateContainerConfigError", Message: err.Error()}
	}
	now := r.clk.Now()
	r.mu.Lock()
	r.seq++
	id := runtime.ContainerID(fmt.Sprintf(runIDPrefix+"%s-%s-%d-%d", pod.UID, c.Name, opts.Attempt, r.seq))
	r.mu.Unlock()
	started := r.startRun(pod, c, id, opts.Attempt, now, beh, now)
	r.writeLog(started, now, fmt.Sprintf("simulated container %s started (attempt %d)", c.Name, opts.Attempt))
	return started, nil
}

// imagePullError says whether pulling c's image fails: the image-pull-error
// annotation (its value is the message) or an image in
// Options.MissingImages.
func (r *Runtime) imagePullError(pod *corev1.Pod, c *corev1.Container) (string, bool) {
	if v, ok := annotation(pod, c.Name, "image-pull-error"); ok {
		if v == "" || v == "true" {
			v = fmt.Sprintf("failed to pull and unpack image %q: simulated image pull failure", c.Image)
		}
		return v, true
	}
	for _, img := range r.opts.MissingImages {
		if img == c.Image {
			return fmt.Sprintf("failed to pull and unpack image %q: not found (marked missing with --simulated-missing-images)", c.Image), true
		}
	}
	return "", false
}

// startRun registers a run started at startedAt and, unless it runs until
// stopped, arranges its end (at once when that time has passed). It
// returns the run's status, which may already be exited.
func (r *Runtime) startRun(pod *corev1.Pod, c *corev1.Container, id runtime.ContainerID, attempt int, startedAt time.Time, beh behaviour, now time.Time) runtime.ContainerStatus {
	r.mu.Lock()
	ru := &run{
		status: runtime.ContainerStatus{
			ID: id, PodUID: pod.UID, PodNamespace: pod.Namespace, PodName: pod.Name,
			Name: c.Name, Attempt: attempt, State: runtime.StateRunning, StartedAt: startedAt,
		},
		beh:  beh,
		done: make(chan struct{}),
	}
	r.runs[id] = ru
	if r.pods[pod.UID] == nil {
		r.pods[pod.UID] = map[runtime.ContainerID]*run{}
	}
	r.pods[pod.UID][id] = ru
	started := ru.status
	r.mu.Unlock()

	if !beh.forever {
		code, reason := beh.exitCode, "Completed"
		if beh.oom {
			code, reason = 137, "OOMKilled"
		} else if code != 0 {
			reason = "Error"
		}
		finishAt := startedAt.Add(beh.duration)
		if left := finishAt.Sub(now); left <= 0 {
			// Ended before StartContainer returns: report the end at once
			// (it is also delivered on Exits).
			r.finish(ru, code, reason, finishAt, false)
			r.mu.Lock()
			started = ru.status
			r.mu.Unlock()
		} else {
			r.setTimer(ru, r.afterFunc(left, func() { r.finish(ru, code, reason, finishAt, true) }))
		}
	}
	return started
}

// Adopt implements runtime.Adopter: a simulated run the API shows running
// (the server restarted; this runtime keeps nothing on disk) goes on as it
// would have, its end timed from its original start, as kwok's pods survive
// a control-plane restart. Only its own runs (ids "sim-…") are adopted.
func (r *Runtime) Adopt(pod *corev1.Pod, c *corev1.Container, id runtime.ContainerID, attempt int, startedAt time.Time) (runtime.ContainerStatus, bool) {
	if !strings.HasPrefix(string(id), runIDPrefix) {
		return runtime.ContainerStatus{}, false
	}
	beh, err := r.behaviourFor(pod, c, attempt)
	if err != nil {
		return runtime.ContainerStatus{}, false
	}
	r.mu.Lock()
	_, known := r.runs[id]
	r.mu.Unlock()
	if known {
		return runtime.ContainerStatus{}, false
	}
	return r.startRun(pod, c, id, attempt, startedAt, beh, r.clk.Now()), true
}

// afterFunc runs f after d on the runtime's clock. Callbacks must not read
// the clock (the fake clock holds its lock while calling them).
func (r *Runtime) afterFunc(d time.Duration, f func()) clock.Timer {
	if dc, ok := r.clk.(clock.WithDelayedExecution); ok {
		return dc.AfterFunc(d, f)
	}
	t := r.clk.NewTimer(d)
	go func() {
		select {
		case <-t.C():
			f()
		case <-r.stop:
		}
	}()
	return t
}

// setTimer records t as ru's pending timer, replacing (and stopping) the
// previous one. Timers are created and stopped outside r.mu: the fake clock
// calls timer callbacks (which take r.mu) with its own lock held.
func (r *Runtime) setTimer(ru *run, t clock.Timer) {
	r.mu.Lock()
	old := ru.timer
	exited := ru.status.State == runtime.StateExited
	if !exited {
		ru.timer = t
	}
	r.mu.Unlock()
	if old != nil {
		old.Stop()
	}
	if exited {
		t.Stop()
	}
}

// finish ends a run once; later calls do nothing. fromTimer says it is
// called by the run's own timer, which must then not be stopped.
func (r *Runtime) finish(ru *run, code int32, reason string, at time.Time, fromTimer bool) {
	r.mu.Lock()
	if ru.status.State == runtime.StateExited {
		r.mu.Unlock()
		return
	}
	t := ru.timer
	ru.timer = nil
	if fromTimer {
		t = nil
	}
	ru.status.State = runtime.StateExited
	ru.status.ExitCode = code
	ru.status.Reason = reason
	ru.status.FinishedAt = at
	st := ru.status
	close(ru.done)
	r.mu.Unlock()
	if t != nil {
		t.Stop()
	}
	r.writeLog(st, at, fmt.Sprintf("simulated container %s exited with code %d", st.Name, code))
	r.qmu.Lock()
	r.queue = append(r.queue, st)
	r.qcond.Signal()
	r.qmu.Unlock()
}

// StopContainer implements runtime.Runtime.
func (r *Runtime) StopContainer(ctx context.Context, id runtime.ContainerID, grace time.Duration) error {
	r.mu.Lock()
	ru, ok := r.runs[id]
	if !ok {
		r.mu.Unlock()
		return fmt.Errorf("container %s not found", id)
	}
	if ru.status.State == runtime.StateExited {
		r.mu.Unlock()
		return nil
	}
	beh := ru.beh
	r.mu.Unlock()
	now := r.clk.Now()
	code, reason, after := beh.stopExitCode, "Completed", beh.stopDelay
	if code != 0 {
		reason = "Error"
	}
	if grace < 0 {
		grace = 0
	}
	if after > grace {
		code, reason, after = 137, "Error", grace
	}
	if after == 0 {
		r.finish(ru, code, reason, now, false)
		return nil
	}
	at := now.Add(after)
	r.setTimer(ru, r.afterFunc(after, func() { r.finish(ru, code, reason, at, true) }))
	select {
	case <-ru.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Exec implements runtime.Runtime: it runs nothing and returns the
// exec-exit-code annotation.
func (r *Runtime) Exec(ctx context.Context, id runtime.ContainerID, cmd []string, streams runtime.ExecStreams) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ru, ok := r.runs[id]
	if !ok || ru.status.State != runtime.StateRunning {
		return 0, fmt.Errorf("container %s is not running", id)
	}
	return ru.beh.execExitCode, nil
}

// Attach implements runtime.Runtime: a simulated container has no output
// stream to attach to.
func (r *Runtime) Attach(ctx context.Context, id runtime.ContainerID, streams runtime.ExecStreams) error {
	return fmt.Errorf("container %s runs on the simulated runtime: there is no process to attach to (kubectl logs shows its simulated output)", id)
}

// Probe implements runtime.Prober from the run's annotations.
func (r *Runtime) Probe(ctx context.Context, id runtime.ContainerID, kind runtime.ProbeType, handler *corev1.ProbeHandler) (bool, string, error) {
	r.mu.Lock()
	ru, ok := r.runs[id]
	if !ok || ru.status.State != runtime.StateRunning {
		r.mu.Unlock()
		return false, "", fmt.Errorf("container %s is not running", id)
	}
	beh, started := ru.beh, ru.status.StartedAt
	r.mu.Unlock()
	up := r.clk.Since(started)
	switch kind {
	case runtime.HookPostStart, runtime.HookPreStop:
		return true, "", nil
	}
	if beh.probeFail {
		return false, "simulated probe failure", nil
	}
	switch kind {
	case runtime.ProbeReadiness:
		if up < beh.readinessDelay {
			return false, fmt.Sprintf("simulated: not ready for %s more", beh.readinessDelay-up), nil
		}
	case runtime.ProbeStartup:
		if up < beh.startupDelay {
			return false, fmt.Sprintf("simulated: not started for %s more", beh.startupDelay-up), nil
		}
	case runtime.ProbeLiveness:
		if beh.livenessAfter >= 0 && up >= beh.livenessAfter {
			return false, "simulated liveness failure", nil
		}
	}
	return true, "", nil
}

// ListContainers implements runtime.Runtime.
func (r *Runtime) ListContainers(ctx context.Context) ([]runtime.ContainerStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]runtime.ContainerStatus, 0, len(r.runs))
	for _, ru := range r.runs {
		out = append(out, ru.status)
	}
	return out, nil
}

// RemovePod implements runtime.Runtime.
func (r *Runtime) RemovePod(ctx context.Context, podUID types.UID) error {
	r.mu.Lock()
	runs := r.pods[podUID]
	r.mu.Unlock()
	now := r.clk.Now()
	for _, ru := range runs {
		r.finish(ru, 137, "Error", now, false)
	}
	r.mu.Lock()
	for id := range runs {
		delete(r.runs, id)
	}
	delete(r.pods, podUID)
	r.mu.Unlock()
	if !r.opts.DisableLogs {
		return os.RemoveAll(filepath.Join(r.opts.LogDir, string(podUID)))
	}
	return nil
}

// LogPath implements runtime.Runtime.
func (r *Runtime) LogPath(podUID types.UID, container string, attempt int) string {
	return filepath.Join(r.opts.LogDir, string(podUID), container, strconv.Itoa(attempt)+".log")
}

func (r *Runtime) writeLog(st runtime.ContainerStatus, at time.Time, line string) {
	if r.opts.DisableLogs {
		return
	}
	p := r.LogPath(st.PodUID, st.Name, st.Attempt)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	fmt.Fprintf(f, "%s stdout F %s\n", at.UTC().Format(time.RFC3339Nano), line)
	f.Close()
}
