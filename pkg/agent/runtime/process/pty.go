package process

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/herd-project/herd/pkg/agent/runtime"
	"github.com/herd-project/herd/pkg/agent/runtime/process/shim"
)

// openPTY allocates a pseudo-terminal: the master side for the runtime, the
// slave side for the command.
func openPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	// The ioctls go through the raw descriptor (not Fd(), which would make
	// the file blocking and its Close unable to interrupt a read).
	var n int
	err = control(master, func(fd int) error {
		if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
			return fmt.Errorf("unlocking the terminal: %w", err)
		}
		var err error
		if n, err = unix.IoctlGetInt(fd, unix.TIOCGPTN); err != nil {
			return fmt.Errorf("naming the terminal: %w", err)
		}
		return nil
	})
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

func control(f *os.File, op func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	if err := rc.Control(func(fd uintptr) { opErr = op(int(fd)) }); err != nil {
		return err
	}
	return opErr
}

func setTerminalSize(f *os.File, s runtime.TerminalSize) {
	_ = control(f, func(fd int) error {
		return unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: s.Height, Col: s.Width})
	})
}

// runOnTerminal runs c as the leader of a new session whose controlling
// terminal is a fresh pseudo-terminal, copying the terminal's input from
// streams.Stdin and its output to streams.Stdout, and resizing it as asked.
func runOnTerminal(c *exec.Cmd, streams runtime.ExecStreams) error {
	master, slave, err := openPTY()
	if err != nil {
		return fmt.Errorf("allocating a terminal: %w", err)
	}
	defer master.Close()
	c.Stdin, c.Stdout, c.Stderr = slave, slave, slave
	c.Env = append(os.Environ(), shim.TTYEnv+"=1")
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := c.Start(); err != nil {
		slave.Close()
		return err
	}
	slave.Close()
	stop := make(chan struct{})
	defer close(stop)
	if streams.Resize != nil {
		go func() {
			for {
				select {
				case s, ok := <-streams.Resize:
					if !ok {
						return
					}
					setTerminalSize(master, s)
				case <-stop:
					return
				}
			}
		}()
	}
	if streams.Stdin != nil {
		go func() { _, _ = io.Copy(master, streams.Stdin) }()
	}
	out := streams.Stdout
	if out == nil {
		out = io.Discard
	}
	copied := make(chan struct{})
	go func() {
		// Reading the master ends with EIO once the last holder of the
		// terminal has closed it.
		_, _ = io.Copy(out, master)
		close(copied)
	}()
	err = c.Wait()
	select {
	case <-copied:
	case <-time.After(time.Second):
		// A background process still holds the terminal: stop copying.
		master.Close()
		<-copied
	}
	if err != nil && errors.Is(err, exec.ErrWaitDelay) && c.ProcessState != nil {
		return nil
	}
	return err
}
