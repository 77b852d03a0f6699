package shim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Files of a run's state directory (StateDir/pods/<uid>/runs/<container>_<attempt>).
const (
	SpecFile  = "spec.json"  // RunSpec, written by the runtime before the shim starts
	MetaFile  = "meta.json"  // RunMeta, written by the runtime before the shim starts
	StateFile = "state.json" // State, written by the shim once the container runs
	ExitFile  = "exit.json"  // ExitStatus, written by the shim when the container ended
	ShimLog   = "shim.log"   // the shim's own stderr
)

// Mount is one volumeMount resolved to the host.
type Mount struct {
	// Source is the host path (volume dir or hostPath, plus subPath).
	Source string `json:"source"`
	// Target is the mountPath in the container.
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// RunSpec is everything the shim needs to start the container process.
type RunSpec struct {
	ID      string   `json:"id"`
	Args    []string `json:"args"`
	Env     []string `json:"env"`
	Dir     string   `json:"dir,omitempty"`
	Mounts  []Mount  `json:"mounts,omitempty"`
	MountNS bool     `json:"mountNS,omitempty"`
	// MaskPaths are host directories hidden in the container's mount
	// namespace behind an empty read-only tmpfs (the server's data dir:
	// its keys and etcd credentials are not the container's business).
	MaskPaths   []string `json:"maskPaths,omitempty"`
	Hostname    string   `json:"hostname,omitempty"`
	Cgroups     []string `json:"cgroups,omitempty"`
	LogPath     string   `json:"logPath"`
	LogMaxSize  int64    `json:"logMaxSize"`
	LogMaxFiles int      `json:"logMaxFiles"`
	ShimCommand []string `json:"shimCommand"`
	// Stdin, StdinOnce and TTY are the container's stdin, stdinOnce and
	// tty: its input comes from attached clients.
	Stdin     bool `json:"stdin,omitempty"`
	StdinOnce bool `json:"stdinOnce,omitempty"`
	TTY       bool `json:"tty,omitempty"`
}

// RunMeta identifies the run.
type RunMeta struct {
	ID           string `json:"id"`
	PodUID       string `json:"podUID"`
	PodNamespace string `json:"podNamespace"`
	PodName      string `json:"podName"`
	Container    string `json:"container"`
	Attempt      int    `json:"attempt"`
}

// State records the processes of a started run. Start times are the
// kernel's (clock ticks since boot, /proc/<pid>/stat field 22) so a reused
// pid is never mistaken for the run's process.
type State struct {
	ShimPID        int       `json:"shimPID"`
	ShimStart      uint64    `json:"shimStart"`
	ContainerPID   int       `json:"containerPID"`
	ContainerStart uint64    `json:"containerStart"`
	StartedAt      time.Time `json:"startedAt"`
}

// ExitStatus is how the container process ended.
type ExitStatus struct {
	ExitCode   int32     `json:"exitCode"`
	Signal     int       `json:"signal,omitempty"`
	OOMKilled  bool      `json:"oomKilled,omitempty"`
	FinishedAt time.Time `json:"finishedAt"`
	Reason     string    `json:"reason,omitempty"`
	Message    string    `json:"message,omitempty"`
}

// WriteJSON writes v to path atomically (temp file, rename): readers and a
// crash of any process see the old or the new content, never a part.
func WriteJSON(path string, v any) error { return writeJSONFile(path, v, false) }

// WriteJSONDurable is WriteJSON that also survives a machine crash (fsync
// of the file and its directory); exit statuses use it.
func WriteJSONDurable(path string, v any) error { return writeJSONFile(path, v, true) }

func writeJSONFile(path string, v any, durable bool) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if durable {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if !durable {
		return nil
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func ReadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// ProcStart returns the start time of pid (clock ticks since boot) and
// whether it is alive (not a zombie).
func ProcStart(pid int) (uint64, bool) {
	if pid <= 0 {
		return 0, false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is the state (field 3); start time is field 22.
	if len(fields) < 20 {
		return 0, false
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, false
	}
	return start, fields[0] != "Z" && fields[0] != "X"
}

// SameProcess says whether pid is still the process that started at start.
func SameProcess(pid int, start uint64) bool {
	s, alive := ProcStart(pid)
	return alive && s == start
}

// ExitFromWait converts a wait status into an exit code and signal.
func ExitFromWait(ws syscall.WaitStatus) (int32, int) {
	if ws.Signaled() {
		return int32(128 + int(ws.Signal())), int(ws.Signal())
	}
	return int32(ws.ExitStatus()), 0
}
