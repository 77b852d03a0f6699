// Package node defines how the API server serves core/v1 Nodes: validation,
// the /status subresource the node agents heartbeat through, the
// spec.unschedulable field selector and table columns.
package node

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
	"github.com/herd-project/herd/pkg/registry/core/pod"
)

// Definition returns the nodes resource; nodes locates node agents for
// nodes/proxy.
func Definition(nodes pod.NodeConnector) *registry.Definition {
	return &registry.Definition{
		GroupVersion:         corev1.SchemeGroupVersion,
		Resource:             "nodes",
		Singular:             "node",
		Kind:                 "Node",
		ShortNames:           []string{"no"},
		New:                  func() runtime.Object { return &corev1.Node{} },
		NewList:              func() runtime.Object { return &corev1.NodeList{} },
		HasStatus:            true,
		Validate:             registry.Validator(core.ValidateNode),
		ValidateUpdate:       registry.UpdateValidator(core.ValidateNodeUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(core.ValidateNodeUpdate),
		SelectableFields: func(obj runtime.Object) fields.Set {
			return fields.Set{"spec.unschedulable": strconv.FormatBool(obj.(*corev1.Node).Spec.Unschedulable)}
		},
		FieldLabels: []string{"spec.unschedulable"},
		Table:       printers.For(schema.GroupResource{Resource: "nodes"}),
		ExtraStorage: map[string]func(*registry.Store) rest.Storage{
			"proxy": func(s *registry.Store) rest.Storage { return &ProxyREST{store: s, nodes: nodes} },
		},
	}
}

// ProxyREST serves nodes/proxy (`kubectl get --raw
// /api/v1/nodes/NAME/proxy/healthz`): the request goes to the node's agent,
// as kube-apiserver's goes to the kubelet.
type ProxyREST struct {
	store *registry.Store
	nodes pod.NodeConnector
}

var _ rest.Connecter = &ProxyREST{}

// New implements rest.Storage.
func (r *ProxyREST) New() runtime.Object { return &corev1.NodeProxyOptions{} }

// Destroy implements rest.Storage.
func (r *ProxyREST) Destroy() {}

// ConnectMethods implements rest.Connecter.
func (r *ProxyREST) ConnectMethods() []string { return pod.ProxyMethods }

// NewConnectOptions implements rest.Connecter.
func (r *ProxyREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.NodeProxyOptions{}, true, "path"
}

// Connect implements rest.Connecter. The name may carry a scheme and port
// (https:NAME:PORT); the agent has one endpoint, so they must match it.
func (r *ProxyREST) Connect(ctx context.Context, id string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	o, ok := opts.(*corev1.NodeProxyOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %#v", opts))
	}
	scheme, name, port, valid := utilnet.SplitSchemeNamePort(id)
	if !valid || (scheme != "" && scheme != "https") {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid node request %q", id))
	}
	if _, err := r.store.Get(ctx, name, &metav1.GetOptions{}); err != nil {
		return nil, err
	}
	base, transport, err := r.nodes.NodeLocation(ctx, name)
	if err != nil {
		return nil, err
	}
	if port != "" && !strings.HasSuffix(base.Host, ":"+port) {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("node %s's agent does not listen on port %s", name, port))
	}
	loc := *base
	loc.Path = pod.JoinProxyPath("/", o.Path)
	return pod.ProxyHandler(&loc, transport, responder), nil
}
