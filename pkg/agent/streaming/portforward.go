package streaming

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"k8s.io/klog/v2"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
)

const (
	portForwardProtocol = "portforward.k8s.io"
	portHeader          = "port"
	requestIDHeader     = "requestID"
)

// Dialer connects to a port of the pod.
type Dialer func(port int32) (net.Conn, error)

// ServePortForward upgrades the request to SPDY and forwards every
// connection the client opens (a pair of error and data streams sharing a
// requestID) to the pod's port through dial. Each failure is written to the
// pair's error stream, where kubectl shows it.
func ServePortForward(w http.ResponseWriter, req *http.Request, dial Dialer) {
	if _, err := httpstream.Handshake(req, w, []string{portForwardProtocol}); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	streamCh := make(chan httpstream.Stream, 16)
	done := make(chan struct{})
	// Runs last: forwarders end once the connection is closed.
	var wg sync.WaitGroup
	defer wg.Wait()
	upgrader := spdy.NewResponseUpgraderWithPings(30 * time.Second)
	conn := upgrader.UpgradeResponse(w, req, func(s httpstream.Stream, replySent <-chan struct{}) error {
		if s.Headers().Get(portHeader) == "" {
			return fmt.Errorf("%q header is required", portHeader)
		}
		if s.Headers().Get(requestIDHeader) == "" {
			return fmt.Errorf("%q header is required", requestIDHeader)
		}
		go func() {
			select {
			case <-replySent:
			case <-done:
				return
			}
			select {
			case streamCh <- s:
			case <-done:
				s.Reset()
			}
		}()
		return nil
	})
	if conn == nil {
		return
	}
	defer conn.Close()
	conn.SetIdleTimeout(IdleTimeout)
	// Stream handlers still waiting to hand a stream over give up first.
	defer close(done)

	type pair struct {
		data, err httpstream.Stream
		created   time.Time
	}
	pairs := map[string]*pair{}
	sweep := time.NewTicker(StreamCreationTimeout / 2)
	defer sweep.Stop()
	for {
		select {
		case <-conn.CloseChan():
			return
		case <-sweep.C:
			// A pair whose second stream never came is dropped.
			for id, p := range pairs {
				if time.Since(p.created) > StreamCreationTimeout {
					for _, s := range []httpstream.Stream{p.data, p.err} {
						if s != nil {
							s.Reset()
						}
					}
					delete(pairs, id)
				}
			}
		case s := <-streamCh:
			id := s.Headers().Get(requestIDHeader)
			p := pairs[id]
			if p == nil {
				p = &pair{created: time.Now()}
				pairs[id] = p
			}
			switch t := s.Headers().Get(streamTypeHeader); t {
			case streamError:
				p.err = s
			case streamData:
				p.data = s
			default:
				klog.V(2).InfoS("port-forward: unexpected stream type", "type", t)
				s.Reset()
				continue
			}
			if p.data == nil || p.err == nil {
				continue
			}
			delete(pairs, id)
			wg.Add(1)
			go func() {
				defer wg.Done()
				forward(conn, p.data, p.err, dial)
			}()
		}
	}
}

func forward(conn httpstream.Connection, data, errStream httpstream.Stream, dial Dialer) {
	defer conn.RemoveStreams(data, errStream)
	defer errStream.Close()
	portStr := data.Headers().Get(portHeader)
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		fmt.Fprintf(errStream, "invalid port %q", portStr)
		data.Reset()
		return
	}
	target, err := dial(int32(port))
	if err != nil {
		fmt.Fprintf(errStream, "error forwarding port %d: %v", port, err)
		data.Reset()
		return
	}
	defer target.Close()
	// The client going away ends both directions, whatever the pod does.
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-conn.CloseChan():
			target.Close()
			data.Reset()
		case <-finished:
		}
	}()
	toPod := make(chan struct{})
	go func() {
		_, _ = io.Copy(target, data)
		if tc, ok := target.(interface{ CloseWrite() error }); ok {
			_ = tc.CloseWrite()
		}
		close(toPod)
	}()
	if _, err := io.Copy(data, target); err != nil {
		klog.V(3).InfoS("port-forward: copying from the pod", "port", port, "err", err)
	}
	data.Close()
	// The client ends the pair once it has read everything; wait for it,
	// or for the pod's side of the connection to stop reading.
	select {
	case <-toPod:
	case <-conn.CloseChan():
	case <-time.After(time.Minute):
	}
}
