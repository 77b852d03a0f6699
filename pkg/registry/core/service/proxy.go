package service

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/herd-project/herd/pkg/registry"
	"github.com/herd-project/herd/pkg/registry/core/pod"
)

// ProxyBackend finds what services/proxy needs: a Service's endpoints, the
// pods behind them and their nodes' agents.
type ProxyBackend interface {
	pod.NodeConnector
	Endpoints(ctx context.Context, namespace, name string) (*corev1.Endpoints, error)
	Pod(ctx context.Context, namespace, name string) (*corev1.Pod, error)
}

// ProxyREST serves services/proxy (`kubectl get --raw
// /api/v1/namespaces/NS/services/[SCHEME:]NAME[:PORT]/proxy/PATH`): the
// request goes to one ready endpoint of the Service, picked at random, as in
// Kubernetes, through the agent of the endpoint pod's node.
type ProxyREST struct {
	store   *registry.Store
	backend ProxyBackend
}

var _ rest.Connecter = &ProxyREST{}

// New implements rest.Storage.
func (r *ProxyREST) New() runtime.Object { return &corev1.ServiceProxyOptions{} }

// Destroy implements rest.Storage.
func (r *ProxyREST) Destroy() {}

// ConnectMethods implements rest.Connecter.
func (r *ProxyREST) ConnectMethods() []string { return pod.ProxyMethods }

// NewConnectOptions implements rest.Connecter.
func (r *ProxyREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.ServiceProxyOptions{}, true, "path"
}

// Connect implements rest.Connecter.
func (r *ProxyREST) Connect(ctx context.Context, id string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	o, ok := opts.(*corev1.ServiceProxyOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %#v", opts))
	}
	scheme, name, port, valid := utilnet.SplitSchemeNamePort(id)
	if !valid {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid service request %q", id))
	}
	obj, err := r.store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	svc := obj.(*corev1.Service)
	// A port number names the service port with that number.
	if n, err := strconv.Atoi(port); err == nil {
		found := false
		for _, sp := range svc.Spec.Ports {
			if int(sp.Port) == n {
				port, found = sp.Name, true
				break
			}
		}
		if !found {
			return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("no service port %d found for service %q", n, name))
		}
	}
	ep, err := r.backend.Endpoints(ctx, svc.Namespace, svc.Name)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	type target struct {
		addr corev1.EndpointAddress
		port int32
	}
	var targets []target
	if ep != nil {
		for _, ss := range ep.Subsets {
			for _, p := range ss.Ports {
				if p.Name != port {
					continue
				}
				for _, a := range ss.Addresses {
					targets = append(targets, target{a, p.Port})
				}
			}
		}
	}
	if len(targets) == 0 {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("no endpoints available for service %q", name))
	}
	t := targets[rand.IntN(len(targets))]
	if t.addr.TargetRef == nil || t.addr.TargetRef.Kind != "Pod" {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("endpoint %s of service %q is not a pod: herd proxies only to pods", t.addr.IP, name))
	}
	ns := t.addr.TargetRef.Namespace
	if ns == "" {
		ns = svc.Namespace
	}
	p, err := r.backend.Pod(ctx, ns, t.addr.TargetRef.Name)
	if err != nil {
		return nil, err
	}
	loc, transport, err := pod.PodProxyLocation(ctx, r.backend, p, scheme, strconv.Itoa(int(t.port)))
	if err != nil {
		return nil, err
	}
	loc.Path = pod.JoinProxyPath(loc.Path, o.Path)
	return pod.ProxyHandler(loc, transport, responder), nil
}
