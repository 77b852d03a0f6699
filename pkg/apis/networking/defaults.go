package networking

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// RegisterDefaults registers the networking.k8s.io/v1 defaulting functions
// with the scheme (each type and its list type).
func RegisterDefaults(s *runtime.Scheme) {
	s.AddTypeDefaultingFunc(&networkingv1.NetworkPolicy{}, func(obj interface{}) { SetDefaultsNetworkPolicy(obj.(*networkingv1.NetworkPolicy)) })
	s.AddTypeDefaultingFunc(&networkingv1.NetworkPolicyList{}, func(obj interface{}) {
		l := obj.(*networkingv1.NetworkPolicyList)
		for i := range l.Items {
			SetDefaultsNetworkPolicy(&l.Items[i])
		}
	})
	s.AddTypeDefaultingFunc(&networkingv1.IngressClass{}, func(obj interface{}) { SetDefaultsIngressClass(obj.(*networkingv1.IngressClass)) })
	s.AddTypeDefaultingFunc(&networkingv1.IngressClassList{}, func(obj interface{}) {
		l := obj.(*networkingv1.IngressClassList)
		for i := range l.Items {
			SetDefaultsIngressClass(&l.Items[i])
		}
	})
}

// SetDefaultsNetworkPolicy: ports are TCP unless said otherwise; policyTypes
// is Ingress, plus Egress when egress rules are given.
func SetDefaultsNetworkPolicy(np *networkingv1.NetworkPolicy) {
	for i := range np.Spec.Ingress {
		defaultProtocols(np.Spec.Ingress[i].Ports)
	}
	for i := range np.Spec.Egress {
		defaultProtocols(np.Spec.Egress[i].Ports)
	}
	if len(np.Spec.PolicyTypes) == 0 {
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(np.Spec.Egress) > 0 {
			np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
}

func defaultProtocols(ports []networkingv1.NetworkPolicyPort) {
	for i := range ports {
		if ports[i].Protocol == nil {
			ports[i].Protocol = ptr.To(corev1.ProtocolTCP)
		}
	}
}

// SetDefaultsIngressClass: parameters are cluster-scoped unless said otherwise.
func SetDefaultsIngressClass(ic *networkingv1.IngressClass) {
	if ic.Spec.Parameters != nil && ic.Spec.Parameters.Scope == nil {
		ic.Spec.Parameters.Scope = ptr.To(networkingv1.IngressClassParametersReferenceScopeCluster)
	}
}
