package e2e

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestProxySubresources: pods/proxy, services/proxy and nodes/proxy reach
// the pod's port and the node agent through the API server, as
// `kubectl get --raw …/proxy/…` and `kubectl proxy` use them.
//
// Endpoints may not hold loopback addresses (Kubernetes' validation), so the
// server's node uses one of this machine's own non-loopback addresses: the
// traffic still never leaves the machine.
func TestProxySubresources(t *testing.T) {
	nodeIP := localIPv4(t)
	dir := filepathTemp("proxy")
	defer os.RemoveAll(dir)
	s, err := startServer(dir, "--node-ip", nodeIP)
	if err != nil {
		t.Fatal(err)
	}
	defer killRuns(dir)
	defer s.Stop()
	ns := s.Namespace(t)
	port := freePort(t)
	// An HTTP server that answers with the request line it got.
	s.KubectlIn(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: %[1]s
  labels: {app: web}
spec:
  containers:
  - name: web
    image: perl
    ports: [{name: http, containerPort: %[2]d}]
    command: ["perl", "-MIO::Socket::INET", "-e", "$s=IO::Socket::INET->new(LocalAddr=>'%[3]s',LocalPort=>%[2]d,Listen=>5,ReuseAddr=>1) or die; while($c=$s->accept){$l=<$c>; $l=~s/\\r?\\n//; print $c \"HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\n$l\\n\"; close $c}"]
`, ns, port, nodeIP), "apply", "-f", "-")
	waitPodStatus(t, s, ns, "web", "Running", time.Minute)
	base := "/api/v1/namespaces/" + ns
	get := func(path string) string {
		t.Helper()
		var out string
		eventually(t, 10*time.Second, func() error {
			var err error
			out, err = s.Kubectl(t, "get", "--raw", path)
			if err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
		return strings.TrimSpace(out)
	}
	for path, want := range map[string]string{
		fmt.Sprintf("%s/pods/web:%d/proxy/hello?x=1", base, port): "GET /hello?x=1 HTTP/1.1",
		base + "/pods/web/proxy/":                                 "GET / HTTP/1.1",
		base + "/pods/http:web:http/proxy/a/b/":                   "GET /a/b/ HTTP/1.1",
	} {
		if got := get(path); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	if out, err := s.Kubectl(t, "get", "--raw", base+"/pods/web:nope/proxy/"); err == nil || !strings.Contains(out, `no port "nope"`) {
		t.Errorf("unknown port: %v %s", err, out)
	}

	node := podField(t, s, ns, "web", "{.spec.nodeName}")
	if got := get("/api/v1/nodes/" + node + "/proxy/healthz"); got != "ok" {
		t.Errorf("nodes/proxy/healthz: %q", got)
	}
	if got := get("/api/v1/nodes/" + node + "/proxy/pods"); !strings.Contains(got, `"name":"web"`) {
		t.Errorf("nodes/proxy/pods does not list the pod: %.300s", got)
	}

	// services/proxy goes to a ready endpoint.
	ip := podField(t, s, ns, "web", "{.status.podIP}")
	uid := podField(t, s, ns, "web", "{.metadata.uid}")
	out, err := s.KubectlIn(t, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: web, namespace: %[1]s}
spec:
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: %[1]s}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: %[1]s}
subsets:
- addresses: [{ip: %[2]s, targetRef: {kind: Pod, name: web, namespace: %[1]s, uid: %[3]s}}]
  ports: [{name: http, port: %[4]d}]
`, ns, ip, uid, port), "apply", "-f", "-")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for path, want := range map[string]string{
		base + "/services/web:http/proxy/svc": "GET /svc HTTP/1.1",
		base + "/services/web:80/proxy/num":   "GET /num HTTP/1.1",
	} {
		if got := get(path); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	if out, err := s.Kubectl(t, "get", "--raw", base+"/services/empty:http/proxy/"); err == nil || !strings.Contains(out, `no endpoints available for service "empty"`) {
		t.Errorf("service without endpoints: %v %s", err, out)
	}
	if out, err := s.Kubectl(t, "get", "--raw", base+"/services/web:81/proxy/"); err == nil || !strings.Contains(out, `no service port 81 found`) {
		t.Errorf("unknown service port: %v %s", err, out)
	}
}

// localIPv4 is one of this machine's non-loopback IPv4 addresses.
func localIPv4(t *testing.T) string {
	t.Helper()
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	t.Fatal("this machine has no non-loopback IPv4 address for the node")
	return ""
}
