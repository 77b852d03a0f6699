// Package streaming serves the node agent's interactive endpoints the way a
// kubelet does: remote command execution (kubectl exec) over SPDY with the
// channel.k8s.io protocols v2 to v5, and port forwarding (kubectl
// port-forward) with the portforward.k8s.io protocol. The API server proxies
// clients here (translating WebSocket clients to SPDY); this package only
// speaks the wire protocols and leaves running commands and dialing ports to
// its caller.
package streaming

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"

	"github.com/herd-project/herd/pkg/agent/runtime"
)

// Remote command protocol names, newest first, as client-go offers them.
const (
	protocolV5 = "v5.channel.k8s.io"
	protocolV4 = "v4.channel.k8s.io"
	protocolV3 = "v3.channel.k8s.io"
	protocolV2 = "v2.channel.k8s.io"
)

var execProtocols = []string{protocolV5, protocolV4, protocolV3, protocolV2}

// Stream types, from the "streamType" header of each SPDY stream.
const (
	streamTypeHeader = "streamType"
	streamError      = "error"
	streamStdin      = "stdin"
	streamStdout     = "stdout"
	streamStderr     = "stderr"
	streamResize     = "resize"
	streamData       = "data"
)

// StreamCreationTimeout bounds how long the client has to open its streams
// once the connection is upgraded (the kubelet's default).
var StreamCreationTimeout = 30 * time.Second

// IdleTimeout closes a connection on which nothing happened for this long
// (the kubelet's streaming-connection-idle-timeout).
var IdleTimeout = 4 * time.Hour

// ExecOptions are the streams a client asked for.
type ExecOptions struct {
	Stdin, Stdout, Stderr, TTY bool
}

// ExecOptionsFromQuery reads the kubelet's query parameters: input, output,
// error, tty ("1" or "true"). A terminal has no separate stderr.
func ExecOptionsFromQuery(q map[string][]string) ExecOptions {
	on := func(k string) bool {
		v := ""
		if len(q[k]) > 0 {
			v = q[k][0]
		}
		return v == "1" || strings.EqualFold(v, "true")
	}
	o := ExecOptions{Stdin: on("input"), Stdout: on("output"), Stderr: on("error"), TTY: on("tty")}
	if o.TTY {
		o.Stderr = false
	}
	return o
}

// ExitCodeError is what an Executor returns for a command that ran and
// exited non-zero.
type ExitCodeError struct {
	Command []string
	Code    int
}

func (e *ExitCodeError) Error() string {
	return fmt.Sprintf("command terminated with non-zero exit code: error executing command %v, exit code %d", e.Command, e.Code)
}

// Executor runs the command with the streams the client opened; ctx ends
// when the client goes away.
type Executor func(ctx context.Context, streams runtime.ExecStreams) error

// ServeExec upgrades the request to SPDY, waits for the client's streams,
// runs the command through exec and reports how it ended on the error
// stream. Failures before the upgrade are answered with an HTTP error.
func ServeExec(w http.ResponseWriter, req *http.Request, opts ExecOptions, exec Executor) {
	if !opts.Stdin && !opts.Stdout && !opts.Stderr {
		http.Error(w, "you must specify at least 1 of stdin, stdout, stderr", http.StatusBadRequest)
		return
	}
	protocol, err := httpstream.Handshake(req, w, execProtocols)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	streamCh := make(chan httpstream.Stream, 8)
	done := make(chan struct{})
	upgrader := spdy.NewResponseUpgraderWithPings(30 * time.Second)
	conn := upgrader.UpgradeResponse(w, req, func(s httpstream.Stream, _ <-chan struct{}) error {
		select {
		case streamCh <- s:
			return nil
		case <-done:
			return fmt.Errorf("the exec session has ended")
		}
	})
	if conn == nil {
		// The upgrader has answered the client already.
		return
	}
	defer conn.Close()
	conn.SetIdleTimeout(IdleTimeout)
	// Stream handlers still waiting to hand a stream over give up first.
	defer close(done)

	want := 1 // error
	for _, on := range []bool{opts.Stdin, opts.Stdout, opts.Stderr, opts.TTY && protocol != protocolV2} {
		if on {
			want++
		}
	}
	streams := map[string]httpstream.Stream{}
	deadline := time.After(StreamCreationTimeout)
	for len(streams) < want {
		select {
		case s := <-streamCh:
			t := s.Headers().Get(streamTypeHeader)
			switch t {
			case streamError, streamStdin, streamStdout, streamStderr, streamResize:
				streams[t] = s
			default:
				klog.V(2).InfoS("exec: unexpected stream type", "type", t)
				s.Reset()
			}
		case <-deadline:
			klog.V(2).InfoS("exec: timed out waiting for client streams", "got", len(streams), "want", want)
			return
		case <-conn.CloseChan():
			return
		}
	}

	// Once upgraded, the request's context no longer ends with the
	// connection: the SPDY connection's end cancels the command.
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	go func() {
		select {
		case <-conn.CloseChan():
			cancel()
		case <-ctx.Done():
		}
	}()

	es := runtime.ExecStreams{TTY: opts.TTY}
	if s := streams[streamStdin]; s != nil {
		es.Stdin = s
	}
	if s := streams[streamStdout]; s != nil {
		es.Stdout = s
	}
	if s := streams[streamStderr]; s != nil {
		es.Stderr = s
	}
	if s := streams[streamResize]; s != nil {
		sizes := make(chan runtime.TerminalSize, 4)
		es.Resize = sizes
		go readResizes(ctx, s, sizes)
	}
	runErr := exec(ctx, es)
	for _, t := range []string{streamStdout, streamStderr} {
		if s := streams[t]; s != nil {
			s.Close()
		}
	}
	if s := streams[streamError]; s != nil {
		writeExecResult(s, protocol, runErr)
		s.Close()
	}
}

func readResizes(ctx context.Context, r io.Reader, out chan<- runtime.TerminalSize) {
	defer close(out)
	dec := json.NewDecoder(r)
	for {
		var size struct{ Width, Height uint16 }
		if err := dec.Decode(&size); err != nil {
			return
		}
		select {
		case out <- runtime.TerminalSize{Width: size.Width, Height: size.Height}:
		case <-ctx.Done():
			return
		}
	}
}

// writeExecResult reports the end of the command: v4 and later send a
// metav1.Status (with the exit code as an ExitCode cause), older protocols
// the error's text.
func writeExecResult(w io.Writer, protocol string, err error) {
	if protocol == protocolV2 || protocol == protocolV3 {
		if err != nil {
			_, _ = io.WriteString(w, err.Error())
		}
		return
	}
	st := metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess}
	var exit *ExitCodeError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		st.Status = metav1.StatusFailure
		st.Reason = "NonZeroExitCode"
		st.Message = exit.Error()
		st.Details = &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: "ExitCode", Message: fmt.Sprint(exit.Code)}}}
	default:
		st.Status = metav1.StatusFailure
		st.Reason = metav1.StatusReasonInternalError
		st.Code = http.StatusInternalServerError
		st.Message = err.Error()
	}
	b, _ := json.Marshal(st)
	_, _ = w.Write(b)
}
