package shim

import (
	"os"
	"os/signal"
)

func ignoreSignals(sigs ...os.Signal) { signal.Ignore(sigs...) }
