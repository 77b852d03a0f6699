// Package process is herd's default container runtime: each container run
// is a host process in its own process group, started through a small shim
// (shim.Main, the hidden `herd container-shim` subcommand) that runs in its
// own session, writes the container's stdout and stderr to a rotated
// CRI-format log and records the exit status on disk, so runs survive a
// kill -9 of the herd server and no exit code is lost. It does not pull or
// unpack images: the container's command runs on the host's filesystem.
//
// # State directory
//
//	StateDir/pods/<pod uid>/volumes/<volume>            volume contents (emptyDir, configMap, …)
//	StateDir/pods/<pod uid>/logs/<container>/<n>.log    CRI log of attempt n (.log.1, .log.2 … rotated)
//	StateDir/pods/<pod uid>/runs/<container>_<n>/       spec.json, meta.json, state.json, exit.json
//
// # Volumes and mounts
//
// As root, each container runs in its own UTS namespace with the pod's
// hostname (not for hostNetwork pods) and in a private mount namespace in which every
// volumeMount is bind-mounted at its mountPath (read-only when asked, and
// always for configMap, secret, downwardAPI and projected volumes; subPath
// and subPathExpr honoured). A mountPath missing on the host is created
// there as an empty directory or file to mount on. Without root
// (Config.DisableMounts or a non-root euid) nothing is mounted; instead the
// substitution rule is: for each volumeMount the container gets the
// environment variable HERD_MOUNT_<PATH> holding the host path, where PATH
// is the mountPath upper-cased with every character outside [A-Z0-9]
// replaced by "_" and leading/trailing "_" removed (mountPath /etc/config →
// HERD_MOUNT_ETC_CONFIG).
//
// # Limits
//
// With root and cgroup v1 (CgroupsAvailable), each run gets cgroups
// /sys/fs/cgroup/{memory,cpu}/herd/<id>: memory.limit_in_bytes from
// limits.memory, cpu.cfs_quota_us from limits.cpu, cpu.shares from
// requests.cpu. A container the kernel's OOM killer ends exits 137 with
// reason OOMKilled. Without cgroups the limits are ignored.
//
// # Exits after a restart
//
// New re-adopts every run found in StateDir. Runs still running are
// watched (their exit.json is polled) and their exit is sent on Exits once;
// runs that ended while no Runtime existed are returned by ListContainers
// as exited, with their exit code, and are not sent on Exits.
package process

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/agent/runtime"
	"github.com/herd-project/herd/pkg/agent/runtime/process/podenv"
	"github.com/herd-project/herd/pkg/agent/runtime/process/shim"
	"github.com/herd-project/herd/pkg/agent/runtime/process/volumes"
)

// Config configures a Runtime.
type Config struct {
	// StateDir holds pods' sandboxes, logs and run state. Required.
	StateDir string
	// Client reads ConfigMaps and Secrets for env and volumes.
	Client kubernetes.Interface
	// Tokens, when set, issues the service account tokens of projected
	// volumes (the agent's token cache, pkg/agent/token); otherwise each
	// one is requested from Client.
	Tokens TokenSource
	// ShimCommand invokes shim.Main; the mode and its arguments are
	// appended. Default: os.Executable() + "container-shim".
	ShimCommand []string
	// Clock times grace periods and polling. Default: the real clock.
	Clock clock.WithTicker
	// NodeAllocatable stands in for unset limits in resourceFieldRef.
	NodeAllocatable corev1.ResourceList
	// KubernetesServiceHost/Port, when set, add KUBERNETES_SERVICE_HOST,
	// KUBERNETES_SERVICE_PORT and the KUBERNETES_PORT* variables.
	KubernetesServiceHost string
	KubernetesServicePort int
	// ClusterDomain for the pod's FQDN (default cluster.local).
	ClusterDomain string
	// LogMaxSize is the size at which a log rotates (default 10 MiB);
	// LogMaxFiles how many files are kept, the current one included
	// (default 5).
	LogMaxSize  int64
	LogMaxFiles int
	// DisableCgroups and DisableMounts turn off limits and the mount
	// namespace even as root.
	DisableCgroups bool
	DisableMounts  bool
	// MaskPaths are host directories hidden from containers (behind an
	// empty read-only tmpfs in their mount namespace): the server's data
	// dir, with its keys and etcd credentials.
	MaskPaths []string
	// PollInterval is how often re-adopted runs are checked (default 1s).
	PollInterval time.Duration
}

// TokenSource issues service account tokens for projected volumes.
type TokenSource interface {
	GetServiceAccountToken(ctx context.Context, ns, name string, tr *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error)
	DeleteServiceAccountToken(podUID types.UID)
}

// Runtime is the process runtime; it implements runtime.Runtime.
type Runtime struct {
	cfg     Config
	clk     clock.WithTicker
	cgroups bool
	mounts  bool

	mu   sync.Mutex
	runs map[runtime.ContainerID]*run

	exits   chan runtime.ContainerStatus
	queueMu sync.Mutex
	queue   []runtime.ContainerStatus
	kick    chan struct{}
	stop    chan struct{}
	stopped sync.Once
}

var (
	_ runtime.Runtime         = (*Runtime)(nil)
	_ runtime.VolumeRefresher = (*Runtime)(nil)
)

// run is one container run.
type run struct {
	id      runtime.ContainerID
	dir     string
	meta    shim.RunMeta
	spec    shim.RunSpec
	state   shim.State
	adopted bool // not a child of this process: watched by polling

	done   chan struct{}
	final  runtime.ContainerStatus
	closed bool
}

// New creates the runtime on cfg.StateDir and re-adopts the runs found
// there.
func New(cfg Config) (*Runtime, error) {
	if cfg.StateDir == "" {
		return nil, errors.New("process runtime: StateDir is required")
	}
	if len(cfg.ShimCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("process runtime: locating the shim: %w", err)
		}
		cfg.ShimCommand = []string{exe, "container-shim"}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.LogMaxSize == 0 {
		cfg.LogMaxSize = 10 << 20
	}
	if cfg.LogMaxFiles == 0 {
		cfg.LogMaxFiles = 5
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	if err := os.MkdirAll(filepath.Join(cfg.StateDir, "pods"), 0o755); err != nil {
		return nil, err
	}
	r := &Runtime{
		cfg:   cfg,
		clk:   cfg.Clock,
		runs:  map[runtime.ContainerID]*run{},
		exits: make(chan runtime.ContainerStatus, 64),
		kick:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
	}
	if !cfg.DisableCgroups {
		r.cgroups, _ = CgroupsAvailable()
	}
	r.mounts = !cfg.DisableMounts && os.Geteuid() == 0
	if err := r.recover(); err != nil {
		return nil, err
	}
	go r.forward()
	go r.poll()
	return r, nil
}

// Close stops delivering exits and watching re-adopted runs. The runs
// themselves keep running.
func (r *Runtime) Close() {
	r.stopped.Do(func() { close(r.stop) })
}

// Name implements runtime.Runtime.
func (r *Runtime) Name() string { return "process" }

// Exits implements runtime.Runtime.
func (r *Runtime) Exits() <-chan runtime.ContainerStatus { return r.exits }

func (r *Runtime) podDir(uid types.UID) string {
	return filepath.Join(r.cfg.StateDir, "pods", string(uid))
}

func (r *Runtime) volumesDir(uid types.UID) string { return filepath.Join(r.podDir(uid), "volumes") }

// LogPath implements runtime.Runtime.
func (r *Runtime) LogPath(podUID types.UID, container string, attempt int) string {
	return filepath.Join(r.podDir(podUID), "logs", container, strconv.Itoa(attempt)+".log")
}

func containerID(uid types.UID, name string, attempt int) runtime.ContainerID {
	return runtime.ContainerID(fmt.Sprintf("%s_%s_%d", uid, name, attempt))
}

// PreparePod implements runtime.Runtime: the sandbox directories and the
// pod's volumes. A volume that cannot be set up is a StartError with reason
// ContainerCreating (the pod keeps waiting) and the kubelet's FailedMount
// message.
func (r *Runtime) PreparePod(ctx context.Context, pod *corev1.Pod) error {
	for _, d := range []string{"volumes", "logs", "runs"} {
		if err := os.MkdirAll(filepath.Join(r.podDir(pod.UID), d), 0o755); err != nil {
			return err
		}
	}
	err := volumes.Prepare(ctx, pod, r.volumesDir(pod.UID), r.volumeOptions(pod))
	var me *volumes.MountError
	if errors.As(err, &me) {
		return &runtime.StartError{Reason: "ContainerCreating", Message: me.Error()}
	}
	return err
}

func (r *Runtime) volumeOptions(pod *corev1.Pod) volumes.Options {
	o := volumes.Options{
		Client:          r.cfg.Client,
		NodeName:        pod.Spec.NodeName,
		HostIP:          pod.Status.HostIP,
		PodIP:           pod.Status.PodIP,
		NodeAllocatable: r.cfg.NodeAllocatable,
		Now:             r.clk.Now,
	}
	if r.cfg.Tokens != nil {
		o.Token = r.cfg.Tokens.GetServiceAccountToken
	}
	return o
}

// RefreshVolumes implements runtime.VolumeRefresher: projected volumes
// with service account tokens are rewritten (atomically, in place) when
// their token or other contents changed.
func (r *Runtime) RefreshVolumes(ctx context.Context, pod *corev1.Pod) error {
	return volumes.RefreshTokens(ctx, pod, r.volumesDir(pod.UID), r.volumeOptions(pod))
}

var nonAlnum = regexp.MustCompile(`[^A-Z0-9]+`)

// mountEnvName is the substitution variable for a mountPath without mounts.
func mountEnvName(mountPath string) string {
	return "HERD_MOUNT_" + strings.Trim(nonAlnum.ReplaceAllString(strings.ToUpper(mountPath), "_"), "_")
}

// StartContainer implements runtime.Runtime.
func (r *Runtime) StartContainer(ctx context.Context, pod *corev1.Pod, c *corev1.Container, opts runtime.StartOptions) (runtime.ContainerStatus, error) {
	logger := klog.FromContext(ctx)
	if len(c.Command) == 0 {
		return runtime.ContainerStatus{}, &runtime.StartError{Reason: "CreateContainerError", Message: fmt.Sprintf(
			"herd's process runtime runs the container's command on the host and cannot run image %s's entrypoint: give the container a command", c.Image)}
	}
	nodeName := opts.NodeName
	if nodeName == "" {
		nodeName = pod.Spec.NodeName
	}
	env, err := podenv.Env(ctx, pod, c, podenv.Sources{
		Client:                r.cfg.Client,
		NodeName:              nodeName,
		HostIP:                opts.HostIP,
		PodIP:                 opts.PodIP,
		NodeAllocatable:       r.cfg.NodeAllocatable,
		KubernetesServiceHost: r.cfg.KubernetesServiceHost,
		KubernetesServicePort: r.cfg.KubernetesServicePort,
		ClusterDomain:         r.cfg.ClusterDomain,
	})
	if err != nil {
		return runtime.ContainerStatus{}, &runtime.StartError{Reason: "CreateContainerConfigError", Message: err.Error()}
	}
	mounts, err := volumes.Resolve(pod, c, r.volumesDir(pod.UID), env)
	if err != nil {
		return runtime.ContainerStatus{}, &runtime.StartError{Reason: "CreateContainerConfigError", Message: err.Error()}
	}
	if !r.mounts {
		for _, m := range mounts {
			env = append(env, mountEnvName(m.Target)+"="+m.Source)
		}
	}
	argv := podenv.Command(c, env)
	hostname, fqdn := podenv.Hostname(pod, r.cfg.ClusterDomain)
	if pod.Spec.SetHostnameAsFQDN != nil && *pod.Spec.SetHostnameAsFQDN && fqdn != "" {
		hostname = fqdn
	}
	if pod.Spec.HostNetwork {
		// A host-network pod keeps the node's hostname, as in Kubernetes.
		hostname = ""
	}

	id := containerID(pod.UID, c.Name, opts.Attempt)
	dir := filepath.Join(r.podDir(pod.UID), "runs", c.Name+"_"+strconv.Itoa(opts.Attempt))
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return runtime.ContainerStatus{}, err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if os.IsExist(err) {
			return runtime.ContainerStatus{}, fmt.Errorf("container %s: attempt %d already exists", c.Name, opts.Attempt)
		}
		return runtime.ContainerStatus{}, err
	}
	cleanup := func(cg []string) {
		shim.RemoveCgroups(cg)
		_ = os.RemoveAll(dir)
	}
	logPath := r.LogPath(pod.UID, c.Name, opts.Attempt)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		cleanup(nil)
		return runtime.ContainerStatus{}, err
	}
	var cg []string
	if r.cgroups {
		cg, err = createCgroups(string(id), c.Resources)
		if err != nil {
			cleanup(nil)
			return runtime.ContainerStatus{}, &runtime.StartError{Reason: "RunContainerError", Message: err.Error()}
		}
	}
	spec := shim.RunSpec{
		ID: string(id), Args: argv, Env: env, Dir: c.WorkingDir,
		Mounts: mounts, MountNS: r.mounts, MaskPaths: r.cfg.MaskPaths, Hostname: hostname, Cgroups: cg,
		LogPath: logPath, LogMaxSize: r.cfg.LogMaxSize, LogMaxFiles: r.cfg.LogMaxFiles,
		ShimCommand: r.cfg.ShimCommand,
		Stdin:       c.Stdin, StdinOnce: c.StdinOnce, TTY: c.TTY,
	}
	meta := shim.RunMeta{ID: string(id), PodUID: string(pod.UID), PodNamespace: pod.Namespace, PodName: pod.Name, Container: c.Name, Attempt: opts.Attempt}
	if err := shim.WriteJSON(filepath.Join(dir, shim.SpecFile), spec); err != nil {
		cleanup(cg)
		return runtime.ContainerStatus{}, err
	}
	if err := shim.WriteJSON(filepath.Join(dir, shim.MetaFile), meta); err != nil {
		cleanup(cg)
		return runtime.ContainerStatus{}, err
	}

	shimOut, err := os.OpenFile(filepath.Join(dir, shim.ShimLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		cleanup(cg)
		return runtime.ContainerStatus{}, err
	}
	defer shimOut.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		cleanup(cg)
		return runtime.ContainerStatus{}, err
	}
	cmd := exec.Command(r.cfg.ShimCommand[0], append(append([]string{}, r.cfg.ShimCommand[1:]...), "run", dir)...)
	cmd.Stdout, cmd.Stderr = shimOut, shimOut
	cmd.ExtraFiles = []*os.File{readyW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		readyR.Close()
		readyW.Close()
		cleanup(cg)
		return runtime.ContainerStatus{}, &runtime.StartError{Reason: "RunContainerError", Message: "starting the container shim: " + err.Error()}
	}
	readyW.Close()
	answer, err := readReady(ctx, readyR)
	if err != nil {
		// Given up before the shim answered: end the shim and whatever it
		// started, and leave nothing behind.
		r.abandonStart(cmd, dir, cg)
		cleanup(cg)
		return runtime.ContainerStatus{}, fmt.Errorf("starting container %s: waiting for the container shim: %w", c.Name, err)
	}
	reply := strings.TrimSpace(string(answer))
	if reply != "ok" {
		_ = cmd.Wait()
		msg, isErr := strings.CutPrefix(reply, "error: ")
		if isErr {
			// The shim ran but the container process could not start
			// (command not found, a mount failed …): as with containerd,
			// the run ends at once with StartError and exit code 128,
			// and the agent's restart policy decides what comes next.
			shim.RemoveCgroups(cg)
			return r.startFailed(id, dir, meta, spec, msg)
		}
		shimErr, _ := os.ReadFile(filepath.Join(dir, shim.ShimLog))
		cleanup(cg)
		msg = "the container shim exited without starting the container: " + strings.TrimSpace(string(shimErr))
		return runtime.ContainerStatus{}, &runtime.StartError{Reason: "RunContainerError", Message: msg}
	}
	var st shim.State
	if err := shim.ReadJSON(filepath.Join(dir, shim.StateFile), &st); err != nil {
		return runtime.ContainerStatus{}, err
	}
	ru := &run{id: id, dir: dir, meta: meta, spec: spec, state: st, done: make(chan struct{})}
	r.mu.Lock()
	r.runs[id] = ru
	r.mu.Unlock()
	logger.V(2).Info("Started container", "pod", klog.KObj(pod), "container", c.Name, "attempt", opts.Attempt, "pid", st.ContainerPID)
	go func() {
		_ = cmd.Wait()
		r.collect(ru)
	}()
	return statusFrom(ru, nil), nil
}

// readReady reads the shim's answer from the ready pipe, which the shim
// closes once the container runs or could not start; it gives up (closing
// the pipe) when ctx is done first.
func readReady(ctx context.Context, ready *os.File) ([]byte, error) {
	answer := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(ready)
		answer <- b
	}()
	select {
	case b := <-answer:
		ready.Close()
		return b, nil
	case <-ctx.Done():
		ready.Close() // ends the read above
		return nil, ctx.Err()
	}
}

// abandonStart kills a shim that has not answered yet (its session, and
// the container it may have started, by state file and cgroup) and reaps it.
func (r *Runtime) abandonStart(cmd *exec.Cmd, dir string, cg []string) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	var st shim.State
	if shim.ReadJSON(filepath.Join(dir, shim.StateFile), &st) == nil && st.ContainerPID > 0 &&
		shim.SameProcess(st.ContainerPID, st.ContainerStart) {
		_ = syscall.Kill(-st.ContainerPID, syscall.SIGKILL)
		_ = syscall.Kill(st.ContainerPID, syscall.SIGKILL)
	}
	shim.KillCgroup(cg, syscall.SIGKILL)
}

// startErrorExitCode is the exit code containerd reports for a container
// whose process could not be started.
const startErrorExitCode = 128

// startFailed records a run whose process never started: exit.json keeps
// the StartError (so the run is listed again after a restart) and the exit
// is delivered like any other.
func (r *Runtime) startFailed(id runtime.ContainerID, dir string, meta shim.RunMeta, spec shim.RunSpec, msg string) (runtime.ContainerStatus, error) {
	es := shim.ExitStatus{ExitCode: startErrorExitCode, FinishedAt: r.clk.Now(), Reason: reasonStartError,
		Message: "unable to start container process: " + msg}
	if err := shim.WriteJSON(filepath.Join(dir, shim.ExitFile), es); err != nil {
		_ = os.RemoveAll(dir)
		return runtime.ContainerStatus{}, err
	}
	ru := &run{id: id, dir: dir, meta: meta, spec: spec, done: make(chan struct{})}
	r.mu.Lock()
	r.runs[id] = ru
	r.mu.Unlock()
	r.finish(ru, es, true)
	return ru.final, nil
}

// reasonStartError is the terminated reason of a container whose process
// could not be started.
const reasonStartError = "StartError"

// collect reads a run's exit status once its shim is gone and delivers it.
func (r *Runtime) collect(ru *run) {
	var es shim.ExitStatus
	if err := shim.ReadJSON(filepath.Join(ru.dir, shim.ExitFile), &es); err != nil {
		// The shim died without recording the exit (killed itself): make
		// sure the container is gone too and record that.
		if shim.SameProcess(ru.state.ContainerPID, ru.state.ContainerStart) {
			_ = syscall.Kill(-ru.state.ContainerPID, syscall.SIGKILL)
		}
		shim.KillCgroup(ru.spec.Cgroups, syscall.SIGKILL)
		shim.RemoveCgroups(ru.spec.Cgroups)
		es = shim.ExitStatus{ExitCode: 137, Signal: int(syscall.SIGKILL), FinishedAt: r.clk.Now(), Reason: "Error",
			Message: "the container shim ended without recording the container's exit; the container was killed"}
		if err := shim.WriteJSON(filepath.Join(ru.dir, shim.ExitFile), es); err != nil && !os.IsNotExist(err) {
			klog.ErrorS(err, "Recording container exit", "id", ru.id)
		}
	}
	r.finish(ru, es, true)
}

func statusFrom(ru *run, es *shim.ExitStatus) runtime.ContainerStatus {
	st := runtime.ContainerStatus{
		ID:           ru.id,
		PodUID:       types.UID(ru.meta.PodUID),
		PodNamespace: ru.meta.PodNamespace,
		PodName:      ru.meta.PodName,
		Name:         ru.meta.Container,
		Attempt:      ru.meta.Attempt,
		State:        runtime.StateRunning,
		StartedAt:    ru.state.StartedAt,
	}
	if es == nil {
		return st
	}
	st.State = runtime.StateExited
	if es.Reason == reasonStartError {
		// Never started: containerd reports the Unix epoch.
		st.StartedAt = time.Unix(0, 0).UTC()
	}
	st.FinishedAt = es.FinishedAt
	st.ExitCode = es.ExitCode
	st.Message = es.Message
	switch {
	case es.Reason != "":
		st.Reason = es.Reason
	case es.OOMKilled:
		st.Reason = "OOMKilled"
	case es.ExitCode == 0:
		st.Reason = "Completed"
	default:
		st.Reason = "Error"
	}
	return st
}

// finish marks a run ended and, when deliver, queues its status for Exits.
func (r *Runtime) finish(ru *run, es shim.ExitStatus, deliver bool) {
	r.mu.Lock()
	if ru.closed {
		r.mu.Unlock()
		return
	}
	ru.closed = true
	ru.final = statusFrom(ru, &es)
	close(ru.done)
	final := ru.final
	r.mu.Unlock()
	klog.V(2).InfoS("Container exited", "id", ru.id, "exitCode", final.ExitCode, "reason", final.Reason)
	if deliver {
		r.queueMu.Lock()
		r.queue = append(r.queue, final)
		r.queueMu.Unlock()
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// forward moves queued exits to the Exits channel without ever blocking
// the runs' watchers.
func (r *Runtime) forward() {
	for {
		r.queueMu.Lock()
		var next *runtime.ContainerStatus
		if len(r.queue) > 0 {
			s := r.queue[0]
			next = &s
		}
		r.queueMu.Unlock()
		if next == nil {
			select {
			case <-r.kick:
				continue
			case <-r.stop:
				return
			}
		}
		select {
		case r.exits <- *next:
			r.queueMu.Lock()
			r.queue = r.queue[1:]
			r.queueMu.Unlock()
		case <-r.stop:
			return
		}
	}
}

// recover loads every run of StateDir.
func (r *Runtime) recover() error {
	dirs, err := filepath.Glob(filepath.Join(r.cfg.StateDir, "pods", "*", "runs", "*"))
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		var meta shim.RunMeta
		var spec shim.RunSpec
		if shim.ReadJSON(filepath.Join(dir, shim.MetaFile), &meta) != nil || shim.ReadJSON(filepath.Join(dir, shim.SpecFile), &spec) != nil {
			continue
		}
		ru := &run{id: runtime.ContainerID(meta.ID), dir: dir, meta: meta, spec: spec, adopted: true, done: make(chan struct{})}
		var es shim.ExitStatus
		if shim.ReadJSON(filepath.Join(dir, shim.ExitFile), &es) == nil {
			_ = shim.ReadJSON(filepath.Join(dir, shim.StateFile), &ru.state)
			r.runs[ru.id] = ru
			r.finish(ru, es, false)
			continue
		}
		// A shim starting right now writes state.json in a moment.
		var stErr error
		for i := 0; i < 50; i++ {
			if stErr = shim.ReadJSON(filepath.Join(dir, shim.StateFile), &ru.state); stErr == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		r.runs[ru.id] = ru
		if stErr != nil {
			es := shim.ExitStatus{ExitCode: 128, FinishedAt: r.clk.Now(), Reason: "ContainerCannotRun",
				Message: "the container shim did not start the container"}
			_ = shim.WriteJSON(filepath.Join(dir, shim.ExitFile), es)
			shim.RemoveCgroups(spec.Cgroups)
			r.finish(ru, es, false)
		}
	}
	return nil
}

// poll watches re-adopted runs: exit.json appears when the shim recorded
// the exit; a shim gone without it is collected as a lost run.
func (r *Runtime) poll() {
	t := r.clk.NewTicker(r.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C():
		}
		r.checkAdopted()
	}
}

func (r *Runtime) checkAdopted() {
	r.mu.Lock()
	var watch []*run
	for _, ru := range r.runs {
		if ru.adopted && !ru.closed {
			watch = append(watch, ru)
		}
	}
	r.mu.Unlock()
	for _, ru := range watch {
		if _, err := os.Stat(filepath.Join(ru.dir, shim.ExitFile)); err == nil {
			r.collect(ru)
			continue
		}
		if !shim.SameProcess(ru.state.ShimPID, ru.state.ShimStart) {
			// Re-check: the shim may have written exit.json just before
			// exiting.
			r.collect(ru)
		}
	}
}

func (r *Runtime) get(id runtime.ContainerID) (*run, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ru, ok := r.runs[id]
	if !ok {
		return nil, fmt.Errorf("container %q not found", id)
	}
	return ru, nil
}

// signalRun signals the container's process group (and, for SIGKILL, its
// cgroup), unless the process is no longer the run's.
func signalRun(ru *run, sig syscall.Signal) {
	if shim.SameProcess(ru.state.ContainerPID, ru.state.ContainerStart) {
		_ = syscall.Kill(-ru.state.ContainerPID, sig)
	}
	if sig == syscall.SIGKILL {
		shim.KillCgroup(ru.spec.Cgroups, sig)
	}
}

// StopContainer implements runtime.Runtime: SIGTERM to the process group,
// SIGKILL after grace, and returns once the run's exit is recorded.
func (r *Runtime) StopContainer(ctx context.Context, id runtime.ContainerID, grace time.Duration) error {
	ru, err := r.get(id)
	if err != nil {
		return err
	}
	select {
	case <-ru.done:
		return nil
	default:
	}
	klog.FromContext(ctx).V(2).Info("Stopping container", "id", id, "grace", grace)
	if grace > 0 {
		signalRun(ru, syscall.SIGTERM)
		t := r.clk.NewTimer(grace)
		select {
		case <-ru.done:
			t.Stop()
			return nil
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
	signalRun(ru, syscall.SIGKILL)
	// An adopted run is noticed by polling; check more often meanwhile.
	tick := r.clk.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ru.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C():
			if ru.adopted {
				r.checkAdopted()
			}
		}
	}
}

// Exec implements runtime.Runtime: cmd runs with the container's env,
// workingDir, cgroups and mount namespace.
func (r *Runtime) Exec(ctx context.Context, id runtime.ContainerID, cmd []string, streams runtime.ExecStreams) (int, error) {
	if len(cmd) == 0 {
		return -1, errors.New("exec: no command")
	}
	ru, err := r.get(id)
	if err != nil {
		return -1, err
	}
	select {
	case <-ru.done:
		return -1, fmt.Errorf("container %q is not running", id)
	default:
	}
	args := append(append([]string{}, r.cfg.ShimCommand[1:]...), "exec", ru.dir, "--")
	args = append(args, cmd...)
	c := exec.CommandContext(ctx, r.cfg.ShimCommand[0], args...)
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = time.Second
	if streams.TTY {
		err = runOnTerminal(c, streams)
	} else {
		err = runOnPipes(c, streams)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
			code, _ := shim.ExitFromWait(ws)
			return int(code), nil
		}
		return ee.ExitCode(), nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

// Attach implements runtime.Runtime: it connects to the run's shim, which
// copies the container's output as it is written and takes its input.
func (r *Runtime) Attach(ctx context.Context, id runtime.ContainerID, streams runtime.ExecStreams) error {
	ru, err := r.get(id)
	if err != nil {
		return err
	}
	select {
	case <-ru.done:
		return fmt.Errorf("container %q is not running", id)
	default:
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", shim.AttachAddress(ru.dir))
	if err != nil {
		return fmt.Errorf("attaching to container %s: %w", ru.meta.Container, err)
	}
	defer conn.Close()
	// Only the run's own shim may take the session (anyone can create an
	// abstract socket name).
	if pid, uid, err := shim.PeerCredentials(conn); err != nil || pid != ru.state.ShimPID || (uid != 0 && uid != os.Geteuid()) {
		return fmt.Errorf("attaching to container %s: the socket is not held by its shim (pid %d, want %d)", ru.meta.Container, pid, ru.state.ShimPID)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var wmu sync.Mutex
	send := func(typ byte, p []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return shim.WriteFrame(conn, typ, p)
	}
	if streams.Stdin != nil {
		if err := send(shim.FrameStdinAttached, nil); err != nil {
			return err
		}
		go func() {
			buf := make([]byte, 32*1024)
			for {
				n, err := streams.Stdin.Read(buf)
				if n > 0 && send(shim.FrameStdin, buf[:n]) != nil {
					return
				}
				if err != nil {
					_ = send(shim.FrameCloseStdin, nil)
					return
				}
			}
		}()
	}
	if streams.Resize != nil {
		go func() {
			for size := range streams.Resize {
				p := make([]byte, 4)
				binary.BigEndian.PutUint16(p[0:2], size.Width)
				binary.BigEndian.PutUint16(p[2:4], size.Height)
				if send(shim.FrameResize, p) != nil {
					return
				}
			}
		}()
	}
	for {
		typ, p, err := shim.ReadFrame(conn)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// The shim closes the connection when the container ends, or
			// when this client fell too far behind its output.
			select {
			case <-ru.done:
				return nil
			case <-time.After(2 * time.Second):
				return fmt.Errorf("attach session to container %s ended while it still runs: the client did not keep up with its output", ru.meta.Container)
			}
		}
		out := streams.Stdout
		if typ == shim.FrameStderr && streams.Stderr != nil {
			out = streams.Stderr
		}
		if out != nil {
			if _, err := out.Write(p); err != nil {
				return err
			}
		}
	}
}

// runOnPipes runs c in its own process group with the streams on pipes.
// Its end does not wait for the client to close stdin, nor (beyond
// WaitDelay) for background processes that keep its output open.
func runOnPipes(c *exec.Cmd, streams runtime.ExecStreams) error {
	c.Stdout, c.Stderr = streams.Stdout, streams.Stderr
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdin io.WriteCloser
	if streams.Stdin != nil {
		var err error
		if stdin, err = c.StdinPipe(); err != nil {
			return err
		}
	}
	if err := c.Start(); err != nil {
		return err
	}
	if stdin != nil {
		go func() {
			_, _ = io.Copy(stdin, streams.Stdin)
			stdin.Close()
		}()
	}
	err := c.Wait()
	if errors.Is(err, exec.ErrWaitDelay) && c.ProcessState != nil && c.ProcessState.Success() {
		return nil
	}
	return err
}

// ListContainers implements runtime.Runtime.
func (r *Runtime) ListContainers(ctx context.Context) ([]runtime.ContainerStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]runtime.ContainerStatus, 0, len(r.runs))
	for _, ru := range r.runs {
		if ru.closed {
			out = append(out, ru.final)
		} else {
			out = append(out, statusFrom(ru, nil))
		}
	}
	return out, nil
}

// RemovePod implements runtime.Runtime: kills what still runs of the pod
// and deletes its sandbox, logs and state.
func (r *Runtime) RemovePod(ctx context.Context, podUID types.UID) error {
	r.mu.Lock()
	var runs []*run
	for _, ru := range r.runs {
		if types.UID(ru.meta.PodUID) == podUID {
			runs = append(runs, ru)
		}
	}
	r.mu.Unlock()
	for _, ru := range runs {
		if err := r.StopContainer(ctx, ru.id, 0); err != nil {
			return err
		}
	}
	r.mu.Lock()
	for _, ru := range runs {
		delete(r.runs, ru.id)
	}
	r.mu.Unlock()
	if r.cfg.Tokens != nil {
		r.cfg.Tokens.DeleteServiceAccountToken(podUID)
	}
	return os.RemoveAll(r.podDir(podUID))
}
