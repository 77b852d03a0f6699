package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herd-project/herd/pkg/pki"
)

// TestExternalEtcd runs herd on an etcd cluster of its own (Debian's
// etcd-server, installed by hack/test.sh) instead of the embedded one,
// reached over TLS with a client certificate (--etcd-cafile, --etcd-certfile,
// --etcd-keyfile), and checks that objects live there: a second server on
// another data dir sees them.
func TestExternalEtcd(t *testing.T) {
	etcdBin, err := exec.LookPath("etcd")
	if err != nil {
		if os.Getenv("HERD_REQUIRE_ALL") != "" {
			t.Fatal("etcd not found on PATH; hack/test.sh installs Debian's etcd-server")
		}
		t.Skip("etcd not on PATH (hack/test.sh installs it)")
	}
	dir := filepathTemp("etcd")
	defer os.RemoveAll(dir)
	client, peer := freePort(t), freePort(t)
	clientURL := fmt.Sprintf("https://127.0.0.1:%d", client)
	certs := pki.Files{Dir: filepath.Join(dir, "tls")}
	if _, err := pki.EnsureEtcd(certs); err != nil {
		t.Fatal(err)
	}
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peer)
	etcd := exec.Command(etcdBin, "--name", "herd-test", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "herd-test="+peerURL,
		"--cert-file", certs.EtcdServerCert(), "--key-file", certs.EtcdServerKey(),
		"--trusted-ca-file", certs.EtcdCACert(), "--client-cert-auth")
	tlsFlags := []string{"--etcd-cafile", certs.EtcdCACert(), "--etcd-certfile", certs.EtcdClientCert(), "--etcd-keyfile", certs.EtcdClientKey()}
	etcdLog, _ := os.Create(filepath.Join(dir, "etcd.log"))
	etcd.Stdout, etcd.Stderr = etcdLog, etcdLog
	if err := etcd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { etcd.Process.Kill(); etcd.Wait() }()
	eventually(t, 30*time.Second, func() error {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", client))
		if err == nil {
			c.Close()
		}
		return err
	})

	s, err := startServer(filepath.Join(dir, "a"), append([]string{"--etcd-servers", clientURL}, tlsFlags...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer killRuns(filepath.Join(dir, "a"))
	defer s.Stop()
	if _, err := os.Stat(filepath.Join(dir, "a", "etcd")); err == nil {
		t.Error("an embedded etcd data dir was created although --etcd-servers was given")
	}
	s.MustKubectl(t, "create", "configmap", "shared", "--from-literal=k=v")
	s.MustKubectl(t, "apply", "-f", testdata("pi-job.yaml"))
	uid := s.MustKubectl(t, "get", "job", "pi", "-o", "jsonpath={.metadata.uid}")

	// A second server with its own data dir on the same etcd sees the same
	// objects (without a second agent claiming the same node name).
	s2, err := startServer(filepath.Join(dir, "b"), append([]string{"--etcd-servers", clientURL, "--disable-agent"}, tlsFlags...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Stop()
	if got := s2.MustKubectl(t, "get", "job", "pi", "-o", "jsonpath={.metadata.uid}"); got != uid {
		t.Errorf("job uid seen by the second server = %q, want %q", got, uid)
	}
	if v := s2.MustKubectl(t, "get", "configmap", "shared", "-o", "jsonpath={.data.k}"); strings.TrimSpace(v) != "v" {
		t.Errorf("configmap through the second server: %q", v)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
