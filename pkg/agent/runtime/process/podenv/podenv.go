// Package podenv computes what a container process sees as Kubernetes
// defines it: its environment (env, envFrom, the downward API, resource
// fields, ConfigMap and Secret keys), its command line after $(VAR)
// expansion, and the pod's hostname. It only reads from the API; it does
// not start processes or write files.
package podenv

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// DefaultPath is the PATH a container gets when it sets none (the OCI
// runtime default).
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ConfigError is a problem with the objects a container references
// (missing ConfigMap, Secret or key); the kubelet reports it as waiting
// reason CreateContainerConfigError.
type ConfigError struct{ Message string }

func (e *ConfigError) Error() string { return e.Message }

// Expand replaces $(VAR) references in s with mapping(VAR) as Kubernetes
// does: "$$" becomes "$", references mapping does not know are left as they
// are, and a "$" not followed by "(" or "$" is kept.
func Expand(s string, mapping func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				// Unterminated reference: kept verbatim.
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := mapping(name); ok && name != "" {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// MapFunc returns a mapping for Expand over env, a list of NAME=VALUE.
func MapFunc(env []string) func(string) (string, bool) {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// Command returns the container's argv: command then args, each expanded
// against env. It is empty when the container has no command (an image
// entrypoint is needed).
func Command(c *corev1.Container, env []string) []string {
	if len(c.Command) == 0 {
		return nil
	}
	mapping := MapFunc(env)
	out := make([]string, 0, len(c.Command)+len(c.Args))
	for _, s := range c.Command {
		out = append(out, Expand(s, mapping))
	}
	for _, s := range c.Args {
		out = append(out, Expand(s, mapping))
	}
	return out
}

// Hostname returns the pod's hostname and, when it has a subdomain, its
// fully qualified name, as the kubelet computes them (spec.hostname or the
// pod name, cut to 63 characters).
func Hostname(pod *corev1.Pod, clusterDomain string) (hostname, fqdn string) {
	hostname = pod.Name
	if pod.Spec.Hostname != "" {
		hostname = pod.Spec.Hostname
	}
	if len(hostname) > 63 {
		hostname = strings.TrimRight(hostname[:63], "-.")
	}
	if pod.Spec.Subdomain != "" {
		if clusterDomain == "" {
			clusterDomain = "cluster.local"
		}
		fqdn = fmt.Sprintf("%s.%s.%s.svc.%s", hostname, pod.Spec.Subdomain, pod.Namespace, clusterDomain)
	}
	return hostname, fqdn
}

// Sources are the facts the environment is built from besides the pod.
type Sources struct {
	// Client reads ConfigMaps and Secrets; nil means none exist.
	Client   kubernetes.Interface
	NodeName string
	HostIP   string
	PodIP    string
	// NodeAllocatable stands in for unset limits in resourceFieldRef.
	NodeAllocatable corev1.ResourceList
	// KubernetesServiceHost/Port, when set, add the KUBERNETES_SERVICE_*
	// and KUBERNETES_PORT* variables.
	KubernetesServiceHost string
	KubernetesServicePort int
	ClusterDomain         string
}

type objCache struct {
	src        *Sources
	ns         string
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
}

func (o *objCache) configMap(ctx context.Context, name string) (*corev1.ConfigMap, error) {
	if cm, ok := o.configMaps[name]; ok {
		return cm, nil
	}
	if o.src.Client == nil {
		return nil, apierrors.NewNotFound(corev1.Resource("configmap"), name)
	}
	cm, err := o.src.Client.CoreV1().ConfigMaps(o.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	o.configMaps[name] = cm
	return cm, nil
}

func (o *objCache) secret(ctx context.Context, name string) (*corev1.Secret, error) {
	if s, ok := o.secrets[name]; ok {
		return s, nil
	}
	if o.src.Client == nil {
		return nil, apierrors.NewNotFound(corev1.Resource("secret"), name)
	}
	s, err := o.src.Client.CoreV1().Secrets(o.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	o.secrets[name] = s
	return s, nil
}

// envList keeps insertion order; setting a name again replaces its value in
// place.
type envList struct {
	names []string
	vals  map[string]string
}

func (l *envList) set(k, v string) {
	if l.vals == nil {
		l.vals = map[string]string{}
	}
	if _, ok := l.vals[k]; !ok {
		l.names = append(l.names, k)
	}
	l.vals[k] = v
}

func (l *envList) lookup(k string) (string, bool) { v, ok := l.vals[k]; return v, ok }

func (l *envList) list() []string {
	out := make([]string, 0, len(l.names))
	for _, k := range l.names {
		out = append(out, k+"="+l.vals[k])
	}
	return out
}

func validEnvName(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if r < ' ' || r > '~' || r == '=' {
			return false
		}
	}
	return true
}

// Env builds container c's environment, NAME=VALUE in order: PATH, HOME and
// HOSTNAME defaults, the kubernetes service variables, envFrom (each
// source's keys sorted, with its prefix), then env in order, where $(VAR)
// refers to anything defined before. A missing non-optional ConfigMap,
// Secret or key is a *ConfigError with the kubelet's message.
func Env(ctx context.Context, pod *corev1.Pod, c *corev1.Container, src Sources) ([]string, error) {
	cache := &objCache{src: &src, ns: pod.Namespace, configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	var base envList
	base.set("PATH", DefaultPath)
	base.set("HOME", "/root")
	hostname, fqdn := Hostname(pod, src.ClusterDomain)
	if pod.Spec.SetHostnameAsFQDN != nil && *pod.Spec.SetHostnameAsFQDN && fqdn != "" {
		hostname = fqdn
	}
	base.set("HOSTNAME", hostname)
	// Variables a user may reference in $(VAR) but that the runtime, not the
	// pod spec, defines are not visible to env expansion (as in the kubelet,
	// where only service variables and the container's env are).
	var env envList
	if src.KubernetesServiceHost != "" && src.KubernetesServicePort > 0 {
		h, p := src.KubernetesServiceHost, strconv.Itoa(src.KubernetesServicePort)
		url := "tcp://" + h + ":" + p
		env.set("KUBERNETES_SERVICE_HOST", h)
		env.set("KUBERNETES_SERVICE_PORT", p)
		env.set("KUBERNETES_SERVICE_PORT_HTTPS", p)
		env.set("KUBERNETES_PORT", url)
		env.set("KUBERNETES_PORT_"+p+"_TCP", url)
		env.set("KUBERNETES_PORT_"+p+"_TCP_PROTO", "tcp")
		env.set("KUBERNETES_PORT_"+p+"_TCP_PORT", p)
		env.set("KUBERNETES_PORT_"+p+"_TCP_ADDR", h)
	}
	for _, from := range c.EnvFrom {
		var data map[string]string
		switch {
		case from.ConfigMapRef != nil:
			ref := from.ConfigMapRef
			optional := ref.Optional != nil && *ref.Optional
			cm, err := cache.configMap(ctx, ref.Name)
			if err != nil {
				if apierrors.IsNotFound(err) {
					if optional {
						continue
					}
					return nil, &ConfigError{Message: fmt.Sprintf("configmap %q not found", ref.Name)}
				}
				return nil, err
			}
			data = cm.Data
		case from.SecretRef != nil:
			ref := from.SecretRef
			optional := ref.Optional != nil && *ref.Optional
			s, err := cache.secret(ctx, ref.Name)
			if err != nil {
				if apierrors.IsNotFound(err) {
					if optional {
						continue
					}
					return nil, &ConfigError{Message: fmt.Sprintf("secret %q not found", ref.Name)}
				}
				return nil, err
			}
			data = make(map[string]string, len(s.Data)+len(s.StringData))
			for k, v := range s.Data {
				data[k] = string(v)
			}
		default:
			continue
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := from.Prefix + k
			if !validEnvName(name) {
				continue
			}
			env.set(name, data[k])
		}
	}
	for i := range c.Env {
		e := &c.Env[i]
		if e.ValueFrom == nil {
			env.set(e.Name, Expand(e.Value, env.lookup))
			continue
		}
		v, skip, err := valueFrom(ctx, cache, pod, c, e, &src)
		if err != nil {
			return nil, err
		}
		if !skip {
			env.set(e.Name, v)
		}
	}
	for _, k := range env.names {
		base.set(k, env.vals[k])
	}
	return base.list(), nil
}

func valueFrom(ctx context.Context, cache *objCache, pod *corev1.Pod, c *corev1.Container, e *corev1.EnvVar, src *Sources) (string, bool, error) {
	vf := e.ValueFrom
	switch {
	case vf.FieldRef != nil:
		v, err := FieldValue(pod, vf.FieldRef.FieldPath, src.HostIP, src.PodIP, src.NodeName)
		return v, false, err
	case vf.ResourceFieldRef != nil:
		v, err := ResourceValue(pod, c, vf.ResourceFieldRef, src.NodeAllocatable)
		return v, false, err
	case vf.ConfigMapKeyRef != nil:
		ref := vf.ConfigMapKeyRef
		optional := ref.Optional != nil && *ref.Optional
		cm, err := cache.configMap(ctx, ref.Name)
		if err != nil {
			if apierrors.IsNotFound(err) {
				if optional {
					return "", true, nil
				}
				return "", false, &ConfigError{Message: fmt.Sprintf("configmap %q not found", ref.Name)}
			}
			return "", false, err
		}
		v, ok := cm.Data[ref.Key]
		if !ok {
			if optional {
				return "", true, nil
			}
			return "", false, &ConfigError{Message: fmt.Sprintf("couldn't find key %s in ConfigMap %s/%s", ref.Key, pod.Namespace, ref.Name)}
		}
		return v, false, nil
	case vf.SecretKeyRef != nil:
		ref := vf.SecretKeyRef
		optional := ref.Optional != nil && *ref.Optional
		s, err := cache.secret(ctx, ref.Name)
		if err != nil {
			if apierrors.IsNotFound(err) {
				if optional {
					return "", true, nil
				}
				return "", false, &ConfigError{Message: fmt.Sprintf("secret %q not found", ref.Name)}
			}
			return "", false, err
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			if optional {
				return "", true, nil
			}
			return "", false, &ConfigError{Message: fmt.Sprintf("couldn't find key %s in Secret %s/%s", ref.Key, pod.Namespace, ref.Name)}
		}
		return string(v), false, nil
	}
	return "", true, nil
}

// FieldValue is the downward API value of fieldPath for pod (env fieldRef
// and downwardAPI volume items).
func FieldValue(pod *corev1.Pod, fieldPath, hostIP, podIP, nodeName string) (string, error) {
	if path, sub, ok := subscript(fieldPath); ok {
		switch path {
		case "metadata.labels":
			return pod.Labels[sub], nil
		case "metadata.annotations":
			return pod.Annotations[sub], nil
		}
		return "", fmt.Errorf("unsupported fieldPath %q", fieldPath)
	}
	if hostIP == "" {
		hostIP = pod.Status.HostIP
	}
	if podIP == "" {
		podIP = pod.Status.PodIP
	}
	if nodeName == "" {
		nodeName = pod.Spec.NodeName
	}
	switch fieldPath {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return nodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP":
		return hostIP, nil
	case "status.hostIPs":
		ips := []string{}
		for _, ip := range pod.Status.HostIPs {
			ips = append(ips, ip.IP)
		}
		if len(ips) == 0 && hostIP != "" {
			ips = append(ips, hostIP)
		}
		return strings.Join(ips, ","), nil
	case "status.podIP":
		return podIP, nil
	case "status.podIPs":
		ips := []string{}
		for _, ip := range pod.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		if len(ips) == 0 && podIP != "" {
			ips = append(ips, podIP)
		}
		return strings.Join(ips, ","), nil
	}
	return "", fmt.Errorf("unsupported fieldPath %q", fieldPath)
}

// subscript splits "metadata.labels['key']" into its path and key.
func subscript(fieldPath string) (string, string, bool) {
	i := strings.Index(fieldPath, "['")
	if i < 0 || !strings.HasSuffix(fieldPath, "']") || len(fieldPath) < i+4 {
		return "", "", false
	}
	return fieldPath[:i], fieldPath[i+2 : len(fieldPath)-2], true
}

// formatMap renders labels or annotations as the downward API does:
// key="value" lines sorted by key, values quoted.
func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		lines = append(lines, k+"="+strconv.Quote(m[k]))
	}
	return strings.Join(lines, "\n")
}

// ResourceValue is the value of a resourceFieldRef for container c (or the
// container the ref names) with its divisor applied, rounding up; unset
// limits are the node's allocatable.
func ResourceValue(pod *corev1.Pod, c *corev1.Container, ref *corev1.ResourceFieldSelector, allocatable corev1.ResourceList) (string, error) {
	target := c
	if ref.ContainerName != "" && (c == nil || ref.ContainerName != c.Name) {
		target = nil
		for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
			for i := range list {
				if list[i].Name == ref.ContainerName {
					target = &list[i]
				}
			}
		}
		if target == nil {
			return "", fmt.Errorf("container %q not found in pod", ref.ContainerName)
		}
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", fmt.Errorf("unsupported container resource: %v", ref.Resource)
	}
	list := target.Resources.Requests
	if kind == "limits" {
		list = target.Resources.Limits
	}
	q, set := list[corev1.ResourceName(name)]
	if !set && kind == "limits" {
		q = allocatable[corev1.ResourceName(name)]
	}
	if name == string(corev1.ResourceCPU) {
		v := int64(math.Ceil(float64(q.MilliValue()) / float64(divisor.MilliValue())))
		if kind == "limits" && v == 0 && q.MilliValue() > 0 {
			v = 1
		}
		return strconv.FormatInt(v, 10), nil
	}
	switch corev1.ResourceName(name) {
	case corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
	default:
		if !strings.HasPrefix(name, corev1.ResourceHugePagesPrefix) {
			return "", fmt.Errorf("unsupported container resource: %v", ref.Resource)
		}
	}
	v := int64(math.Ceil(float64(q.Value()) / float64(divisor.Value())))
	return strconv.FormatInt(v, 10), nil
}
