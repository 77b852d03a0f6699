package shim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Attach protocol, on the shim's unix socket (AttachAddress): frames of a
// type byte, a big-endian uint32 length and the payload.
//
//	runtime → shim: FrameStdinAttached (first, when the session carries stdin),
//	                FrameStdin data, FrameCloseStdin, FrameResize (width, height uint16)
//	shim → runtime: FrameStdout data, FrameStderr data
//
// The shim closes the connection once the container has ended and its
// output is delivered, or when the client does not keep up with it.
const (
	FrameStdinAttached byte = 's'
	FrameStdin         byte = 'i'
	FrameCloseStdin    byte = 'c'
	FrameResize        byte = 'r'
	FrameStdout        byte = 'o'
	FrameStderr        byte = 'e'
)

// maxFrame bounds a frame's payload.
const maxFrame = 1 << 20

// clientQueue is how many output chunks wait for a slow client before it
// is dropped; the container and its log never wait for a client.
const clientQueue = 1024

// AttachAddress is the abstract unix socket of the run in dir (abstract, so
// that no path length limit applies). Both ends check who is on the other
// side: the shim accepts its own user (or root) only, and the runtime
// accepts the run's shim only (PeerCredentials), so a process that takes
// the name first gets nothing.
func AttachAddress(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return "@herd-shim-" + hex.EncodeToString(sum[:12])
}

// PeerCredentials returns the pid and uid of the process at the other end
// of a unix socket connection.
func PeerCredentials(conn net.Conn) (pid int, uid int, err error) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return 0, 0, fmt.Errorf("not a unix socket connection")
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var cred *syscall.Ucred
	var credErr error
	if err := rc.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return 0, 0, err
	}
	if credErr != nil {
		return 0, 0, credErr
	}
	return int(cred.Pid), int(cred.Uid), nil
}

// WriteFrame writes one frame.
func WriteFrame(w io.Writer, typ byte, payload []byte) error {
	buf := make([]byte, 5+len(payload))
	buf[0] = typ
	binary.BigEndian.PutUint32(buf[1:5], uint32(len(payload)))
	copy(buf[5:], payload)
	_, err := w.Write(buf)
	return err
}

// ReadFrame reads one frame.
func ReadFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("attach frame of %d bytes is too large", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, err
	}
	return hdr[0], p, nil
}

// attachServer serves the container's stdio to attached clients: output
// is queued to every client as it is read, input from any client goes to
// the container's stdin (a pipe, or the terminal).
type attachServer struct {
	ln      net.Listener
	tty     *os.File // the terminal's master side, when the container has one
	pid     int      // the container's process (group and session leader)
	once    bool     // stdinOnce: stdin ends with the first session that carried it
	mu      sync.Mutex
	stdin   io.WriteCloser // nil when the container has no stdin or it was closed
	clients map[*attachClient]bool
}

type attachClient struct {
	conn net.Conn
	out  chan []byte // frames to send; closed when the client is dropped
	gone bool
}

func newAttachServer(dir string, stdin io.WriteCloser, once bool, tty *os.File, pid int) (*attachServer, error) {
	ln, err := net.Listen("unix", AttachAddress(dir))
	if err != nil {
		return nil, fmt.Errorf("attach socket: %w", err)
	}
	s := &attachServer{ln: ln, tty: tty, pid: pid, stdin: stdin, once: once, clients: map[*attachClient]bool{}}
	go s.accept()
	return s, nil
}

func (s *attachServer) accept() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(100 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		if _, uid, err := PeerCredentials(conn); err != nil || (uid != 0 && uid != os.Geteuid()) {
			conn.Close()
			continue
		}
		c := &attachClient{conn: conn, out: make(chan []byte, clientQueue)}
		s.mu.Lock()
		s.clients[c] = true
		s.mu.Unlock()
		go s.send(c)
		go s.serve(c)
	}
}

// send writes the client's queued output.
func (s *attachServer) send(c *attachClient) {
	for frame := range c.out {
		if _, err := c.conn.Write(frame); err != nil {
			break
		}
	}
	c.conn.Close()
}

// drop stops sending to c; s.mu must be held.
func (s *attachServer) drop(c *attachClient) {
	if !c.gone {
		c.gone = true
		delete(s.clients, c)
		close(c.out)
	}
}

func (s *attachServer) serve(c *attachClient) {
	carriesStdin := false
	defer func() {
		s.mu.Lock()
		s.drop(c)
		s.mu.Unlock()
		c.conn.Close()
		if carriesStdin && s.once {
			s.closeStdin()
		}
	}()
	for {
		typ, p, err := ReadFrame(c.conn)
		if err != nil {
			return
		}
		switch typ {
		case FrameStdinAttached:
			carriesStdin = true
		case FrameStdin:
			s.mu.Lock()
			in := s.stdin
			s.mu.Unlock()
			if in != nil {
				_, _ = in.Write(p)
			}
		case FrameCloseStdin:
			// The client's input ended: the container's ends too with
			// stdinOnce; otherwise it stays open for the next session.
			if carriesStdin && s.once {
				s.closeStdin()
			}
		case FrameResize:
			if s.tty != nil && len(p) == 4 {
				SetWinsize(s.tty, binary.BigEndian.Uint16(p[0:2]), binary.BigEndian.Uint16(p[2:4]))
			}
		}
	}
}

// closeStdin ends the container's input: the pipe is closed; a terminal
// is hung up (SIGHUP to its session), as closing a container's terminal
// does.
func (s *attachServer) closeStdin() {
	s.mu.Lock()
	in := s.stdin
	s.stdin = nil
	s.mu.Unlock()
	if in == nil {
		return
	}
	if s.tty != nil {
		_ = syscall.Kill(-s.pid, syscall.SIGHUP)
		return
	}
	in.Close()
}

// output returns a writer that queues what the container writes on
// stream to every attached client. A client whose queue is full is
// dropped (its session ends) rather than stalling the container.
func (s *attachServer) output(typ byte) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		frame := make([]byte, 5+len(p))
		frame[0] = typ
		binary.BigEndian.PutUint32(frame[1:5], uint32(len(p)))
		copy(frame[5:], p)
		s.mu.Lock()
		defer s.mu.Unlock()
		for c := range s.clients {
			select {
			case c.out <- frame:
			default:
				s.drop(c)
			}
		}
		return len(p), nil
	})
}

// close ends every session once their output is sent: the container has
// ended.
func (s *attachServer) close() {
	s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		s.drop(c)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// OpenPTY allocates a pseudo-terminal: the master side for the caller, the
// slave side for the command (standard library only; the master stays
// non-blocking, so closing it interrupts a read).
func OpenPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	rc, err := master.SyscallConn()
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	var n uint32
	var ioErr error
	_ = rc.Control(func(fd uintptr) {
		var unlock int32
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
			ioErr = e
			return
		}
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
			ioErr = e
		}
	})
	if ioErr != nil {
		master.Close()
		return nil, nil, fmt.Errorf("allocating a terminal: %w", ioErr)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

// SetWinsize sets a terminal's size in characters.
func SetWinsize(f *os.File, width, height uint16) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	ws := struct{ Row, Col, X, Y uint16 }{Row: height, Col: width}
	_ = rc.Control(func(fd uintptr) {
		_, _, _ = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws)))
	})
}
