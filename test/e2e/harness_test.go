// Package e2e drives a real `herd server` binary with the real kubectl.
// TestMain builds the binary once; each test starts servers on temporary data
// directories (loopback only) and checks what a user would see.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	herdBin  string
	kubectl  string
	shared   *Server
	buildDir string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	kubectl, err = exec.LookPath("kubectl")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: kubectl not found on PATH; install it to run the end-to-end tests")
		return 1
	}
	buildDir, err = os.MkdirTemp("", "herd-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(buildDir)
	herdBin = filepath.Join(buildDir, "herd")
	if b := os.Getenv("HERD_BIN"); b != "" {
		herdBin = b
	} else {
		start := time.Now()
		cmd := exec.Command("go", "build", "-o", herdBin, "github.com/herd-project/herd/cmd/herd")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: building herd:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "e2e: built herd in %s\n", time.Since(start).Round(time.Millisecond))
	}
	shared, err = startServer(filepathTemp("shared"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting shared server:", err)
		return 1
	}
	code := m.Run()
	shared.Stop()
	killRuns(shared.DataDir)
	os.RemoveAll(shared.DataDir)
	return code
}

func filepathTemp(name string) string {
	d, err := os.MkdirTemp("", "herd-e2e-"+name)
	if err != nil {
		panic(err)
	}
	return d
}

// Server is one running `herd server`.
type Server struct {
	DataDir    string
	Kubeconfig string
	cmd        *exec.Cmd
	log        *bytes.Buffer
	done       chan error
}

func startServer(dataDir string, extra ...string) (*Server, error) {
	// Wait for this server's kubeconfig, not one left by a killed predecessor.
	os.Remove(filepath.Join(dataDir, "admin.kubeconfig"))
	args := append([]string{"server", "--data-dir", dataDir, "--listen", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(herdBin, args...)
	log := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{DataDir: dataDir, Kubeconfig: filepath.Join(dataDir, "admin.kubeconfig"), cmd: cmd, log: log, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(s.Kubeconfig); err == nil {
			return s, nil
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("herd server exited before ready: %v\n%s", err, log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.Kill()
	return nil, fmt.Errorf("herd server not ready after 90s:\n%s", log.String())
}

// Stop sends SIGTERM and waits for a clean exit.
func (s *Server) Stop() error {
	if s.cmd.Process == nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		return err
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		return fmt.Errorf("herd server did not stop within 30s after SIGTERM")
	}
}

// Kill sends SIGKILL.
func (s *Server) Kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// Kubectl runs kubectl against the server.
func (s *Server) Kubectl(t testing.TB, args ...string) (string, error) {
	t.Helper()
	return s.KubectlIn(t, "", args...)
}

// KubectlIn runs kubectl with stdin.
func (s *Server) KubectlIn(t testing.TB, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.Kubeconfig)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// MustKubectl fails the test when kubectl fails.
func (s *Server) MustKubectl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := s.Kubectl(t, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Namespace creates a fresh namespace for a test.
func (s *Server) Namespace(t testing.TB) string {
	t.Helper()
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 50 {
		name = name[:50]
	}
	name = strings.Trim(name, "-")
	s.MustKubectl(t, "create", "namespace", name)
	return name
}

func testdata(name string) string { return filepath.Join("testdata", name) }

// eventually retries f until it returns nil or the timeout passes.
func eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("condition not met within %s: %v", timeout, err)
}

// killRuns kills what the process runtime of dataDir's node still runs:
// container processes outlive their server by design (as containers outlive
// a kubelet), so tests clean up after themselves.
func killRuns(dataDir string) {
	states, _ := filepath.Glob(filepath.Join(dataDir, "agent", "pods", "*", "runs", "*", "state.json"))
	for _, f := range states {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var st struct {
			ShimPID      int `json:"shimPID"`
			ContainerPID int `json:"containerPID"`
		}
		if json.Unmarshal(b, &st) != nil {
			continue
		}
		if st.ContainerPID > 0 {
			syscall.Kill(-st.ContainerPID, syscall.SIGKILL)
		}
		if st.ShimPID > 0 {
			syscall.Kill(st.ShimPID, syscall.SIGKILL)
		}
	}
}
