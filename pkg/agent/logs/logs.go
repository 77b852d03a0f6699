// Package logs reads container log files written in the CRI log format
// ("<RFC3339Nano> <stdout|stderr> <F|P> <text>") and streams them the way the
// kubelet's /containerLogs endpoint does (tail, since, timestamps, limit,
// follow). It does not know about pods or runtimes: callers give it files.
package logs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"time"
)

// Options are the kubelet's log query parameters.
type Options struct {
	Follow     bool
	Previous   bool
	Timestamps bool
	// TailLines < 0 means all lines.
	TailLines int64
	// SinceTime, when not zero, drops lines logged before it.
	SinceTime time.Time
	// LimitBytes <= 0 means no limit.
	LimitBytes int64
}

// ParseQuery reads follow, previous, timestamps, tailLines, sinceSeconds,
// sinceTime and limitBytes the way the kubelet does; now resolves
// sinceSeconds.
func ParseQuery(q url.Values, now time.Time) (Options, error) {
	o := Options{TailLines: -1}
	var err error
	boolean := func(name string) bool {
		v := q.Get(name)
		if v == "" {
			return false
		}
		b, e := strconv.ParseBool(v)
		if e != nil && err == nil {
			err = fmt.Errorf("invalid %s %q", name, v)
		}
		return b
	}
	o.Follow = boolean("follow")
	o.Previous = boolean("previous")
	o.Timestamps = boolean("timestamps")
	if err != nil {
		return o, err
	}
	if v := q.Get("tailLines"); v != "" {
		n, e := strconv.ParseInt(v, 10, 64)
		if e != nil || n < 0 {
			return o, fmt.Errorf("invalid tailLines %q: must be a non-negative integer", v)
		}
		o.TailLines = n
	}
	if v := q.Get("limitBytes"); v != "" {
		n, e := strconv.ParseInt(v, 10, 64)
		if e != nil || n < 1 {
			return o, fmt.Errorf("invalid limitBytes %q: must be a positive integer", v)
		}
		o.LimitBytes = n
	}
	if v := q.Get("sinceSeconds"); v != "" {
		n, e := strconv.ParseInt(v, 10, 64)
		if e != nil || n < 1 {
			return o, fmt.Errorf("invalid sinceSeconds %q: must be a positive integer", v)
		}
		o.SinceTime = now.Add(-time.Duration(n) * time.Second)
	}
	if v := q.Get("sinceTime"); v != "" {
		if q.Get("sinceSeconds") != "" {
			return o, errors.New("at most one of sinceTime or sinceSeconds may be specified")
		}
		t, e := time.Parse(time.RFC3339, v)
		if e != nil {
			return o, fmt.Errorf("invalid sinceTime %q: %v", v, e)
		}
		o.SinceTime = t
	}
	return o, nil
}

// record is one parsed CRI log line.
type record struct {
	ts      time.Time
	rawTS   []byte
	partial bool
	text    []byte
}

func parseLine(line []byte) (record, bool) {
	var r record
	i := bytes.IndexByte(line, ' ')
	if i < 0 {
		return r, false
	}
	r.rawTS = line[:i]
	ts, err := time.Parse(time.RFC3339Nano, string(r.rawTS))
	if err != nil {
		return r, false
	}
	r.ts = ts
	rest := line[i+1:]
	j := bytes.IndexByte(rest, ' ')
	if j < 0 {
		return r, false
	}
	rest = rest[j+1:] // stream
	if len(rest) >= 2 && (rest[0] == 'P' || rest[0] == 'F') && rest[1] == ' ' {
		r.partial = rest[0] == 'P'
		r.text = rest[2:]
	} else if len(rest) == 1 && (rest[0] == 'P' || rest[0] == 'F') {
		r.partial = rest[0] == 'P'
	} else {
		r.text = rest
	}
	return r, true
}

// writer applies timestamps and the byte limit.
type writer struct {
	w          io.Writer
	timestamps bool
	remaining  int64 // <0: unlimited
	atLineHead bool
}

var errLimit = errors.New("limit reached")

func (w *writer) write(r record) error {
	var buf []byte
	if w.timestamps && w.atLineHead {
		buf = append(buf, r.ts.UTC().Format(time.RFC3339Nano)...)
		buf = append(buf, ' ')
	}
	buf = append(buf, r.text...)
	if !r.partial {
		buf = append(buf, '\n')
	}
	w.atLineHead = !r.partial
	if w.remaining >= 0 {
		if int64(len(buf)) >= w.remaining {
			buf = buf[:w.remaining]
			w.remaining = 0
			if _, err := w.w.Write(buf); err != nil {
				return err
			}
			return errLimit
		}
		w.remaining -= int64(len(buf))
	}
	_, err := w.w.Write(buf)
	if f, ok := w.w.(interface{ Flush() }); ok {
		f.Flush()
	}
	return err
}

// Stream writes the logs held in files (oldest first; the last one is the
// live file that follow keeps reading) to w. With Follow it keeps reading
// the last file until running returns false and the file is drained, or ctx
// ends; poll is how often it looks for new data (default 100ms).
func Stream(ctx context.Context, files []string, o Options, w io.Writer, running func() bool, poll time.Duration) error {
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	out := &writer{w: w, timestamps: o.Timestamps, remaining: -1, atLineHead: true}
	if o.LimitBytes > 0 {
		out.remaining = o.LimitBytes
	}
	var recs []record
	keep := func(r record) {
		if !o.SinceTime.IsZero() && r.ts.Before(o.SinceTime) {
			return
		}
		recs = append(recs, r)
	}
	var offset int64
	for i, p := range files {
		n, err := readRecords(p, 0, keep)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		if i == len(files)-1 {
			offset = n
		}
	}
	if o.TailLines >= 0 {
		// count full lines from the end
		lines := int64(0)
		start := len(recs)
		for i := len(recs) - 1; i >= 0; i-- {
			if !recs[i].partial {
				if lines == o.TailLines {
					break
				}
				lines++
			}
			start = i
		}
		if o.TailLines == 0 {
			start = len(recs)
		}
		recs = recs[start:]
	}
	for _, r := range recs {
		if err := out.write(r); err != nil {
			if err == errLimit {
				return nil
			}
			return err
		}
	}
	if !o.Follow || len(files) == 0 {
		return nil
	}
	live := files[len(files)-1]
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		// check running before reading so that the last read after the end
		// drains everything the run wrote.
		alive := running()
		var werr error
		if st, err := os.Stat(live); err == nil && st.Size() < offset {
			offset = 0 // rotated
		}
		n, err := readRecords(live, offset, func(r record) {
			if werr != nil {
				return
			}
			if !o.SinceTime.IsZero() && r.ts.Before(o.SinceTime) {
				return
			}
			werr = out.write(r)
		})
		if werr == errLimit {
			return nil
		}
		if werr != nil {
			return werr
		}
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		offset = n
		if !alive {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// readRecords parses the complete lines of path from offset and returns the
// offset after the last complete line.
func readRecords(path string, offset int64, f func(record)) (int64, error) {
	file, err := os.Open(path)
	if err != nil {
		return offset, err
	}
	defer file.Close()
	if _, err := file.Seek(offset, io.SeekStart); err != nil {
		return offset, err
	}
	br := bufio.NewReaderSize(file, 64*1024)
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			// an incomplete last line is read again next time
			return offset, nil
		}
		offset += int64(len(line))
		if r, ok := parseLine(line[:len(line)-1]); ok {
			r.text = append([]byte(nil), r.text...)
			f(r)
		}
	}
}

// Files returns base's rotated files (base.N … base.1, oldest first) that
// exist, followed by base itself.
func Files(base string) []string {
	var rotated []string
	for i := 1; ; i++ {
		p := base + "." + strconv.Itoa(i)
		if _, err := os.Stat(p); err != nil {
			break
		}
		rotated = append(rotated, p)
	}
	out := make([]string, 0, len(rotated)+1)
	for i := len(rotated) - 1; i >= 0; i-- {
		out = append(out, rotated[i])
	}
	return append(out, base)
}
