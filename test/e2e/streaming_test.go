package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// kubectlEnv runs kubectl with extra environment variables and stdin,
// returning stdout and stderr apart.
func (s *Server) kubectlEnv(t *testing.T, env []string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+s.Kubeconfig), env...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// TestExec: kubectl exec over WebSocket (kubectl's default, translated to
// SPDY by the API server) and over SPDY: output streams, stdin, exit codes,
// the container's environment and working directory, and the errors
// Kubernetes gives.
func TestExec(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	manifest := `apiVersion: v1
kind: Pod
metadata:
  name: box
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "3600"]
    workingDir: /tmp
    env:
    - name: GREETING
      value: hello from box
  - name: side
    image: busybox
    command: ["sleep", "3600"]
`
	if out, err := s.KubectlIn(t, manifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	waitPodStatus(t, s, ns, "box", "Running", 60*time.Second)

	for _, mode := range []struct {
		name string
		env  []string
	}{
		{"websocket", nil},
		{"spdy", []string{"KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			out, errOut, err := s.kubectlEnv(t, mode.env, "", "exec", "box", "-n", ns, "-c", "main", "--",
				"sh", "-c", `echo "$GREETING"; pwd; echo oops >&2`)
			if err != nil || out != "hello from box\n/tmp\n" || errOut != "oops\n" {
				t.Errorf("exec: %v stdout %q stderr %q", err, out, errOut)
			}
			out, _, err = s.kubectlEnv(t, mode.env, "line one\nline two\n", "exec", "-i", "box", "-n", ns, "-c", "main", "--", "wc", "-l")
			if err != nil || strings.TrimSpace(out) != "2" {
				t.Errorf("exec -i: %v %q", err, out)
			}
			_, errOut, err = s.kubectlEnv(t, mode.env, "", "exec", "box", "-n", ns, "-c", "main", "--", "sh", "-c", "exit 7")
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 7 || !strings.Contains(errOut, "command terminated with exit code 7") {
				t.Errorf("exit code: %v %q", err, errOut)
			}
			// The other container is reachable with -c.
			out, _, err = s.kubectlEnv(t, mode.env, "", "exec", "box", "-n", ns, "-c", "side", "--", "sh", "-c", "echo ${GREETING:-unset}")
			if err != nil || out != "unset\n" {
				t.Errorf("exec -c side: %v %q", err, out)
			}
		})
	}

	// -t: a terminal (kubectl needs one itself: util-linux's script gives it).
	if script, err := exec.LookPath("script"); err == nil {
		cmd := exec.Command(script, "-qec", kubectl+" exec -it box -n "+ns+" -c main -- sh -c 'tty; echo $TERM'", "/dev/null")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+s.Kubeconfig)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "/dev/pts/") || !strings.Contains(string(out), "xterm") {
			t.Errorf("exec -it: %v %q", err, out)
		}
	} else {
		t.Log("no script(1): kubectl exec -t not tested here (the runtime's terminal is unit-tested)")
	}

	// Errors: an unknown container; a pod that does not exist; a finished pod.
	if _, errOut, err := s.kubectlEnv(t, nil, "", "exec", "box", "-n", ns, "-c", "nope", "--", "true"); err == nil ||
		!strings.Contains(errOut, "container nope is not valid for pod box") {
		t.Errorf("unknown container: %v %q", err, errOut)
	}
	if _, errOut, err := s.kubectlEnv(t, nil, "", "exec", "ghost", "-n", ns, "--", "true"); err == nil ||
		!strings.Contains(errOut, `pods "ghost" not found`) {
		t.Errorf("missing pod: %v %q", err, errOut)
	}
	s.MustKubectl(t, "run", "done", "-n", ns, "--image=busybox", "--restart=Never", "--command", "--", "true")
	waitPodStatus(t, s, ns, "done", "Completed", 60*time.Second)
	if _, errOut, err := s.kubectlEnv(t, nil, "", "exec", "done", "-n", ns, "--", "true"); err == nil ||
		!strings.Contains(errOut, "cannot exec into a container in a completed pod; current phase is Succeeded") {
		t.Errorf("completed pod: %v %q", err, errOut)
	}
}

// TestPortForward: the seeds' `kubectl port-forward rs/queue 8080:8080`
// workflow against a ReplicaSet whose pod serves HTTP, over WebSocket
// tunneling (kubectl's default) and over SPDY.
func TestPortForward(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	port := freePort(t)
	manifest := fmt.Sprintf(`apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: queue
spec:
  replicas: 1
  selector:
    matchLabels:
      app: work-queue
  template:
    metadata:
      labels:
        app: work-queue
    spec:
      containers:
      - name: queue
        image: perl
        command: ["perl", "-MIO::Socket::INET", "-e", "$s=IO::Socket::INET->new(LocalAddr=>'127.0.0.1',LocalPort=>%d,Listen=>5,ReuseAddr=>1) or die; $n=0; while($c=$s->accept){<$c>; $n++; print $c \"HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nrequest $n\\n\"; close $c}"]
        readinessProbe:
          tcpSocket:
            port: %d
          periodSeconds: 1
`, port, port)
	if out, err := s.KubectlIn(t, manifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	eventually(t, 60*time.Second, func() error {
		out, _ := s.Kubectl(t, "get", "rs", "queue", "-n", ns, "-o", "jsonpath={.status.readyReplicas}")
		if out != "1" {
			return fmt.Errorf("ready replicas %q", out)
		}
		return nil
	})

	for _, mode := range []struct {
		name string
		env  []string
	}{
		{"websocket", nil},
		{"spdy", []string{"KUBECTL_PORT_FORWARD_WEBSOCKETS=false"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			local := freePort(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cmd := exec.CommandContext(ctx, kubectl, "port-forward", "-n", ns, "rs/queue", fmt.Sprintf("%d:%d", local, port))
			cmd.Env = append(append(os.Environ(), "KUBECONFIG="+s.Kubeconfig), mode.env...)
			stdout, _ := cmd.StdoutPipe()
			var errb strings.Builder
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { cancel(); _ = cmd.Wait() }()
			lines := bufio.NewScanner(stdout)
			if !lines.Scan() || lines.Text() != fmt.Sprintf("Forwarding from 127.0.0.1:%d -> %d", local, port) {
				t.Fatalf("port-forward said %q (stderr %q)", lines.Text(), errb.String())
			}
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			for i := 0; i < 3; i++ {
				resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", local))
				if err != nil {
					t.Fatalf("GET through port-forward: %v (stderr %q)", err, errb.String())
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "request ") {
					t.Errorf("GET %d: %d %q", i, resp.StatusCode, body)
				}
			}
		})
	}
}

// TestAttach: `kubectl run -i --rm` feeds stdin to the container and
// prints its output (WebSocket and SPDY), `kubectl attach` streams a running
// container's output, and `kubectl run -it --rm` gives an interactive shell.
func TestAttach(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	for i, env := range [][]string{nil, {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false"}} {
		name := fmt.Sprintf("count-%d", i)
		out, errOut, err := s.kubectlEnv(t, env, "one\ntwo\nthree\n", "run", "-i", "--rm", name, "-n", ns,
			"--image=busybox", "--restart=Never", "--command", "--", "sh", "-c", "wc -l")
		if err != nil || strings.TrimSpace(out) != fmt.Sprintf("3\npod %q deleted", name) {
			t.Errorf("run -i --rm (%v): %v stdout %q stderr %q", env, err, out, errOut)
		}
	}

	s.MustKubectl(t, "run", "ticker", "-n", ns, "--image=busybox", "--command", "--",
		"sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done")
	waitPodStatus(t, s, ns, "ticker", "Running", 60*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, "attach", "ticker", "-n", ns)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.Kubeconfig)
	out, _ := cmd.Output()
	if n := strings.Count(string(out), "tick "); n < 5 {
		t.Errorf("kubectl attach streamed %d lines: %q", n, out)
	}

	if script, err := exec.LookPath("script"); err == nil {
		cmd := exec.Command(script, "-qec", kubectl+" run -it --rm shell -n "+ns+" --image=busybox --restart=Never --command -- sh", "/dev/null")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+s.Kubeconfig)
		in, _ := cmd.StdinPipe()
		go func() {
			time.Sleep(3 * time.Second)
			_, _ = io.WriteString(in, "echo hello-$((6*7))\n")
			time.Sleep(time.Second)
			_, _ = io.WriteString(in, "exit\n")
			time.Sleep(3 * time.Second)
			in.Close()
		}()
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "hello-42") || !strings.Contains(string(out), `pod "shell" deleted`) {
			t.Errorf("run -it --rm: %v %q", err, out)
		}
	}
}
