package process

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/herd-project/herd/pkg/agent/runtime"
	"github.com/herd-project/herd/pkg/agent/stats"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times (100 on
// every Linux architecture Go supports).
const clockTicks = 100

// ContainerStats implements runtime.StatsProvider. With cgroups, CPU is the
// CPU time of the processes in the run's cgroup and memory its working set
// (memory.usage_in_bytes less inactive file pages, as cAdvisor reports);
// without, the container process's own CPU time (its waited-for children
// included) and resident memory.
func (r *Runtime) ContainerStats(_ *corev1.Pod, id runtime.ContainerID) (stats.Sample, error) {
	r.mu.Lock()
	ru, ok := r.runs[id]
	var cg []string
	var pid int
	if ok && !ru.closed {
		cg = ru.spec.Cgroups
		pid = ru.state.ContainerPID
	}
	r.mu.Unlock()
	if !ok || (len(cg) == 0 && pid == 0) {
		return stats.Sample{}, fmt.Errorf("container run %s is not running", id)
	}
	s := stats.Sample{Time: r.clk.Now()}
	var pids []int
	if len(cg) >= 2 {
		pids = cgroupProcs(cg[1])
		s.MemoryWorkingSetBytes = cgroupWorkingSet(cg[0])
	} else {
		pids = []int{pid}
		s.MemoryWorkingSetBytes = rssBytes(pid)
	}
	for _, p := range pids {
		s.CPUUsageNanoSeconds += procCPUNanoseconds(p)
	}
	return s, nil
}

func cgroupProcs(dir string) []int {
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

// cgroupWorkingSet is a v1 memory cgroup's usage less its inactive file
// pages.
func cgroupWorkingSet(dir string) uint64 {
	usage := readUint(filepath.Join(dir, "memory.usage_in_bytes"))
	inactive := statField(filepath.Join(dir, "memory.stat"), "total_inactive_file")
	if inactive > usage {
		return 0
	}
	return usage - inactive
}

// procCPUNanoseconds is utime+stime+cutime+cstime of a process.
func procCPUNanoseconds(pid int) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: fields start after its ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	// f[0] is the state (field 3); utime..cstime are fields 14..17.
	if len(f) < 15 {
		return 0
	}
	var ticks uint64
	for _, v := range f[11:15] {
		n, _ := strconv.ParseUint(v, 10, 64)
		ticks += n
	}
	return ticks * (1e9 / clockTicks)
}

func rssBytes(pid int) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

func readUint(path string) uint64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	return n
}

// statField reads "key value" from a memory.stat-like file.
func statField(path, key string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == key {
			n, _ := strconv.ParseUint(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// NodeStats implements runtime.NodeStatsProvider: the host's cumulative CPU time (/proc/stat, all but idle
// and iowait) and memory working set (the root memory cgroup's, else
// MemTotal less MemAvailable).
func (r *Runtime) NodeStats() (stats.Sample, error) {
	s := stats.Sample{Time: r.clk.Now()}
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return s, fmt.Errorf("unexpected /proc/stat")
	}
	var ticks uint64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait, guest (counted in user)
			continue
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		ticks += n
	}
	s.CPUUsageNanoSeconds = ticks * (1e9 / clockTicks)
	if ws := cgroupWorkingSet(filepath.Join(cgroupRoot, "memory")); ws > 0 {
		s.MemoryWorkingSetBytes = ws
		return s, nil
	}
	total := statField("/proc/meminfo", "MemTotal:")
	avail := statField("/proc/meminfo", "MemAvailable:")
	if avail < total { // in kB
		s.MemoryWorkingSetBytes = (total - avail) * 1024
	}
	return s, nil
}
