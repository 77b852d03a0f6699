package process

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/herd-project/herd/pkg/agent/runtime"
	"github.com/herd-project/herd/pkg/agent/runtime/process/shim"
)

// runOnTerminal runs c as the leader of a new session whose controlling
// terminal is a fresh pseudo-terminal, copying the terminal's input from
// streams.Stdin and its output to streams.Stdout, and resizing it as asked.
func runOnTerminal(c *exec.Cmd, streams runtime.ExecStreams) error {
	master, slave, err := shim.OpenPTY()
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
					shim.SetWinsize(master, s.Width, s.Height)
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
