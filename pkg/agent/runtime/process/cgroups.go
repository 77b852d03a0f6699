package process

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/herd-project/herd/pkg/agent/runtime/process/shim"
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
			shim.RemoveCgroups(dirs)
			return nil, err
		}
	}
	mem, cpu := dirs[0], dirs[1]
	if q, ok := res.Limits[corev1.ResourceMemory]; ok && !q.IsZero() {
		v := strconv.FormatInt(q.Value(), 10)
		if err := os.WriteFile(filepath.Join(mem, "memory.limit_in_bytes"), []byte(v), 0o644); err != nil {
			shim.RemoveCgroups(dirs)
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
			shim.RemoveCgroups(dirs)
			return nil, fmt.Errorf("setting cpu period: %w", err)
		}
		if err := os.WriteFile(filepath.Join(cpu, "cpu.cfs_quota_us"), []byte(strconv.FormatInt(quota, 10)), 0o644); err != nil {
			shim.RemoveCgroups(dirs)
			return nil, fmt.Errorf("setting cpu quota: %w", err)
		}
	}
	shares := int64(2)
	if q, ok := res.Requests[corev1.ResourceCPU]; ok {
		shares = max(q.MilliValue()*1024/1000, 2)
	}
	if err := os.WriteFile(filepath.Join(cpu, "cpu.shares"), []byte(strconv.FormatInt(shares, 10)), 0o644); err != nil {
		shim.RemoveCgroups(dirs)
		return nil, fmt.Errorf("setting cpu shares: %w", err)
	}
	return dirs, nil
}
