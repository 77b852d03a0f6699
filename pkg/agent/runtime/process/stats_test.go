package process

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/utils/clock"
)

func TestProcCountersOfThisProcess(t *testing.T) {
	// Burn a little CPU so the counter is non-zero.
	end := time.Now().Add(30 * time.Millisecond)
	for time.Now().Before(end) {
	}
	if n := procCPUNanoseconds(os.Getpid()); n == 0 {
		t.Fatal("no CPU time read for this process")
	}
	if n := rssBytes(os.Getpid()); n == 0 {
		t.Fatal("no resident memory read for this process")
	}
	if n := procCPUNanoseconds(-1); n != 0 {
		t.Fatalf("a missing process reads %d", n)
	}
}

func TestCgroupWorkingSet(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "memory.usage_in_bytes"), []byte("1000000\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "memory.stat"), []byte("cache 5\ntotal_inactive_file 300000\ntotal_rss 7\n"), 0o644)
	if got := cgroupWorkingSet(dir); got != 700000 {
		t.Fatalf("working set %d, want 700000", got)
	}
	os.WriteFile(filepath.Join(dir, "memory.stat"), []byte("total_inactive_file 2000000\n"), 0o644)
	if got := cgroupWorkingSet(dir); got != 0 {
		t.Fatalf("working set %d, want 0", got)
	}
}

func TestNodeStats(t *testing.T) {
	r := &Runtime{clk: clock.RealClock{}}
	s, err := r.NodeStats()
	if err != nil {
		t.Fatal(err)
	}
	if s.CPUUsageNanoSeconds == 0 || s.MemoryWorkingSetBytes == 0 {
		t.Fatalf("node stats %+v", s)
	}
}
