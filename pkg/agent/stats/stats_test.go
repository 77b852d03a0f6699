package stats

import (
	"testing"
	"time"
)

func TestSamplerRates(t *testing.T) {
	p := NewSampler()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if u := p.Observe("c", Sample{Time: t0, CPUUsageNanoSeconds: 1e9, MemoryWorkingSetBytes: 10}); u != nil {
		t.Fatalf("first reading gave a rate: %+v", u)
	}
	// 0.5 s of CPU over 2 s: 250m.
	u := p.Observe("c", Sample{Time: t0.Add(2 * time.Second), CPUUsageNanoSeconds: 1.5e9, MemoryWorkingSetBytes: 20})
	if u == nil || u.CPUNanoCores != 250_000_000 || u.Window != 2*time.Second || u.MemoryWorkingSetBytes != 20 {
		t.Fatalf("got %+v", u)
	}
	// A reading closer than MinWindow repeats the last rate with new memory.
	u = p.Observe("c", Sample{Time: t0.Add(2500 * time.Millisecond), CPUUsageNanoSeconds: 1.9e9, MemoryWorkingSetBytes: 30})
	if u == nil || u.CPUNanoCores != 250_000_000 || u.MemoryWorkingSetBytes != 30 {
		t.Fatalf("got %+v", u)
	}
	// A counter that went back (a restarted process) reads as 0, not a wrap.
	u = p.Observe("c", Sample{Time: t0.Add(5 * time.Second), CPUUsageNanoSeconds: 1e8})
	if u == nil || u.CPUNanoCores != 0 {
		t.Fatalf("got %+v", u)
	}
	// Rates given directly are used as they are.
	r := uint64(42)
	if u := p.Observe("s", Sample{Time: t0, CPUNanoCores: &r}); u == nil || u.CPUNanoCores != 42 {
		t.Fatalf("got %+v", u)
	}
}

func TestSamplerForget(t *testing.T) {
	p := NewSampler()
	p.Observe("a", Sample{Time: time.Now()})
	p.Forget() // a was seen since the last Forget: kept
	if len(p.last) != 1 {
		t.Fatal("a dropped too early")
	}
	p.Forget() // not seen since: dropped
	if len(p.last) != 0 {
		t.Fatal("a kept after its run ended")
	}
}
