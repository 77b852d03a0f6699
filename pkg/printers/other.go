package printers

import (
	"strconv"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	discoveryv1beta1 "k8s.io/api/discovery/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func init() {
	register(schema.GroupResource{Group: coordinationv1.GroupName, Resource: "leases"}, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Holder", "string", coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]),
		ageColumn(),
	}, typed(func(l *coordinationv1.Lease, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		holder := ""
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		return cells(l.Name, holder, since(l.CreationTimestamp, now))
	}))

	sliceDoc := discoveryv1beta1.EndpointSlice{}.SwaggerDoc()
	register(schema.GroupResource{Group: discoveryv1.GroupName, Resource: "endpointslices"}, []metav1.TableColumnDefinition{
		nameColumn(),
		column("AddressType", "string", sliceDoc["addressType"]),
		column("Ports", "string", sliceDoc["ports"]),
		column("Endpoints", "string", sliceDoc["endpoints"]),
		ageColumn(),
	}, typed(func(s *discoveryv1.EndpointSlice, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		return cells(s.Name, string(s.AddressType), endpointSlicePorts(s.Ports), endpointSliceAddresses(s.Endpoints),
			since(s.CreationTimestamp, now))
	}))
}

func podSpecDoc() map[string]string { return corev1.PodSpec{}.SwaggerDoc() }

// endpointSlicePorts lists up to three port numbers (the name when the number
// is unset, "*" when both are).
func endpointSlicePorts(ports []discoveryv1.EndpointPort) string {
	const max = 3
	var list []string
	for _, p := range ports {
		if len(list) == max {
			break
		}
		switch {
		case p.Port != nil:
			list = append(list, strconv.Itoa(int(*p.Port)))
		case p.Name != nil:
			list = append(list, *p.Name)
		default:
			list = append(list, "*")
		}
	}
	return listWithMore(list, len(ports), max)
}

// endpointSliceAddresses lists up to three endpoint addresses.
func endpointSliceAddresses(endpoints []discoveryv1.Endpoint) string {
	const max = 3
	var list []string
	count := 0
	for _, e := range endpoints {
		for _, a := range e.Addresses {
			if len(list) < max {
				list = append(list, a)
			}
			count++
		}
	}
	return listWithMore(list, count, max)
}
