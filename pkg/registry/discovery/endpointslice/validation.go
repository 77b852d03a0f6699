package endpointslice

import (
	"net"

	discoveryv1 "k8s.io/api/discovery/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const maxEndpoints, maxPorts, maxAddresses = 1000, 20000, 100

var addressTypes = []string{string(discoveryv1.AddressTypeIPv4), string(discoveryv1.AddressTypeIPv6), string(discoveryv1.AddressTypeFQDN)}

// Validate checks an EndpointSlice as Kubernetes does.
func Validate(s *discoveryv1.EndpointSlice) field.ErrorList {
	errs := apivalidation.ValidateObjectMeta(&s.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	errs = append(errs, metav1validation.ValidateLabels(s.Labels, field.NewPath("metadata", "labels"))...)
	switch s.AddressType {
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN:
	case "":
		errs = append(errs, field.Required(field.NewPath("addressType"), ""))
	default:
		errs = append(errs, field.NotSupported(field.NewPath("addressType"), s.AddressType, addressTypes))
	}
	ep := field.NewPath("endpoints")
	if len(s.Endpoints) > maxEndpoints {
		errs = append(errs, field.TooMany(ep, len(s.Endpoints), maxEndpoints))
	}
	for i, e := range s.Endpoints {
		p := ep.Index(i)
		ap := p.Child("addresses")
		if len(e.Addresses) == 0 {
			errs = append(errs, field.Required(ap, "must contain at least 1 address"))
		} else if len(e.Addresses) > maxAddresses {
			errs = append(errs, field.TooMany(ap, len(e.Addresses), maxAddresses))
		}
		for j, a := range e.Addresses {
			ip := net.ParseIP(a)
			switch s.AddressType {
			case discoveryv1.AddressTypeIPv4:
				if ip == nil || ip.To4() == nil {
					errs = append(errs, field.Invalid(ap.Index(j), a, "must be a valid IPv4 address"))
				}
			case discoveryv1.AddressTypeIPv6:
				if ip == nil || ip.To4() != nil {
					errs = append(errs, field.Invalid(ap.Index(j), a, "must be a valid IPv6 address"))
				}
			case discoveryv1.AddressTypeFQDN:
				for _, msg := range validation.IsFullyQualifiedDomainName(ap.Index(j), a) {
					errs = append(errs, msg)
				}
			}
		}
		if e.Hostname != nil {
			for _, msg := range validation.IsDNS1123Label(*e.Hostname) {
				errs = append(errs, field.Invalid(p.Child("hostname"), *e.Hostname, msg))
			}
		}
	}
	pp := field.NewPath("ports")
	if len(s.Ports) > maxPorts {
		errs = append(errs, field.TooMany(pp, len(s.Ports), maxPorts))
	}
	names := map[string]bool{}
	for i, port := range s.Ports {
		p := pp.Index(i)
		if port.Name != nil {
			if *port.Name != "" {
				for _, msg := range validation.IsDNS1123Label(*port.Name) {
					errs = append(errs, field.Invalid(p.Child("name"), *port.Name, msg))
				}
			}
			if names[*port.Name] {
				errs = append(errs, field.Duplicate(p.Child("name"), *port.Name))
			}
			names[*port.Name] = true
		}
		if port.Port != nil && (*port.Port < 0 || *port.Port > 65535) {
			errs = append(errs, field.Invalid(p.Child("port"), *port.Port, "must be between 0 and 65535, inclusive"))
		}
	}
	return errs
}

// ValidateUpdate checks an EndpointSlice update; addressType is immutable.
func ValidateUpdate(s, old *discoveryv1.EndpointSlice) field.ErrorList {
	errs := apivalidation.ValidateObjectMetaUpdate(&s.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	errs = append(errs, Validate(s)...)
	if s.AddressType != old.AddressType {
		errs = append(errs, apivalidation.ValidateImmutableField(s.AddressType, old.AddressType, field.NewPath("addressType"))...)
	}
	return errs
}
