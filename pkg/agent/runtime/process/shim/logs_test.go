package shim

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLogRotation(t *testing.T) {
	p := filepath.Join(t.TempDir(), "0.log")
	w, err := openLog(p, 200, 3)
	if err != nil {
		t.Fatal(err)
	}
	w.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC) }
	for i := 0; i < 10; i++ {
		if err := w.writeLine("stdout", []byte(fmt.Sprintf("line %02d %s", i, strings.Repeat("x", 40))), false); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	// Each line is 89 bytes: two per file.
	for suffix, want := range map[string]string{"": "line 08", ".1": "line 06", ".2": "line 04"} {
		data, err := os.ReadFile(p + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), "2026-01-02T03:04:05.000000006Z stdout F "+want) || strings.Count(string(data), "\n") != 2 {
			t.Errorf("%s: %q", suffix, data)
		}
	}
	if _, err := os.Stat(p + ".3"); !os.IsNotExist(err) {
		t.Errorf("kept more than 3 files")
	}
}

func TestLongLinesArePartial(t *testing.T) {
	p := filepath.Join(t.TempDir(), "0.log")
	w, err := openLog(p, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	w.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC) }
	w.copyStream("stdout", strings.NewReader(strings.Repeat("a", maxLineChunk+10)+"\nend"))
	w.Close()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	const ts = "2026-01-02T03:04:05.000000006Z "
	want := ts + "stdout P " + strings.Repeat("a", maxLineChunk) + "\n" + ts + "stdout F aaaaaaaaaa\n" + ts + "stdout F end\n"
	if string(data) != want {
		t.Errorf("log: %.200q", data)
	}
}
