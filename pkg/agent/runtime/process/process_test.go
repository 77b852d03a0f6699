package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/herd-project/herd/pkg/agent/runtime"
	"github.com/herd-project/herd/pkg/agent/runtime/process/shim"
)

const shimEnv = "HERD_PROCESS_TEST_SHIM"

// TestMain runs the shim when the test binary is re-executed as one.
func TestMain(m *testing.M) {
	if os.Getenv(shimEnv) == "1" {
		os.Exit(shim.Main(os.Args[1:]))
	}
	os.Setenv(shimEnv, "1")
	os.Exit(m.Run())
}

func newRuntime(t *testing.T, dir string, mod func(*Config)) *Runtime {
	t.Helper()
	cfg := Config{
		StateDir:     dir,
		ShimCommand:  []string{os.Args[0]},
		Client:       fake.NewClientset(),
		PollInterval: 50 * time.Millisecond,
		NodeAllocatable: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("2"),
			corev1.ResourceMemory: resource.MustParse("4Gi"),
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func testPod(uid string, containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p-" + uid, Namespace: "ns", UID: types.UID(uid), Labels: map[string]string{"app": "x"}},
		Spec:       corev1.PodSpec{NodeName: "node1", Containers: containers},
	}
}

func sh(name, script string) corev1.Container {
	return corev1.Container{Name: name, Image: "busybox", Command: []string{"sh", "-c", script}}
}

func start(t *testing.T, r *Runtime, pod *corev1.Pod, i int) runtime.ContainerID {
	t.Helper()
	return startRun(t, r, pod, i).ID
}

func startRun(t *testing.T, r *Runtime, pod *corev1.Pod, i int) runtime.ContainerStatus {
	t.Helper()
	ctx := context.Background()
	if err := r.PreparePod(ctx, pod); err != nil {
		t.Fatal(err)
	}
	st, err := r.StartContainer(ctx, pod, &pod.Spec.Containers[i], runtime.StartOptions{NodeName: "node1", HostIP: "10.0.0.1", PodIP: "10.1.0.5"})
	if err != nil {
		t.Fatal(err)
	}
	if st.ID == "" || st.State != runtime.StateRunning || st.StartedAt.IsZero() {
		t.Fatalf("StartContainer returned %+v", st)
	}
	return st
}

func waitExit(t *testing.T, r *Runtime, id runtime.ContainerID, timeout time.Duration) runtime.ContainerStatus {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case st := <-r.Exits():
			if st.ID == id {
				return st
			}
		case <-deadline:
			t.Fatalf("no exit for %s within %v", id, timeout)
		}
	}
}

var criLine = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) (F|P) (.*)$`)

func readLog(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if l == "" {
			continue
		}
		m := criLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("not a CRI log line: %q", l)
		}
		out = append(out, m[1]+" "+m[2]+" "+m[3])
	}
	return out
}

func TestEchoLogsAndExitCodes(t *testing.T) {
	r := newRuntime(t, t.TempDir(), nil)
	cases := []struct {
		script string
		code   int32
		reason string
	}{
		{`echo hello from $HOSTNAME; echo oops >&2`, 0, "Completed"},
		{`exit 1`, 1, "Error"},
		{`kill -9 $$$$`, 137, "Error"},
	}
	for i, tc := range cases {
		pod := testPod(fmt.Sprintf("uid-exit-%d", i), sh("c", tc.script))
		id := start(t, r, pod, 0)
		st := waitExit(t, r, id, 10*time.Second)
		if st.State != runtime.StateExited || st.ExitCode != tc.code || st.Reason != tc.reason {
			t.Errorf("%q: got state %s code %d reason %q, want exited %d %q", tc.script, st.State, st.ExitCode, st.Reason, tc.code, tc.reason)
		}
		if st.PodName != pod.Name || st.PodNamespace != "ns" || st.Name != "c" || st.Attempt != 0 || st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
			t.Errorf("%q: bad identity/times: %+v", tc.script, st)
		}
		if i == 0 {
			got := readLog(t, r.LogPath(pod.UID, "c", 0))
			want := []string{"stdout F hello from p-uid-exit-0", "stderr F oops"}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				// stdout and stderr are separate pipes: order between them is not guaranteed.
				if len(got) != 2 || !(got[0] == want[1] && got[1] == want[0]) {
					t.Errorf("log = %q, want %q", got, want)
				}
			}
		}
	}
}

func TestStartErrors(t *testing.T) {
	r := newRuntime(t, t.TempDir(), nil)
	ctx := context.Background()
	noCmd := corev1.Container{Name: "c", Image: "nginx:1.27"}
	missingCM := sh("c", "true")
	missingCM.Env = []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}, Key: "k"}}}}
	notFound := corev1.Container{Name: "c", Image: "busybox", Command: []string{"no-such-command-herd"}}
	cases := []struct {
		c      corev1.Container
		reason string
		msg    string
	}{
		{noCmd, "CreateContainerError", "herd's process runtime runs the container's command on the host and cannot run image nginx:1.27's entrypoint: give the container a command"},
		{missingCM, "CreateContainerConfigError", `configmap "x" not found`},
	}
	for i, tc := range cases {
		pod := testPod(fmt.Sprintf("uid-err-%d", i), tc.c)
		if err := r.PreparePod(ctx, pod); err != nil {
			t.Fatal(err)
		}
		_, err := r.StartContainer(ctx, pod, &pod.Spec.Containers[0], runtime.StartOptions{})
		var se *runtime.StartError
		if !errors.As(err, &se) || se.Reason != tc.reason || se.Message != tc.msg {
			t.Errorf("case %d: got %v, want %s: %s", i, err, tc.reason, tc.msg)
		}
	}
	list, _ := r.ListContainers(ctx)
	if len(list) != 0 {
		t.Errorf("failed starts left runs: %+v", list)
	}

	// A command that does not exist: the run exists and ended at once with
	// containerd's StartError, exit code 128, reported on Exits too.
	pod := testPod("uid-start-error", notFound)
	if err := r.PreparePod(ctx, pod); err != nil {
		t.Fatal(err)
	}
	st, err := r.StartContainer(ctx, pod, &pod.Spec.Containers[0], runtime.StartOptions{})
	if err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	wantMsg := `unable to start container process: exec: "no-such-command-herd": executable file not found in $PATH`
	if st.State != runtime.StateExited || st.ExitCode != 128 || st.Reason != "StartError" || st.Message != wantMsg ||
		!st.StartedAt.Equal(time.Unix(0, 0)) || st.FinishedAt.IsZero() {
		t.Errorf("status %+v", st)
	}
	select {
	case ex := <-r.Exits():
		if ex.ID != st.ID || ex.Reason != "StartError" {
			t.Errorf("exit %+v", ex)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit delivered")
	}
	// A restarted runtime lists it the same.
	r2 := newRuntime(t, r.cfg.StateDir, nil)
	list, _ = r2.ListContainers(ctx)
	if len(list) != 1 || list[0].Reason != "StartError" || list[0].ExitCode != 128 || !list[0].StartedAt.Equal(time.Unix(0, 0)) {
		t.Errorf("after restart: %+v", list)
	}
}

func TestEnvWorkingDirAndExec(t *testing.T) {
	r := newRuntime(t, t.TempDir(), nil)
	wd := t.TempDir()
	c := sh("c", `echo "$GREETING $(MISSING) $$HOME" > out; sleep 30`)
	c.Command = []string{"sh", "-c", `echo "$1" > args; echo "$GREETING" > env; sleep 30`, "--", "$(GREETING)-$$(GREETING)-$(NOPE)"}
	c.Env = []corev1.EnvVar{{Name: "NAME", Value: "world"}, {Name: "GREETING", Value: "hello $(NAME)"}}
	c.WorkingDir = wd
	pod := testPod("uid-env", c)
	id := start(t, r, pod, 0)
	waitFile(t, filepath.Join(wd, "env"))
	if got := readTrim(t, filepath.Join(wd, "args")); got != "hello world-$(GREETING)-$(NOPE)" {
		t.Errorf("args = %q", got)
	}
	if got := readTrim(t, filepath.Join(wd, "env")); got != "hello world" {
		t.Errorf("env = %q", got)
	}
	var out, errb bytes.Buffer
	code, err := r.Exec(context.Background(), id, []string{"sh", "-c", "pwd; echo $NAME; exit 3"}, runtime.ExecStreams{Stdout: &out, Stderr: &errb})
	if err != nil || code != 3 || out.String() != wd+"\nworld\n" {
		t.Errorf("exec = %d %v %q (stderr %q)", code, err, out.String(), errb.String())
	}
	code, err = r.Exec(context.Background(), id, []string{"no-such-command-herd"}, runtime.ExecStreams{Stdout: &out, Stderr: &errb})
	if err != nil || code != 127 {
		t.Errorf("exec of a missing command = %d %v, want 127", code, err)
	}
	// stdin is copied to the command; a command that ends without reading
	// all of it ends the exec even though the client's stdin stays open.
	out.Reset()
	code, err = r.Exec(context.Background(), id, []string{"sh", "-c", "read line; echo got $line"},
		runtime.ExecStreams{Stdin: io.MultiReader(strings.NewReader("abc\n"), blockingReader{}), Stdout: &out})
	if err != nil || code != 0 || out.String() != "got abc\n" {
		t.Errorf("exec with stdin = %d %v %q", code, err, out.String())
	}
	// On a terminal: stdin, stdout and stderr are the terminal, sized as asked.
	out.Reset()
	sizes := make(chan runtime.TerminalSize, 1)
	sizes <- runtime.TerminalSize{Width: 101, Height: 33}
	code, err = r.Exec(context.Background(), id, []string{"sh", "-c", "sleep 0.3; tty; stty size; echo to-stderr >&2"},
		runtime.ExecStreams{Stdout: &out, TTY: true, Resize: sizes})
	if got := strings.ReplaceAll(out.String(), "\r\n", "\n"); err != nil || code != 0 ||
		!strings.HasPrefix(got, "/dev/pts/") || !strings.HasSuffix(got, "\n33 101\nto-stderr\n") {
		t.Errorf("exec on a terminal = %d %v %q", code, err, out.String())
	}
	if err := r.StopContainer(context.Background(), id, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	st := waitExit(t, r, id, 5*time.Second)
	if st.ExitCode != 143 || st.Reason != "Error" {
		t.Errorf("stopped: %+v", st)
	}
}

// blockingReader never returns: a client that keeps stdin open.
type blockingReader struct{}

func (blockingReader) Read([]byte) (int, error) { select {} }

func waitFile(t *testing.T, p string) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if fi, err := os.Stat(p); err == nil && fi.Size() > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", p)
}

func readTrim(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// TestAttach: a container with stdin (stdinOnce) takes an attached
// client's input and ends when it closes; one with a terminal echoes and
// resizes like one.
func TestAttach(t *testing.T) {
	r := newRuntime(t, t.TempDir(), nil)
	c := sh("c", "read line; echo got $line; cat; echo bye >&2")
	c.Stdin, c.StdinOnce = true, true
	pod := testPod("uid-attach", c)
	id := start(t, r, pod, 0)
	var out, errb syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := r.Attach(ctx, id, runtime.ExecStreams{Stdin: strings.NewReader("hello\nworld\n"), Stdout: &out, Stderr: &errb})
	if err != nil || out.String() != "got hello\nworld\n" || errb.String() != "bye\n" {
		t.Errorf("attach: %v stdout %q stderr %q", err, out.String(), errb.String())
	}
	waitExit(t, r, id, 5*time.Second)
	if err := r.Attach(ctx, id, runtime.ExecStreams{Stdout: &out}); err == nil {
		t.Error("attached to an ended container")
	}

	tc := sh("t", "read x; stty size; echo x=$x")
	tc.Stdin, tc.StdinOnce, tc.TTY = true, true, true
	tpod := testPod("uid-attach-tty", tc)
	tid := start(t, r, tpod, 0)
	out.Reset()
	sizes := make(chan runtime.TerminalSize, 1)
	sizes <- runtime.TerminalSize{Width: 90, Height: 20}
	pr, pw := io.Pipe()
	go func() {
		time.Sleep(300 * time.Millisecond) // the resize lands first
		_, _ = io.WriteString(pw, "abc\n")
	}()
	err = r.Attach(ctx, tid, runtime.ExecStreams{Stdin: pr, Stdout: &out, TTY: true, Resize: sizes})
	pw.Close()
	got := strings.ReplaceAll(out.String(), "\r\n", "\n")
	if err != nil || got != "abc\n20 90\nx=abc\n" {
		t.Errorf("attach on a terminal: %v %q", err, out.String())
	}
}

// TestAttachSessions: stdinOnce ends stdin only with a session that carried
// stdin; a terminal's stdinOnce hangs it up; a socket taken by another
// process is refused.
func TestAttachSessions(t *testing.T) {
	stateDir := t.TempDir()
	r := newRuntime(t, stateDir, nil)
	ctx := context.Background()

	c := sh("c", "cat")
	c.Stdin, c.StdinOnce = true, true
	pod := testPod("uid-once", c)
	id := start(t, r, pod, 0)
	// An output-only session comes and goes: stdin stays open.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_ = r.Attach(short, id, runtime.ExecStreams{Stdout: io.Discard})
	cancel()
	var out syncBuffer
	if err := r.Attach(ctx, id, runtime.ExecStreams{Stdin: strings.NewReader("still open\n"), Stdout: &out}); err != nil || out.String() != "still open\n" {
		t.Errorf("attach after an output-only session: %v %q", err, out.String())
	}
	waitExit(t, r, id, 5*time.Second)

	tc := sh("t", "read x; echo x=$x")
	tc.Stdin, tc.StdinOnce, tc.TTY = true, true, true
	tpod := testPod("uid-hangup", tc)
	tid := start(t, r, tpod, 0)
	// Input without a newline, then the session ends: the terminal is hung
	// up and the container ends.
	_ = r.Attach(ctx, tid, runtime.ExecStreams{Stdin: strings.NewReader("abc"), Stdout: io.Discard, TTY: true})
	if st := waitExit(t, r, tid, 5*time.Second); st.State != runtime.StateExited {
		t.Errorf("terminal container after its stdinOnce session: %+v", st)
	}

	// Someone else holds the run's socket name before its shim starts.
	sq := sh("s", "sleep 30")
	sq.Stdin = true
	spod := testPod("uid-squat", sq)
	ln, err := net.Listen("unix", shim.AttachAddress(filepath.Join(stateDir, "pods", "uid-squat", "runs", "s_0")))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sid := start(t, r, spod, 0)
	err = r.Attach(ctx, sid, runtime.ExecStreams{Stdin: strings.NewReader("secret\n"), Stdout: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "not held by its shim") {
		t.Errorf("attach to a squatted socket: %v", err)
	}
	_ = r.StopContainer(ctx, sid, time.Second)
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

// TestDefaultSignalDispositions: the shim survives SIGHUP, SIGINT and
// SIGPIPE, but the container starts with no signal ignored.
func TestDefaultSignalDispositions(t *testing.T) {
	r := newRuntime(t, t.TempDir(), nil)
	pod := testPod("uid-sig", sh("c", "grep SigIgn /proc/self/status"))
	id := start(t, r, pod, 0)
	waitExit(t, r, id, 5*time.Second)
	got := readLog(t, r.LogPath(pod.UID, "c", 0))
	var mask uint64
	if len(got) == 1 {
		_, _ = fmt.Sscanf(strings.TrimPrefix(got[0], "stdout F SigIgn:\t"), "%x", &mask)
	}
	// Standard signals (1–31) all have their default disposition, whatever
	// the environment that started the test ignored.
	if len(got) != 1 || !strings.HasPrefix(got[0], "stdout F SigIgn:\t") || mask&0x7fffffff != 0 {
		t.Errorf("container's ignored signals: %q", got)
	}
	// Likewise for a command exec'd in a container.
	long := testPod("uid-sig-exec", sh("c", "sleep 30"))
	lid := start(t, r, long, 0)
	var out bytes.Buffer
	if _, err := r.Exec(context.Background(), lid, []string{"grep", "SigIgn", "/proc/self/status"}, runtime.ExecStreams{Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	mask = 1
	_, _ = fmt.Sscanf(strings.TrimPrefix(strings.TrimSpace(out.String()), "SigIgn:\t"), "%x", &mask)
	if mask&0x7fffffff != 0 {
		t.Errorf("exec'd command's ignored signals: %q", out.String())
	}
	_ = r.StopContainer(context.Background(), lid, time.Second)
}

func TestStopGraceThenKill(t *testing.T) {
	r := newRuntime(t, t.TempDir(), nil)
	dir := t.TempDir()
	c := sh("c", `trap 'echo term > `+dir+`/got' TERM; while true; do sleep 0.05; done`)
	pod := testPod("uid-stop", c)
	id := start(t, r, pod, 0)
	time.Sleep(100 * time.Millisecond)
	begin := time.Now()
	if err := r.StopContainer(context.Background(), id, 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d < 450*time.Millisecond || d > 5*time.Second {
		t.Errorf("stop took %v, want about the 500ms grace", d)
	}
	if got := readTrim(t, filepath.Join(dir, "got")); got != "term" {
		t.Errorf("TERM not delivered first: %q", got)
	}
	st := waitExit(t, r, id, 5*time.Second)
	if st.ExitCode != 137 || st.Reason != "Error" {
		t.Errorf("killed after grace: %+v", st)
	}
	// Stopping an ended run is a no-op.
	if err := r.StopContainer(context.Background(), id, time.Second); err != nil {
		t.Error(err)
	}
}

func TestRestartRecovery(t *testing.T) {
	dir := t.TempDir()
	r1 := newRuntime(t, dir, nil)
	runningRun := startRun(t, r1, testPod("uid-rec-1", sh("c", "sleep 3")), 0)
	running := runningRun.ID
	exited := start(t, r1, testPod("uid-rec-2", sh("c", "exit 4")), 0)
	waitExit(t, r1, exited, 5*time.Second)
	r1.Close()

	r2 := newRuntime(t, dir, nil)
	list, err := r2.ListContainers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byID := map[runtime.ContainerID]runtime.ContainerStatus{}
	for _, s := range list {
		byID[s.ID] = s
	}
	if len(list) != 2 || byID[running].State != runtime.StateRunning || !byID[running].StartedAt.Equal(runningRun.StartedAt) {
		t.Fatalf("after restart (want the start time %v kept): %+v", runningRun.StartedAt, list)
	}
	if s := byID[exited]; s.State != runtime.StateExited || s.ExitCode != 4 || s.Reason != "Error" {
		t.Errorf("exited run after restart: %+v", s)
	}
	st := waitExit(t, r2, running, 10*time.Second)
	if st.ExitCode != 0 || st.Reason != "Completed" || st.Name != "c" || st.PodName != "p-uid-rec-1" {
		t.Errorf("re-adopted exit: %+v", st)
	}
	// Delivered once.
	select {
	case s := <-r2.Exits():
		t.Errorf("second delivery: %+v", s)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestExitWhileNoRuntime(t *testing.T) {
	dir := t.TempDir()
	r1 := newRuntime(t, dir, nil)
	id := start(t, r1, testPod("uid-gone", sh("c", "sleep 0.3; exit 7")), 0)
	r1.Close()
	time.Sleep(1 * time.Second)
	r2 := newRuntime(t, dir, nil)
	list, _ := r2.ListContainers(context.Background())
	if len(list) != 1 || list[0].ID != id || list[0].State != runtime.StateExited || list[0].ExitCode != 7 || list[0].Reason != "Error" || list[0].FinishedAt.IsZero() {
		t.Errorf("got %+v", list)
	}
}

func TestStopAdoptedRun(t *testing.T) {
	dir := t.TempDir()
	r1 := newRuntime(t, dir, nil)
	id := start(t, r1, testPod("uid-adopt-stop", sh("c", "sleep 30")), 0)
	r1.Close()
	r2 := newRuntime(t, dir, nil)
	if err := r2.StopContainer(context.Background(), id, time.Second); err != nil {
		t.Fatal(err)
	}
	st := waitExit(t, r2, id, 5*time.Second)
	if st.ExitCode != 143 {
		t.Errorf("got %+v", st)
	}
}

func TestRemovePod(t *testing.T) {
	dir := t.TempDir()
	r := newRuntime(t, dir, nil)
	pod := testPod("uid-rm", sh("c", "sleep 30"))
	pod.Spec.Volumes = []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	id := start(t, r, pod, 0)
	r.mu.Lock()
	pid := r.runs[id].state.ContainerPID
	r.mu.Unlock()
	if err := r.RemovePod(context.Background(), pod.UID); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		if s, alive := shim.ProcStart(pid); alive && s != 0 {
			t.Errorf("process %d still alive", pid)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pods", "uid-rm")); !os.IsNotExist(err) {
		t.Errorf("sandbox left: %v", err)
	}
	list, _ := r.ListContainers(context.Background())
	if len(list) != 0 {
		t.Errorf("runs left: %+v", list)
	}
}

// skipUnlessRequired skips a test whose prerequisite this machine lacks,
// unless HERD_REQUIRE_ALL is set (hack/test.sh and CI set it): there a
// missing prerequisite is a failure, not a skip.
func skipUnlessRequired(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("HERD_REQUIRE_ALL") != "" {
		t.Fatalf("%s (HERD_REQUIRE_ALL is set)", why)
	}
	t.Skip(why)
}

func TestMountNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		skipUnlessRequired(t, "the mount namespace needs root")
	}
	r := newRuntime(t, t.TempDir(), nil)
	client := r.cfg.Client.(*fake.Clientset)
	_, _ = client.CoreV1().ConfigMaps("ns").Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "ns"}, Data: map[string]string{"greeting": "hi"}}, metav1.CreateOptions{})
	mnt := filepath.Join(t.TempDir(), "mnt")
	out := t.TempDir()
	c := sh("c", `cat /proc/sys/kernel/hostname > `+out+`/host; cat `+mnt+`/cfg/greeting > `+out+`/read; echo data > `+mnt+`/scratch/f; touch `+mnt+`/cfg/x 2>/dev/null || echo ro > `+out+`/ro; sleep 30`)
	c.VolumeMounts = []corev1.VolumeMount{{Name: "cfg", MountPath: mnt + "/cfg"}, {Name: "scratch", MountPath: mnt + "/scratch"}}
	pod := testPod("uid-mnt", c)
	pod.Spec.Volumes = []corev1.Volume{
		{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	id := start(t, r, pod, 0)
	waitFile(t, filepath.Join(out, "ro"))
	if got := readTrim(t, filepath.Join(out, "host")); got != "p-uid-mnt" {
		t.Errorf("hostname in the container: %q", got)
	}
	if got := readTrim(t, filepath.Join(out, "read")); got != "hi" {
		t.Errorf("configMap at mountPath: %q", got)
	}
	if got := readTrim(t, filepath.Join(r.volumesDir(pod.UID), "scratch", "f")); got != "data" {
		t.Errorf("emptyDir write not in the sandbox: %q", got)
	}
	// The host does not see the mount.
	if _, err := os.Stat(filepath.Join(mnt, "cfg", "greeting")); !os.IsNotExist(err) {
		t.Errorf("mount leaked to the host: %v", err)
	}
	var so bytes.Buffer
	code, err := r.Exec(context.Background(), id, []string{"cat", mnt + "/cfg/greeting"}, runtime.ExecStreams{Stdout: &so, Stderr: &so})
	if err != nil || code != 0 || so.String() != "hi" {
		t.Errorf("exec in the mount namespace: %d %v %q", code, err, so.String())
	}
	_ = r.StopContainer(context.Background(), id, 0)
}

func TestNoMountsSubstitution(t *testing.T) {
	r := newRuntime(t, t.TempDir(), func(c *Config) { c.DisableMounts = true })
	out := t.TempDir()
	c := sh("c", `echo "$HERD_MOUNT_DATA_SET" > `+out+`/v`)
	c.VolumeMounts = []corev1.VolumeMount{{Name: "scratch", MountPath: "/data/set"}}
	pod := testPod("uid-nomnt", c)
	pod.Spec.Volumes = []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	id := start(t, r, pod, 0)
	waitExit(t, r, id, 5*time.Second)
	if got, want := readTrim(t, filepath.Join(out, "v")), filepath.Join(r.volumesDir(pod.UID), "scratch"); got != want {
		t.Errorf("HERD_MOUNT_DATA_SET = %q, want %q", got, want)
	}
}

func TestOOMKilled(t *testing.T) {
	if ok, why := CgroupsAvailable(); !ok {
		skipUnlessRequired(t, why)
	}
	r := newRuntime(t, t.TempDir(), nil)
	c := corev1.Container{Name: "c", Image: "perl", Command: []string{"perl", "-e", `my $x = "a" x (200*1024*1024); sleep 5`}}
	c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("50Mi"), corev1.ResourceCPU: resource.MustParse("500m")}
	c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}
	pod := testPod("uid-oom", c)
	id := start(t, r, pod, 0)
	r.mu.Lock()
	cg := r.runs[id].spec.Cgroups
	r.mu.Unlock()
	if len(cg) != 2 {
		t.Fatalf("cgroups: %v", cg)
	}
	// Limits were applied before the process joined.
	for file, want := range map[string]string{
		cg[0] + "/memory.limit_in_bytes": "52428800",
		cg[1] + "/cpu.cfs_quota_us":      "50000",
		cg[1] + "/cpu.cfs_period_us":     "100000",
		cg[1] + "/cpu.shares":            "256",
	} {
		if got, err := os.ReadFile(file); err == nil && strings.TrimSpace(string(got)) != want {
			t.Errorf("%s = %q, want %s", file, strings.TrimSpace(string(got)), want)
		}
	}
	st := waitExit(t, r, id, 20*time.Second)
	if st.ExitCode != 137 || st.Reason != "OOMKilled" {
		t.Errorf("got %+v, want 137 OOMKilled", st)
	}
	for _, d := range cg {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("cgroup %s not removed: %v", d, err)
		}
	}
}

func BenchmarkStartContainer(b *testing.B) {
	r, err := New(Config{StateDir: b.TempDir(), ShimCommand: []string{os.Args[0]}, PollInterval: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		pod := testPod(fmt.Sprintf("uid-bench-%d", i), sh("c", "exit 0"))
		if err := r.PreparePod(ctx, pod); err != nil {
			b.Fatal(err)
		}
		if _, err := r.StartContainer(ctx, pod, &pod.Spec.Containers[0], runtime.StartOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPreparePodMountError(t *testing.T) {
	r := newRuntime(t, t.TempDir(), nil)
	pod := testPod("uid-prep", sh("c", "true"))
	pod.Spec.Volumes = []corev1.Volume{{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "missing"}}}}}
	err := r.PreparePod(context.Background(), pod)
	var se *runtime.StartError
	if !errors.As(err, &se) || se.Reason != "ContainerCreating" || se.Message != `MountVolume.SetUp failed for volume "cfg" : configmap "missing" not found` {
		t.Errorf("got %v", err)
	}
}

func TestCgroupsAvailableMessage(t *testing.T) {
	ok, why := CgroupsAvailable()
	if ok != (why == "") {
		t.Errorf("ok=%v why=%q", ok, why)
	}
	old := cgroupRoot
	cgroupRoot = t.TempDir()
	defer func() { cgroupRoot = old }()
	ok, why = CgroupsAvailable()
	if ok || !strings.Contains(why, "not enforced") {
		t.Errorf("without controllers: ok=%v why=%q", ok, why)
	}
}

// StartContainer gives up when its context ends while the shim has not
// answered, kills the shim and leaves no run behind.
func TestStartContainerHonoursContextWhileWaitingForShim(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "shim.pid")
	// A "shim" that holds the ready pipe (fd 3) open and never answers.
	r := newRuntime(t, dir, func(c *Config) {
		c.ShimCommand = []string{"sh", "-c", `echo $$ > "$0"; exec sleep 300`, pidFile}
	})
	pod := testPod("ctx1", sh("c", "sleep 1"))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the shim runs.
		for {
			if _, err := os.Stat(pidFile); err == nil {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	_, err := r.StartContainer(ctx, pod, &pod.Spec.Containers[0], runtime.StartOptions{Attempt: 0})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("StartContainer = %v, want context.Canceled", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid <= 0 {
		t.Fatalf("bad shim pid %q", b)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("shim %d still runs after StartContainer gave up", pid)
	}
	list, err := r.ListContainers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Fatalf("runs left behind: %+v", list)
	}
}
