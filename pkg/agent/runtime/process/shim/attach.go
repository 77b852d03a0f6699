package shim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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
//	runtime → shim: FrameStdin data, FrameCloseStdin, FrameResize (width, height uint16)
//	shim → runtime: FrameStdout data, FrameStderr data
//
// The shim closes the connection once the container has ended and its
// output is delivered.
const (
	FrameStdin      byte = 'i'
	FrameCloseStdin byte = 'c'
	FrameResize     byte = 'r'
	FrameStdout     byte = 'o'
	FrameStderr     byte = 'e'
)

// maxFrame bounds a frame's payload.
const maxFrame = 1 << 20

// AttachAddress is the abstract unix socket of the run in dir (abstract, so
// that no path length limit applies; connections are accepted from the
// shim's own user only).
func AttachAddress(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return "@herd-shim-" + hex.EncodeToString(sum[:12])
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
// is copied to every client as it is read, input from any client goes to
// the container's stdin (a pipe, or the terminal).
type attachServer struct {
	ln      net.Listener
	tty     *os.File // the terminal's master side, when the container has one
	mu      sync.Mutex
	stdin   io.WriteCloser // nil when the container has no stdin or it was closed
	once    bool           // stdinOnce: close stdin when the first session ends
	clients map[net.Conn]*sync.Mutex
}

func newAttachServer(dir string, stdin io.WriteCloser, once bool, tty *os.File) (*attachServer, error) {
	ln, err := net.Listen("unix", AttachAddress(dir))
	if err != nil {
		return nil, fmt.Errorf("attach socket: %w", err)
	}
	s := &attachServer{ln: ln, tty: tty, stdin: stdin, once: once, clients: map[net.Conn]*sync.Mutex{}}
	go s.accept()
	return s, nil
}

func (s *attachServer) accept() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		if !sameUser(conn) {
			conn.Close()
			continue
		}
		s.mu.Lock()
		s.clients[conn] = &sync.Mutex{}
		s.mu.Unlock()
		go s.serve(conn)
	}
}

// sameUser accepts connections from the shim's user (or root) only.
func sameUser(conn net.Conn) bool {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return false
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return false
	}
	var cred *syscall.Ucred
	_ = rc.Control(func(fd uintptr) {
		cred, _ = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	})
	return cred != nil && (cred.Uid == 0 || int(cred.Uid) == os.Geteuid())
}

func (s *attachServer) serve(conn net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.clients, conn)
		s.mu.Unlock()
		conn.Close()
		if s.once {
			s.closeStdin()
		}
	}()
	for {
		typ, p, err := ReadFrame(conn)
		if err != nil {
			return
		}
		switch typ {
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
			if s.once {
				s.closeStdin()
			}
		case FrameResize:
			if s.tty != nil && len(p) == 4 {
				setWinsize(s.tty, binary.BigEndian.Uint16(p[0:2]), binary.BigEndian.Uint16(p[2:4]))
			}
		}
	}
}

// closeStdin ends the container's input: the pipe is closed, a terminal
// gets its end-of-file character.
func (s *attachServer) closeStdin() {
	s.mu.Lock()
	in := s.stdin
	s.stdin = nil
	s.mu.Unlock()
	if in == nil {
		return
	}
	if s.tty != nil {
		_, _ = in.Write([]byte{4}) // ^D
		return
	}
	in.Close()
}

// output returns a writer that copies what the container writes on stream
// to every attached client. A client that does not keep up within 10 s is
// dropped rather than stalling the container.
func (s *attachServer) output(typ byte) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		s.mu.Lock()
		clients := make(map[net.Conn]*sync.Mutex, len(s.clients))
		for c, m := range s.clients {
			clients[c] = m
		}
		s.mu.Unlock()
		for c, m := range clients {
			m.Lock()
			_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := WriteFrame(c, typ, p); err != nil {
				c.Close()
			}
			m.Unlock()
		}
		return len(p), nil
	})
}

// close ends every session: the container has ended.
func (s *attachServer) close() {
	s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		c.Close()
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// openPTY allocates a pseudo-terminal (standard library only).
func openPTY() (master, slave *os.File, err error) {
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

func setWinsize(f *os.File, width, height uint16) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	ws := struct{ Row, Col, X, Y uint16 }{Row: height, Col: width}
	_ = rc.Control(func(fd uintptr) {
		_, _, _ = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws)))
	})
}
