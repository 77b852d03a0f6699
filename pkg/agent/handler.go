package agent

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"k8s.io/apimachinery/pkg/types"

	"github.com/herd-project/herd/pkg/agent/logs"
	"github.com/herd-project/herd/pkg/agent/runtime"
	"github.com/herd-project/herd/pkg/agent/stats"
	"github.com/herd-project/herd/pkg/agent/streaming"
)

// Handler serves the kubelet's endpoints the API server proxies to:
//
//	GET /containerLogs/{namespace}/{pod}/{container}?follow=&previous=&tailLines=&sinceSeconds=&sinceTime=&timestamps=&limitBytes=
//	POST|GET /exec/{namespace}/{pod}/{container}?command=...&input=&output=&error=&tty=   (SPDY upgrade)
//	POST|GET /attach/{namespace}/{pod}/{container}?input=&output=&error=&tty=             (SPDY upgrade)
//	POST|GET /portForward/{namespace}/{pod}                                               (SPDY upgrade)
//	ANY      /podProxy/{namespace}/{pod}/{scheme}/{port}/{path}                           (pods/proxy, services/proxy)
//	GET      /stats/resource?node=NAME                                                    (resource usage, for metrics.k8s.io)
//	GET      /healthz, /pods                                                              (as the kubelet's, for nodes/proxy)
//
// Requests must come with a client certificate of Config.ClientCertUser
// verified by the TLS server against the agent-client CA, which signs only
// the API server's certificate; others get 401. No token opens this port:
// users reach it through the API server, which authorizes them.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/containerLogs/", a.serveContainerLogs)
	mux.HandleFunc("/exec/", a.serveExec)
	mux.HandleFunc("/attach/", a.serveAttach)
	mux.HandleFunc("/portForward/", a.servePortForward)
	mux.HandleFunc("/podProxy/", a.servePodProxy)
	mux.HandleFunc("/healthz", a.serveHealthz)
	mux.HandleFunc("/pods", a.servePods)
	mux.HandleFunc(stats.Path, a.serveResourceStats)
	return a.authenticate(mux)
}

func (a *Agent) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.ClientCertUser != "" && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 &&
			len(r.TLS.VerifiedChains[0]) > 0 && r.TLS.VerifiedChains[0][0].Subject.CommonName == a.cfg.ClientCertUser {
			next.ServeHTTP(w, r)
			return
		}
		http.Error(w, "Unauthorized: this port accepts only the API server's client certificate", http.StatusUnauthorized)
	})
}

// serveExec runs a command in a running container for kubectl exec.
func (a *Agent) serveExec(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/exec/"), "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		http.Error(w, "expected /exec/{namespace}/{pod}/{container}", http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	cmd := q["command"]
	if len(cmd) == 0 {
		http.Error(w, "you must specify a command", http.StatusBadRequest)
		return
	}
	pod := a.podByName(parts[0], parts[1])
	if pod == nil {
		http.Error(w, fmt.Sprintf("pod %s/%s not found on this node", parts[0], parts[1]), http.StatusNotFound)
		return
	}
	id, ok := a.runningContainer(pod.UID, parts[2])
	if !ok {
		http.Error(w, fmt.Sprintf("container not found (%q)", parts[2]), http.StatusNotFound)
		return
	}
	streaming.ServeExec(w, r, streaming.ExecOptionsFromQuery(q), func(ctx context.Context, s runtime.ExecStreams) error {
		code, err := a.rt.Exec(ctx, id, cmd, s)
		if err != nil {
			return err
		}
		if code != 0 {
			return &streaming.ExitCodeError{Command: cmd, Code: code}
		}
		return nil
	})
}

// serveAttach connects to a running container's own stdio for kubectl
// attach and kubectl run -i.
func (a *Agent) serveAttach(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/attach/"), "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		http.Error(w, "expected /attach/{namespace}/{pod}/{container}", http.StatusBadRequest)
		return
	}
	pod := a.podByName(parts[0], parts[1])
	if pod == nil {
		http.Error(w, fmt.Sprintf("pod %s/%s not found on this node", parts[0], parts[1]), http.StatusNotFound)
		return
	}
	id, ok := a.runningContainer(pod.UID, parts[2])
	if !ok {
		http.Error(w, fmt.Sprintf("container not found (%q)", parts[2]), http.StatusNotFound)
		return
	}
	// The streams are the ones the client opened; whether the output is a
	// terminal's is the container's business (as the kubelet decides).
	tty := false
	if c := containerSpec(pod, parts[2]); c != nil {
		tty = c.TTY
	}
	streaming.ServeExec(w, r, streaming.ExecOptionsFromQuery(r.URL.Query()), func(ctx context.Context, s runtime.ExecStreams) error {
		s.TTY = tty
		return a.rt.Attach(ctx, id, s)
	})
}

// servePortForward forwards connections to the pod's ports. Pods of the
// process runtime share the node's network: their ports are the node's.
func (a *Agent) servePortForward(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/portForward/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		http.Error(w, "expected /portForward/{namespace}/{pod}", http.StatusBadRequest)
		return
	}
	pod := a.podByName(parts[0], parts[1])
	if pod == nil {
		http.Error(w, fmt.Sprintf("pod %s/%s not found on this node", parts[0], parts[1]), http.StatusNotFound)
		return
	}
	if a.rt.Name() == "simulated" {
		http.Error(w, fmt.Sprintf("pod %s/%s runs on the simulated runtime: it has no ports to forward to", parts[0], parts[1]), http.StatusBadRequest)
		return
	}
	uid := pod.UID
	streaming.ServePortForward(w, r, func(port int32) (net.Conn, error) {
		if !a.podRunning(uid) {
			return nil, fmt.Errorf("pod %s/%s is not running", parts[0], parts[1])
		}
		d := net.Dialer{Timeout: 10 * time.Second}
		if owner, ok := a.rt.(processOwner); ok {
			addr, err := podListenAddress("/proc", owner, uid, int(port))
			if err != nil {
				return nil, err
			}
			return d.DialContext(r.Context(), "tcp", addr)
		}
		conn, err := d.DialContext(r.Context(), "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
		if err != nil && a.nodeIP != "" && a.nodeIP != "127.0.0.1" {
			conn, err = d.DialContext(r.Context(), "tcp", net.JoinHostPort(a.nodeIP, strconv.Itoa(int(port))))
		}
		return conn, err
	})
}

// runningContainer is the ID of the container's current run, if it runs.
func (a *Agent) runningContainer(uid types.UID, container string) (runtime.ContainerID, bool) {
	a.mu.Lock()
	st := a.pods[uid]
	a.mu.Unlock()
	if st == nil {
		return "", false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	l, ok := st.latest[container]
	if !ok || l.State != runtime.StateRunning {
		return "", false
	}
	return l.ID, true
}

// podRunning: some container of the pod runs.
func (a *Agent) podRunning(uid types.UID) bool {
	a.mu.Lock()
	st := a.pods[uid]
	a.mu.Unlock()
	if st == nil {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.running()) > 0
}

func (a *Agent) serveContainerLogs(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		http.Error(w, "expected /containerLogs/{namespace}/{pod}/{container}", http.StatusBadRequest)
		return
	}
	ns, podName, container := parts[0], parts[1], parts[2]
	opts, err := logs.ParseQuery(r.URL.Query(), a.clk.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	pod := a.podByName(ns, podName)
	if pod == nil {
		http.Error(w, fmt.Sprintf("pod %q/%q not found", ns, podName), http.StatusNotFound)
		return
	}
	run, err := a.logRun(pod, container, opts.Previous)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	running := func() bool { return a.runIsRunning(pod.UID, run) }
	path := a.rt.LogPath(pod.UID, container, run.Attempt)
	_ = logs.Stream(r.Context(), logs.Files(path), opts, w, running, 0)
}

// logRun picks the run whose logs to serve, with the kubelet's rules and
// messages: the current run (or the last one if it ended), or with previous
// the one before it.
func (a *Agent) logRun(pod *corev1.Pod, container string, previous bool) (runtime.ContainerStatus, error) {
	podDesc := pod.Name
	found := false
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if c.Name == container {
			found = true
		}
	}
	a.mu.Lock()
	st := a.pods[pod.UID]
	a.mu.Unlock()
	if !found || st == nil {
		return runtime.ContainerStatus{}, fmt.Errorf("container %q in pod %q is not available", container, podDesc)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	l, ok := st.latest[container]
	if !ok {
		reason := reasonContainerCreating
		if len(pod.Spec.InitContainers) > 0 {
			reason = reasonPodInitializing
		}
		if f, failed := st.startErrs[container]; failed {
			reason = f.err.Reason
		}
		if previous {
			return runtime.ContainerStatus{}, fmt.Errorf("previous terminated container %q in pod %q not found", container, podDesc)
		}
		return runtime.ContainerStatus{}, fmt.Errorf("container %q in pod %q is waiting to start: %s", container, podDesc, reason)
	}
	if !previous {
		return l, nil
	}
	// previous: the run the status shows as lastState. While the container
	// waits to restart that is the latest run itself.
	if l.State == runtime.StateExited {
		if _, failed := st.startErrs[container]; failed {
			return l, nil
		}
		if in, _, _ := st.inBackoff(container, l.FinishedAt, a.clk.Now()); in {
			return l, nil
		}
	}
	if p, ok := st.previous[container]; ok && p.State == runtime.StateExited {
		return p, nil
	}
	return runtime.ContainerStatus{}, fmt.Errorf("previous terminated container %q in pod %q not found", container, podDesc)
}

func (a *Agent) runIsRunning(uid types.UID, run runtime.ContainerStatus) bool {
	a.mu.Lock()
	st := a.pods[uid]
	a.mu.Unlock()
	if st == nil {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, m := range []map[string]runtime.ContainerStatus{st.latest, st.previous} {
		if r, ok := m[run.Name]; ok && r.ID == run.ID {
			return r.State == runtime.StateRunning
		}
	}
	return false
}
