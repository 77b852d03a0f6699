package agent

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func (e *env) getLogs(path string, token string) (int, string) {
	e.t.Helper()
	srv := httptest.NewServer(e.agent.Handler())
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
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
		t.Errorf("no token: %d", code)
	}
	if code, _ := e.getLogs("/containerLogs/default/crash/main", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", code)
	}
	code, body := e.getLogs("/containerLogs/default/crash/main", "secret")
	if code != 200 || body != "simulated container main started (attempt 0)\n" {
		t.Fatalf("logs %d %q", code, body)
	}
	code, body = e.getLogs("/containerLogs/default/crash/main?previous=true", "secret")
	if code != 400 || !strings.Contains(body, `previous terminated container "main" in pod "crash" not found`) {
		t.Errorf("previous before a restart: %d %q", code, body)
	}
	code, body = e.getLogs("/containerLogs/default/crash/nope", "secret")
	if code != 400 || !strings.Contains(body, `container "nope" in pod "crash" is not available`) {
		t.Errorf("unknown container: %d %q", code, body)
	}
	if code, _ := e.getLogs("/containerLogs/default/missing/main", "secret"); code != 404 {
		t.Errorf("unknown pod: %d", code)
	}

	// follow ends when the run ends
	srv := httptest.NewServer(e.agent.Handler())
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/containerLogs/default/crash/main?follow=true", nil)
	req.Header.Set("Authorization", "Bearer secret")
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
	code, body = e.getLogs("/containerLogs/default/crash/main?previous=true&timestamps=true", "secret")
	want := "2026-01-02T03:04:05Z simulated container main started (attempt 0)\n2026-01-02T03:04:15Z simulated container main exited with code 1\n"
	if code != 200 || body != want {
		t.Errorf("previous with timestamps: %d %q want %q", code, body, want)
	}
	code, body = e.getLogs("/containerLogs/default/crash/main?previous=true&tailLines=1", "secret")
	if code != 200 || body != "simulated container main exited with code 1\n" {
		t.Errorf("tail: %d %q", code, body)
	}
	code, body = e.getLogs("/containerLogs/default/crash/main", "secret")
	if code != 200 || body != "simulated container main started (attempt 1)\n" {
		t.Errorf("current: %d %q", code, body)
	}
	code, body = e.getLogs("/containerLogs/default/crash/main?previous=true&limitBytes=9", "secret")
	if code != 200 || body != "simulated" {
		t.Errorf("limitBytes: %d %q", code, body)
	}
	code, body = e.getLogs("/containerLogs/default/crash/main?tailLines=x", "secret")
	if code != 400 {
		t.Errorf("bad tailLines: %d %q", code, body)
	}
}
