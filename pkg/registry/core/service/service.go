// Package service defines how the API server serves core/v1 Services:
// validation, cluster IP and node port assignment on create, the /status
// subresource and table columns. herd does not proxy service traffic; the
// addresses are bookkeeping that clients and DNS-less tools expect to see.
package service

import (
	"context"
	"math/rand/v2"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// ServiceCIDR is the range cluster IPs are taken from; its first address
// belongs to the `kubernetes` service in the default namespace.
var ServiceCIDR = netip.MustParsePrefix("10.43.0.0/16")

// Definition returns the services resource; backend serves services/proxy.
func Definition(backend ProxyBackend) *registry.Definition {
	return &registry.Definition{
		GroupVersion:         corev1.SchemeGroupVersion,
		Resource:             "services",
		Singular:             "service",
		Kind:                 "Service",
		Namespaced:           true,
		ShortNames:           []string{"svc"},
		Categories:           []string{"all"},
		New:                  func() runtime.Object { return &corev1.Service{} },
		NewList:              func() runtime.Object { return &corev1.ServiceList{} },
		HasStatus:            true,
		PrepareForCreate:     func(_ context.Context, obj runtime.Object) { assignAddresses(obj.(*corev1.Service)) },
		PrepareForUpdate:     registry.UpdatePreparer(keepAddresses),
		Validate:             registry.Validator(core.ValidateService),
		ValidateUpdate:       registry.UpdateValidator(core.ValidateServiceUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(core.ValidateServiceStatusUpdate),
		Table:                printers.For(schema.GroupResource{Resource: "services"}),
		ExtraStorage: map[string]func(*registry.Store) rest.Storage{
			"proxy": func(s *registry.Store) rest.Storage { return &ProxyREST{store: s, backend: backend} },
		},
	}
}

// assignAddresses gives a new service its cluster IP (unless headless or
// ExternalName) and node ports (NodePort and LoadBalancer types). Addresses
// are drawn at random from a 65,534-address range.
func assignAddresses(s *corev1.Service) {
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		return
	}
	if s.Spec.ClusterIP == "" && len(s.Spec.ClusterIPs) > 0 {
		s.Spec.ClusterIP = s.Spec.ClusterIPs[0]
	}
	if s.Spec.ClusterIP == "" {
		s.Spec.ClusterIP = randomIP().String()
	}
	if len(s.Spec.ClusterIPs) == 0 {
		s.Spec.ClusterIPs = []string{s.Spec.ClusterIP}
	}
	if len(s.Spec.IPFamilies) == 0 {
		s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	}
	if s.Spec.IPFamilyPolicy == nil {
		p := corev1.IPFamilyPolicySingleStack
		s.Spec.IPFamilyPolicy = &p
	}
	if s.Spec.Type == corev1.ServiceTypeNodePort || s.Spec.Type == corev1.ServiceTypeLoadBalancer {
		for i := range s.Spec.Ports {
			if s.Spec.Ports[i].NodePort == 0 {
				s.Spec.Ports[i].NodePort = int32(30000 + rand.IntN(2768))
			}
		}
	}
}

func randomIP() netip.Addr {
	base := ServiceCIDR.Addr().As4()
	n := 2 + rand.IntN(65532) // skip the network address and the kubernetes service
	base[2] += byte(n >> 8)
	base[3] += byte(n)
	return netip.AddrFrom4(base)
}

// keepAddresses keeps the assigned addresses when an update leaves them out
// (as `kubectl apply` of a manifest without clusterIP does).
func keepAddresses(s, old *corev1.Service) {
	if s.Spec.ClusterIP == "" && s.Spec.Type != corev1.ServiceTypeExternalName {
		s.Spec.ClusterIP = old.Spec.ClusterIP
	}
	if len(s.Spec.ClusterIPs) == 0 && s.Spec.Type != corev1.ServiceTypeExternalName {
		s.Spec.ClusterIPs = old.Spec.ClusterIPs
	}
	if len(s.Spec.IPFamilies) == 0 {
		s.Spec.IPFamilies = old.Spec.IPFamilies
	}
	if s.Spec.IPFamilyPolicy == nil {
		s.Spec.IPFamilyPolicy = old.Spec.IPFamilyPolicy
	}
	for i := range s.Spec.Ports {
		if s.Spec.Ports[i].NodePort != 0 {
			continue
		}
		for _, op := range old.Spec.Ports {
			if op.Port == s.Spec.Ports[i].Port && op.Protocol == s.Spec.Ports[i].Protocol {
				s.Spec.Ports[i].NodePort = op.NodePort
			}
		}
	}
}
