package shim

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var criLine = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) (F|P) (.*)$`)

func readLog(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if l == "" {
			continue
		}
		m := criLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("not a CRI log line: %q", l)
		}
		out = append(out, m[1]+" "+m[2]+" "+m[3])
	}
	return out
}

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
	w.copyStream("stdout", strings.NewReader(strings.Repeat("a", maxLineChunk+10)+"\nend"))
	w.Close()
	got := readLog(t, p)
	if len(got) != 3 || got[0] != "stdout P "+strings.Repeat("a", maxLineChunk) || got[1] != "stdout F aaaaaaaaaa" || got[2] != "stdout F end" {
		t.Errorf("got %d lines: %.80q", len(got), got)
	}
}
