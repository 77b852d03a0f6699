package serviceresolver

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
)

func resolver(t *testing.T, objs ...any) *Resolver {
	t.Helper()
	svcs := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	slices := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	eps := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, o := range objs {
		switch o.(type) {
		case *corev1.Service:
			svcs.Add(o)
		case *discoveryv1.EndpointSlice:
			slices.Add(o)
		case *corev1.Endpoints:
			eps.Add(o)
		}
	}
	return New(corelisters.NewServiceLister(svcs), discoverylisters.NewEndpointSliceLister(slices), corelisters.NewEndpointsLister(eps))
}

func service(ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "hook", Namespace: "ns"}, Spec: corev1.ServiceSpec{Ports: ports}}
}

func TestResolve(t *testing.T) {
	svc := service(corev1.ServicePort{Name: "https", Port: 443})
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "hook-1", Namespace: "ns", Labels: map[string]string{discoveryv1.LabelServiceName: "hook"}},
		Ports:      []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To[int32](9443)}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false)}},
			{Addresses: []string{"10.0.0.2"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}},
		},
	}
	cases := []struct {
		name    string
		objs    []any
		port    int32
		want    string
		wantErr bool
	}{
		{name: "ready endpoint of the slice", objs: []any{svc, slice}, port: 443, want: "https://10.0.0.2:9443"},
		{name: "no such service", objs: []any{slice}, port: 443, wantErr: true},
		{name: "no such port", objs: []any{svc, slice}, port: 80, wantErr: true},
		{name: "no endpoints", objs: []any{svc}, port: 443, wantErr: true},
		{name: "endpoints when there is no slice", port: 443, want: "https://10.0.0.3:8443", objs: []any{svc, &corev1.Endpoints{
			ObjectMeta: metav1.ObjectMeta{Name: "hook", Namespace: "ns"},
			Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "10.0.0.3"}},
				Ports: []corev1.EndpointPort{{Name: "https", Port: 8443}}}}}}},
		{name: "external name", port: 443, want: "https://hooks.example.com:443", objs: []any{&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "hook", Namespace: "ns"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "hooks.example.com"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, err := resolver(t, c.objs...).ResolveEndpoint("ns", "hook", c.port)
			if c.wantErr {
				if err == nil {
					t.Fatalf("want an error, got %s", u)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.String() != c.want {
				t.Fatalf("got %s, want %s", u, c.want)
			}
		})
	}
}
