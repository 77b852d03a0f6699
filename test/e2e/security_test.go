package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"k8s.io/client-go/tools/clientcmd"
)

// listeningPorts returns the loopback TCP ports pid listens on, from
// /proc/net/tcp and the process's socket inodes.
func listeningPorts(t *testing.T, pid int) []int {
	t.Helper()
	inodes := map[string]bool{}
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ports []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// local_address rem_address st ... inode (10th field); st 0A = LISTEN
		if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] {
			continue
		}
		_, portHex, _ := strings.Cut(fields[1], ":")
		p, err := strconv.ParseInt(portHex, 16, 32)
		if err == nil {
			ports = append(ports, int(p))
		}
	}
	return ports
}

// TestEtcdAndDataDirClosed is issue 11's first acceptance test: no TCP port
// of the server gives etcd access without the server's own client
// certificate, the data dir is closed to other users (even when it existed
// with a looser mode), and a process-runtime pod sees none of it.
func TestEtcdAndDataDirClosed(t *testing.T) {
	dir := filepathTemp("closed")
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := startServer(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer killRuns(dir)
	defer s.Stop()

	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode = %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	// As user nobody, the data dir cannot be read.
	ls := exec.Command("ls", dir)
	ls.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := ls.CombinedOutput(); err == nil || !strings.Contains(string(out), "Permission denied") {
		t.Errorf("nobody listed the data dir: %v %s", err, out)
	}

	// Every port the server listens on refuses an etcd client that has no
	// certificate of the etcd CA, over plain TCP and over TLS.
	ports := listeningPorts(t, s.cmd.Process.Pid)
	if len(ports) < 3 {
		t.Fatalf("expected the API, etcd and the agent among the server's ports, got %v", ports)
	}
	for _, p := range ports {
		for _, scheme := range []string{"http", "https"} {
			cfg := clientv3.Config{Endpoints: []string{fmt.Sprintf("%s://127.0.0.1:%d", scheme, p)}, DialTimeout: 2 * time.Second, Logger: zap.NewNop()}
			if scheme == "https" {
				cfg.TLS = &tls.Config{InsecureSkipVerify: true}
			}
			c, err := clientv3.New(cfg)
			if err != nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err = c.Put(ctx, "/registry/pods/default/intruder", "x")
			cancel()
			c.Close()
			if err == nil {
				t.Errorf("port %d (%s): an etcd write without a client certificate succeeded", p, scheme)
			}
		}
		// Nor does etcd's HTTP API answer on any of them.
		for _, scheme := range []string{"http", "https"} {
			hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
			resp, err := hc.Get(fmt.Sprintf("%s://127.0.0.1:%d/version", scheme, p))
			if err != nil {
				continue
			}
			b := make([]byte, 512)
			n, _ := resp.Body.Read(b)
			resp.Body.Close()
			if strings.Contains(string(b[:n]), "etcdserver") {
				t.Errorf("port %d (%s) answers etcd's /version: %s", p, scheme, b[:n])
			}
		}
	}

	// A pod on the process runtime sees an empty data dir: no keys, no
	// etcd credentials.
	ns := s.Namespace(t)
	s.MustKubectl(t, "-n", ns, "run", "peek", "--image=x", "--restart=Never", "--command", "--",
		"sh", "-c", fmt.Sprintf("ls -A %s | wc -l; cat %s/tls/etcd/apiserver-etcd-client.key || echo unreadable", dir, dir))
	waitPodStatus(t, s, ns, "peek", "Completed", time.Minute)
	out := s.MustKubectl(t, "-n", ns, "logs", "peek")
	if !strings.HasPrefix(out, "0\n") || !strings.Contains(out, "unreadable") || strings.Contains(out, "PRIVATE KEY") {
		t.Errorf("the pod saw the data dir:\n%s", out)
	}
}

// TestSecretsEncryptedAndAudited: a Secret's value is not in etcd's files
// (db and WAL), reads still return it, and the audit log says who created it.
func TestSecretsEncryptedAndAudited(t *testing.T) {
	dir := filepathTemp("encrypted")
	defer os.RemoveAll(dir)
	audit := filepath.Join(dir, "audit.log")
	s, err := startServer(dir, "--audit-log-path", audit)
	if err != nil {
		t.Fatal(err)
	}
	defer killRuns(dir)
	defer s.Stop()
	value := fmt.Sprintf("herd-secret-%d", time.Now().UnixNano())
	s.MustKubectl(t, "create", "secret", "generic", "enc", "--from-literal=password="+value)
	got := decodeB64(t, s.MustKubectl(t, "get", "secret", "enc", "-o", "jsonpath={.data.password}"))
	if string(got) != value {
		t.Fatalf("secret read back as %q", got)
	}
	var sawEnvelope bool
	filepath.Walk(filepath.Join(dir, "etcd"), func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		if strings.Contains(string(b), value) {
			t.Errorf("the secret's value is in plain text in %s", p)
		}
		if strings.Contains(string(b), "k8s:enc:secretbox:v1:key1") {
			sawEnvelope = true
		}
		return nil
	})
	if !sawEnvelope {
		t.Error("no secretbox-encrypted value in etcd's files")
	}
	eventually(t, 10*time.Second, func() error {
		b, _ := os.ReadFile(audit)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, `"verb":"create"`) && strings.Contains(l, `"resource":"secrets"`) &&
				strings.Contains(l, `"name":"enc"`) && strings.Contains(l, `"username":"herd-admin"`) {
				return nil
			}
		}
		return fmt.Errorf("no audit event for the secret's creation by herd-admin in %s", audit)
	})
}

// TestBindingMissingPod: binding a pod that does not exist is 404, not a
// 500 naming the storage key.
func TestBindingMissingPod(t *testing.T) {
	ns := shared.Namespace(t)
	body := `{"apiVersion":"v1","kind":"Binding","metadata":{"name":"ghost"},"target":{"kind":"Node","name":"n"}}`
	out, err := shared.KubectlIn(t, body, "create", "--raw", "/api/v1/namespaces/"+ns+"/pods/ghost/binding", "-f", "-")
	if err == nil || !strings.Contains(out, `pods "ghost" not found`) || strings.Contains(out, "/registry") {
		t.Errorf("binding a missing pod: %v\n%s", err, out)
	}
}

// TestAgentPortAcceptsOnlyAPIServer: the node agent's port (logs, exec,
// attach, port-forward) refuses the admin's certificate and the node token:
// only the API server's own client certificate gets in, and kubectl logs
// through the API server still works.
func TestAgentPortAcceptsOnlyAPIServer(t *testing.T) {
	ns := shared.Namespace(t)
	shared.MustKubectl(t, "-n", ns, "run", "talk", "--image=x", "--restart=Never", "--command", "--", "echo", "hello agent")
	waitPodStatus(t, shared, ns, "talk", "Completed", time.Minute)
	if out := shared.MustKubectl(t, "-n", ns, "logs", "talk"); out != "hello agent\n" {
		t.Fatalf("logs through the API server: %q", out)
	}
	node := strings.TrimSpace(shared.MustKubectl(t, "-n", ns, "get", "pod", "talk", "-o", "jsonpath={.spec.nodeName}"))
	port := strings.TrimSpace(shared.MustKubectl(t, "get", "node", node, "-o", "jsonpath={.status.daemonEndpoints.kubeletEndpoint.port}"))
	addr := strings.TrimSpace(shared.MustKubectl(t, "get", "node", node, "-o", `jsonpath={.status.addresses[?(@.type=="InternalIP")].address}`))
	cfg, err := clientcmd.BuildConfigFromFlags("", shared.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := tls.X509KeyPair(cfg.CertData, cfg.KeyData)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cfg.CAData)
	token, _ := os.ReadFile(filepath.Join(shared.DataDir, "node-token"))
	url := fmt.Sprintf("https://%s/containerLogs/%s/talk/talk", net.JoinHostPort(addr, port), ns)
	for name, certs := range map[string][]tls.Certificate{"admin certificate": {admin}, "node token": nil} {
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs, ServerName: "127.0.0.1"}}}
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Errorf("%s: the agent served the pod's logs directly", name)
			}
		}
	}
}

// TestNodeTokenOnlyJoins: the node token is a bootstrap credential; it can
// neither create pods, nor read Secrets, nor list nodes.
func TestNodeTokenOnlyJoins(t *testing.T) {
	ns := shared.Namespace(t)
	token, err := os.ReadFile(filepath.Join(shared.DataDir, "node-token"))
	if err != nil {
		t.Fatal(err)
	}
	as := []string{"--kubeconfig", tokenKubeconfig(t, shared, strings.TrimSpace(string(token)))}
	for _, args := range [][]string{
		{"-n", ns, "run", "evil", "--image=x", "--restart=Never", "--command", "--", "id"},
		{"-n", ns, "get", "secrets"},
		{"get", "nodes"},
		{"-n", "kube-system", "delete", "pods", "--all"},
	} {
		cmd := exec.Command(kubectl, append(as, args...)...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "Forbidden") && !strings.Contains(string(out), "forbidden") {
			t.Errorf("node token: kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// tokenKubeconfig writes a kubeconfig for s that authenticates with token only.
func tokenKubeconfig(t *testing.T, s *Server, token string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(s.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, ai := range cfg.AuthInfos {
		ai.ClientCertificateData, ai.ClientKeyData = nil, nil
		ai.Token = token
	}
	path := filepath.Join(t.TempDir(), "token.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}
