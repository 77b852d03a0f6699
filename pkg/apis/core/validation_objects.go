package core

import (
	"encoding/json"
	"fmt"
	"net"
	"path"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ---------------- Namespace ----------------

// ValidateNamespace validates a namespace on create.
func ValidateNamespace(ns *corev1.Namespace) field.ErrorList {
	allErrs := validateObjectMeta(&ns.ObjectMeta, false, validateNamespaceName, field.NewPath("metadata"))
	for i := range ns.Spec.Finalizers {
		allErrs = append(allErrs, validateFinalizerName(string(ns.Spec.Finalizers[i]), field.NewPath("spec", "finalizers"))...)
	}
	return allErrs
}

// ValidateNamespaceUpdate validates a namespace update (metadata only; the
// registry keeps spec and status).
func ValidateNamespaceUpdate(newNs, oldNs *corev1.Namespace) field.ErrorList {
	return validateObjectMetaUpdate(&newNs.ObjectMeta, &oldNs.ObjectMeta, field.NewPath("metadata"))
}

// ValidateNamespaceStatusUpdate validates the status subresource: phase is
// Active without deletionTimestamp and Terminating with it.
func ValidateNamespaceStatusUpdate(newNs, oldNs *corev1.Namespace) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&newNs.ObjectMeta, &oldNs.ObjectMeta, field.NewPath("metadata"))
	if newNs.DeletionTimestamp.IsZero() {
		if newNs.Status.Phase != corev1.NamespaceActive {
			allErrs = append(allErrs, field.Invalid(field.NewPath("status", "Phase"), newNs.Status.Phase, "may only be 'Active' if `deletionTimestamp` is empty"))
		}
	} else if newNs.Status.Phase != corev1.NamespaceTerminating {
		allErrs = append(allErrs, field.Invalid(field.NewPath("status", "Phase"), newNs.Status.Phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"))
	}
	return allErrs
}

// ValidateNamespaceFinalizeUpdate validates the finalize subresource.
func ValidateNamespaceFinalizeUpdate(newNs, oldNs *corev1.Namespace) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&newNs.ObjectMeta, &oldNs.ObjectMeta, field.NewPath("metadata"))
	p := field.NewPath("spec", "finalizers")
	for i := range newNs.Spec.Finalizers {
		allErrs = append(allErrs, validateFinalizerName(string(newNs.Spec.Finalizers[i]), p.Index(i))...)
	}
	return allErrs
}

// ---------------- Node ----------------

// ValidateNode validates a node on create.
func ValidateNode(node *corev1.Node) field.ErrorList {
	metaPath := field.NewPath("metadata")
	allErrs := validateObjectMeta(&node.ObjectMeta, false, validateNodeName, metaPath)
	if len(node.Spec.Taints) > 0 {
		allErrs = append(allErrs, validateNodeTaints(node.Spec.Taints, metaPath.Child("taints"))...)
	}
	allErrs = append(allErrs, validateNodeResources(node)...)
	if len(node.Spec.PodCIDRs) > 0 {
		p := field.NewPath("spec", "podCIDRs")
		for i, c := range node.Spec.PodCIDRs {
			allErrs = append(allErrs, validation.IsValidCIDR(p.Index(i), c)...)
		}
		if len(node.Spec.PodCIDRs) > 1 {
			v4, v6 := 0, 0
			for _, c := range node.Spec.PodCIDRs {
				if ip, _, err := net.ParseCIDR(c); err == nil && ip.To4() == nil {
					v6++
				} else {
					v4++
				}
			}
			if len(node.Spec.PodCIDRs) > 2 || v4 != 1 || v6 != 1 {
				allErrs = append(allErrs, field.Invalid(p, node.Spec.PodCIDRs, "may specify no more than one CIDR for each IP family"))
			}
			seen := map[string]bool{}
			for i, c := range node.Spec.PodCIDRs {
				if seen[c] {
					allErrs = append(allErrs, field.Duplicate(p.Index(i), c))
				}
				seen[c] = true
			}
		}
	}
	return allErrs
}

func validateNodeResources(node *corev1.Node) field.ErrorList {
	var allErrs field.ErrorList
	for k, v := range node.Status.Capacity {
		allErrs = append(allErrs, validateResourceQuantityValue(k, v, field.NewPath("status", "capacity", string(k)))...)
	}
	for k, v := range node.Status.Allocatable {
		allErrs = append(allErrs, validateResourceQuantityValue(k, v, field.NewPath("status", "allocatable", string(k)))...)
	}
	return allErrs
}

func validateNodeTaints(taints []corev1.Taint, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	unique := map[corev1.TaintEffect]map[string]bool{}
	for i, t := range taints {
		p := fldPath.Index(i)
		allErrs = append(allErrs, metav1validation.ValidateLabelName(t.Key, p.Child("key"))...)
		if errs := validation.IsValidLabelValue(t.Value); len(errs) != 0 {
			allErrs = append(allErrs, field.Invalid(p.Child("value"), t.Value, strings.Join(errs, ";")))
		}
		allErrs = append(allErrs, validateTaintEffect(t.Effect, false, p.Child("effect"))...)
		if unique[t.Effect][t.Key] {
			e := field.Duplicate(p, t)
			e.Detail = "taints must be unique by key and effect pair"
			allErrs = append(allErrs, e)
			continue
		}
		if unique[t.Effect] == nil {
			unique[t.Effect] = map[string]bool{}
		}
		unique[t.Effect][t.Key] = true
	}
	return allErrs
}

// ValidateNodeUpdate validates a node update: podCIDRs and providerID may
// only be set once, externalID never changes.
func ValidateNodeUpdate(node, oldNode *corev1.Node) field.ErrorList {
	metaPath := field.NewPath("metadata")
	allErrs := validateObjectMetaUpdate(&node.ObjectMeta, &oldNode.ObjectMeta, metaPath)
	allErrs = append(allErrs, validateNodeResources(node)...)
	seen := map[corev1.NodeAddress]bool{}
	for i, a := range node.Status.Addresses {
		if seen[a] {
			allErrs = append(allErrs, field.Duplicate(field.NewPath("status", "addresses").Index(i), a))
		}
		seen[a] = true
	}
	const cidrMsg = "node updates may not change podCIDR except from \"\" to valid"
	if len(oldNode.Spec.PodCIDRs) > 0 {
		if len(oldNode.Spec.PodCIDRs) != len(node.Spec.PodCIDRs) {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "podCIDRs"), cidrMsg))
		} else {
			for i, c := range oldNode.Spec.PodCIDRs {
				if c != node.Spec.PodCIDRs[i] {
					allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "podCIDRs"), cidrMsg))
				}
			}
		}
	}
	if oldNode.Spec.ProviderID != "" && oldNode.Spec.ProviderID != node.Spec.ProviderID {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	if len(node.Spec.Taints) > 0 {
		allErrs = append(allErrs, validateNodeTaints(node.Spec.Taints, metaPath.Child("taints"))...)
	}
	if node.Spec.DoNotUseExternalID != oldNode.Spec.DoNotUseExternalID {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "externalID"), "may not be updated"))
	}
	return allErrs
}

// ---------------- Service ----------------

// serviceClusterIPs returns clusterIPs, falling back to [clusterIP] for
// objects the service strategy has not normalized yet.
func serviceClusterIPs(svc *corev1.Service) []string {
	if len(svc.Spec.ClusterIPs) == 0 && svc.Spec.ClusterIP != "" {
		return []string{svc.Spec.ClusterIP}
	}
	return svc.Spec.ClusterIPs
}

func isHeadlessService(svc *corev1.Service) bool {
	ips := serviceClusterIPs(svc)
	return len(ips) == 1 && ips[0] == corev1.ClusterIPNone
}

var supportedServiceTypes = []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeExternalName, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort}

// ValidateService validates a service on create (Kubernetes' ValidateService).
func ValidateService(svc *corev1.Service) field.ErrorList {
	metaPath := field.NewPath("metadata")
	allErrs := validateObjectMeta(&svc.ObjectMeta, true, validateServiceName, metaPath)
	specPath := field.NewPath("spec")
	spec := &svc.Spec
	headless := isHeadlessService(svc)
	clusterIPs := serviceClusterIPs(svc)

	if len(spec.Ports) == 0 && !headless && spec.Type != corev1.ServiceTypeExternalName {
		allErrs = append(allErrs, field.Required(specPath.Child("ports"), ""))
	}
	switch spec.Type {
	case corev1.ServiceTypeLoadBalancer:
		if headless {
			allErrs = append(allErrs, field.Invalid(specPath.Child("clusterIPs").Index(0), clusterIPs[0], "may not be set to 'None' for LoadBalancer services"))
		}
	case corev1.ServiceTypeNodePort:
		if headless {
			allErrs = append(allErrs, field.Invalid(specPath.Child("clusterIPs").Index(0), clusterIPs[0], "may not be set to 'None' for NodePort services"))
		}
	case corev1.ServiceTypeExternalName:
		if len(clusterIPs) > 0 {
			allErrs = append(allErrs, field.Forbidden(specPath.Child("clusterIPs"), "may not be set for ExternalName services"))
		}
		if len(spec.IPFamilies) > 0 {
			allErrs = append(allErrs, field.Forbidden(specPath.Child("ipFamilies"), "may not be set for ExternalName services"))
		}
		if spec.IPFamilyPolicy != nil {
			allErrs = append(allErrs, field.Forbidden(specPath.Child("ipFamilyPolicy"), "may not be set for ExternalName services"))
		}
		if cname := strings.TrimSuffix(spec.ExternalName, "."); cname != "" {
			allErrs = append(allErrs, validateDNS1123Subdomain(cname, specPath.Child("externalName"))...)
		} else {
			allErrs = append(allErrs, field.Required(specPath.Child("externalName"), ""))
		}
	}

	names := map[string]bool{}
	for i := range spec.Ports {
		allErrs = append(allErrs, validateServicePort(&spec.Ports[i], len(spec.Ports) > 1, names, specPath.Child("ports").Index(i))...)
	}
	if spec.Selector != nil {
		allErrs = append(allErrs, metav1validation.ValidateLabels(spec.Selector, specPath.Child("selector"))...)
	}
	switch spec.SessionAffinity {
	case "":
		allErrs = append(allErrs, field.Required(specPath.Child("sessionAffinity"), ""))
	case corev1.ServiceAffinityClientIP:
		allErrs = append(allErrs, validateClientIPAffinityConfig(spec.SessionAffinityConfig, specPath.Child("sessionAffinityConfig"))...)
	case corev1.ServiceAffinityNone:
		if spec.SessionAffinityConfig != nil {
			allErrs = append(allErrs, field.Forbidden(specPath.Child("sessionAffinityConfig"), fmt.Sprintf("must not be set when session affinity is %s", corev1.ServiceAffinityNone)))
		}
	default:
		allErrs = append(allErrs, field.NotSupported(specPath.Child("sessionAffinity"), spec.SessionAffinity,
			[]corev1.ServiceAffinity{corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone}))
	}
	allErrs = append(allErrs, validateServiceClusterIPs(svc)...)
	for i, ip := range spec.ExternalIPs {
		p := specPath.Child("externalIPs").Index(i)
		if errs := validation.IsValidIP(p, ip); len(errs) != 0 {
			allErrs = append(allErrs, errs...)
		} else {
			allErrs = append(allErrs, validateNonSpecialIP(ip, p)...)
		}
	}
	if spec.Type == "" {
		allErrs = append(allErrs, field.Required(specPath.Child("type"), ""))
	} else if !containsType(supportedServiceTypes, spec.Type) {
		allErrs = append(allErrs, field.NotSupported(specPath.Child("type"), spec.Type, supportedServiceTypes))
	}
	if spec.Type == corev1.ServiceTypeClusterIP {
		for i := range spec.Ports {
			if spec.Ports[i].NodePort != 0 {
				allErrs = append(allErrs, field.Forbidden(specPath.Child("ports").Index(i).Child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
			}
		}
	}
	nodePorts := map[string]bool{}
	ports := map[string]bool{}
	for i, p := range spec.Ports {
		if p.NodePort != 0 {
			key := fmt.Sprintf("%s/%d", p.Protocol, p.NodePort)
			if nodePorts[key] {
				allErrs = append(allErrs, field.Duplicate(specPath.Child("ports").Index(i).Child("nodePort"), p.NodePort))
			}
			nodePorts[key] = true
		}
		key := fmt.Sprintf("%s/%d", p.Protocol, p.Port)
		if ports[key] {
			allErrs = append(allErrs, field.Duplicate(specPath.Child("ports").Index(i), corev1.ServicePort{Protocol: p.Protocol, Port: p.Port}))
		}
		ports[key] = true
	}
	if len(spec.LoadBalancerSourceRanges) > 0 {
		p := specPath.Child("LoadBalancerSourceRanges")
		if spec.Type != corev1.ServiceTypeLoadBalancer {
			allErrs = append(allErrs, field.Forbidden(p, "may only be used when `type` is 'LoadBalancer'"))
		}
		for i, r := range spec.LoadBalancerSourceRanges {
			allErrs = append(allErrs, validation.IsValidCIDR(p.Index(i), strings.TrimSpace(r))...)
		}
	}
	if spec.AllocateLoadBalancerNodePorts != nil && spec.Type != corev1.ServiceTypeLoadBalancer {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"))
	}
	if spec.Type == corev1.ServiceTypeLoadBalancer && spec.AllocateLoadBalancerNodePorts == nil {
		allErrs = append(allErrs, field.Required(field.NewPath("allocateLoadBalancerNodePorts"), ""))
	}
	if spec.Type == corev1.ServiceTypeLoadBalancer {
		if spec.LoadBalancerClass != nil {
			allErrs = append(allErrs, validateQualifiedName(*spec.LoadBalancerClass, specPath.Child("loadBalancerClass"))...)
		}
	} else if spec.LoadBalancerClass != nil {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("loadBalancerClass"), "may only be used when `type` is 'LoadBalancer'"))
	}
	// external traffic policy
	if !serviceExternallyAccessible(svc) {
		if spec.ExternalTrafficPolicy != "" {
			allErrs = append(allErrs, field.Invalid(specPath.Child("externalTrafficPolicy"), spec.ExternalTrafficPolicy, "may only be set for externally-accessible services"))
		}
	} else if spec.ExternalTrafficPolicy == "" {
		allErrs = append(allErrs, field.Required(specPath.Child("externalTrafficPolicy"), ""))
	} else if spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyCluster && spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
		allErrs = append(allErrs, field.NotSupported(specPath.Child("externalTrafficPolicy"), spec.ExternalTrafficPolicy,
			[]corev1.ServiceExternalTrafficPolicy{corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal}))
	}
	needsHC := spec.Type == corev1.ServiceTypeLoadBalancer && spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
	if !needsHC {
		if spec.HealthCheckNodePort != 0 {
			allErrs = append(allErrs, field.Invalid(specPath.Child("healthCheckNodePort"), spec.HealthCheckNodePort,
				"may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
		}
	} else if spec.HealthCheckNodePort != 0 {
		for _, msg := range validation.IsValidPortNum(int(spec.HealthCheckNodePort)) {
			allErrs = append(allErrs, field.Invalid(specPath.Child("healthCheckNodePort"), spec.HealthCheckNodePort, msg))
		}
	}
	// internal traffic policy
	if spec.InternalTrafficPolicy == nil {
		if spec.Type == corev1.ServiceTypeNodePort || spec.Type == corev1.ServiceTypeLoadBalancer || spec.Type == corev1.ServiceTypeClusterIP {
			allErrs = append(allErrs, field.Required(specPath.Child("internalTrafficPolicy"), ""))
		}
	} else if p := *spec.InternalTrafficPolicy; p != corev1.ServiceInternalTrafficPolicyCluster && p != corev1.ServiceInternalTrafficPolicyLocal {
		allErrs = append(allErrs, field.NotSupported(specPath.Child("internalTrafficPolicy"), p,
			[]corev1.ServiceInternalTrafficPolicy{corev1.ServiceInternalTrafficPolicyCluster, corev1.ServiceInternalTrafficPolicyLocal}))
	}
	if td := spec.TrafficDistribution; td != nil {
		switch *td {
		case corev1.ServiceTrafficDistributionPreferClose, corev1.ServiceTrafficDistributionPreferSameZone, corev1.ServiceTrafficDistributionPreferSameNode:
		default:
			allErrs = append(allErrs, field.NotSupported(specPath.Child("trafficDistribution"), *td, []string{
				corev1.ServiceTrafficDistributionPreferClose, corev1.ServiceTrafficDistributionPreferSameZone, corev1.ServiceTrafficDistributionPreferSameNode}))
		}
	}
	return allErrs
}

func containsType(list []corev1.ServiceType, t corev1.ServiceType) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}

func validateServicePort(sp *corev1.ServicePort, requireName bool, names map[string]bool, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if requireName && sp.Name == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), ""))
	} else if sp.Name != "" {
		allErrs = append(allErrs, validateDNS1123Label(sp.Name, fldPath.Child("name"))...)
		if names[sp.Name] {
			allErrs = append(allErrs, field.Duplicate(fldPath.Child("name"), sp.Name))
		} else {
			names[sp.Name] = true
		}
	}
	for _, msg := range validation.IsValidPortNum(int(sp.Port)) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("port"), sp.Port, msg))
	}
	if sp.Protocol == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("protocol"), ""))
	} else if !isSupportedProtocol(sp.Protocol) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("protocol"), sp.Protocol, supportedPortProtocols))
	}
	allErrs = append(allErrs, validatePortNumOrName(sp.TargetPort, fldPath.Child("targetPort"))...)
	if sp.AppProtocol != nil {
		allErrs = append(allErrs, validateQualifiedName(*sp.AppProtocol, fldPath.Child("appProtocol"))...)
	}
	return allErrs
}

func validateClientIPAffinityConfig(c *corev1.SessionAffinityConfig, fldPath *field.Path) field.ErrorList {
	msg := fmt.Sprintf("when session affinity type is %s", corev1.ServiceAffinityClientIP)
	switch {
	case c == nil:
		return field.ErrorList{field.Required(fldPath, msg)}
	case c.ClientIP == nil:
		return field.ErrorList{field.Required(fldPath.Child("clientIP"), msg)}
	case c.ClientIP.TimeoutSeconds == nil:
		return field.ErrorList{field.Required(fldPath.Child("clientIP").Child("timeoutSeconds"), msg)}
	}
	if t := *c.ClientIP.TimeoutSeconds; t <= 0 || t > maxClientIPServiceAffinitySeconds {
		return field.ErrorList{field.Invalid(fldPath.Child("clientIP").Child("timeoutSeconds"), c.ClientIP.TimeoutSeconds,
			fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPServiceAffinitySeconds))}
	}
	return nil
}

func validateServiceClusterIPs(svc *corev1.Service) field.ErrorList {
	spec := &svc.Spec
	if spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	var allErrs field.ErrorList
	specPath := field.NewPath("spec")
	ipsPath := specPath.Child("clusterIPs")
	famPath := specPath.Child("ipFamilies")
	ips := serviceClusterIPs(svc)
	if len(spec.ClusterIPs) > 0 {
		if spec.ClusterIP == "" {
			allErrs = append(allErrs, field.Invalid(ipsPath, spec.ClusterIPs, "must be empty when `clusterIP` is not specified"))
		} else if spec.ClusterIPs[0] != spec.ClusterIP {
			allErrs = append(allErrs, field.Invalid(ipsPath, spec.ClusterIPs, "first value must match `clusterIP`"))
		}
	}
	seen := map[corev1.IPFamily]bool{}
	for i, f := range spec.IPFamilies {
		if f != corev1.IPv4Protocol && f != corev1.IPv6Protocol {
			allErrs = append(allErrs, field.NotSupported(famPath.Index(i), f, []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}))
		}
		if seen[f] {
			allErrs = append(allErrs, field.Duplicate(famPath.Index(i), f))
		}
		seen[f] = true
	}
	if p := spec.IPFamilyPolicy; p != nil {
		switch *p {
		case corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack:
		default:
			allErrs = append(allErrs, field.NotSupported(specPath.Child("ipFamilyPolicy"), p, []corev1.IPFamilyPolicy{
				corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack, corev1.IPFamilyPolicySingleStack}))
		}
	}
	invalid := false
	for i, ip := range ips {
		if i == 0 && ip == corev1.ClusterIPNone {
			if len(ips) > 1 {
				invalid = true
				allErrs = append(allErrs, field.Invalid(ipsPath, ips, "'None' must be the first and only value"))
			}
			continue
		}
		errs := validation.IsValidIP(ipsPath.Index(i), ip)
		invalid = invalid || len(errs) > 0
		allErrs = append(allErrs, errs...)
	}
	if len(ips) > 2 {
		allErrs = append(allErrs, field.Invalid(ipsPath, ips, "may only hold up to 2 values"))
	}
	if invalid {
		return allErrs
	}
	if len(ips) > 1 && isIPv6(ips[0]) == isIPv6(ips[1]) {
		allErrs = append(allErrs, field.Invalid(ipsPath, ips, "may specify no more than one IP for each IP family"))
	}
	if !isHeadlessService(svc) {
		for i, ip := range ips {
			if i >= len(spec.IPFamilies) {
				break
			}
			if spec.IPFamilies[i] == corev1.IPv4Protocol && isIPv6(ip) {
				allErrs = append(allErrs, field.Invalid(ipsPath.Index(i), ip, fmt.Sprintf("expected an IPv4 value as indicated by `ipFamilies[%v]`", i)))
			}
			if spec.IPFamilies[i] == corev1.IPv6Protocol && !isIPv6(ip) {
				allErrs = append(allErrs, field.Invalid(ipsPath.Index(i), ip, fmt.Sprintf("expected an IPv6 value as indicated by `ipFamilies[%v]`", i)))
			}
		}
	}
	return allErrs
}

func isIPv6(s string) bool {
	ip := net.ParseIP(s)
	return ip != nil && ip.To4() == nil
}

func validateNonSpecialIP(s string, fldPath *field.Path) field.ErrorList {
	ip := net.ParseIP(s)
	if ip == nil {
		return field.ErrorList{field.Invalid(fldPath, s, "must be a valid IP address")}
	}
	var allErrs field.ErrorList
	if ip.IsUnspecified() {
		allErrs = append(allErrs, field.Invalid(fldPath, s, fmt.Sprintf("may not be unspecified (%v)", s)))
	}
	if ip.IsLoopback() {
		allErrs = append(allErrs, field.Invalid(fldPath, s, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
	}
	if ip.IsLinkLocalUnicast() {
		allErrs = append(allErrs, field.Invalid(fldPath, s, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
	}
	if ip.IsLinkLocalMulticast() {
		allErrs = append(allErrs, field.Invalid(fldPath, s, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
	}
	return allErrs
}

// ValidateServiceUpdate validates a service update: metadata, clusterIPs
// and ipFamilies may not change once set (headless/ExternalName aside),
// loadBalancerClass and healthCheckNodePort are immutable, and the new
// object must be valid.
func ValidateServiceUpdate(svc, oldSvc *corev1.Service) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&svc.ObjectMeta, &oldSvc.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateUpgradeDowngradeClusterIPs(oldSvc, svc)...)
	allErrs = append(allErrs, validateUpgradeDowngradeIPFamilies(oldSvc, svc)...)
	if oldSvc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.Type == corev1.ServiceTypeLoadBalancer &&
		!reflect.DeepEqual(oldSvc.Spec.LoadBalancerClass, svc.Spec.LoadBalancerClass) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("spec", "loadBalancerClass"), svc.Spec.LoadBalancerClass, "may not change once set"))
	}
	needsHC := func(s *corev1.Service) bool {
		return s.Spec.Type == corev1.ServiceTypeLoadBalancer && s.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
	}
	if needsHC(oldSvc) && needsHC(svc) && svc.Spec.HealthCheckNodePort != oldSvc.Spec.HealthCheckNodePort {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "healthCheckNodePort"), "field is immutable"))
	}
	return append(allErrs, ValidateService(svc)...)
}

func validateUpgradeDowngradeClusterIPs(oldSvc, svc *corev1.Service) field.ErrorList {
	if svc.Spec.Type == corev1.ServiceTypeExternalName || oldSvc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	if isHeadlessService(oldSvc) && isHeadlessService(svc) {
		return nil
	}
	var allErrs field.ErrorList
	oldIPs, newIPs := serviceClusterIPs(oldSvc), serviceClusterIPs(svc)
	p := field.NewPath("spec", "clusterIPs")
	switch {
	case len(oldIPs) == len(newIPs):
		for i, ip := range oldIPs {
			if ip != newIPs[i] {
				allErrs = append(allErrs, field.Invalid(p.Index(i), newIPs, "may not change once set"))
			}
		}
	case len(oldIPs) > len(newIPs):
		if len(newIPs) == 0 {
			allErrs = append(allErrs, field.Invalid(p.Index(0), newIPs, "primary clusterIP can not be unset"))
		}
		if len(oldIPs) > 0 && len(newIPs) > 0 && newIPs[0] != oldIPs[0] {
			allErrs = append(allErrs, field.Invalid(p.Index(0), newIPs, "may not change once set"))
		}
		if len(newIPs) == 1 && (svc.Spec.IPFamilyPolicy == nil || *svc.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack) {
			allErrs = append(allErrs, field.Invalid(field.NewPath("spec", "ipFamilyPolicy"), svc.Spec.IPFamilyPolicy, "must be set to 'SingleStack' when releasing the secondary clusterIP"))
		}
	default:
		if len(oldIPs) > 0 && newIPs[0] != oldIPs[0] {
			allErrs = append(allErrs, field.Invalid(p.Index(0), newIPs, "may not change once set"))
		}
	}
	return allErrs
}

func validateUpgradeDowngradeIPFamilies(oldSvc, svc *corev1.Service) field.ErrorList {
	if svc.Spec.Type == corev1.ServiceTypeExternalName || oldSvc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	if isHeadlessService(oldSvc) || isHeadlessService(svc) {
		return nil
	}
	var allErrs field.ErrorList
	oldF, newF := oldSvc.Spec.IPFamilies, svc.Spec.IPFamilies
	p := field.NewPath("spec", "ipFamilies")
	switch {
	case len(oldF) == len(newF):
		for i := range oldF {
			if oldF[i] != newF[i] {
				allErrs = append(allErrs, field.Invalid(p.Index(0), newF, "may not change once set"))
			}
		}
	case len(oldF) > len(newF):
		if len(serviceClusterIPs(svc)) == 0 {
			allErrs = append(allErrs, field.Invalid(p.Index(0), newF, "primary ipFamily can not be unset"))
		}
		if len(newF) > 0 && newF[0] != oldF[0] {
			allErrs = append(allErrs, field.Invalid(p.Index(0), serviceClusterIPs(svc), "may not change once set"))
		}
		if len(newF) == 1 && (svc.Spec.IPFamilyPolicy == nil || *svc.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack) {
			allErrs = append(allErrs, field.Invalid(field.NewPath("spec", "ipFamilyPolicy"), svc.Spec.IPFamilyPolicy, "must be set to 'SingleStack' when releasing the secondary ipFamily"))
		}
	default:
		if len(oldF) > 0 && newF[0] != oldF[0] {
			allErrs = append(allErrs, field.Invalid(p.Index(0), serviceClusterIPs(svc), "may not change once set"))
		}
	}
	return allErrs
}

// ValidateServiceStatusUpdate validates the status subresource of a service.
func ValidateServiceStatusUpdate(svc, oldSvc *corev1.Service) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&svc.ObjectMeta, &oldSvc.ObjectMeta, field.NewPath("metadata"))
	ingPath := field.NewPath("status", "loadBalancer", "ingress")
	for i, ing := range svc.Status.LoadBalancer.Ingress {
		p := ingPath.Index(i)
		if ing.IP != "" {
			allErrs = append(allErrs, validation.IsValidIP(p.Child("ip"), ing.IP)...)
		}
		if ing.IPMode == nil && ing.IP != "" {
			allErrs = append(allErrs, field.Required(p.Child("ipMode"), "must be specified when `ip` is set"))
		} else if ing.IPMode != nil && ing.IP == "" {
			allErrs = append(allErrs, field.Forbidden(p.Child("ipMode"), "may not be specified when `ip` is not set"))
		} else if ing.IPMode != nil && *ing.IPMode != corev1.LoadBalancerIPModeVIP && *ing.IPMode != corev1.LoadBalancerIPModeProxy {
			allErrs = append(allErrs, field.NotSupported(p.Child("ipMode"), ing.IPMode, []corev1.LoadBalancerIPMode{corev1.LoadBalancerIPModeProxy, corev1.LoadBalancerIPModeVIP}))
		}
		if ing.Hostname != "" {
			allErrs = append(allErrs, validateDNS1123Subdomain(ing.Hostname, p.Child("hostname"))...)
			if net.ParseIP(ing.Hostname) != nil {
				allErrs = append(allErrs, field.Invalid(p.Child("hostname"), ing.Hostname, "must be a DNS name, not an IP address"))
			}
		}
	}
	return allErrs
}

// maxClientIPServiceAffinitySeconds is Kubernetes' upper bound (one day).
const maxClientIPServiceAffinitySeconds int32 = 86400

// ---------------- ConfigMap / Secret / ServiceAccount ----------------

// ValidateConfigMap validates keys (data and binaryData, no key in both) and
// the total size (at most 1 MiB, reported as TooLong on the whole object).
func ValidateConfigMap(cm *corev1.ConfigMap) field.ErrorList {
	allErrs := validateObjectMeta(&cm.ObjectMeta, true, validateConfigMapName, field.NewPath("metadata"))
	total := 0
	for k, v := range cm.Data {
		for _, msg := range validation.IsConfigMapKey(k) {
			allErrs = append(allErrs, field.Invalid(field.NewPath("data").Key(k), k, msg))
		}
		if _, dup := cm.BinaryData[k]; dup {
			allErrs = append(allErrs, field.Invalid(field.NewPath("data").Key(k), k, "duplicate of key present in binaryData"))
		}
		total += len(v)
	}
	for k, v := range cm.BinaryData {
		for _, msg := range validation.IsConfigMapKey(k) {
			allErrs = append(allErrs, field.Invalid(field.NewPath("binaryData").Key(k), k, msg))
		}
		total += len(v)
	}
	if total > corev1.MaxSecretSize {
		allErrs = append(allErrs, field.TooLong(field.NewPath(""), "", corev1.MaxSecretSize))
	}
	return allErrs
}

// ValidateConfigMapUpdate adds the immutable rule to ValidateConfigMap.
func ValidateConfigMapUpdate(newCM, oldCM *corev1.ConfigMap) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&newCM.ObjectMeta, &oldCM.ObjectMeta, field.NewPath("metadata"))
	if oldCM.Immutable != nil && *oldCM.Immutable {
		const msg = "field is immutable when `immutable` is set"
		if newCM.Immutable == nil || !*newCM.Immutable {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("immutable"), msg))
		}
		if !reflect.DeepEqual(newCM.Data, oldCM.Data) {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("data"), msg))
		}
		if !reflect.DeepEqual(newCM.BinaryData, oldCM.BinaryData) {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("binaryData"), msg))
		}
	}
	return append(allErrs, ValidateConfigMap(newCM)...)
}

// ValidateSecret validates keys, total size and the type-specific keys.
func ValidateSecret(s *corev1.Secret) field.ErrorList {
	allErrs := validateObjectMeta(&s.ObjectMeta, true, validateSecretName, field.NewPath("metadata"))
	dataPath := field.NewPath("data")
	total := 0
	for k, v := range s.Data {
		for _, msg := range validation.IsConfigMapKey(k) {
			allErrs = append(allErrs, field.Invalid(dataPath.Key(k), k, msg))
		}
		total += len(v)
	}
	if total > corev1.MaxSecretSize {
		allErrs = append(allErrs, field.TooLong(dataPath, "", corev1.MaxSecretSize))
	}
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			allErrs = append(allErrs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeDockercfg:
		allErrs = append(allErrs, requireJSONKey(s.Data, corev1.DockerConfigKey, dataPath)...)
	case corev1.SecretTypeDockerConfigJson:
		allErrs = append(allErrs, requireJSONKey(s.Data, corev1.DockerConfigJsonKey, dataPath)...)
	case corev1.SecretTypeBasicAuth:
		_, u := s.Data[corev1.BasicAuthUsernameKey]
		_, p := s.Data[corev1.BasicAuthPasswordKey]
		if !u && !p {
			allErrs = append(allErrs, field.Required(dataPath.Key(corev1.BasicAuthUsernameKey), ""),
				field.Required(dataPath.Key(corev1.BasicAuthPasswordKey), ""))
		}
	case corev1.SecretTypeSSHAuth:
		if len(s.Data[corev1.SSHAuthPrivateKey]) == 0 {
			allErrs = append(allErrs, field.Required(dataPath.Key(corev1.SSHAuthPrivateKey), ""))
		}
	case corev1.SecretTypeTLS:
		if _, ok := s.Data[corev1.TLSCertKey]; !ok {
			allErrs = append(allErrs, field.Required(dataPath.Key(corev1.TLSCertKey), ""))
		}
		if _, ok := s.Data[corev1.TLSPrivateKeyKey]; !ok {
			allErrs = append(allErrs, field.Required(dataPath.Key(corev1.TLSPrivateKeyKey), ""))
		}
	}
	return allErrs
}

func requireJSONKey(data map[string][]byte, key string, dataPath *field.Path) field.ErrorList {
	b, ok := data[key]
	if !ok {
		return field.ErrorList{field.Required(dataPath.Key(key), "")}
	}
	if err := json.Unmarshal(b, &map[string]interface{}{}); err != nil {
		return field.ErrorList{field.Invalid(dataPath.Key(key), "<secret contents redacted>", err.Error())}
	}
	return nil
}

// ValidateSecretUpdate: type is immutable; immutable secrets keep their data.
func ValidateSecretUpdate(newS, oldS *corev1.Secret) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&newS.ObjectMeta, &oldS.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, immutable(newS.Type, oldS.Type, field.NewPath("type"))...)
	if oldS.Immutable != nil && *oldS.Immutable {
		const msg = "field is immutable when `immutable` is set"
		if newS.Immutable == nil || !*newS.Immutable {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("immutable"), msg))
		}
		if !reflect.DeepEqual(newS.Data, oldS.Data) {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("data"), msg))
		}
	}
	return append(allErrs, ValidateSecret(newS)...)
}

// ValidateServiceAccount validates a service account (metadata only).
func ValidateServiceAccount(sa *corev1.ServiceAccount) field.ErrorList {
	return validateObjectMeta(&sa.ObjectMeta, true, validateServiceAccountName, field.NewPath("metadata"))
}

// ValidateServiceAccountUpdate validates a service account update.
func ValidateServiceAccountUpdate(newSA, oldSA *corev1.ServiceAccount) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&newSA.ObjectMeta, &oldSA.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, ValidateServiceAccount(newSA)...)
}

// ---------------- Event ----------------

// ValidateEvent applies the rules Kubernetes applies to events created or
// updated through core/v1 (legacyValidateEvent): the involved object's
// namespace must match the event's, new-style events (eventTime set) need
// reportingController, reportingInstance, action and reason with length
// limits, and the namespace must be a DNS subdomain.
func ValidateEvent(ev *corev1.Event) field.ErrorList {
	var allErrs field.ErrorList
	invNsPath := field.NewPath("involvedObject", "namespace")
	if ev.EventTime.IsZero() {
		if ev.InvolvedObject.Namespace == "" {
			if ev.Namespace != metav1.NamespaceNone && ev.Namespace != metav1.NamespaceDefault {
				allErrs = append(allErrs, field.Invalid(invNsPath, ev.InvolvedObject.Namespace, "does not match event.namespace"))
			}
		} else if ev.Namespace != ev.InvolvedObject.Namespace {
			allErrs = append(allErrs, field.Invalid(invNsPath, ev.InvolvedObject.Namespace, "does not match event.namespace"))
		}
	} else {
		if ev.InvolvedObject.Namespace == "" && ev.Namespace != metav1.NamespaceDefault && ev.Namespace != metav1.NamespaceSystem {
			allErrs = append(allErrs, field.Invalid(invNsPath, ev.InvolvedObject.Namespace, "does not match event.namespace"))
		}
		if ev.ReportingController == "" {
			allErrs = append(allErrs, field.Required(field.NewPath("reportingController"), ""))
		}
		allErrs = append(allErrs, validateQualifiedName(ev.ReportingController, field.NewPath("reportingController"))...)
		allErrs = append(allErrs, requiredWithLimit(ev.ReportingInstance, 128, "reportingInstance")...)
		allErrs = append(allErrs, requiredWithLimit(ev.Action, 128, "action")...)
		allErrs = append(allErrs, requiredWithLimit(ev.Reason, 128, "reason")...)
		if len(ev.Message) > 1024 {
			allErrs = append(allErrs, field.Invalid(field.NewPath("message"), "", "can have at most 1024 characters"))
		}
	}
	for _, msg := range validation.IsDNS1123Subdomain(ev.Namespace) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("namespace"), ev.Namespace, msg))
	}
	return allErrs
}

func requiredWithLimit(v string, limit int, name string) field.ErrorList {
	var allErrs field.ErrorList
	if v == "" {
		allErrs = append(allErrs, field.Required(field.NewPath(name), ""))
	}
	if len(v) > limit {
		allErrs = append(allErrs, field.Invalid(field.NewPath(name), "", fmt.Sprintf("can have at most %v characters", limit)))
	}
	return allErrs
}

// ValidateEventUpdate validates a core/v1 event update (the legacy rules on
// the new object, as Kubernetes does for core/v1 requests).
func ValidateEventUpdate(newEv, oldEv *corev1.Event) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&newEv.ObjectMeta, &oldEv.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, ValidateEvent(newEv)...)
}

// ---------------- Endpoints ----------------

// ValidateEndpoints validates endpoints.
func ValidateEndpoints(ep *corev1.Endpoints) field.ErrorList {
	allErrs := validateObjectMeta(&ep.ObjectMeta, true, validateEndpointsName, field.NewPath("metadata"))
	subsetsPath := field.NewPath("subsets")
	for i := range ep.Subsets {
		ss := &ep.Subsets[i]
		p := subsetsPath.Index(i)
		if len(ss.Addresses) == 0 && len(ss.NotReadyAddresses) == 0 {
			allErrs = append(allErrs, field.Required(p, "must specify `addresses` or `notReadyAddresses`"))
		}
		for j := range ss.Addresses {
			allErrs = append(allErrs, validateEndpointAddress(&ss.Addresses[j], p.Child("addresses").Index(j))...)
		}
		for j := range ss.NotReadyAddresses {
			allErrs = append(allErrs, validateEndpointAddress(&ss.NotReadyAddresses[j], p.Child("notReadyAddresses").Index(j))...)
		}
		for j := range ss.Ports {
			port := &ss.Ports[j]
			pp := p.Child("ports").Index(j)
			if len(ss.Ports) > 1 && port.Name == "" {
				allErrs = append(allErrs, field.Required(pp.Child("name"), ""))
			} else if port.Name != "" {
				allErrs = append(allErrs, validateDNS1123Label(port.Name, pp.Child("name"))...)
			}
			for _, msg := range validation.IsValidPortNum(int(port.Port)) {
				allErrs = append(allErrs, field.Invalid(pp.Child("port"), port.Port, msg))
			}
			if port.Protocol == "" {
				allErrs = append(allErrs, field.Required(pp.Child("protocol"), ""))
			} else if !isSupportedProtocol(port.Protocol) {
				allErrs = append(allErrs, field.NotSupported(pp.Child("protocol"), port.Protocol, supportedPortProtocols))
			}
			if port.AppProtocol != nil {
				allErrs = append(allErrs, validateQualifiedName(*port.AppProtocol, pp.Child("appProtocol"))...)
			}
		}
	}
	return allErrs
}

func validateEndpointAddress(a *corev1.EndpointAddress, fldPath *field.Path) field.ErrorList {
	allErrs := validation.IsValidIP(fldPath.Child("ip"), a.IP)
	if a.Hostname != "" {
		allErrs = append(allErrs, validateDNS1123Label(a.Hostname, fldPath.Child("hostname"))...)
	}
	if a.NodeName != nil {
		allErrs = append(allErrs, validateNameFn(validateNodeName, *a.NodeName, fldPath.Child("nodeName"))...)
	}
	return append(allErrs, validateNonSpecialIP(a.IP, fldPath.Child("ip"))...)
}

// ValidateEndpointsUpdate validates an endpoints update.
func ValidateEndpointsUpdate(newEp, oldEp *corev1.Endpoints) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&newEp.ObjectMeta, &oldEp.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, ValidateEndpoints(newEp)...)
}

// ---------------- PersistentVolumeClaim ----------------

var supportedAccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOnce, corev1.ReadWriteOncePod}

func validateAccessModes(modes []corev1.PersistentVolumeAccessMode, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	rwop, other := false, false
	for _, m := range modes {
		supported := false
		for _, s := range supportedAccessModes {
			if m == s {
				supported = true
			}
		}
		if !supported {
			allErrs = append(allErrs, field.NotSupported(fldPath, m, supportedAccessModes))
		}
		if m == corev1.ReadWriteOncePod {
			rwop = true
		} else if supported {
			other = true
		}
	}
	if rwop && other {
		allErrs = append(allErrs, field.Forbidden(fldPath, "may not use ReadWriteOncePod with other access modes"))
	}
	return allErrs
}

func validateVolumeMode(m *corev1.PersistentVolumeMode, fldPath *field.Path) field.ErrorList {
	if m != nil && *m != corev1.PersistentVolumeBlock && *m != corev1.PersistentVolumeFilesystem {
		return field.ErrorList{field.NotSupported(fldPath, *m, []corev1.PersistentVolumeMode{corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem})}
	}
	return nil
}

func validatePVCSpec(spec *corev1.PersistentVolumeClaimSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(spec.AccessModes) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("accessModes"), "at least 1 access mode is required"))
	}
	if spec.Selector != nil {
		allErrs = append(allErrs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, fldPath.Child("selector"))...)
	}
	allErrs = append(allErrs, validateAccessModes(spec.AccessModes, fldPath.Child("accessModes"))...)
	storagePath := fldPath.Child("resources").Key(string(corev1.ResourceStorage))
	if q, ok := spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		allErrs = append(allErrs, field.Required(storagePath, ""))
	} else if errs := validatePositiveQuantity(q, storagePath); len(errs) > 0 {
		allErrs = append(allErrs, errs...)
	} else {
		allErrs = append(allErrs, validateResourceQuantityValue(corev1.ResourceStorage, q, storagePath)...)
	}
	if spec.StorageClassName != nil && *spec.StorageClassName != "" {
		allErrs = append(allErrs, validateNameFn(validateClassName, *spec.StorageClassName, fldPath.Child("storageClassName"))...)
	}
	allErrs = append(allErrs, validateVolumeMode(spec.VolumeMode, fldPath.Child("volumeMode"))...)
	if ds := spec.DataSource; ds != nil {
		allErrs = append(allErrs, validateDataSource(ds.Name, ds.Kind, ds.APIGroup, fldPath.Child("dataSource"))...)
	}
	if ds := spec.DataSourceRef; ds != nil {
		allErrs = append(allErrs, validateDataSource(ds.Name, ds.Kind, ds.APIGroup, fldPath.Child("dataSourceRef"))...)
		if ds.Namespace != nil && *ds.Namespace != "" {
			allErrs = append(allErrs, validateNameFn(validateNamespaceName, *ds.Namespace, fldPath.Child("dataSourceRef").Child("namespace"))...)
		}
	}
	if ref := spec.DataSourceRef; ref != nil && ref.Namespace != nil && *ref.Namespace != "" {
		if spec.DataSource != nil {
			allErrs = append(allErrs, field.Invalid(fldPath, fldPath.Child("dataSource"), "may not be specified when dataSourceRef.namespace is specified"))
		}
	} else if spec.DataSource != nil && ref != nil {
		if !reflect.DeepEqual(spec.DataSource.APIGroup, ref.APIGroup) || spec.DataSource.Kind != ref.Kind || spec.DataSource.Name != ref.Name {
			allErrs = append(allErrs, field.Invalid(fldPath, fldPath.Child("dataSource"), "must match dataSourceRef"))
		}
	}
	if c := spec.VolumeAttributesClassName; c != nil && *c != "" {
		allErrs = append(allErrs, validateNameFn(validateClassName, *c, fldPath.Child("volumeAttributesClassName"))...)
	}
	return allErrs
}

func validateDataSource(name, kind string, apiGroup *string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if name == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), ""))
	}
	if kind == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("kind"), ""))
	}
	group := ""
	if apiGroup != nil {
		group = *apiGroup
	}
	if group == "" && kind != "PersistentVolumeClaim" {
		allErrs = append(allErrs, field.Invalid(fldPath, kind, "must be 'PersistentVolumeClaim' when referencing the default apiGroup"))
	}
	if group != "" {
		allErrs = append(allErrs, validateDNS1123Subdomain(group, fldPath.Child("apiGroup"))...)
	}
	return allErrs
}

// ValidatePersistentVolumeClaim validates a claim: access modes and
// resources.requests.storage are required.
func ValidatePersistentVolumeClaim(pvc *corev1.PersistentVolumeClaim) field.ErrorList {
	allErrs := validateObjectMeta(&pvc.ObjectMeta, true, validatePVName, field.NewPath("metadata"))
	return append(allErrs, validatePVCSpec(&pvc.Spec, field.NewPath("spec"))...)
}

// ValidatePersistentVolumeClaimUpdate: the spec is immutable except
// volumeName (set once), resources.requests (growth) and
// volumeAttributesClassName of bound claims; storage may not shrink below
// the previous request (RecoverVolumeExpansionFailure, GA: below
// status.capacity).
func ValidatePersistentVolumeClaimUpdate(newPVC, oldPVC *corev1.PersistentVolumeClaim) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&newPVC.ObjectMeta, &oldPVC.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, ValidatePersistentVolumeClaim(newPVC)...)
	newClone, oldClone := newPVC.DeepCopy(), oldPVC.DeepCopy()
	if oldPVC.Spec.VolumeName == "" {
		oldClone.Spec.VolumeName = newClone.Spec.VolumeName
	}
	const betaClassAnnotation = "volume.beta.kubernetes.io/storage-class"
	oldAnn, oldHasAnn := oldPVC.Annotations[betaClassAnnotation]
	newAnn, newHasAnn := newPVC.Annotations[betaClassAnnotation]
	if oldHasAnn && oldPVC.Spec.StorageClassName == nil && newPVC.Spec.StorageClassName != nil &&
		*newPVC.Spec.StorageClassName == oldAnn && (!newHasAnn || newAnn == oldAnn) {
		newClone.Spec.StorageClassName = nil
	} else {
		if newAnn != oldAnn {
			allErrs = append(allErrs, field.Invalid(field.NewPath("metadata").Child("annotations", betaClassAnnotation), newAnn, fieldImmutableMsg))
		}
		if newPVC.Spec.StorageClassName != nil && oldPVC.Spec.StorageClassName == nil && (!oldHasAnn || *newPVC.Spec.StorageClassName == oldAnn) {
			newClone.Spec.StorageClassName = oldClone.Spec.StorageClassName
		}
	}
	bound := newPVC.Status.Phase == corev1.ClaimBound
	if bound && newClone.Spec.Resources.Requests != nil {
		if q, ok := oldPVC.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
			newClone.Spec.Resources.Requests[corev1.ResourceStorage] = q
		} else {
			delete(newClone.Spec.Resources.Requests, corev1.ResourceStorage)
		}
	}
	if bound && newClone.Spec.VolumeAttributesClassName != nil {
		newClone.Spec.VolumeAttributesClassName = oldClone.Spec.VolumeAttributesClassName
	}
	if !apiequality.Semantic.DeepEqual(newClone.Spec, oldClone.Spec) {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec"),
			"spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
	}
	oldSize := oldPVC.Spec.Resources.Requests[corev1.ResourceStorage]
	newSize := newPVC.Spec.Resources.Requests[corev1.ResourceStorage]
	statusSize := oldPVC.Status.Capacity[corev1.ResourceStorage]
	if newSize.Cmp(oldSize) < 0 && newSize.Cmp(statusSize) <= 0 {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "resources", "requests", "storage"), "field can not be less than status.capacity"))
	}
	allErrs = append(allErrs, immutable(newPVC.Spec.VolumeMode, oldPVC.Spec.VolumeMode, field.NewPath("volumeMode"))...)
	if o, n := oldPVC.Spec.VolumeAttributesClassName, newPVC.Spec.VolumeAttributesClassName; o != nil && !reflect.DeepEqual(o, n) {
		if n == nil {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "volumeAttributesClassName"), "update from non-nil value to nil is forbidden"))
		} else if *n == "" {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "volumeAttributesClassName"), "update from non-nil value to an empty string is forbidden"))
		}
	}
	return allErrs
}

// ValidatePersistentVolumeClaimStatusUpdate validates the status subresource.
func ValidatePersistentVolumeClaimStatusUpdate(newPVC, oldPVC *corev1.PersistentVolumeClaim) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&newPVC.ObjectMeta, &oldPVC.ObjectMeta, field.NewPath("metadata"))
	if newPVC.ResourceVersion == "" {
		allErrs = append(allErrs, field.Required(field.NewPath("resourceVersion"), ""))
	}
	if len(newPVC.Spec.AccessModes) == 0 {
		allErrs = append(allErrs, field.Required(field.NewPath("Spec", "accessModes"), ""))
	}
	for r, q := range newPVC.Status.Capacity {
		allErrs = append(allErrs, validateBasicResource(q, field.NewPath("status", "capacity").Key(string(r)))...)
	}
	return allErrs
}

func validateBasicResource(q resource.Quantity, fldPath *field.Path) field.ErrorList {
	if q.Value() < 0 {
		return field.ErrorList{field.Invalid(fldPath, q.Value(), "must be a valid resource quantity")}
	}
	return nil
}

// ---------------- PersistentVolume ----------------

// ValidatePersistentVolume validates a persistent volume: access modes,
// capacity (storage only, positive), reclaim policy, exactly one volume
// source (with its required fields), node affinity, class name, volume mode.
func ValidatePersistentVolume(pv *corev1.PersistentVolume) field.ErrorList {
	allErrs := validateObjectMeta(&pv.ObjectMeta, false, validatePVName, field.NewPath("metadata"))
	spec := &pv.Spec
	fldPath := field.NewPath("spec")
	if len(spec.AccessModes) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("accessModes"), ""))
	}
	allErrs = append(allErrs, validateAccessModes(spec.AccessModes, fldPath.Child("accessModes"))...)
	capPath := fldPath.Child("capacity")
	if len(spec.Capacity) == 0 {
		allErrs = append(allErrs, field.Required(capPath, ""))
	}
	if _, ok := spec.Capacity[corev1.ResourceStorage]; !ok || len(spec.Capacity) > 1 {
		allErrs = append(allErrs, field.NotSupported(capPath, spec.Capacity, []corev1.ResourceName{corev1.ResourceStorage}))
	}
	for r, q := range spec.Capacity {
		allErrs = append(allErrs, validateBasicResource(q, capPath.Key(string(r)))...)
		allErrs = append(allErrs, validatePositiveQuantity(q, capPath.Key(string(r)))...)
	}
	if rp := spec.PersistentVolumeReclaimPolicy; rp != "" &&
		rp != corev1.PersistentVolumeReclaimDelete && rp != corev1.PersistentVolumeReclaimRecycle && rp != corev1.PersistentVolumeReclaimRetain {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("persistentVolumeReclaimPolicy"), rp, []corev1.PersistentVolumeReclaimPolicy{
			corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRecycle, corev1.PersistentVolumeReclaimRetain}))
	}
	nodeAffinity := false
	if na := spec.NodeAffinity; na != nil {
		nodeAffinity = true
		if na.Required != nil {
			allErrs = append(allErrs, ValidateNodeSelector(na.Required, fldPath.Child("nodeAffinity").Child("required"))...)
		} else {
			allErrs = append(allErrs, field.Required(fldPath.Child("nodeAffinity").Child("required"), "must specify required node constraints"))
		}
	}
	allErrs = append(allErrs, validatePVSource(&spec.PersistentVolumeSource, nodeAffinity, fldPath)...)
	if spec.HostPath != nil && path.Clean(spec.HostPath.Path) == "/" && spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRecycle {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("persistentVolumeReclaimPolicy"), "may not be 'recycle' for a hostPath mount of '/'"))
	}
	if spec.StorageClassName != "" {
		allErrs = append(allErrs, validateNameFn(validateClassName, spec.StorageClassName, fldPath.Child("storageClassName"))...)
	}
	allErrs = append(allErrs, validateVolumeMode(spec.VolumeMode, fldPath.Child("volumeMode"))...)
	if c := spec.VolumeAttributesClassName; c != nil {
		if *c == "" {
			allErrs = append(allErrs, field.Required(fldPath.Child("volumeAttributesClassName"), "an empty string is disallowed"))
		} else {
			allErrs = append(allErrs, validateNameFn(validateClassName, *c, fldPath.Child("volumeAttributesClassName"))...)
		}
		if spec.CSI == nil {
			allErrs = append(allErrs, field.Required(fldPath.Child("csi"), "has to be specified when using volumeAttributesClassName"))
		}
	}
	return allErrs
}

// validatePVSource checks that exactly one source is set and its key fields.
func validatePVSource(src *corev1.PersistentVolumeSource, nodeAffinity bool, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	type entry struct {
		set      bool
		name     string
		validate func() field.ErrorList
	}
	req := func(p *field.Path, name, v string) field.ErrorList {
		if v == "" {
			return field.ErrorList{field.Required(p.Child(name), "")}
		}
		return nil
	}
	entries := []entry{
		{src.HostPath != nil, "hostPath", func() field.ErrorList { return validateHostPath(src.HostPath, fldPath.Child("hostPath")) }},
		{src.GCEPersistentDisk != nil, "gcePersistentDisk", func() field.ErrorList {
			return req(fldPath.Child("persistentDisk"), "pdName", src.GCEPersistentDisk.PDName)
		}},
		{src.AWSElasticBlockStore != nil, "awsElasticBlockStore", func() field.ErrorList {
			return req(fldPath.Child("awsElasticBlockStore"), "volumeID", src.AWSElasticBlockStore.VolumeID)
		}},
		{src.Glusterfs != nil, "glusterfs", func() field.ErrorList {
			p := fldPath.Child("glusterfs")
			return append(req(p, "endpoints", src.Glusterfs.EndpointsName), req(p, "path", src.Glusterfs.Path)...)
		}},
		{src.Flocker != nil, "flocker", func() field.ErrorList { return validateFlocker(src.Flocker, fldPath.Child("flocker")) }},
		{src.NFS != nil, "nfs", func() field.ErrorList {
			p := fldPath.Child("nfs")
			errs := append(req(p, "server", src.NFS.Server), req(p, "path", src.NFS.Path)...)
			if !path.IsAbs(src.NFS.Path) {
				errs = append(errs, field.Invalid(p.Child("path"), src.NFS.Path, "must be an absolute path"))
			}
			return errs
		}},
		{src.RBD != nil, "rbd", func() field.ErrorList {
			p := fldPath.Child("rbd")
			var errs field.ErrorList
			if len(src.RBD.CephMonitors) == 0 {
				errs = append(errs, field.Required(p.Child("monitors"), ""))
			}
			return append(errs, req(p, "image", src.RBD.RBDImage)...)
		}},
		{src.Quobyte != nil, "quobyte", func() field.ErrorList {
			p := fldPath.Child("quobyte")
			return append(req(p, "registry", src.Quobyte.Registry), req(p, "volume", src.Quobyte.Volume)...)
		}},
		{src.CephFS != nil, "cephFS", func() field.ErrorList {
			if len(src.CephFS.Monitors) == 0 {
				return field.ErrorList{field.Required(fldPath.Child("cephfs").Child("monitors"), "")}
			}
			return nil
		}},
		{src.ISCSI != nil, "iscsi", func() field.ErrorList {
			p := fldPath.Child("iscsi")
			return append(req(p, "targetPortal", src.ISCSI.TargetPortal), req(p, "iqn", src.ISCSI.IQN)...)
		}},
		{src.Cinder != nil, "cinder", func() field.ErrorList { return req(fldPath.Child("cinder"), "volumeID", src.Cinder.VolumeID) }},
		{src.FC != nil, "fc", func() field.ErrorList {
			if len(src.FC.TargetWWNs) < 1 && len(src.FC.WWIDs) < 1 {
				return field.ErrorList{field.Required(fldPath.Child("fc").Child("targetWWNs"), "must specify either targetWWNs or wwids, but not both")}
			}
			return nil
		}},
		{src.FlexVolume != nil, "flexVolume", func() field.ErrorList { return req(fldPath.Child("flexVolume"), "driver", src.FlexVolume.Driver) }},
		{src.AzureFile != nil, "azureFile", func() field.ErrorList {
			p := fldPath.Child("azureFile")
			return append(req(p, "secretName", src.AzureFile.SecretName), req(p, "shareName", src.AzureFile.ShareName)...)
		}},
		{src.VsphereVolume != nil, "vsphereVolume", func() field.ErrorList {
			return req(fldPath.Child("vsphereVolume"), "volumePath", src.VsphereVolume.VolumePath)
		}},
		{src.PhotonPersistentDisk != nil, "photonPersistentDisk", func() field.ErrorList {
			return req(fldPath.Child("photonPersistentDisk"), "pdID", src.PhotonPersistentDisk.PdID)
		}},
		{src.PortworxVolume != nil, "portworxVolume", func() field.ErrorList {
			return req(fldPath.Child("portworxVolume"), "volumeID", src.PortworxVolume.VolumeID)
		}},
		{src.AzureDisk != nil, "azureDisk", func() field.ErrorList {
			p := fldPath.Child("azureDisk")
			return append(req(p, "diskName", src.AzureDisk.DiskName), req(p, "diskURI", src.AzureDisk.DataDiskURI)...)
		}},
		{src.ScaleIO != nil, "scaleIO", func() field.ErrorList {
			p := fldPath.Child("scaleIO")
			return append(append(req(p, "gateway", src.ScaleIO.Gateway), req(p, "system", src.ScaleIO.System)...), req(p, "volumeName", src.ScaleIO.VolumeName)...)
		}},
		{src.Local != nil, "local", func() field.ErrorList {
			p := fldPath.Child("local")
			var errs field.ErrorList
			if src.Local.Path == "" {
				errs = append(errs, field.Required(p.Child("path"), ""))
			} else {
				errs = append(errs, validatePathNoBacksteps(src.Local.Path, p.Child("path"))...)
			}
			if !nodeAffinity {
				errs = append(errs, field.Required(fldPath.Child("nodeAffinity"), "Local volume requires node affinity"))
			}
			return errs
		}},
		{src.StorageOS != nil, "storageos", func() field.ErrorList {
			return req(fldPath.Child("storageos"), "volumeName", src.StorageOS.VolumeName)
		}},
		{src.CSI != nil, "csi", func() field.ErrorList {
			p := fldPath.Child("csi")
			return append(validateCSIDriverName(src.CSI.Driver, p.Child("driver")), req(p, "volumeHandle", src.CSI.VolumeHandle)...)
		}},
	}
	n := 0
	for _, e := range entries {
		if !e.set {
			continue
		}
		// flexVolume is counted but never rejected as "more than 1" (Kubernetes quirk).
		if n > 0 && e.name != "flexVolume" {
			allErrs = append(allErrs, field.Forbidden(fldPath.Child(e.name), "may not specify more than 1 volume type"))
			continue
		}
		n++
		allErrs = append(allErrs, e.validate()...)
	}
	if n == 0 {
		allErrs = append(allErrs, field.Required(fldPath, "must specify a volume type"))
	}
	return allErrs
}

// ValidatePersistentVolumeUpdate: the volume source and volumeMode are
// immutable; node affinity may only be set when it was unset.
func ValidatePersistentVolumeUpdate(newPV, oldPV *corev1.PersistentVolume) field.ErrorList {
	allErrs := ValidatePersistentVolume(newPV)
	allErrs = append(allErrs, validateObjectMetaUpdate(&newPV.ObjectMeta, &oldPV.ObjectMeta, field.NewPath("metadata"))...)
	newSrc := newPV.Spec.PersistentVolumeSource.DeepCopy()
	if oldPV.Spec.CSI != nil && oldPV.Spec.CSI.ControllerExpandSecretRef == nil && newSrc.CSI != nil {
		newSrc.CSI.ControllerExpandSecretRef = nil
	}
	if !apiequality.Semantic.DeepEqual(*newSrc, oldPV.Spec.PersistentVolumeSource) {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "persistentvolumesource"), "spec.persistentvolumesource is immutable after creation"))
	}
	allErrs = append(allErrs, immutable(newPV.Spec.VolumeMode, oldPV.Spec.VolumeMode, field.NewPath("volumeMode"))...)
	if oldPV.Spec.NodeAffinity != nil && !apiequality.Semantic.DeepEqual(newPV.Spec.NodeAffinity, oldPV.Spec.NodeAffinity) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("nodeAffinity"), newPV.Spec.NodeAffinity, fieldImmutableMsg+", except for updating from beta label to GA"))
	}
	if oldPV.Spec.VolumeAttributesClassName != nil && newPV.Spec.VolumeAttributesClassName == nil {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "volumeAttributesClassName"), "update from non-nil value to nil is forbidden"))
	}
	return allErrs
}

// ValidatePersistentVolumeStatusUpdate validates the status subresource.
func ValidatePersistentVolumeStatusUpdate(newPV, oldPV *corev1.PersistentVolume) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&newPV.ObjectMeta, &oldPV.ObjectMeta, field.NewPath("metadata"))
	if newPV.ResourceVersion == "" {
		allErrs = append(allErrs, field.Required(field.NewPath("resourceVersion"), ""))
	}
	return allErrs
}
