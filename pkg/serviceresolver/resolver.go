// Package serviceresolver finds where a webhook's Service reference points:
// one ready endpoint of the Service (from its EndpointSlices, else its
// Endpoints), as kube-apiserver does with --enable-aggregator-routing. herd
// has no ClusterIP routing, so webhooks (CRD conversion today) are called on
// an endpoint directly. It reads informer caches only; it does not watch or
// write anything itself.
package serviceresolver

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
)

// Resolver resolves Service references to endpoint URLs.
type Resolver struct {
	services  corelisters.ServiceLister
	slices    discoverylisters.EndpointSliceLister
	endpoints corelisters.EndpointsLister
}

// New returns a Resolver over the given listers.
func New(services corelisters.ServiceLister, slices discoverylisters.EndpointSliceLister, endpoints corelisters.EndpointsLister) *Resolver {
	return &Resolver{services: services, slices: slices, endpoints: endpoints}
}

// ResolveEndpoint returns https://ADDRESS:PORT of a ready endpoint behind
// port of Service namespace/name.
func (r *Resolver) ResolveEndpoint(namespace, name string, port int32) (*url.URL, error) {
	svc, err := r.services.Services(namespace).Get(name)
	if err != nil {
		return nil, fmt.Errorf("service %s/%s: %w", namespace, name, err)
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return &url.URL{Scheme: "https", Host: net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(int(port)))}, nil
	}
	var svcPort *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			svcPort = &svc.Spec.Ports[i]
			break
		}
	}
	if svcPort == nil {
		return nil, fmt.Errorf("service %s/%s has no port %d", namespace, name, port)
	}
	var candidates []string
	slices, err := r.slices.EndpointSlices(namespace).List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: name}))
	if err != nil {
		return nil, err
	}
	for _, s := range slices {
		for _, p := range s.Ports {
			if p.Port == nil || ptrString(p.Name) != svcPort.Name {
				continue
			}
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && !*e.Conditions.Ready {
					continue
				}
				for _, a := range e.Addresses {
					candidates = append(candidates, net.JoinHostPort(a, strconv.Itoa(int(*p.Port))))
				}
			}
		}
	}
	if len(candidates) == 0 && r.endpoints != nil {
		if eps, err := r.endpoints.Endpoints(namespace).Get(name); err == nil {
			for _, sub := range eps.Subsets {
				for _, p := range sub.Ports {
					if p.Name != svcPort.Name {
						continue
					}
					for _, a := range sub.Addresses {
						candidates = append(candidates, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
					}
				}
			}
		}
	}
	if len(candidates) == 0 {
		return nil, fmt.Errorf("service %s/%s has no ready endpoint for port %d", namespace, name, port)
	}
	return &url.URL{Scheme: "https", Host: candidates[rand.IntN(len(candidates))]}, nil
}

func ptrString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
