package pod

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/proxy"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/herd-project/herd/pkg/registry"
)

// ProxyMethods are the HTTP methods the proxy subresources pass on.
var ProxyMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions}

// ProxyREST serves pods/proxy (`kubectl get --raw
// /api/v1/namespaces/NS/pods/[SCHEME:]NAME[:PORT]/proxy/PATH`, kubectl
// proxy): the request goes to the pod's port through the agent of its node,
// which reaches the pod where it runs.
type ProxyREST struct {
	store *registry.Store
	nodes NodeConnector
}

var _ rest.Connecter = &ProxyREST{}

// New implements rest.Storage.
func (r *ProxyREST) New() runtime.Object { return &corev1.PodProxyOptions{} }

// Destroy implements rest.Storage.
func (r *ProxyREST) Destroy() {}

// ConnectMethods implements rest.Connecter.
func (r *ProxyREST) ConnectMethods() []string { return ProxyMethods }

// NewConnectOptions implements rest.Connecter: the rest of the URL after
// /proxy is the path.
func (r *ProxyREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.PodProxyOptions{}, true, "path"
}

// Connect implements rest.Connecter.
func (r *ProxyREST) Connect(ctx context.Context, id string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	o, ok := opts.(*corev1.PodProxyOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %#v", opts))
	}
	scheme, name, port, valid := utilnet.SplitSchemeNamePort(id)
	if !valid {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid pod request %q", id))
	}
	obj, err := r.store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	p := obj.(*corev1.Pod)
	loc, transport, err := PodProxyLocation(ctx, r.nodes, p, scheme, port)
	if err != nil {
		return nil, err
	}
	loc.Path = JoinProxyPath(loc.Path, o.Path)
	return ProxyHandler(loc, transport, responder), nil
}

// PodProxyLocation is the agent URL that proxies to port of pod p with
// scheme (http or https): the port is a number or the name of a container
// port, and defaults to the first declared container port, as in Kubernetes.
func PodProxyLocation(ctx context.Context, nodes NodeConnector, p *corev1.Pod, scheme, port string) (*url.URL, http.RoundTripper, error) {
	if scheme == "" {
		scheme = "http"
	}
	if port == "" {
		for _, c := range p.Spec.Containers {
			if len(c.Ports) > 0 {
				port = strconv.Itoa(int(c.Ports[0].ContainerPort))
				break
			}
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		named := false
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name != "" && cp.Name == port {
					port, named = strconv.Itoa(int(cp.ContainerPort)), true
				}
			}
		}
		if !named {
			return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s has no port %q to proxy to", p.Name, port))
		}
	}
	if p.Spec.NodeName == "" {
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", p.Name))
	}
	if p.Status.PodIP == "" {
		return nil, nil, apierrors.NewServiceUnavailable(fmt.Sprintf("pod %s has no IP address yet", p.Name))
	}
	base, transport, err := nodes.NodeLocation(ctx, p.Spec.NodeName)
	if err != nil {
		return nil, nil, err
	}
	loc := *base
	loc.Path = fmt.Sprintf("/podProxy/%s/%s/%s/%s", url.PathEscape(p.Namespace), url.PathEscape(p.Name), scheme, port)
	return &loc, transport, nil
}

// JoinProxyPath appends the client's path to the agent's, keeping a
// trailing slash, as Kubernetes' proxy does.
func JoinProxyPath(base, p string) string {
	if p == "" || p == "/" {
		return strings.TrimSuffix(base, "/") + "/"
	}
	joined := path.Join(base, p)
	if strings.HasSuffix(p, "/") {
		joined += "/"
	}
	return joined
}

// ProxyHandler passes the request (upgrades included) to loc and its
// response back; errors go to the responder as API Status objects.
func ProxyHandler(loc *url.URL, transport http.RoundTripper, responder rest.Responder) http.Handler {
	h := proxy.NewUpgradeAwareHandler(loc, transport, true, false, proxy.NewErrorResponder(responder))
	h.UseRequestLocation = false
	return h
}
