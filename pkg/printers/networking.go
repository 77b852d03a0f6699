package printers

import (
	"sort"
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func init() {
	register(schema.GroupResource{Group: networkingv1.GroupName, Resource: "ingresses"}, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Class", "string", "The name of the IngressClass resource that should be used for this Ingress"),
		column("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
		column("Address", "string", "Address is a list containing ingress points for the load-balancer"),
		column("Ports", "string", "Ports of TLS configurations that open"),
		ageColumn(),
	}, typed(func(ing *networkingv1.Ingress, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		class := "<none>"
		if ing.Spec.IngressClassName != nil {
			class = *ing.Spec.IngressClassName
		}
		ports := "80"
		if len(ing.Spec.TLS) != 0 {
			ports = "80, 443"
		}
		return cells(ing.Name, class, ingressHosts(ing.Spec.Rules), ingressAddresses(ing.Status.LoadBalancer), ports,
			since(ing.CreationTimestamp, now))
	}))

	register(schema.GroupResource{Group: networkingv1.GroupName, Resource: "ingressclasses"}, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Controller", "string", "Controller that is responsible for handling this class"),
		column("Parameters", "string", "A reference to a resource with additional parameters"),
		ageColumn(),
	}, typed(func(ic *networkingv1.IngressClass, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		params := "<none>"
		if p := ic.Spec.Parameters; p != nil {
			params = p.Kind
			if p.APIGroup != nil {
				params += "." + *p.APIGroup
			}
			params += "/" + p.Name
		}
		return cells(ic.Name, ic.Spec.Controller, params, since(ic.CreationTimestamp, now))
	}))

	register(schema.GroupResource{Group: networkingv1.GroupName, Resource: "networkpolicies"}, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Pod-Selector", "string", "Selects the pods to which this NetworkPolicy object applies"),
		ageColumn(),
	}, typed(func(np *networkingv1.NetworkPolicy, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		return cells(np.Name, metav1.FormatLabelSelector(&np.Spec.PodSelector), since(np.CreationTimestamp, now))
	}))
}

// ingressHosts lists up to three rule hosts ("*" for a rule without one),
// then how many more there are.
func ingressHosts(rules []networkingv1.IngressRule) string {
	var hosts []string
	for _, r := range rules {
		h := r.Host
		if h == "" {
			h = "*"
		}
		hosts = append(hosts, h)
	}
	if len(hosts) == 0 {
		return "*"
	}
	return listWithMore(hosts[:min(len(hosts), 3)], len(hosts), 3)
}

// ingressAddresses is the sorted IPs or hostnames of the load balancer.
func ingressAddresses(s networkingv1.IngressLoadBalancerStatus) string {
	var out []string
	for _, lb := range s.Ingress {
		switch {
		case lb.IP != "":
			out = append(out, lb.IP)
		case lb.Hostname != "":
			out = append(out, lb.Hostname)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
