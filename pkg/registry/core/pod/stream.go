package pod

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/proxy"
	"k8s.io/apiserver/pkg/registry/rest"
	apiproxy "k8s.io/apiserver/pkg/util/proxy"
	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/herd-project/herd/pkg/registry"
)

// ExecREST serves pods/exec by proxying the client's upgraded connection to
// the node agent that runs the pod. SPDY clients are proxied as they are;
// WebSocket clients (kubectl's default, protocol v5.channel.k8s.io) are
// translated to SPDY, as kube-apiserver does.
type ExecREST struct {
	store *registry.Store
	nodes NodeConnector
}

var _ rest.Connecter = &ExecREST{}

// New implements rest.Storage.
func (r *ExecREST) New() runtime.Object { return &corev1.PodExecOptions{} }

// Destroy implements rest.Storage.
func (r *ExecREST) Destroy() {}

// ConnectMethods implements rest.Connecter.
func (r *ExecREST) ConnectMethods() []string { return []string{http.MethodGet, http.MethodPost} }

// NewConnectOptions implements rest.Connecter.
func (r *ExecREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.PodExecOptions{}, false, ""
}

// Connect implements rest.Connecter.
func (r *ExecREST) Connect(ctx context.Context, name string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	o, ok := opts.(*corev1.PodExecOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %#v", opts))
	}
	if len(o.Command) == 0 {
		return nil, apierrors.NewBadRequest("you must specify at least one command for the container")
	}
	if !o.Stdin && !o.Stdout && !o.Stderr {
		return nil, apierrors.NewBadRequest("you must specify at least 1 of stdin, stdout, stderr")
	}
	if o.TTY && o.Stderr {
		// A terminal merges the output streams.
		o.Stderr = false
	}
	p, container, base, transport, err := locateRunningPod(ctx, r.store, r.nodes, name, o.Container, "exec into")
	if err != nil {
		return nil, err
	}
	q := streamQuery(o.Stdin, o.Stdout, o.Stderr, o.TTY)
	q["command"] = o.Command
	loc := *base
	loc.Path = fmt.Sprintf("/exec/%s/%s/%s", url.PathEscape(p.Namespace), url.PathEscape(p.Name), url.PathEscape(container))
	loc.RawQuery = q.Encode()

	return streamHandler(&loc, transport, responder, apiproxy.Options{Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr, Tty: o.TTY}), nil
}

// AttachREST serves pods/attach (kubectl attach, kubectl run -i) like
// pods/exec: proxied to the node agent, WebSocket clients translated to
// SPDY.
type AttachREST struct {
	store *registry.Store
	nodes NodeConnector
}

var _ rest.Connecter = &AttachREST{}

// New implements rest.Storage.
func (r *AttachREST) New() runtime.Object { return &corev1.PodAttachOptions{} }

// Destroy implements rest.Storage.
func (r *AttachREST) Destroy() {}

// ConnectMethods implements rest.Connecter.
func (r *AttachREST) ConnectMethods() []string { return []string{http.MethodGet, http.MethodPost} }

// NewConnectOptions implements rest.Connecter.
func (r *AttachREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.PodAttachOptions{}, false, ""
}

// Connect implements rest.Connecter.
func (r *AttachREST) Connect(ctx context.Context, name string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	o, ok := opts.(*corev1.PodAttachOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %#v", opts))
	}
	if !o.Stdin && !o.Stdout && !o.Stderr {
		return nil, apierrors.NewBadRequest("you must specify at least 1 of stdin, stdout, stderr")
	}
	if o.TTY && o.Stderr {
		o.Stderr = false
	}
	p, container, base, transport, err := locateRunningPod(ctx, r.store, r.nodes, name, o.Container, "attach to")
	if err != nil {
		return nil, err
	}
	q := streamQuery(o.Stdin, o.Stdout, o.Stderr, o.TTY)
	loc := *base
	loc.Path = fmt.Sprintf("/attach/%s/%s/%s", url.PathEscape(p.Namespace), url.PathEscape(p.Name), url.PathEscape(container))
	loc.RawQuery = q.Encode()
	return streamHandler(&loc, transport, responder, apiproxy.Options{Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr, Tty: o.TTY}), nil
}

// streamQuery encodes the streams asked for as the kubelet's endpoints
// read them.
func streamQuery(stdin, stdout, stderr, tty bool) url.Values {
	q := url.Values{}
	for k, on := range map[string]bool{"input": stdin, "output": stdout, "error": stderr, "tty": tty} {
		if on {
			q.Set(k, "1")
		}
	}
	return q
}

// streamHandler proxies an exec or attach session to the agent at loc:
// SPDY clients as they are, WebSocket clients (v5.channel.k8s.io)
// translated to SPDY.
func streamHandler(loc *url.URL, transport http.RoundTripper, responder rest.Responder, opts apiproxy.Options) http.Handler {
	upgrade := proxy.NewUpgradeAwareHandler(loc, transport, false, true, proxy.NewErrorResponder(responder))
	translator := apiproxy.NewStreamTranslatorHandler(loc, transport, 0, opts)
	return apiproxy.NewTranslatingHandler(upgrade, translator, wsstream.IsWebSocketRequestWithStreamCloseProtocol)
}

// locateRunningPod finds the pod, the container asked for (or the default
// one) and the agent of its node; a finished pod cannot be connected to.
func locateRunningPod(ctx context.Context, store *registry.Store, nodes NodeConnector, name, container, verb string) (*corev1.Pod, string, *url.URL, http.RoundTripper, error) {
	obj, err := store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, "", nil, nil, err
	}
	p := obj.(*corev1.Pod)
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return nil, "", nil, nil, apierrors.NewBadRequest(fmt.Sprintf("cannot %s a container in a completed pod; current phase is %s", verb, p.Status.Phase))
	}
	if container, err = logContainer(p, container); err != nil {
		return nil, "", nil, nil, err
	}
	if p.Spec.NodeName == "" {
		return nil, "", nil, nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", name))
	}
	base, transport, err := nodes.NodeLocation(ctx, p.Spec.NodeName)
	if err != nil {
		return nil, "", nil, nil, err
	}
	return p, container, base, transport, nil
}

// PortForwardREST serves pods/portforward by proxying the client's upgraded
// connection to the pod's node agent. WebSocket clients (kubectl's default)
// tunnel SPDY inside the WebSocket; the tunnel is unwrapped here.
type PortForwardREST struct {
	store *registry.Store
	nodes NodeConnector
}

var _ rest.Connecter = &PortForwardREST{}

// New implements rest.Storage.
func (r *PortForwardREST) New() runtime.Object { return &corev1.PodPortForwardOptions{} }

// Destroy implements rest.Storage.
func (r *PortForwardREST) Destroy() {}

// ConnectMethods implements rest.Connecter.
func (r *PortForwardREST) ConnectMethods() []string { return []string{http.MethodGet, http.MethodPost} }

// NewConnectOptions implements rest.Connecter.
func (r *PortForwardREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.PodPortForwardOptions{}, false, ""
}

// Connect implements rest.Connecter.
func (r *PortForwardREST) Connect(ctx context.Context, name string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	o, ok := opts.(*corev1.PodPortForwardOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %#v", opts))
	}
	for _, port := range o.Ports {
		if port < 1 || port > 65535 {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("port %d must be in the range 1 to 65535", port))
		}
	}
	obj, err := r.store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	p := obj.(*corev1.Pod)
	if p.Spec.NodeName == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", name))
	}
	base, transport, err := r.nodes.NodeLocation(ctx, p.Spec.NodeName)
	if err != nil {
		return nil, err
	}
	loc := *base
	loc.Path = fmt.Sprintf("/portForward/%s/%s", url.PathEscape(p.Namespace), url.PathEscape(p.Name))
	upgrade := proxy.NewUpgradeAwareHandler(&loc, transport, false, true, proxy.NewErrorResponder(responder))
	tunnel := apiproxy.NewTunnelingHandler(upgrade)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if wsstream.IsWebSocketRequestWithTunnelingProtocol(req) {
			tunnel.ServeHTTP(w, req)
			return
		}
		upgrade.ServeHTTP(w, req)
	}), nil
}
