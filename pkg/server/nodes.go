package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// DefaultAgentPort is the port of a node agent's HTTPS endpoint when the
// Node does not say (the kubelet's 10250).
const DefaultAgentPort = 10250

// nodeConnector locates node agents for the API server's pods/log, exec
// and portforward subresources: the agent's address and port come from the
// Node object; the connection is verified against herd's CA and
// authenticated with the API server's agent client certificate (a plain
// TLS transport, so that upgraded connections carry the credential too).
type nodeConnector struct {
	client    atomic.Pointer[kubernetes.Interface]
	transport *http.Transport
}

func newNodeConnector(caPEM []byte, clientCert tls.Certificate) (*nodeConnector, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no CA certificate to verify node agents with")
	}
	return &nodeConnector{transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{clientCert}, MinVersion: tls.VersionTLS12},
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}}, nil
}

func (n *nodeConnector) setClient(c kubernetes.Interface) { n.client.Store(&c) }

// NodeLocation implements pod.NodeConnector.
func (n *nodeConnector) NodeLocation(ctx context.Context, nodeName string) (*url.URL, http.RoundTripper, error) {
	cp := n.client.Load()
	if cp == nil {
		return nil, nil, apierrors.NewServiceUnavailable("the API server is still starting")
	}
	node, err := (*cp).CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		return nil, nil, err
	}
	host := nodeHost(node)
	if host == "" {
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("node %s has no address to reach its agent", nodeName))
	}
	port := int(node.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port == 0 {
		port = DefaultAgentPort
	}
	return &url.URL{Scheme: "https", Host: net.JoinHostPort(host, strconv.Itoa(port))}, n.transport, nil
}

// nodeHost prefers the node's InternalIP, then ExternalIP, then Hostname.
func nodeHost(node *corev1.Node) string {
	for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP, corev1.NodeHostName} {
		for _, a := range node.Status.Addresses {
			if a.Type == t && a.Address != "" {
				return a.Address
			}
		}
	}
	return ""
}

// Endpoints implements service.ProxyBackend.
func (n *nodeConnector) Endpoints(ctx context.Context, namespace, name string) (*corev1.Endpoints, error) {
	cp := n.client.Load()
	if cp == nil {
		return nil, apierrors.NewServiceUnavailable("the API server is still starting")
	}
	return (*cp).CoreV1().Endpoints(namespace).Get(ctx, name, metav1.GetOptions{})
}

// Pod implements service.ProxyBackend.
func (n *nodeConnector) Pod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	cp := n.client.Load()
	if cp == nil {
		return nil, apierrors.NewServiceUnavailable("the API server is still starting")
	}
	return (*cp).CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
}
