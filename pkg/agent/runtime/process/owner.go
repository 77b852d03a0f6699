package process

import (
	"os"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

// OwnsProcess reports whether pid belongs to a running container of the
// pod: it is a container's main process, in its process group or session,
// or descends from it. The agent uses it to forward ports only to the pod's
// own listeners on the shared host network.
func (r *Runtime) OwnsProcess(podUID types.UID, pid int) bool {
	return r.PodProcesses(podUID)(pid)
}

// PodProcesses is OwnsProcess for many processes: the pod's containers are
// looked up once.
func (r *Runtime) PodProcesses(podUID types.UID) func(pid int) bool {
	roots := map[int]bool{}
	r.mu.Lock()
	for _, ru := range r.runs {
		if !ru.closed && types.UID(ru.meta.PodUID) == podUID && ru.state.ContainerPID > 0 {
			roots[ru.state.ContainerPID] = true
		}
	}
	r.mu.Unlock()
	return func(pid int) bool {
		if len(roots) == 0 {
			return false
		}
		for p, depth := pid, 0; p > 1 && depth < 64; depth++ {
			if roots[p] {
				return true
			}
			ppid, pgrp, sid, ok := procIDs(p)
			if !ok {
				return false
			}
			if roots[pgrp] || roots[sid] {
				return true
			}
			p = ppid
		}
		return false
	}
}

// procIDs reads a process's parent, process group and session from
// /proc/PID/stat.
func procIDs(pid int) (ppid, pgrp, sid int, ok bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, 0, false
	}
	// After the command: state ppid pgrp session …
	f := strings.Fields(s[i+1:])
	if len(f) < 4 {
		return 0, 0, 0, false
	}
	ppid, err1 := strconv.Atoi(f[1])
	pgrp, err2 := strconv.Atoi(f[2])
	sid, err3 := strconv.Atoi(f[3])
	return ppid, pgrp, sid, err1 == nil && err2 == nil && err3 == nil
}
