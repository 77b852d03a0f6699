// Package runtime is the contract between the node agent and whatever runs
// containers: host processes (package process), nothing at all (package
// simulated), later CRI. A runtime starts, stops and execs into container
// runs and reports how they ended; it knows nothing of pod phases,
// conditions, restart policies, probes or the API server's pod status —
// those are the agent's.
package runtime

import (
	"context"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/herd-project/herd/pkg/agent/stats"
)

// ContainerID identifies one run (attempt) of one container of one pod. It
// is unique on the node and stable across agent restarts.
type ContainerID string

// State is where a container run is.
type State string

const (
	// StateRunning: the container's process is alive.
	StateRunning State = "running"
	// StateExited: it ended; ExitCode, Reason and FinishedAt are set.
	StateExited State = "exited"
)

// ContainerStatus is what a runtime knows about one container run.
type ContainerStatus struct {
	ID           ContainerID
	PodUID       types.UID
	PodNamespace string
	PodName      string
	// Name is the container's name in the pod spec.
	Name string
	// Attempt counts the runs of this container in this pod: 0 for the first.
	Attempt    int
	State      State
	StartedAt  time.Time
	FinishedAt time.Time
	ExitCode   int32
	// Reason is Kubernetes' terminated reason: Completed (exit 0), Error,
	// OOMKilled, or ContainerCannotRun.
	Reason  string
	Message string
}

// StartOptions carries what the agent decided about a container run.
type StartOptions struct {
	// Attempt is the run's number (the container's restart count).
	Attempt  int
	NodeName string
	HostIP   string
	PodIP    string
}

// StartError is returned when a container cannot be started; Reason is the
// waiting reason the pod reports (CreateContainerConfigError,
// CreateContainerError, RunContainerError) and Message says what to do.
type StartError struct {
	Reason  string
	Message string
}

func (e *StartError) Error() string { return fmt.Sprintf("%s: %s", e.Reason, e.Message) }

// ExecStreams are the standard streams of an exec'd command. Nil streams
// are not connected. With TTY the command runs on a terminal whose output
// goes to Stdout (Stderr is unused) and whose size follows Resize.
type ExecStreams struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	TTY            bool
	Resize         <-chan TerminalSize
}

// TerminalSize is a terminal's width and height in characters.
type TerminalSize struct {
	Width, Height uint16
}

// Runtime runs containers for the node agent. Implementations must be safe
// for concurrent use.
type Runtime interface {
	// Name is the runtime's name as reported in node info ("process",
	// "simulated").
	Name() string
	// PreparePod creates the pod's sandbox (directories, volumes). It is
	// idempotent; a *StartError says why the pod cannot run.
	PreparePod(ctx context.Context, pod *corev1.Pod) error
	// StartContainer starts container c, one of pod's init or regular
	// containers, and returns once it runs, with the run's status: its ID
	// and the start time the runtime keeps (and reports again after an
	// agent restart). A run that already ended may be returned with its
	// final status; its end is still delivered on Exits.
	StartContainer(ctx context.Context, pod *corev1.Pod, c *corev1.Container, opts StartOptions) (ContainerStatus, error)
	// Exits delivers the final status of every container run that ends,
	// once each, including runs recovered by ListContainers.
	Exits() <-chan ContainerStatus
	// StopContainer sends SIGTERM (or the runtime's equivalent), then kills
	// after grace, and returns when the run has ended.
	StopContainer(ctx context.Context, id ContainerID, grace time.Duration) error
	// Exec runs cmd inside a running container's context (exec probes,
	// lifecycle hooks, kubectl exec) and returns its exit code.
	Exec(ctx context.Context, id ContainerID, cmd []string, streams ExecStreams) (int, error)
	// Attach connects streams to a running container's own stdio (kubectl
	// attach, kubectl run -i): its output from now on, and its stdin and
	// terminal when the container has them. It returns when the container
	// ends or ctx is done.
	Attach(ctx context.Context, id ContainerID, streams ExecStreams) error
	// ListContainers returns every container run the runtime knows of,
	// running or exited and not yet removed; the agent calls it on start to
	// recover after a restart.
	ListContainers(ctx context.Context) ([]ContainerStatus, error)
	// RemovePod stops whatever still runs of the pod and deletes its
	// sandbox and logs.
	RemovePod(ctx context.Context, podUID types.UID) error
	// LogPath is the file holding a container run's output, in the CRI log
	// format ("<RFC3339Nano> stdout|stderr F|P <line>"); rotated files carry
	// suffixes .1, .2 … (older is higher).
	LogPath(podUID types.UID, container string, attempt int) string
}

// ProbeType names what a Prober is asked to check: one of the three probes
// or one of the two lifecycle hooks.
type ProbeType string

const (
	ProbeLiveness  ProbeType = "Liveness"
	ProbeReadiness ProbeType = "Readiness"
	ProbeStartup   ProbeType = "Startup"
	HookPostStart  ProbeType = "PostStart"
	HookPreStop    ProbeType = "PreStop"
)

// Prober is optionally implemented by a runtime that answers probes and
// lifecycle hooks itself (the simulated runtime, whose containers have no
// processes, ports or files). When a runtime implements it the agent calls
// Probe instead of exec-ing, dialing or GET-ing; handler is the probe's or
// hook's handler. ok reports success; output is the text the kubelet puts
// in its "probe failed" event; err is for the probe's own failure to run.
type Prober interface {
	Probe(ctx context.Context, id ContainerID, kind ProbeType, handler *corev1.ProbeHandler) (ok bool, output string, err error)
}

// VolumeRefresher is optionally implemented by a runtime whose pod volumes
// hold data that must be renewed while the pod runs (service account
// tokens). The agent calls RefreshVolumes for each running pod
// periodically; unchanged volumes are left alone.
type VolumeRefresher interface {
	RefreshVolumes(ctx context.Context, pod *corev1.Pod) error
}

// Adopter is optionally implemented by a runtime that keeps no state of its
// own across restarts (the simulated runtime, like kwok): the agent offers
// it each container the API status shows running but the runtime does not
// list, and the runtime takes it up again as the run id, started at
// startedAt, instead of the agent reporting it lost. ok is false when the
// runtime will not adopt it; the returned status may already be exited.
type Adopter interface {
	Adopt(pod *corev1.Pod, c *corev1.Container, id ContainerID, attempt int, startedAt time.Time) (status ContainerStatus, ok bool)
}

// ReasonErrImagePull is the StartError reason of an image that could not be
// pulled; the agent reports ImagePullBackOff while it backs off.
const ReasonErrImagePull = "ErrImagePull"

// StatsProvider is optionally implemented by a runtime that can measure its
// running containers (for metrics.k8s.io and kubectl top). pod is the
// container's pod as the API shows it now (the simulated runtime reads its
// usage annotations from it).
type StatsProvider interface {
	ContainerStats(pod *corev1.Pod, id ContainerID) (stats.Sample, error)
}

// NodeStatsProvider is optionally implemented by a runtime that measures
// the whole machine (the process runtime); the simulated runtime's nodes
// use the sum of their pods.
type NodeStatsProvider interface {
	NodeStats() (stats.Sample, error)
}
