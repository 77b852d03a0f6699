package shim

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// criTimestamp is the fixed-width RFC 3339 timestamp of CRI log lines.
const criTimestamp = "2006-01-02T15:04:05.000000000Z07:00"

// maxLineChunk is the longest piece of a line written at once; longer lines
// are split into partial (P) entries as containerd does.
const maxLineChunk = 16 * 1024

// logWriter writes CRI-format lines ("<time> <stream> F|P <text>") to a file
// and rotates it: path → path.1 → … → path.<maxFiles-1>.
type logWriter struct {
	mu       sync.Mutex
	path     string
	f        *os.File
	size     int64
	maxSize  int64
	maxFiles int
	now      func() time.Time
}

func openLog(path string, maxSize int64, maxFiles int) (*logWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if maxFiles < 1 {
		maxFiles = 1
	}
	return &logWriter{path: path, f: f, size: fi.Size(), maxSize: maxSize, maxFiles: maxFiles, now: time.Now}, nil
}

func (w *logWriter) rotate() error {
	if err := w.f.Close(); err != nil {
		return err
	}
	if w.maxFiles <= 1 {
		if err := os.Truncate(w.path, 0); err != nil {
			return err
		}
	} else {
		_ = os.Remove(w.path + "." + strconv.Itoa(w.maxFiles-1))
		for i := w.maxFiles - 2; i >= 1; i-- {
			_ = os.Rename(w.path+"."+strconv.Itoa(i), w.path+"."+strconv.Itoa(i+1))
		}
		if err := os.Rename(w.path, w.path+".1"); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	w.f, w.size = f, 0
	return nil
}

func (w *logWriter) writeLine(stream string, text []byte, partial bool) error {
	tag := " F "
	if partial {
		tag = " P "
	}
	line := make([]byte, 0, len(criTimestamp)+len(stream)+len(text)+4)
	line = w.now().UTC().AppendFormat(line, criTimestamp)
	line = append(line, ' ')
	line = append(line, stream...)
	line = append(line, tag...)
	line = append(line, text...)
	line = append(line, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.maxSize > 0 && w.size > 0 && w.size+int64(len(line)) > w.maxSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(line)
	w.size += int64(n)
	return err
}

// copyStream copies r into w line by line as stream until EOF.
func (w *logWriter) copyStream(stream string, r io.Reader) {
	br := bufio.NewReaderSize(r, maxLineChunk)
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			_ = w.writeLine(stream, line[:len(line)-1], false)
		case errors.Is(err, bufio.ErrBufferFull):
			_ = w.writeLine(stream, line, true)
		default:
			if len(line) > 0 {
				_ = w.writeLine(stream, line, false)
			}
			return
		}
	}
}

func (w *logWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.f.Close()
}
