package agent

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"k8s.io/apimachinery/pkg/types"

	"github.com/herd-project/herd/pkg/agent/logs"
	"github.com/herd-project/herd/pkg/agent/runtime"
)

// Handler serves the kubelet's log endpoint:
//
//	GET /containerLogs/{namespace}/{pod}/{container}?follow=&previous=&tailLines=&sinceSeconds=&sinceTime=&timestamps=&limitBytes=
//
// Requests must carry "Authorization: Bearer <Config.AuthToken>"; others
// get 401.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/containerLogs/", a.serveContainerLogs)
	return a.authenticate(mux)
}

func (a *Agent) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if a.cfg.AuthToken == "" || !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(a.cfg.AuthToken)) != 1 {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
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
