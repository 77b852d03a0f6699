package networking

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/herd-project/herd/pkg/apis/core"
)

const (
	// maxControllerLen is the longest IngressClass controller name.
	maxControllerLen = 250
	// ingressClassAnnotation is the class annotation that predates
	// spec.ingressClassName.
	ingressClassAnnotation = "kubernetes.io/ingress.class"
)

var (
	supportedPathTypes   = sets.New(string(networkingv1.PathTypeExact), string(networkingv1.PathTypePrefix), string(networkingv1.PathTypeImplementationSpecific))
	supportedProtocols   = sets.New(string(corev1.ProtocolTCP), string(corev1.ProtocolUDP), string(corev1.ProtocolSCTP))
	supportedPolicyTypes = sets.New(string(networkingv1.PolicyTypeIngress), string(networkingv1.PolicyTypeEgress))
	supportedScopes      = sets.New(networkingv1.IngressClassParametersReferenceScopeNamespace, networkingv1.IngressClassParametersReferenceScopeCluster)
	// invalidPathSequences may not appear in Exact or Prefix paths.
	invalidPathSequences = []string{"//", "/./", "/../", "%2f", "%2F"}
	invalidPathSuffixes  = []string{"/..", "/."}
)

// ValidateIngress checks a new Ingress.
func ValidateIngress(ing *networkingv1.Ingress) field.ErrorList {
	allErrs := core.ValidateObjectMeta(&ing.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateIngressSpec(&ing.Spec, field.NewPath("spec"))...)
	// The old annotation and the field may not both be set on create.
	if v, ok := ing.Annotations[ingressClassAnnotation]; ok && ing.Spec.IngressClassName != nil {
		allErrs = append(allErrs, field.Invalid(field.NewPath("annotations").Child(ingressClassAnnotation), v,
			"can not be set when the class field is also set"))
	}
	return allErrs
}

// ValidateIngressUpdate checks an Ingress update.
func ValidateIngressUpdate(ing, old *networkingv1.Ingress) field.ErrorList {
	allErrs := core.ValidateObjectMetaUpdate(&ing.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateIngressSpec(&ing.Spec, field.NewPath("spec"))...)
}

// ValidateIngressStatusUpdate checks an update of /status.
func ValidateIngressStatusUpdate(ing, old *networkingv1.Ingress) field.ErrorList {
	allErrs := core.ValidateObjectMetaUpdate(&ing.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	fld := field.NewPath("status", "loadBalancer", "ingress")
	for i, lb := range ing.Status.LoadBalancer.Ingress {
		if lb.IP != "" {
			if _, err := netip.ParseAddr(lb.IP); err != nil {
				allErrs = append(allErrs, field.Invalid(fld.Index(i).Child("ip"), lb.IP, "must be a valid IP address"))
			}
		}
		if lb.Hostname != "" {
			for _, msg := range validation.IsDNS1123Subdomain(lb.Hostname) {
				allErrs = append(allErrs, field.Invalid(fld.Index(i).Child("hostname"), lb.Hostname, msg))
			}
			if _, err := netip.ParseAddr(lb.Hostname); err == nil {
				allErrs = append(allErrs, field.Invalid(fld.Index(i).Child("hostname"), lb.Hostname, "must be a DNS name, not an IP address"))
			}
		}
	}
	return allErrs
}

func validateIngressSpec(spec *networkingv1.IngressSpec, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(spec.Rules) == 0 && spec.DefaultBackend == nil {
		allErrs = append(allErrs, field.Invalid(fld, spec.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	if spec.DefaultBackend != nil {
		allErrs = append(allErrs, validateIngressBackend(spec.DefaultBackend, fld.Child("defaultBackend"))...)
	}
	for i, r := range spec.Rules {
		rp := fld.Child("rules").Index(i)
		if r.Host != "" {
			allErrs = append(allErrs, validateHost(r.Host, rp.Child("host"))...)
		}
		if r.HTTP != nil {
			allErrs = append(allErrs, validateHTTPRule(r.HTTP, rp.Child("http"))...)
		}
	}
	for i, t := range spec.TLS {
		tp := fld.Child("tls").Index(i)
		for j, h := range t.Hosts {
			allErrs = append(allErrs, validateHost(h, tp.Child("hosts").Index(j))...)
		}
		if t.SecretName != "" {
			for _, msg := range path.ValidatePathSegmentName(t.SecretName, false) {
				allErrs = append(allErrs, field.Invalid(tp.Child("secretName"), t.SecretName, msg))
			}
		}
	}
	if spec.IngressClassName != nil {
		for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(*spec.IngressClassName, false) {
			allErrs = append(allErrs, field.Invalid(fld.Child("ingressClassName"), *spec.IngressClassName, msg))
		}
	}
	return allErrs
}

// validateHost allows DNS names and wildcard names (*.example.com), not IPs.
func validateHost(host string, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if _, err := netip.ParseAddr(host); err == nil {
		return append(allErrs, field.Invalid(fld, host, "must be a DNS name, not an IP address"))
	}
	var msgs []string
	if strings.Contains(host, "*") {
		msgs = validation.IsWildcardDNS1123Subdomain(host)
	} else {
		msgs = validation.IsDNS1123Subdomain(host)
	}
	for _, msg := range msgs {
		allErrs = append(allErrs, field.Invalid(fld, host, msg))
	}
	return allErrs
}

func validateHTTPRule(rule *networkingv1.HTTPIngressRuleValue, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(rule.Paths) == 0 {
		allErrs = append(allErrs, field.Required(fld.Child("paths"), ""))
	}
	for i, p := range rule.Paths {
		pp := fld.Child("paths").Index(i)
		allErrs = append(allErrs, validateIngressPath(&p, pp)...)
		allErrs = append(allErrs, validateIngressBackend(&p.Backend, pp.Child("backend"))...)
	}
	return allErrs
}

func validateIngressPath(p *networkingv1.HTTPIngressPath, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if p.PathType == nil {
		return append(allErrs, field.Required(fld.Child("pathType"), "pathType must be specified"))
	}
	pt := string(*p.PathType)
	if !supportedPathTypes.Has(pt) {
		return append(allErrs, field.NotSupported(fld.Child("pathType"), pt, sets.List(supportedPathTypes)))
	}
	if pt == string(networkingv1.PathTypeImplementationSpecific) {
		if p.Path != "" && !strings.HasPrefix(p.Path, "/") {
			allErrs = append(allErrs, field.Invalid(fld.Child("path"), p.Path, "must be an absolute path"))
		}
		return allErrs
	}
	if !strings.HasPrefix(p.Path, "/") {
		return append(allErrs, field.Invalid(fld.Child("path"), p.Path, "must be an absolute path"))
	}
	for _, seq := range invalidPathSequences {
		if strings.Contains(p.Path, seq) {
			allErrs = append(allErrs, field.Invalid(fld.Child("path"), p.Path, fmt.Sprintf("must not contain '%s'", seq)))
		}
	}
	for _, suffix := range invalidPathSuffixes {
		if strings.HasSuffix(p.Path, suffix) {
			allErrs = append(allErrs, field.Invalid(fld.Child("path"), p.Path, fmt.Sprintf("cannot end with '%s'", suffix)))
		}
	}
	return allErrs
}

func validateIngressBackend(b *networkingv1.IngressBackend, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch {
	case b.Service != nil && b.Resource != nil:
		return append(allErrs, field.Invalid(fld, "", "cannot set both resource and service backends"))
	case b.Resource != nil:
		return validateTypedLocalObjectReference(b.Resource, fld.Child("resource"))
	case b.Service != nil:
		sp := fld.Child("service")
		if b.Service.Name == "" {
			allErrs = append(allErrs, field.Required(sp.Child("name"), ""))
		} else {
			for _, msg := range apimachineryvalidation.NameIsDNS1035Label(b.Service.Name, false) {
				allErrs = append(allErrs, field.Invalid(sp.Child("name"), b.Service.Name, msg))
			}
		}
		port := b.Service.Port
		switch {
		case port.Name != "" && port.Number != 0:
			allErrs = append(allErrs, field.Invalid(sp.Child("port"), port, "cannot set both port name & port number"))
		case port.Name != "":
			for _, msg := range validation.IsValidPortName(port.Name) {
				allErrs = append(allErrs, field.Invalid(sp.Child("port", "name"), port.Name, msg))
			}
		case port.Number != 0:
			for _, msg := range validation.IsValidPortNum(int(port.Number)) {
				allErrs = append(allErrs, field.Invalid(sp.Child("port", "number"), port.Number, msg))
			}
		default:
			allErrs = append(allErrs, field.Required(sp.Child("port"), "port name or number is required"))
		}
		return allErrs
	default:
		return append(allErrs, field.Invalid(fld, "", "resource or service backend is required"))
	}
}

func validateTypedLocalObjectReference(ref *corev1.TypedLocalObjectReference, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if ref.APIGroup != nil && *ref.APIGroup != "" {
		for _, msg := range validation.IsDNS1123Subdomain(*ref.APIGroup) {
			allErrs = append(allErrs, field.Invalid(fld.Child("apiGroup"), *ref.APIGroup, msg))
		}
	}
	if ref.Kind == "" {
		allErrs = append(allErrs, field.Required(fld.Child("kind"), "kind is required"))
	} else {
		for _, msg := range path.IsValidPathSegmentName(ref.Kind) {
			allErrs = append(allErrs, field.Invalid(fld.Child("kind"), ref.Kind, msg))
		}
	}
	if ref.Name == "" {
		allErrs = append(allErrs, field.Required(fld.Child("name"), "name is required"))
	} else {
		for _, msg := range path.IsValidPathSegmentName(ref.Name) {
			allErrs = append(allErrs, field.Invalid(fld.Child("name"), ref.Name, msg))
		}
	}
	return allErrs
}

// ValidateIngressClass checks a new IngressClass.
func ValidateIngressClass(ic *networkingv1.IngressClass) field.ErrorList {
	allErrs := core.ValidateObjectMeta(&ic.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return append(allErrs, validateIngressClassSpec(&ic.Spec, field.NewPath("spec"))...)
}

// ValidateIngressClassUpdate checks an update: the controller is immutable.
func ValidateIngressClassUpdate(ic, old *networkingv1.IngressClass) field.ErrorList {
	allErrs := core.ValidateObjectMetaUpdate(&ic.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateIngressClassSpec(&ic.Spec, field.NewPath("spec"))...)
	if ic.Spec.Controller != old.Spec.Controller {
		allErrs = append(allErrs, apimachineryvalidation.ValidateImmutableField(ic.Spec.Controller, old.Spec.Controller, field.NewPath("spec", "controller"))...)
	}
	return allErrs
}

func validateIngressClassSpec(spec *networkingv1.IngressClassSpec, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	cp := fld.Child("controller")
	switch {
	case spec.Controller == "":
		allErrs = append(allErrs, field.Required(cp, ""))
	case len(spec.Controller) > maxControllerLen:
		allErrs = append(allErrs, field.TooLong(cp, spec.Controller, maxControllerLen))
	default:
		allErrs = append(allErrs, validation.IsDomainPrefixedPath(cp, spec.Controller)...)
	}
	if p := spec.Parameters; p != nil {
		pp := fld.Child("parameters")
		allErrs = append(allErrs, validateTypedLocalObjectReference(&corev1.TypedLocalObjectReference{APIGroup: p.APIGroup, Kind: p.Kind, Name: p.Name}, pp)...)
		if p.Scope == nil {
			allErrs = append(allErrs, field.Required(pp.Child("scope"), ""))
			return allErrs
		}
		if !supportedScopes.Has(*p.Scope) {
			allErrs = append(allErrs, field.NotSupported(pp.Child("scope"), *p.Scope, sets.List(supportedScopes)))
			return allErrs
		}
		if *p.Scope == networkingv1.IngressClassParametersReferenceScopeNamespace {
			if p.Namespace == nil {
				allErrs = append(allErrs, field.Required(pp.Child("namespace"), "`parameters.scope` is set to 'Namespace'"))
			} else {
				for _, msg := range apimachineryvalidation.ValidateNamespaceName(*p.Namespace, false) {
					allErrs = append(allErrs, field.Invalid(pp.Child("namespace"), *p.Namespace, msg))
				}
			}
		}
		if *p.Scope == networkingv1.IngressClassParametersReferenceScopeCluster && p.Namespace != nil {
			allErrs = append(allErrs, field.Forbidden(pp.Child("namespace"), "`parameters.scope` is set to 'Cluster'"))
		}
	}
	return allErrs
}

// ValidateNetworkPolicy checks a new NetworkPolicy.
func ValidateNetworkPolicy(np *networkingv1.NetworkPolicy) field.ErrorList {
	allErrs := core.ValidateObjectMeta(&np.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return append(allErrs, validateNetworkPolicySpec(&np.Spec, field.NewPath("spec"))...)
}

// ValidateNetworkPolicyUpdate checks an update.
func ValidateNetworkPolicyUpdate(np, old *networkingv1.NetworkPolicy) field.ErrorList {
	allErrs := core.ValidateObjectMetaUpdate(&np.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateNetworkPolicySpec(&np.Spec, field.NewPath("spec"))...)
}

var selectorOptions = metav1validation.LabelSelectorValidationOptions{}

func validateNetworkPolicySpec(spec *networkingv1.NetworkPolicySpec, fld *field.Path) field.ErrorList {
	allErrs := metav1validation.ValidateLabelSelector(&spec.PodSelector, selectorOptions, fld.Child("podSelector"))
	for i, rule := range spec.Ingress {
		rp := fld.Child("ingress").Index(i)
		for j := range rule.Ports {
			allErrs = append(allErrs, validatePolicyPort(&rule.Ports[j], rp.Child("ports").Index(j))...)
		}
		for j := range rule.From {
			allErrs = append(allErrs, validatePolicyPeer(&rule.From[j], rp.Child("from").Index(j))...)
		}
	}
	for i, rule := range spec.Egress {
		rp := fld.Child("egress").Index(i)
		for j := range rule.Ports {
			allErrs = append(allErrs, validatePolicyPort(&rule.Ports[j], rp.Child("ports").Index(j))...)
		}
		for j := range rule.To {
			allErrs = append(allErrs, validatePolicyPeer(&rule.To[j], rp.Child("to").Index(j))...)
		}
	}
	if len(spec.PolicyTypes) > len(supportedPolicyTypes) {
		allErrs = append(allErrs, field.Invalid(fld.Child("policyTypes"), spec.PolicyTypes, "may not specify more than two policyTypes"))
	}
	for i, t := range spec.PolicyTypes {
		if !supportedPolicyTypes.Has(string(t)) {
			allErrs = append(allErrs, field.NotSupported(fld.Child("policyTypes").Index(i), t, sets.List(supportedPolicyTypes)))
		}
	}
	return allErrs
}

func validatePolicyPort(p *networkingv1.NetworkPolicyPort, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if p.Protocol != nil && !supportedProtocols.Has(string(*p.Protocol)) {
		allErrs = append(allErrs, field.NotSupported(fld.Child("protocol"), *p.Protocol, sets.List(supportedProtocols)))
	}
	if p.Port == nil {
		if p.EndPort != nil {
			allErrs = append(allErrs, field.Required(fld.Child("port"), "when endPort is specified"))
		}
		return allErrs
	}
	if p.Port.Type == intstr.Int {
		for _, msg := range validation.IsValidPortNum(int(p.Port.IntVal)) {
			allErrs = append(allErrs, field.Invalid(fld.Child("port"), p.Port.IntVal, msg))
		}
		if p.EndPort != nil {
			if *p.EndPort < p.Port.IntVal {
				allErrs = append(allErrs, field.Invalid(fld.Child("endPort"), *p.EndPort, "must be greater than or equal to `port`"))
			}
			for _, msg := range validation.IsValidPortNum(int(*p.EndPort)) {
				allErrs = append(allErrs, field.Invalid(fld.Child("endPort"), *p.EndPort, msg))
			}
		}
		return allErrs
	}
	if p.EndPort != nil {
		allErrs = append(allErrs, field.Invalid(fld.Child("endPort"), *p.EndPort, "may not be specified when `port` is non-numeric"))
	}
	for _, msg := range validation.IsValidPortName(p.Port.StrVal) {
		allErrs = append(allErrs, field.Invalid(fld.Child("port"), p.Port.StrVal, msg))
	}
	return allErrs
}

func validatePolicyPeer(peer *networkingv1.NetworkPolicyPeer, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	kinds := 0
	if peer.PodSelector != nil || peer.NamespaceSelector != nil {
		kinds++
		if peer.PodSelector != nil {
			allErrs = append(allErrs, metav1validation.ValidateLabelSelector(peer.PodSelector, selectorOptions, fld.Child("podSelector"))...)
		}
		if peer.NamespaceSelector != nil {
			allErrs = append(allErrs, metav1validation.ValidateLabelSelector(peer.NamespaceSelector, selectorOptions, fld.Child("namespaceSelector"))...)
		}
	}
	if peer.IPBlock != nil {
		kinds++
		allErrs = append(allErrs, validateIPBlock(peer.IPBlock, fld.Child("ipBlock"))...)
	}
	switch kinds {
	case 0:
		allErrs = append(allErrs, field.Required(fld, "must specify a peer"))
	case 2:
		allErrs = append(allErrs, field.Forbidden(fld, "may not specify more than 1 peer type"))
	}
	return allErrs
}

func validateIPBlock(b *networkingv1.IPBlock, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if b.CIDR == "" {
		return append(allErrs, field.Required(fld.Child("cidr"), ""))
	}
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return append(allErrs, field.Invalid(fld.Child("cidr"), b.CIDR, "must be a valid CIDR (e.g. 10.0.0.0/16 or fd00::/64)"))
	}
	for i, e := range b.Except {
		ep := fld.Child("except").Index(i)
		ex, err := netip.ParsePrefix(e)
		if err != nil {
			allErrs = append(allErrs, field.Invalid(ep, e, "must be a valid CIDR (e.g. 10.0.0.0/16 or fd00::/64)"))
			continue
		}
		if ex.Addr().Is4() != cidr.Addr().Is4() || ex.Bits() <= cidr.Bits() || !cidr.Contains(ex.Addr()) {
			allErrs = append(allErrs, field.Invalid(ep, e, "must be a strict subset of `cidr`"))
		}
	}
	return allErrs
}
