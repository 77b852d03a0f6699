package process

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// cgroupRoot is where cgroup v1 controllers are mounted.
var cgroupRoot = "/sys/fs/cgroup"

// cgroupParent is the directory under each controller that holds herd's
// per-run cgroups.
const cgroupParent = "herd"

// CgroupsAvailable says whether the process runtime can enforce memory and
// cpu limits (root and cgroup v1 memory and cpu controllers); when not, the
// string says why, for a node event.
func CgroupsAvailable() (bool, string) {
	if os.Geteuid() != 0 {
		return false, "herd is not running as root: container memory and cpu limits are not enforced"
	}
	for _, ctrl := range []string{"memory", "cpu"} {
		dir := filepath.Join(cgroupRoot, ctrl)
		if _, err := os.Stat(filepath.Join(dir, "cgroup.procs")); err != nil {
			return false, fmt.Sprintf("cgroup v1 %s controller not found at %s: container memory and cpu limits are not enforced", ctrl, dir)
		}
		if err := os.MkdirAll(filepath.Join(dir, cgroupParent), 0o755); err != nil {
			return false, fmt.Sprintf("cannot create %s: %v: container memory and cpu limits are not enforced", filepath.Join(dir, cgroupParent), err)
		}
	}
	return true, ""
}

// cgroupDirs are a run's cgroup directories, memory first. A random suffix
// keeps two herd state dirs on one host (tests, several servers) apart.
func cgroupDirs(id string) []string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := id + "-" + hex.EncodeToString(b[:])
	return []string{
		filepath.Join(cgroupRoot, "memory", cgroupParent, name),
		filepath.Join(cgroupRoot, "cpu", cgroupParent, name),
	}
}

// createCgroups makes a run's cgroups and applies c's limits:
// memory.limit_in_bytes from limits.memory, cpu.cfs_quota_us from
// limits.cpu, cpu.shares from requests.cpu (2 when unset, as the kubelet).
func createCgroups(id string, res corev1.ResourceRequirements) ([]string, error) {
	dirs := cgroupDirs(id)
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			removeCgroups(dirs)
			return nil, err
		}
	}
	mem, cpu := dirs[0], dirs[1]
	if q, ok := res.Limits[corev1.ResourceMemory]; ok && !q.IsZero() {
		v := strconv.FormatInt(q.Value(), 10)
		if err := os.WriteFile(filepath.Join(mem, "memory.limit_in_bytes"), []byte(v), 0o644); err != nil {
			removeCgroups(dirs)
			return nil, fmt.Errorf("setting memory limit: %w", err)
		}
		// Without swap accounting the file is absent; with it, swap must
		// not extend the limit.
		_ = os.WriteFile(filepath.Join(mem, "memory.memsw.limit_in_bytes"), []byte(v), 0o644)
	}
	if q, ok := res.Limits[corev1.ResourceCPU]; ok && !q.IsZero() {
		const period = 100000
		quota := q.MilliValue() * period / 1000
		if quota < 1000 {
			quota = 1000
		}
		if err := os.WriteFile(filepath.Join(cpu, "cpu.cfs_period_us"), []byte(strconv.Itoa(period)), 0o644); err != nil {
			removeCgroups(dirs)
			return nil, fmt.Errorf("setting cpu period: %w", err)
		}
		if err := os.WriteFile(filepath.Join(cpu, "cpu.cfs_quota_us"), []byte(strconv.FormatInt(quota, 10)), 0o644); err != nil {
			removeCgroups(dirs)
			return nil, fmt.Errorf("setting cpu quota: %w", err)
		}
	}
	shares := int64(2)
	if q, ok := res.Requests[corev1.ResourceCPU]; ok {
		shares = max(q.MilliValue()*1024/1000, 2)
	}
	if err := os.WriteFile(filepath.Join(cpu, "cpu.shares"), []byte(strconv.FormatInt(shares, 10)), 0o644); err != nil {
		removeCgroups(dirs)
		return nil, fmt.Errorf("setting cpu shares: %w", err)
	}
	return dirs, nil
}

// joinCgroups moves the calling process into dirs.
func joinCgroups(dirs []string) error {
	pid := []byte(strconv.Itoa(os.Getpid()))
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), pid, 0o644); err != nil {
			return fmt.Errorf("joining cgroup %s: %w", d, err)
		}
	}
	return nil
}

// leaveCgroups moves the calling process back to the parent of dirs.
func leaveCgroups(dirs []string) {
	pid := []byte(strconv.Itoa(os.Getpid()))
	for _, d := range dirs {
		_ = os.WriteFile(filepath.Join(filepath.Dir(d), "cgroup.procs"), pid, 0o644)
	}
}

// cgroupPids lists the processes in a cgroup.
func cgroupPids(dir string) []int {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids
}

// killCgroup sends sig to every process of the run's cgroups.
func killCgroup(dirs []string, sig syscall.Signal) {
	for _, d := range dirs {
		for _, p := range cgroupPids(d) {
			_ = syscall.Kill(p, sig)
		}
	}
}

// oomKilled says whether the kernel's OOM killer acted in the memory cgroup.
func oomKilled(memDir string) bool {
	data, err := os.ReadFile(filepath.Join(memDir, "memory.oom_control"))
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "oom_kill" {
				return f[1] != "0"
			}
		}
	}
	// Kernels before 4.13 have no oom_kill counter: a hit limit is the best
	// evidence left.
	data, err = os.ReadFile(filepath.Join(memDir, "memory.failcnt"))
	return err == nil && strings.TrimSpace(string(data)) != "0"
}

// removeCgroups kills what is left in dirs and removes them, retrying while
// the kernel still counts exiting tasks.
func removeCgroups(dirs []string) {
	deadline := time.Now().Add(2 * time.Second)
	for _, d := range dirs {
		for {
			killCgroup([]string{d}, syscall.SIGKILL)
			err := syscall.Rmdir(d)
			if err == nil || errors.Is(err, syscall.ENOENT) || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
