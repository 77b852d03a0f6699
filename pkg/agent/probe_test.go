package agent

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/herd-project/herd/pkg/agent/runtime"
	"github.com/herd-project/herd/pkg/agent/runtime/simulated"
)

// plainRuntime hides the simulated runtime's Prober so that the agent
// probes by itself.
type plainRuntime struct{ runtime.Runtime }

func TestProbeHandlers(t *testing.T) {
	rt := simulated.New(simulated.Options{LogDir: t.TempDir()})
	a, err := New(Config{Client: nil, NodeNames: []string{"n"}, Runtime: plainRuntime{rt}, NodeIP: "127.0.0.1"})
	if err == nil || a != nil {
		t.Fatal("New accepted a nil client")
	}
	a = &Agent{rt: plainRuntime{rt}, nodeIP: "127.0.0.1"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Check") != "yes" || r.URL.Path != "/healthz" || r.UserAgent() != "kube-probe/1.36" {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		if r.URL.Query().Get("fail") != "" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	c := &corev1.Container{Name: "c", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}}
	ctx := context.Background()
	get := func(path string) *corev1.ProbeHandler {
		return &corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http"),
			HTTPHeaders: []corev1.HTTPHeader{{Name: "X-Check", Value: "yes"}}}}
	}
	if ok, out := a.doProbe(ctx, nil, c, "", runtime.ProbeReadiness, get("/healthz"), time.Second); !ok {
		t.Errorf("http ok: %s", out)
	}
	if ok, out := a.doProbe(ctx, nil, c, "", runtime.ProbeReadiness, get("/healthz?fail=1"), time.Second); ok || out != "HTTP probe failed with statuscode: 500" {
		t.Errorf("http 500: %v %q", ok, out)
	}
	tcp := &corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(port))}}
	if ok, out := a.doProbe(ctx, nil, c, "", runtime.ProbeLiveness, tcp, time.Second); !ok {
		t.Errorf("tcp ok: %s", out)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	tcp.TCPSocket.Port = intstr.FromInt32(int32(closed))
	if ok, out := a.doProbe(ctx, nil, c, "", runtime.ProbeLiveness, tcp, time.Second); ok || !strings.Contains(out, "connection refused") {
		t.Errorf("tcp closed: %v %q", ok, out)
	}
	// exec goes through Runtime.Exec
	pod := newPod("x", corev1.RestartPolicyAlways, map[string]string{"simulate.herd.dev/exec-exit-code": "1"})
	stid, err := rt.StartContainer(ctx, pod, &pod.Spec.Containers[0], runtime.StartOptions{})
	id := stid.ID
	if err != nil {
		t.Fatal(err)
	}
	exec := &corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"check"}}}
	if ok, out := a.doProbe(ctx, nil, c, id, runtime.ProbeLiveness, exec, time.Second); ok || out != `command "check" exited with 1` {
		t.Errorf("exec: %v %q", ok, out)
	}
}
