package streaming

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/client-go/util/exec"

	"github.com/herd-project/herd/pkg/agent/runtime"
)

// fakeExec answers like a shell: it echoes stdin upper-cased to stdout,
// writes "to-stderr" to stderr and exits with the code in the command.
func fakeExec(t *testing.T, code int, seen chan<- runtime.ExecStreams) Executor {
	return func(_ context.Context, s runtime.ExecStreams) error {
		if seen != nil {
			seen <- s
		}
		if s.Stdin != nil && s.Stdout != nil {
			b, _ := io.ReadAll(s.Stdin)
			_, _ = s.Stdout.Write(bytes.ToUpper(b))
		} else if s.Stdout != nil {
			_, _ = io.WriteString(s.Stdout, "to-stdout\n")
		}
		if s.Stderr != nil {
			_, _ = io.WriteString(s.Stderr, "to-stderr\n")
		}
		if s.Resize != nil {
			select {
			case size := <-s.Resize:
				fmt.Fprintf(s.Stdout, "size %dx%d\n", size.Width, size.Height)
			case <-time.After(5 * time.Second):
				t.Error("no terminal size")
			}
		}
		switch code {
		case 0:
			return nil
		case -1:
			return errors.New("container is gone")
		default:
			return &ExitCodeError{Command: []string{"x"}, Code: code}
		}
	}
}

func execServer(t *testing.T, code int, seen chan<- runtime.ExecStreams) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ServeExec(w, r, ExecOptionsFromQuery(r.URL.Query()), fakeExec(t, code, seen))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func runExec(t *testing.T, srv *httptest.Server, query string, opts remotecommand.StreamOptions) error {
	t.Helper()
	u, _ := url.Parse(srv.URL + "/exec?" + query)
	ex, err := remotecommand.NewSPDYExecutor(&rest.Config{Host: srv.URL}, http.MethodPost, u)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return ex.StreamWithContext(ctx, opts)
}

func TestExecStreamsAndSuccess(t *testing.T) {
	srv := execServer(t, 0, nil)
	var out, errb bytes.Buffer
	err := runExec(t, srv, "input=1&output=1&error=1", remotecommand.StreamOptions{
		Stdin: strings.NewReader("hello\n"), Stdout: &out, Stderr: &errb})
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != "HELLO\n" || errb.String() != "to-stderr\n" {
		t.Errorf("stdout %q stderr %q", out.String(), errb.String())
	}
}

func TestExecExitCode(t *testing.T) {
	srv := execServer(t, 3, nil)
	var out bytes.Buffer
	err := runExec(t, srv, "output=1", remotecommand.StreamOptions{Stdout: &out})
	var ce exec.CodeExitError
	if !errors.As(err, &ce) || ce.Code != 3 {
		t.Fatalf("want exit code 3, got %v", err)
	}
	if out.String() != "to-stdout\n" {
		t.Errorf("stdout %q", out.String())
	}
}

func TestExecRuntimeError(t *testing.T) {
	srv := execServer(t, -1, nil)
	err := runExec(t, srv, "output=1", remotecommand.StreamOptions{Stdout: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "container is gone") {
		t.Fatalf("want the runtime's error, got %v", err)
	}
}

func TestExecTerminal(t *testing.T) {
	seen := make(chan runtime.ExecStreams, 1)
	srv := execServer(t, 0, seen)
	var out bytes.Buffer
	sizes := &onceSize{size: &remotecommand.TerminalSize{Width: 120, Height: 40}}
	// A terminal asks for stderr too: there is none, its output is stdout's.
	err := runExec(t, srv, "output=1&error=1&tty=1", remotecommand.StreamOptions{
		Stdout: &out, Tty: true, TerminalSizeQueue: sizes})
	if err != nil {
		t.Fatal(err)
	}
	s := <-seen
	if !s.TTY || s.Stderr != nil {
		t.Errorf("terminal streams: %+v", s)
	}
	if out.String() != "to-stdout\nsize 120x40\n" {
		t.Errorf("stdout %q", out.String())
	}
}

type onceSize struct{ size *remotecommand.TerminalSize }

func (o *onceSize) Next() *remotecommand.TerminalSize {
	s := o.size
	o.size = nil
	if s == nil {
		time.Sleep(time.Hour) // no more resizes; the stream ends first
	}
	return s
}

// TestExecEndsWhenClientGoesAway: a client that disconnects cancels the
// command's context (the request's own context does not end after the
// upgrade).
func TestExecEndsWhenClientGoesAway(t *testing.T) {
	cancelled := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ServeExec(w, r, ExecOptionsFromQuery(r.URL.Query()), func(ctx context.Context, s runtime.ExecStreams) error {
			_, _ = io.WriteString(s.Stdout, "started\n")
			<-ctx.Done()
			close(cancelled)
			return ctx.Err()
		})
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/exec?output=1")
	ex, err := remotecommand.NewSPDYExecutor(&rest.Config{Host: srv.URL}, http.MethodPost, u)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	go func() { _ = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: pw}) }()
	line := make([]byte, 8)
	if _, err := io.ReadFull(pr, line); err != nil || string(line) != "started\n" {
		t.Fatalf("read %q %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	cancel()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the command's context was not cancelled after the client went away")
	}
}

func TestExecNeedsAStream(t *testing.T) {
	srv := execServer(t, 0, nil)
	resp, err := http.Post(srv.URL+"/exec?tty=0", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestPortForward(t *testing.T) {
	// The "pod": an echo server that prefixes what it reads.
	backend, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	go func() {
		for {
			c, err := backend.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b, _ := io.ReadAll(c)
				fmt.Fprintf(c, "pod got %s", b)
			}()
		}
	}()
	backendPort := backend.Addr().(*net.TCPAddr).Port
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ServePortForward(w, r, func(port int32) (net.Conn, error) {
			if int(port) != backendPort {
				return nil, fmt.Errorf("nothing listens on port %d", port)
			}
			return net.Dial("tcp", backend.Addr().String())
		})
	}))
	defer srv.Close()

	// client-go reports a forwarding error through HandleError (kubectl
	// prints it on stderr).
	forwardErrs := make(chan string, 4)
	saved := utilruntime.ErrorHandlers
	utilruntime.ErrorHandlers = []utilruntime.ErrorHandler{func(_ context.Context, err error, _ string, _ ...interface{}) {
		forwardErrs <- err.Error()
	}}
	defer func() { utilruntime.ErrorHandlers = saved }()

	transport, upgrader, err := spdy.RoundTripperFor(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL + "/portForward")
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	stop, ready := make(chan struct{}), make(chan struct{})
	var pfOut, pfErr bytes.Buffer
	pf, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"},
		[]string{fmt.Sprintf("0:%d", backendPort), "0:1"}, stop, ready, &pfOut, &pfErr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- pf.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("port-forward ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("port-forward not ready")
	}
	ports, err := pf.GetPorts()
	if err != nil || len(ports) != 2 {
		t.Fatalf("ports %v %v", ports, err)
	}
	for i := 0; i < 3; i++ { // several connections over one forwarding session
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0].Local))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "hello %d", i)
		c.(*net.TCPConn).CloseWrite()
		b, _ := io.ReadAll(c)
		c.Close()
		if want := fmt.Sprintf("pod got hello %d", i); string(b) != want {
			t.Errorf("connection %d: %q, want %q", i, b, want)
		}
	}
	// A port nothing listens on: the client hears why.
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[1].Local))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(c)
	c.Close()
	select {
	case e := <-forwardErrs:
		if !strings.Contains(e, "error forwarding port 1: nothing listens on port 1") {
			t.Errorf("port-forward error: %q", e)
		}
	case <-time.After(5 * time.Second):
		t.Error("no error reported for a port nothing listens on")
	}
	close(stop)
	<-done
}

// TestPortForwardEndsWhenClientGoesAway: a pod connection that stays open
// and idle does not keep the session alive after the client leaves.
func TestPortForwardEndsWhenClientGoesAway(t *testing.T) {
	backend, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	go func() {
		for {
			c, err := backend.Accept()
			if err != nil {
				return
			}
			defer c.Close() // never read, never closed until the test ends
		}
	}()
	port := backend.Addr().(*net.TCPAddr).Port
	ended := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(ended)
		ServePortForward(w, r, func(int32) (net.Conn, error) { return net.Dial("tcp", backend.Addr().String()) })
	}))
	defer srv.Close()
	transport, upgrader, err := spdy.RoundTripperFor(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL + "/portForward")
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	stop, ready := make(chan struct{}), make(chan struct{})
	pf, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- pf.ForwardPorts() }()
	<-ready
	ports, _ := pf.GetPorts()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0].Local))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write([]byte("hello"))
	time.Sleep(200 * time.Millisecond) // the pair reaches the agent
	close(stop)
	<-done
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the port-forward session outlived its client")
	}
}
