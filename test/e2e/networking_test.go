package e2e

import (
	"strings"
	"testing"
)

// TestNetworkingResources: Ingress, IngressClass and NetworkPolicy are served
// (stored, defaulted, validated, with kubectl's columns), as charts expect.
func TestNetworkingResources(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	out, err := s.KubectlIn(t, `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: herd-test-nginx}
spec:
  controller: k8s.io/ingress-nginx
  parameters: {kind: IngressParameters, name: p, apiGroup: k8s.example.com}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: `+ns+`}
spec:
  ingressClassName: herd-test-nginx
  tls: [{hosts: [a.example.com], secretName: tls}]
  rules:
  - host: a.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
  - host: b.example.com
    http:
      paths:
      - {path: /api, pathType: Exact, backend: {service: {name: api, port: {name: http}}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: `+ns+`}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432}]
`, "apply", "-f", "-")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	defer s.Kubectl(t, "delete", "ingressclass", "herd-test-nginx")
	got := s.MustKubectl(t, "-n", ns, "get", "ing", "web", "--no-headers")
	if f := strings.Fields(got); len(f) < 6 || f[1] != "herd-test-nginx" || f[2] != "a.example.com,b.example.com" || f[3] != "80," || f[4] != "443" {
		t.Errorf("kubectl get ing: %q", got)
	}
	if got := s.MustKubectl(t, "get", "ingressclass", "herd-test-nginx", "--no-headers"); !strings.Contains(got, "k8s.io/ingress-nginx") ||
		!strings.Contains(got, "IngressParameters.k8s.example.com/p") {
		t.Errorf("kubectl get ingressclass: %q", got)
	}
	if got := s.MustKubectl(t, "-n", ns, "get", "netpol", "db", "--no-headers"); !strings.Contains(got, "app=db") {
		t.Errorf("kubectl get netpol: %q", got)
	}
	// Defaults: policyTypes and the port's protocol.
	if got := s.MustKubectl(t, "-n", ns, "get", "netpol", "db", "-o", "jsonpath={.spec.policyTypes} {.spec.ingress[0].ports[0].protocol}"); got != `["Ingress"] TCP` {
		t.Errorf("defaults: %q", got)
	}
	// Bad input: 422 with the field path, nothing stored.
	out, err = s.KubectlIn(t, `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bad, namespace: `+ns+`}
spec:
  rules:
  - host: 10.0.0.1
    http:
      paths:
      - {path: /, backend: {service: {name: web, port: {number: 80}}}}
`, "apply", "-f", "-")
	if err == nil || !strings.Contains(out, "spec.rules[0].host") || !strings.Contains(out, "spec.rules[0].http.paths[0].pathType: Required value") {
		t.Errorf("invalid ingress: %v %s", err, out)
	}
	if out, err := s.Kubectl(t, "-n", ns, "get", "ing", "bad"); err == nil {
		t.Errorf("invalid ingress stored: %s", out)
	}
}
