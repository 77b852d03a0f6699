package agent

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

type fakeOwner map[int]bool

func (f fakeOwner) PodProcesses(types.UID) func(pid int) bool {
	return func(pid int) bool { return f[pid] }
}

// fakeProc writes a /proc with the given /proc/net/tcp lines and socket
// file descriptors (pid → inodes).
func fakeProc(t *testing.T, tcp []string, fds map[string][]string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	header := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	if err := os.WriteFile(filepath.Join(root, "net", "tcp"), []byte(header+strings.Join(tcp, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for pid, inodes := range fds {
		dir := filepath.Join(root, pid, "fd")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, ino := range inodes {
			if err := os.Symlink("socket:["+ino+"]", filepath.Join(dir, string(rune('3'+i)))); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// Port 8080 (0x1F90): kubectl's port-forward listener on 127.0.0.1 must
// never be chosen; the pod's own listener is.
func TestPodListenAddress(t *testing.T) {
	kubectlListener := "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1 0000000000000000 100 0 0 10 0"
	podListener := "   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0"
	established := "   2: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 888 1 0000000000000000 100 0 0 10 0"

	root := fakeProc(t, []string{kubectlListener, established}, map[string][]string{"100": {"555", "888"}})
	if addr, err := podListenAddress(root, fakeOwner{200: true}, "uid", 8080); err == nil ||
		err.Error() != "failed to connect to localhost:8080 in the pod's network (the node's): no process of the pod listens on port 8080" {
		t.Fatalf("only kubectl listens: got %q, %v", addr, err)
	}

	root = fakeProc(t, []string{kubectlListener, podListener}, map[string][]string{"100": {"555"}, "200": {"777"}})
	if addr, err := podListenAddress(root, fakeOwner{200: true}, "uid", 8080); err != nil || addr != "127.0.0.1:8080" {
		t.Fatalf("pod listens on 0.0.0.0: got %q, %v", addr, err)
	}
	if _, err := podListenAddress(root, fakeOwner{200: true}, "uid", 8081); err == nil {
		t.Fatal("port 8081: nobody listens")
	}

	specific := "   0: 0A00000A:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0"
	root = fakeProc(t, []string{kubectlListener, specific}, map[string][]string{"100": {"555"}, "300": {"999"}})
	if addr, err := podListenAddress(root, fakeOwner{300: true}, "uid", 8080); err != nil || addr != "10.0.0.10:8080" {
		t.Fatalf("pod listens on 10.0.0.10: got %q, %v", addr, err)
	}
}

// BenchmarkPodListenAddress measures the /proc scan each forwarded
// connection costs on this machine: reading the listening sockets and
// finding the owner of the one on the port.
func BenchmarkPodListenAddress(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	owner := fakeOwner{os.Getpid(): true}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := podListenAddress("/proc", owner, "uid", port); err != nil {
			b.Fatal(err)
		}
	}
}
