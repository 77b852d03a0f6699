package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tokenKubectl runs kubectl with only a bearer token (no client
// certificate, no kubeconfig) against s.
func (s *Server) tokenKubectl(t *testing.T, token string, args ...string) (string, error) {
	t.Helper()
	server := strings.TrimSpace(s.MustKubectl(t, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	all := append([]string{"--server=" + server, "--certificate-authority=" + filepath.Join(s.DataDir, "tls", "ca.crt"), "--token=" + token}, args...)
	cmd := exec.CommandContext(ctx, kubectl, all...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// jwtClaims decodes a JWT's payload without checking it.
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestServiceAccountCreateTokenAndWhoami(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	if out := s.MustKubectl(t, "auth", "whoami"); !strings.Contains(out, "herd-admin") || !strings.Contains(out, "system:masters") {
		t.Errorf("kubectl auth whoami as admin:\n%s", out)
	}
	var tok string
	eventually(t, 30*time.Second, func() error {
		out, err := s.Kubectl(t, "create", "token", "default", "-n", ns)
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		tok = strings.TrimSpace(out)
		return nil
	})
	out, err := s.tokenKubectl(t, tok, "auth", "whoami")
	if err != nil {
		t.Fatalf("whoami with the token: %v\n%s", err, out)
	}
	for _, want := range []string{"system:serviceaccount:" + ns + ":default", "system:serviceaccounts:" + ns, "JTI="} {
		if !strings.Contains(out, want) {
			t.Errorf("whoami with the token lacks %q:\n%s", want, out)
		}
	}
	c := jwtClaims(t, tok)
	if c["iss"] != "https://kubernetes.default.svc.cluster.local" || c["sub"] != "system:serviceaccount:"+ns+":default" {
		t.Errorf("claims: %v", c)
	}
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 3600 {
		t.Errorf("default token lives %v s, want 3600", exp-iat)
	}

	// --duration=10m: exp is 10 minutes out.
	tok10 := strings.TrimSpace(s.MustKubectl(t, "create", "token", "default", "-n", ns, "--duration=10m"))
	c = jwtClaims(t, tok10)
	now := float64(time.Now().Unix())
	if exp := c["exp"].(float64); exp < now+590 || exp > now+610 {
		t.Errorf("--duration=10m token expires at %v, now is %v", exp, now)
	}
	if out, err := s.Kubectl(t, "create", "token", "default", "-n", ns, "--duration=5m"); err == nil ||
		!strings.Contains(out, "spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes") {
		t.Errorf("--duration=5m: %v\n%s", err, out)
	}
	if out, err := s.Kubectl(t, "create", "token", "nosuch", "-n", ns); err == nil || !strings.Contains(out, `serviceaccounts "nosuch" not found`) {
		t.Errorf("token of a missing account: %v\n%s", err, out)
	}

	// An audience the API does not accept: the token does not authenticate.
	other := strings.TrimSpace(s.MustKubectl(t, "create", "token", "default", "-n", ns, "--audience=vault"))
	if out, err := s.tokenKubectl(t, other, "auth", "whoami"); err == nil || !strings.Contains(out, "Unauthorized") {
		t.Errorf("token for audience vault was accepted: %v\n%s", err, out)
	}
	// TokenReview for that audience says who it is.
	review := fmt.Sprintf(`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":%q,"audiences":["vault"]}}`, other)
	out, err = s.KubectlIn(t, review, "create", "-f", "-", "-o", "json")
	if err != nil || !strings.Contains(out, `"authenticated": true`) || !strings.Contains(out, `"username": "system:serviceaccount:`+ns+`:default"`) {
		t.Errorf("TokenReview: %v\n%s", err, out)
	}

	// A token bound to a pod stops working when the pod is deleted.
	s.MustKubectl(t, "run", "bound", "-n", ns, "--image=none", "--restart=Never", "--overrides",
		`{"spec":{"nodeName":"nowhere"}}`, "--command", "--", "sleep", "1")
	defer s.Kubectl(t, "delete", "pod", "bound", "-n", ns, "--force", "--grace-period=0")
	bound := strings.TrimSpace(s.MustKubectl(t, "create", "token", "default", "-n", ns, "--bound-object-kind=Pod", "--bound-object-name=bound"))
	if c := jwtClaims(t, bound); !strings.Contains(fmt.Sprint(c["kubernetes.io"]), "bound") {
		t.Errorf("bound token claims: %v", c)
	}
	if out, err := s.tokenKubectl(t, bound, "auth", "whoami"); err != nil || !strings.Contains(out, "authentication.kubernetes.io/pod-name") {
		t.Errorf("bound token: %v\n%s", err, out)
	}
	if out, err := s.Kubectl(t, "create", "token", "default", "-n", ns, "--bound-object-kind=Pod", "--bound-object-name=nosuch"); err == nil || !strings.Contains(out, `pods "nosuch" not found`) {
		t.Errorf("token bound to a missing pod: %v\n%s", err, out)
	}
	s.MustKubectl(t, "delete", "pod", "bound", "-n", ns, "--force", "--grace-period=0")
	eventually(t, 30*time.Second, func() error {
		if out, err := s.tokenKubectl(t, bound, "auth", "whoami"); err == nil || !strings.Contains(out, "Unauthorized") {
			return fmt.Errorf("token of a deleted pod still authenticates: %s", out)
		}
		return nil
	})
}

func TestServiceAccountAdmissionAndRootCA(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	// kube-root-ca.crt holds the CA that signs the serving certificate and
	// comes back when deleted or changed.
	ca, err := os.ReadFile(filepath.Join(s.DataDir, "tls", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	getCA := func() (string, error) {
		return s.Kubectl(t, "get", "configmap", "kube-root-ca.crt", "-n", ns, "-o", `jsonpath={.data.ca\.crt}`)
	}
	eventually(t, 30*time.Second, func() error {
		out, err := getCA()
		if err != nil || out != string(ca) {
			return fmt.Errorf("kube-root-ca.crt: %v %q", err, out)
		}
		return nil
	})
	s.MustKubectl(t, "delete", "configmap", "kube-root-ca.crt", "-n", ns)
	eventually(t, 30*time.Second, func() error {
		if out, err := getCA(); err != nil || out != string(ca) {
			return fmt.Errorf("kube-root-ca.crt not restored: %v %q", err, out)
		}
		return nil
	})
	s.MustKubectl(t, "patch", "configmap", "kube-root-ca.crt", "-n", ns, "-p", `{"data":{"ca.crt":"x"}}`)
	eventually(t, 30*time.Second, func() error {
		if out, err := getCA(); err != nil || out != string(ca) {
			return fmt.Errorf("kube-root-ca.crt not repaired: %v %q", err, out)
		}
		return nil
	})
	if out := s.MustKubectl(t, "get", "configmap", "kube-root-ca.crt", "-n", ns, "-o", `jsonpath={.metadata.annotations.kubernetes\.io/description}`); !strings.HasPrefix(out, "Contains a CA bundle") {
		t.Errorf("description annotation: %q", out)
	}

	// The admission plugin mounts the token volume.
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{%s"nodeName":"nowhere","initContainers":[{"name":"i","image":"x","command":["true"]}],"containers":[{"name":"c","image":"x","command":["true"]}]}}`
	out, err := s.KubectlIn(t, fmt.Sprintf(pod, "auto", ""), "create", "-n", ns, "-o", "json", "-f", "-")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !regexp.MustCompile(`"name": "kube-api-access-[a-z0-9]{5}"`).MatchString(out) ||
		strings.Count(out, `"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"`) != 2 ||
		!strings.Contains(out, `"expirationSeconds": 3607`) || !strings.Contains(out, `"serviceAccountName": "default"`) {
		t.Errorf("pod without the token volume:\n%s", out)
	}
	out, err = s.KubectlIn(t, fmt.Sprintf(pod, "noauto", `"automountServiceAccountToken":false,`), "create", "-n", ns, "-o", "json", "-f", "-")
	if err != nil || strings.Contains(out, "kube-api-access") {
		t.Errorf("automountServiceAccountToken false: %v\n%s", err, out)
	}
	out, err = s.KubectlIn(t, fmt.Sprintf(pod, "nosa", `"serviceAccountName":"nosuch",`), "create", "-n", ns, "-f", "-")
	if want := `pods "nosa" is forbidden: error looking up service account ` + ns + `/nosuch: serviceaccount "nosuch" not found`; err == nil || !strings.Contains(out, want) {
		t.Errorf("pod with a missing account: %v\n%s\nwant %s", err, out, want)
	}
	s.MustKubectl(t, "delete", "pod", "--all", "-n", ns, "--force", "--grace-period=0")
}

// inClusterPod runs script in a pod of ns (service account sa) on the
// process runtime and returns its log once it has finished.
func inClusterPod(t *testing.T, s *Server, ns, sa, name, script string) string {
	t.Helper()
	home := t.TempDir()
	manifest := fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q},"spec":{"serviceAccountName":%q,"restartPolicy":"Never",
"containers":[{"name":"c","image":"kubectl","command":["sh","-c",%q],"env":[{"name":"HOME","value":%q},{"name":"KUBECTL","value":%q}]}]}}`,
		name, sa, script, home, kubectl)
	if out, err := s.KubectlIn(t, manifest, "create", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	eventually(t, 90*time.Second, func() error {
		out, _ := s.Kubectl(t, "get", "pod", name, "-n", ns, "-o", "jsonpath={.status.phase}")
		if out != "Succeeded" && out != "Failed" {
			return fmt.Errorf("pod phase %q", out)
		}
		return nil
	})
	return s.MustKubectl(t, "logs", name, "-n", ns)
}

func TestServiceAccountInClusterKubectl(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	// RBAC: the default account may read, as `view` allows.
	s.MustKubectl(t, "create", "rolebinding", "default-view", "-n", ns, "--clusterrole=view", "--serviceaccount="+ns+":default")
	log := inClusterPod(t, s, ns, "default", "incluster", `set -e
d=/var/run/secrets/kubernetes.io/serviceaccount
echo "namespace=$(cat $d/namespace)"
test -s $d/token && test -s $d/ca.crt && echo files-ok
echo "host=$KUBERNETES_SERVICE_HOST port=$KUBERNETES_SERVICE_PORT"
env -u KUBECONFIG "$KUBECTL" get pods -o name
env -u KUBECONFIG "$KUBECTL" auth whoami -o jsonpath='{.status.userInfo.username}'`)
	for _, want := range []string{"namespace=" + ns, "files-ok", "pod/incluster", "system:serviceaccount:" + ns + ":default"} {
		if !strings.Contains(log, want) {
			t.Errorf("in-cluster kubectl: log lacks %q:\n%s", want, log)
		}
	}
}

// TestServiceAccountRBACInCluster is issue 11's acceptance 3: a pod whose
// ServiceAccount may only get and list pods lists them and gets 403 on
// secrets. It needs RBAC enforcement (the rbac branch).
func TestServiceAccountRBACInCluster(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	s.MustKubectl(t, "create", "serviceaccount", "reader", "-n", ns)
	s.MustKubectl(t, "create", "role", "pod-reader", "-n", ns, "--verb=get,list", "--resource=pods")
	s.MustKubectl(t, "create", "rolebinding", "reader", "-n", ns, "--role=pod-reader", "--serviceaccount="+ns+":reader")
	as := "--as=system:serviceaccount:" + ns + ":reader"
	if out, _ := s.Kubectl(t, "auth", "can-i", "list", "pods", "-n", ns, as); strings.TrimSpace(out) != "yes" {
		t.Errorf("can-i list pods: %q", out)
	}
	if out, _ := s.Kubectl(t, "auth", "can-i", "get", "secrets", "-n", ns, as); strings.TrimSpace(out) != "no" {
		t.Errorf("can-i get secrets: %q", out)
	}
	log := inClusterPod(t, s, ns, "reader", "rbac", `
env -u KUBECONFIG "$KUBECTL" get pods -o name
env -u KUBECONFIG "$KUBECTL" get secrets 2>&1 || echo "secrets-exit=$?"`)
	if !strings.Contains(log, "pod/rbac") {
		t.Errorf("listing pods in-cluster failed:\n%s", log)
	}
	if !strings.Contains(log, `secrets is forbidden: User "system:serviceaccount:`+ns+`:reader" cannot list resource "secrets"`) || !strings.Contains(log, "secrets-exit=1") {
		t.Errorf("listing secrets in-cluster was not refused with 403:\n%s", log)
	}
}
