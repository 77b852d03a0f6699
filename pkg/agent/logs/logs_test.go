package logs

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

const sample = "2026-01-02T03:04:05.000000001Z stdout F one\n" +
	"2026-01-02T03:04:06Z stderr P tw\n" +
	"2026-01-02T03:04:06.5Z stderr F o\n" +
	"2026-01-02T03:04:07Z stdout F three\n" +
	"2026-01-02T03:04:08Z stdout F incomplete" // no newline yet

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func stream(t *testing.T, files []string, q string) string {
	t.Helper()
	v, _ := url.ParseQuery(q)
	o, err := ParseQuery(v, time.Date(2026, 1, 2, 3, 4, 10, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Stream(context.Background(), files, o, &b, func() bool { return false }, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestStream(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "0.log", sample)
	cases := map[string]string{
		"":                               "one\ntwo\nthree\n",
		"tailLines=1":                    "three\n",
		"tailLines=2":                    "two\nthree\n",
		"tailLines=0":                    "",
		"timestamps=true&tailLines=1":    "2026-01-02T03:04:07Z three\n",
		"timestamps=true&tailLines=2":    "2026-01-02T03:04:06Z two\n2026-01-02T03:04:07Z three\n",
		"sinceTime=2026-01-02T03:04:07Z": "three\n",
		"sinceSeconds=3":                 "three\n",
		"sinceSeconds=4":                 "two\nthree\n",
		"limitBytes=6":                   "one\ntw",
		"follow=true":                    "one\ntwo\nthree\n",
	}
	for q, want := range cases {
		if got := stream(t, []string{p}, q); got != want {
			t.Errorf("%q: got %q want %q", q, got, want)
		}
	}
}

func TestParseQueryErrors(t *testing.T) {
	for _, q := range []string{"tailLines=-1", "limitBytes=0", "sinceSeconds=x", "sinceTime=yesterday", "follow=maybe", "sinceSeconds=1&sinceTime=2026-01-02T03:04:07Z"} {
		v, _ := url.ParseQuery(q)
		if _, err := ParseQuery(v, time.Now()); err == nil {
			t.Errorf("%q accepted", q)
		}
	}
}

func TestRotatedFiles(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "0.log")
	write(t, dir, "0.log.2", "2026-01-02T03:04:01Z stdout F a\n")
	write(t, dir, "0.log.1", "2026-01-02T03:04:02Z stdout F b\n")
	write(t, dir, "0.log", "2026-01-02T03:04:03Z stdout F c\n")
	files := Files(base)
	if len(files) != 3 || files[0] != base+".2" || files[2] != base {
		t.Fatalf("files %v", files)
	}
	if got := stream(t, files, ""); got != "a\nb\nc\n" {
		t.Errorf("got %q", got)
	}
	if got := stream(t, files, "tailLines=2"); got != "b\nc\n" {
		t.Errorf("tail got %q", got)
	}
}

func TestFollowUntilRunEnds(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "0.log", "2026-01-02T03:04:01Z stdout F a\n")
	var alive atomic.Bool
	alive.Store(true)
	var b safeBuffer
	done := make(chan error)
	go func() {
		done <- Stream(context.Background(), []string{p}, Options{Follow: true, TailLines: -1}, &b, alive.Load, time.Millisecond)
	}()
	time.Sleep(20 * time.Millisecond)
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("2026-01-02T03:04:02Z stdout F b\n")
	f.Close()
	time.Sleep(20 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("follow ended while the run is alive")
	default:
	}
	f, _ = os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("2026-01-02T03:04:03Z stdout F c\n")
	f.Close()
	alive.Store(false)
	select {
	case err := <-done:
		if err != nil || b.String() != "a\nb\nc\n" {
			t.Fatalf("err %v got %q", err, b.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not end")
	}
	// a client that goes away ends follow too
	alive.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		done <- Stream(ctx, []string{p}, Options{Follow: true, TailLines: -1}, &safeBuffer{}, alive.Load, time.Millisecond)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("follow ignored the context")
	}
}
