package e2e

import (
	"strings"
	"testing"
)

// TestScaleSubresource drives the /scale subresource the way users do:
// kubectl scale on deployments, replicasets and statefulsets, with
// --current-replicas as a precondition.
func TestScaleSubresource(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	s.MustKubectl(t, "apply", "-n", ns, "-f", testdata("nginx-deploy.yaml"), "-f", testdata("web-statefulset.yaml"))

	out := s.MustKubectl(t, "scale", "-n", ns, "deployment/nginx", "--replicas=5")
	if !strings.Contains(out, "deployment.apps/nginx scaled") {
		t.Errorf("scale deployment: %s", out)
	}
	if v := s.MustKubectl(t, "get", "-n", ns, "deployment/nginx", "-o", "jsonpath={.spec.replicas}"); v != "5" {
		t.Errorf("deployment replicas after scale = %q", v)
	}
	raw := s.MustKubectl(t, "get", "--raw", "/apis/apps/v1/namespaces/"+ns+"/deployments/nginx/scale")
	if !strings.Contains(raw, `"kind":"Scale"`) || !strings.Contains(raw, `"replicas":5`) || !strings.Contains(raw, `"selector":"k8s-app=nginx"`) {
		t.Errorf("scale object: %s", raw)
	}
	// A wrong --current-replicas is refused and changes nothing.
	if out, err := s.Kubectl(t, "scale", "-n", ns, "deployment/nginx", "--current-replicas=2", "--replicas=1"); err == nil ||
		!strings.Contains(out, "Expected replicas to be 2, was 5") {
		t.Errorf("scale with wrong --current-replicas: err=%v %s", err, out)
	}
	s.MustKubectl(t, "scale", "-n", ns, "statefulset/web", "--replicas=4")
	if v := s.MustKubectl(t, "get", "-n", ns, "sts/web", "-o", "jsonpath={.spec.replicas}"); v != "4" {
		t.Errorf("statefulset replicas after scale = %q", v)
	}
	// Negative replicas: 422 from the scale subresource.
	if out, err := s.Kubectl(t, "scale", "-n", ns, "sts/web", "--replicas=-1"); err == nil {
		t.Errorf("negative scale accepted: %s", out)
	}
	out = s.MustKubectl(t, "describe", "-n", ns, "deployment/nginx")
	for _, want := range []string{"Name:                   nginx", "Replicas:", "5 desired", "StrategyType:           RollingUpdate"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe deployment lacks %q:\n%s", want, out)
		}
	}
}
