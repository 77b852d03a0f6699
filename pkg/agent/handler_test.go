package agent

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// testClientCertUser is the API server's certificate name in these tests.
const testClientCertUser = "test-apiserver"

// asClient stands in for the agent's TLS server: it marks each request as
// carrying a verified client certificate with the common name in the
// X-Test-Client-Cert header (none when the header is absent).
func asClient(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cn := r.Header.Get("X-Test-Client-Cert"); cn != "" {
			cert := &x509.Certificate{Subject: pkix.Name{CommonName: cn}}
			r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}}
		}
		h.ServeHTTP(w, r)
	})
}

// getLogs fetches path presenting a client certificate named cn ("" for none).
func (e *env) getLogs(path string, cn string) (int, string) {
	e.t.Helper()
	srv := httptest.NewServer(asClient(e.agent.Handler()))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if cn != "" {
		req.Header.Set("X-Test-Client-Cert", cn)
	}
	// A bearer token opens nothing.
	req.Header.Set("Authorization", "Bearer secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLogsHandler(t *testing.T) {
	e := newEnv(t)
	e.create(newPod("crash", corev1.RestartPolicyAlways, map[string]string{"simulate.herd.dev/duration": "10s", "simulate.herd.dev/exit-code": "1"}))
	e.waitPod("crash", "Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })

	if code, _ := e.getLogs("/containerLogs/default/crash/main", ""); code != http.StatusUnauthorized {
		t.Errorf("no client certificate: %d", code)
	}
	if code, _ := e.getLogs("/containerLogs/default/crash/main", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("another client certificate: %d", code)
	}
	code, body := e.getLogs("/containerLogs/default/crash/main", testClientCertUser)
	if code != 200 || body != "simulated container main started (attempt 0)\n" {
		t.Fatalf("logs %d %q", code, body)
	}
	code, body = e.getLogs("/containerLogs/default/crash/main?previous=true", testClientCertUser)
	if code != 400 || !strings.Contains(body, `previous terminated container "main" in pod "crash" not found`) {
		t.Errorf("previous before a restart: %d %q", code, body)
	}
	code, body = e.getLogs("/containerLogs/default/crash/nope", testClientCertUser)
	if code != 400 || !strings.Contains(body, `container "nope" in pod "crash" is not available`) {
		t.Errorf("unknown container: %d %q", code, body)
	}
	if code, _ := e.getLogs("/containerLogs/default/missing/main", testClientCertUser); code != 404 {
		t.Errorf("unknown pod: %d", code)
	}

	// follow ends when the run ends
	srv := httptest.NewServer(asClient(e.agent.Handler()))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/containerLogs/default/crash/main?follow=true", nil)
	req.Header.Set("X-Test-Client-Cert", testClientCertUser)
	done := make(chan string)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- string(b)
	}()
	time.Sleep(150 * time.Millisecond)
	e.clk.Step(10 * time.Second)
	select {
	case got := <-done:
		want := "simulated container main started (attempt 0)\nsimulated container main exited with code 1\n"
		if got != want {
			t.Errorf("follow got %q want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not end with the run")
	}

	e.waitPod("crash", "restarted", func(p *corev1.Pod) bool { return p.Status.ContainerStatuses[0].RestartCount == 1 })
	code, body = e.getLogs("/containerLogs/default/crash/main?previous=true&timestamps=true", testClientCertUser)
	want := "2026-01-02T03:04:05Z simulated container main started (attempt 0)\n2026-01-02T03:04:15Z simulated container main exited with code 1\n"
	if code != 200 || body != want {
		t.Errorf("previous with timestamps: %d %q want %q", code, body, want)
	}
	code, body = e.getLogs("/containerLogs/default/crash/main?previous=true&tailLines=1", testClientCertUser)
	if code != 200 || body != "simulated container main exited with code 1\n" {
		t.Errorf("tail: %d %q", code, body)
	}
	code, body = e.getLogs("/containerLogs/default/crash/main", testClientCertUser)
	if code != 200 || body != "simulated container main started (attempt 1)\n" {
		t.Errorf("current: %d %q", code, body)
	}
	code, body = e.getLogs("/containerLogs/default/crash/main?previous=true&limitBytes=9", testClientCertUser)
	if code != 200 || body != "simulated" {
		t.Errorf("limitBytes: %d %q", code, body)
	}
	code, body = e.getLogs("/containerLogs/default/crash/main?tailLines=x", testClientCertUser)
	if code != 400 {
		t.Errorf("bad tailLines: %d %q", code, body)
	}
}
