package shim

import (
	"os"
	"os/signal"
)

// ignoreSignals makes the shim survive sigs. They are caught and dropped,
// not ignored: an ignored disposition would be inherited by the container
// across exec, and a container must start with the default ones.
func ignoreSignals(sigs ...os.Signal) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, sigs...)
	go func() {
		for range ch {
		}
	}()
}
