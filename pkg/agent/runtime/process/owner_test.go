package process

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The container's main process and its children belong to the pod; the
// test process and another pod's do not.
func TestOwnsProcess(t *testing.T) {
	r := newRuntime(t, t.TempDir(), nil)
	wd := t.TempDir()
	c := sh("c", `sleep 30 & echo $! > child; wait`)
	c.WorkingDir = wd
	pod := testPod("uid-owner", c)
	id := start(t, r, pod, 0)
	waitFile(t, filepath.Join(wd, "child"))
	var child int
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if child, _ = strconv.Atoi(readTrim(t, filepath.Join(wd, "child"))); child > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.mu.Lock()
	main := r.runs[id].state.ContainerPID
	r.mu.Unlock()
	if !r.OwnsProcess(pod.UID, main) || !r.OwnsProcess(pod.UID, child) {
		t.Errorf("main %d / child %d not owned", main, child)
	}
	if r.OwnsProcess(pod.UID, os.Getpid()) || r.OwnsProcess("other-uid", child) {
		t.Error("foreign process owned")
	}
}
