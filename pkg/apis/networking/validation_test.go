package networking

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

type want struct {
	typ  field.ErrorType
	path string
}

func check(t *testing.T, name string, errs field.ErrorList, wants []want) {
	t.Helper()
	if len(errs) != len(wants) {
		t.Errorf("%s: got %d errors %v, want %v", name, len(errs), errs, wants)
		return
	}
	for i, w := range wants {
		if errs[i].Type != w.typ || errs[i].Field != w.path {
			t.Errorf("%s: error %d = %s %s (%v), want %s %s", name, i, errs[i].Type, errs[i].Field, errs[i], w.typ, w.path)
		}
	}
}

func validIngress() *networkingv1.Ingress {
	prefix := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("nginx"),
			Rules: []networkingv1.IngressRule{{
				Host: "foo.example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{Path: "/app", PathType: &prefix, Backend: networkingv1.IngressBackend{
						Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
				}},
			}},
			TLS: []networkingv1.IngressTLS{{Hosts: []string{"*.example.com"}, SecretName: "tls"}},
		},
	}
}

func TestValidateIngress(t *testing.T) {
	check(t, "valid", ValidateIngress(validIngress()), nil)
	rule := "spec.rules[0]"
	path := rule + ".http.paths[0]"
	for _, tc := range []struct {
		name  string
		tweak func(*networkingv1.Ingress)
		wants []want
	}{
		{"no rules nor default backend", func(i *networkingv1.Ingress) { i.Spec.Rules, i.Spec.TLS = nil, nil }, []want{{field.ErrorTypeInvalid, "spec"}}},
		{"IP host", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "1.2.3.4" }, []want{{field.ErrorTypeInvalid, rule + ".host"}}},
		{"bad wildcard", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "foo.*.com" }, []want{{field.ErrorTypeInvalid, rule + ".host"}}},
		{"no paths", func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths = nil }, []want{{field.ErrorTypeRequired, rule + ".http.paths"}}},
		{"no pathType", func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].PathType = nil }, []want{{field.ErrorTypeRequired, path + ".pathType"}}},
		{"unknown pathType", func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].PathType = ptr.To(networkingv1.PathType("Regex"))
		}, []want{{field.ErrorTypeNotSupported, path + ".pathType"}}},
		{"relative path", func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].Path = "app" }, []want{{field.ErrorTypeInvalid, path + ".path"}}},
		{"dot segment", func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].Path = "/a/../b" }, []want{{field.ErrorTypeInvalid, path + ".path"}}},
		{"both backends", func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].Backend.Resource = &corev1.TypedLocalObjectReference{Kind: "Bucket", Name: "b"}
		}, []want{{field.ErrorTypeInvalid, path + ".backend"}}},
		{"no backend", func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].Backend = networkingv1.IngressBackend{} }, []want{{field.ErrorTypeInvalid, path + ".backend"}}},
		{"no port", func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port = networkingv1.ServiceBackendPort{}
		}, []want{{field.ErrorTypeRequired, path + ".backend.service.port"}}},
		{"name and number", func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port.Name = "http"
		}, []want{{field.ErrorTypeInvalid, path + ".backend.service.port"}}},
		{"port out of range", func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port.Number = 70000
		}, []want{{field.ErrorTypeInvalid, path + ".backend.service.port.number"}}},
		{"bad service name", func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "Web"
		}, []want{{field.ErrorTypeInvalid, path + ".backend.service.name"}}},
		{"resource without kind", func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].Backend = networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{Name: "b"}}
		}, []want{{field.ErrorTypeRequired, path + ".backend.resource.kind"}}},
		{"class annotation and field", func(i *networkingv1.Ingress) {
			i.Annotations = map[string]string{"kubernetes.io/ingress.class": "nginx"}
		}, []want{{field.ErrorTypeInvalid, "annotations.kubernetes.io/ingress.class"}}},
	} {
		ing := validIngress()
		tc.tweak(ing)
		check(t, tc.name, ValidateIngress(ing), tc.wants)
	}
	// An update may keep the annotation beside the field.
	old := validIngress()
	old.ResourceVersion = "1"
	upd := old.DeepCopy()
	upd.Annotations = map[string]string{"kubernetes.io/ingress.class": "nginx"}
	check(t, "update with annotation", ValidateIngressUpdate(upd, old), nil)
}

func TestValidateIngressClass(t *testing.T) {
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx", ResourceVersion: "1"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}
	check(t, "valid", ValidateIngressClass(ic), nil)
	bad := ic.DeepCopy()
	bad.Spec.Controller = ""
	check(t, "no controller", ValidateIngressClass(bad), []want{{field.ErrorTypeRequired, "spec.controller"}})
	bad.Spec.Controller = "nginx"
	check(t, "not domain-prefixed", ValidateIngressClass(bad), []want{{field.ErrorTypeInvalid, "spec.controller"}})
	moved := ic.DeepCopy()
	moved.Spec.Controller = "example.com/other"
	check(t, "controller changed", ValidateIngressClassUpdate(moved, ic), []want{{field.ErrorTypeInvalid, "spec.controller"}})
	params := ic.DeepCopy()
	params.Spec.Parameters = &networkingv1.IngressClassParametersReference{Kind: "Config", Name: "c", Scope: ptr.To("Namespace")}
	check(t, "namespace scope without namespace", ValidateIngressClass(params), []want{{field.ErrorTypeRequired, "spec.parameters.namespace"}})
	params.Spec.Parameters.Scope, params.Spec.Parameters.Namespace = ptr.To("Cluster"), ptr.To("x")
	check(t, "cluster scope with namespace", ValidateIngressClass(params), []want{{field.ErrorTypeForbidden, "spec.parameters.namespace"}})
	SetDefaultsIngressClass(ic)
	ic.Spec.Parameters = &networkingv1.IngressClassParametersReference{Kind: "Config", Name: "c"}
	SetDefaultsIngressClass(ic)
	if *ic.Spec.Parameters.Scope != "Cluster" {
		t.Errorf("default scope %q", *ic.Spec.Parameters.Scope)
	}
}

func TestValidateNetworkPolicy(t *testing.T) {
	np := func() *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "np", Namespace: "default"},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromInt32(5432))}},
					From:  []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}}},
				}},
				Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}}},
			},
		}
	}
	p := np()
	SetDefaultsNetworkPolicy(p)
	if len(p.Spec.PolicyTypes) != 2 || *p.Spec.Ingress[0].Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("defaults: %v %v", p.Spec.PolicyTypes, p.Spec.Ingress[0].Ports[0].Protocol)
	}
	check(t, "valid", ValidateNetworkPolicy(p), nil)
	in := "spec.ingress[0]"
	for _, tc := range []struct {
		name  string
		tweak func(*networkingv1.NetworkPolicy)
		wants []want
	}{
		{"empty peer", func(p *networkingv1.NetworkPolicy) { p.Spec.Ingress[0].From[0] = networkingv1.NetworkPolicyPeer{} }, []want{{field.ErrorTypeRequired, in + ".from[0]"}}},
		{"two peer types", func(p *networkingv1.NetworkPolicy) { p.Spec.Ingress[0].From[0].PodSelector = &metav1.LabelSelector{} }, []want{{field.ErrorTypeForbidden, in + ".from[0]"}}},
		{"bad cidr", func(p *networkingv1.NetworkPolicy) { p.Spec.Ingress[0].From[0].IPBlock.CIDR = "10.0.0.0" }, []want{{field.ErrorTypeInvalid, in + ".from[0].ipBlock.cidr"}}},
		{"except outside", func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].From[0].IPBlock.Except = []string{"192.168.0.0/16"}
		}, []want{{field.ErrorTypeInvalid, in + ".from[0].ipBlock.except[0]"}}},
		{"protocol", func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].Ports[0].Protocol = ptr.To(corev1.Protocol("ICMP"))
		}, []want{{field.ErrorTypeNotSupported, in + ".ports[0].protocol"}}},
		{"endPort below port", func(p *networkingv1.NetworkPolicy) { p.Spec.Ingress[0].Ports[0].EndPort = ptr.To(int32(80)) }, []want{{field.ErrorTypeInvalid, in + ".ports[0].endPort"}}},
		{"endPort with named port", func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].Ports[0].Port = ptr.To(intstr.FromString("db"))
			p.Spec.Ingress[0].Ports[0].EndPort = ptr.To(int32(6000))
		}, []want{{field.ErrorTypeInvalid, in + ".ports[0].endPort"}}},
		{"policy type", func(p *networkingv1.NetworkPolicy) { p.Spec.PolicyTypes = []networkingv1.PolicyType{"Sideways"} }, []want{{field.ErrorTypeNotSupported, "spec.policyTypes[0]"}}},
		{"selector", func(p *networkingv1.NetworkPolicy) {
			p.Spec.PodSelector.MatchLabels = map[string]string{"bad key!": "x"}
		}, []want{{field.ErrorTypeInvalid, "spec.podSelector.matchLabels"}}},
	} {
		p := np()
		tc.tweak(p)
		check(t, tc.name, ValidateNetworkPolicy(p), tc.wants)
	}
}
