package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/herd-project/herd/pkg/agent/runtime"
)

// startProbesLocked starts one worker per probe of a new run.
func (a *Agent) startProbesLocked(pod *corev1.Pod, st *podState, c *corev1.Container, id runtime.ContainerID, startedAt time.Time) {
	a.startProbesFromLocked(pod, st, c, id, startedAt, c.ReadinessProbe == nil, c.StartupProbe == nil)
}

// resumeProbesLocked starts the probes of the runs the agent found running
// at its start (recovered or adopted after a restart), once per pod. They
// go on from the results the API shows (ready, started), so that a
// restart changes nothing until a probe says otherwise.
func (a *Agent) resumeProbesLocked(pod, base *corev1.Pod, st *podState) {
	all := append(append([]corev1.ContainerStatus{}, base.Status.InitContainerStatuses...), base.Status.ContainerStatuses...)
	for name, l := range st.latest {
		if l.State != runtime.StateRunning || st.probes[l.ID] != nil || st.killing[l.ID] {
			continue
		}
		c, ok := specContainer(pod, name)
		if !ok {
			continue
		}
		ready, started := c.ReadinessProbe == nil, c.StartupProbe == nil
		for _, cs := range all {
			if cs.Name == name && cs.State.Running != nil && strings.HasSuffix(cs.ContainerID, "://"+string(l.ID)) {
				ready = ready || cs.Ready
				started = started || (cs.Started != nil && *cs.Started)
			}
		}
		a.startProbesFromLocked(pod, st, c, l.ID, l.StartedAt, ready, started)
	}
}

// startProbesFromLocked starts the probes of a run whose readiness and
// startup results are ready and started so far.
func (a *Agent) startProbesFromLocked(pod *corev1.Pod, st *podState, c *corev1.Container, id runtime.ContainerID, startedAt time.Time, ready, started bool) {
	if c.LivenessProbe == nil && c.ReadinessProbe == nil && c.StartupProbe == nil {
		return
	}
	ctx, cancel := context.WithCancel(a.ctx)
	ps := &probeState{cancel: cancel, ready: ready, started: started, hasReady: c.ReadinessProbe != nil}
	st.probes[id] = ps
	cc := c.DeepCopy()
	for _, p := range []struct {
		kind  runtime.ProbeType
		probe *corev1.Probe
	}{{runtime.ProbeStartup, cc.StartupProbe}, {runtime.ProbeReadiness, cc.ReadinessProbe}, {runtime.ProbeLiveness, cc.LivenessProbe}} {
		if p.probe != nil {
			go a.probeWorker(ctx, pod, st, cc, id, p.kind, p.probe, startedAt)
		}
	}
}

func seconds(v int32, def int32) time.Duration {
	if v <= 0 {
		v = def
	}
	return time.Duration(v) * time.Second
}

// probeWorker probes one run every period until the run ends. It applies
// initialDelaySeconds and the success/failure thresholds; readiness flips
// ready, startup gates the others, liveness and startup failures kill the
// run.
func (a *Agent) probeWorker(ctx context.Context, pod *corev1.Pod, st *podState, c *corev1.Container, id runtime.ContainerID, kind runtime.ProbeType, probe *corev1.Probe, startedAt time.Time) {
	period := seconds(probe.PeriodSeconds, 10)
	t := a.clk.NewTicker(period)
	defer t.Stop()
	w := &probeRun{}
	for {
		if !a.probeOnce(ctx, pod, st, c, id, kind, probe, startedAt, w) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

type probeRun struct {
	last    bool
	run     int
	started bool
}

func (a *Agent) probeOnce(ctx context.Context, pod *corev1.Pod, st *podState, c *corev1.Container, id runtime.ContainerID, kind runtime.ProbeType, probe *corev1.Probe, startedAt time.Time, w *probeRun) bool {
	if ctx.Err() != nil {
		return false
	}
	st.mu.Lock()
	ps := st.probes[id]
	if ps == nil {
		st.mu.Unlock()
		return false
	}
	started := ps.started
	st.mu.Unlock()
	if kind != runtime.ProbeStartup && !started {
		return true
	}
	if kind == runtime.ProbeStartup && started {
		return false
	}
	if a.clk.Since(startedAt) < time.Duration(probe.InitialDelaySeconds)*time.Second {
		return true
	}
	timeout := seconds(probe.TimeoutSeconds, 1)
	pctx, cancel := context.WithTimeout(ctx, timeout)
	ok, output := a.doProbe(pctx, pod, c, id, kind, &probe.ProbeHandler, timeout)
	cancel()
	if ctx.Err() != nil {
		return false
	}
	if !ok {
		a.recorder(pod.Spec.NodeName).Eventf(containerRef(pod, c.Name), corev1.EventTypeWarning, "Unhealthy", "%s probe failed: %s", kind, output)
	}
	if w.run == 0 || w.last != ok {
		w.last, w.run = ok, 1
	} else {
		w.run++
	}
	success := probe.SuccessThreshold
	if success <= 0 {
		success = 1
	}
	failure := probe.FailureThreshold
	if failure <= 0 {
		failure = 3
	}
	if (ok && w.run < int(success)) || (!ok && w.run < int(failure)) {
		return true
	}
	switch kind {
	case runtime.ProbeReadiness:
		st.mu.Lock()
		changed := ps.ready != ok
		ps.ready = ok
		st.mu.Unlock()
		if changed {
			a.queue.Add(string(pod.UID))
		}
	case runtime.ProbeStartup:
		if ok {
			st.mu.Lock()
			ps.started = true
			st.mu.Unlock()
			a.queue.Add(string(pod.UID))
			return false
		}
		a.killFromProbe(pod, st, c, id, probe, fmt.Sprintf("Container %s failed startup probe, will be restarted", c.Name))
		return false
	case runtime.ProbeLiveness:
		if !ok {
			a.killFromProbe(pod, st, c, id, probe, fmt.Sprintf("Container %s failed liveness probe, will be restarted", c.Name))
			return false
		}
	}
	return true
}

func (a *Agent) killFromProbe(pod *corev1.Pod, st *podState, c *corev1.Container, id runtime.ContainerID, probe *corev1.Probe, msg string) {
	grace := gracePeriod(pod)
	if probe.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*probe.TerminationGracePeriodSeconds) * time.Second
	}
	st.mu.Lock()
	if st.killing[id] {
		st.mu.Unlock()
		return
	}
	st.killing[id] = true
	st.mu.Unlock()
	a.killContainer(pod, st, c, id, grace, msg, true)
}

// doProbe runs a probe or hook handler once: through the runtime's Prober
// when it has one, else exec via the runtime, httpGet or tcpSocket to the
// pod's IP.
func (a *Agent) doProbe(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id runtime.ContainerID, kind runtime.ProbeType, h *corev1.ProbeHandler, timeout time.Duration) (bool, string) {
	if a.prober != nil {
		ok, out, err := a.prober.Probe(ctx, id, kind, h)
		if err != nil {
			return false, err.Error()
		}
		return ok, out
	}
	switch {
	case h.Exec != nil:
		var buf bytes.Buffer
		code, err := a.rt.Exec(ctx, id, h.Exec.Command, runtime.ExecStreams{Stdout: &buf, Stderr: &buf})
		if err != nil {
			return false, err.Error()
		}
		if code != 0 {
			out := strings.TrimSpace(buf.String())
			if out == "" {
				out = fmt.Sprintf("command %q exited with %d", strings.Join(h.Exec.Command, " "), code)
			}
			return false, out
		}
		return true, buf.String()
	case h.HTTPGet != nil:
		return a.httpProbe(ctx, c, h.HTTPGet, timeout)
	case h.TCPSocket != nil:
		host := h.TCPSocket.Host
		if host == "" {
			host = a.nodeIP
		}
		port, err := resolvePort(h.TCPSocket.Port, c)
		if err != nil {
			return false, err.Error()
		}
		d := net.Dialer{Timeout: timeout}
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return false, err.Error()
		}
		conn.Close()
		return true, ""
	case h.GRPC != nil:
		return false, "gRPC probes are not supported by the herd agent"
	}
	return true, ""
}

func resolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	if p.Type == intstr.Int {
		if p.IntValue() <= 0 || p.IntValue() > 65535 {
			return 0, fmt.Errorf("invalid port number: %v", p.IntValue())
		}
		return p.IntValue(), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("couldn't find port: %v in %v", p.StrVal, c.Name)
}

func (a *Agent) httpProbe(ctx context.Context, c *corev1.Container, g *corev1.HTTPGetAction, timeout time.Duration) (bool, string) {
	host := g.Host
	if host == "" {
		host = a.nodeIP
	}
	port, err := resolvePort(g.Port, c)
	if err != nil {
		return false, err.Error()
	}
	scheme := strings.ToLower(string(g.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	path := g.Path
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port))}
	if pu, err := url.Parse(path); err == nil {
		u.Path, u.RawQuery = pu.Path, pu.RawQuery
	} else {
		u.Path = path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, err.Error()
	}
	req.Header.Set("User-Agent", "kube-probe/1.36")
	req.Header.Set("Accept", "*/*")
	for _, h := range g.HTTPHeaders {
		if strings.EqualFold(h.Name, "Host") {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	client := &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true},
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	body := make([]byte, 10*1024)
	n, _ := resp.Body.Read(body)
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return true, string(body[:n])
	}
	return false, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode)
}

// runHook runs a lifecycle hook handler and returns the failure message.
func (a *Agent) runHook(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id runtime.ContainerID, kind runtime.ProbeType, h *corev1.LifecycleHandler) (string, error) {
	if h.Sleep != nil {
		select {
		case <-a.clk.After(time.Duration(h.Sleep.Seconds) * time.Second):
		case <-ctx.Done():
		}
		return "", nil
	}
	ph := &corev1.ProbeHandler{Exec: h.Exec, HTTPGet: h.HTTPGet, TCPSocket: h.TCPSocket}
	timeout := 30 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	ok, out := a.doProbe(ctx, pod, c, id, kind, ph, timeout)
	if ok {
		return "", nil
	}
	var msg string
	switch {
	case h.Exec != nil:
		msg = fmt.Sprintf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: %s", h.Exec.Command, c.Name, formatPod(pod), out)
	case h.HTTPGet != nil:
		msg = fmt.Sprintf("HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: %s", h.HTTPGet.Path, c.Name, formatPod(pod), out)
	default:
		msg = out
	}
	return msg, fmt.Errorf("%s", msg)
}

// runPostStart runs a new run's postStart hook; a failure kills the run
// (which then restarts by policy), like the kubelet.
func (a *Agent) runPostStart(pod *corev1.Pod, st *podState, c *corev1.Container, id runtime.ContainerID) {
	msg, err := a.runHook(a.ctx, pod, c, id, runtime.HookPostStart, c.Lifecycle.PostStart)
	st.mu.Lock()
	delete(st.postStart, id)
	kill := err != nil && !st.killing[id]
	if kill {
		st.killing[id] = true
	}
	st.mu.Unlock()
	if kill {
		a.recorder(pod.Spec.NodeName).Event(containerRef(pod, c.Name), corev1.EventTypeWarning, "FailedPostStartHook", msg)
		a.killContainer(pod, st, c, id, gracePeriod(pod), "FailedPostStartHook", false)
		return
	}
	a.queue.Add(string(pod.UID))
}
