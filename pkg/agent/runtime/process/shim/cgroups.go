package shim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

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

// KillCgroup sends sig to every process of the run's cgroups.
func KillCgroup(dirs []string, sig syscall.Signal) {
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

// RemoveCgroups kills what is left in dirs and removes them, retrying while
// the kernel still counts exiting tasks.
func RemoveCgroups(dirs []string) {
	deadline := time.Now().Add(2 * time.Second)
	for _, d := range dirs {
		for {
			KillCgroup([]string{d}, syscall.SIGKILL)
			err := syscall.Rmdir(d)
			if err == nil || errors.Is(err, syscall.ENOENT) || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
