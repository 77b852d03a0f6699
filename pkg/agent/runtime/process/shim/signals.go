package shim

import (
	"os"
	"os/signal"
	"syscall"
)

// ignoreSignals makes the shim survive sigs, and every signal it was
// started with ignored. They are caught and dropped, not ignored: an
// ignored disposition would be inherited by the container across exec, and
// a container must start with the default ones (as runc resets them).
func ignoreSignals(sigs ...os.Signal) {
	for i := 1; i < 32; i++ {
		sig := syscall.Signal(i)
		if sig != syscall.SIGKILL && sig != syscall.SIGSTOP && signal.Ignored(sig) {
			sigs = append(sigs, sig)
		}
	}
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, sigs...)
	go func() {
		for range ch {
		}
	}()
}
