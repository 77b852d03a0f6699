package agent

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/proxy"
)

// podProxyTransport reaches pods' ports for pods/proxy and services/proxy.
// Pods' certificates are not verified, as kube-apiserver's proxy does not.
var podProxyTransport = &http.Transport{
	DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // as kube-apiserver's pod proxy
	TLSHandshakeTimeout: 10 * time.Second,
	MaxIdleConnsPerHost: 4,
	IdleConnTimeout:     90 * time.Second,
}

// servePodProxy serves /podProxy/{namespace}/{pod}/{scheme}/{port}/{path}:
// the API server's pods/proxy and services/proxy, passed to the pod's port
// on this node.
func (a *Agent) servePodProxy(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/podProxy/")
	parts := strings.SplitN(rest, "/", 5)
	if len(parts) < 4 || parts[0] == "" || parts[1] == "" {
		http.Error(w, "expected /podProxy/{namespace}/{pod}/{scheme}/{port}/{path}", http.StatusBadRequest)
		return
	}
	scheme, port := parts[2], parts[3]
	if scheme != "http" && scheme != "https" {
		http.Error(w, fmt.Sprintf("scheme %q is not http or https", scheme), http.StatusBadRequest)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		http.Error(w, fmt.Sprintf("port %q must be a number from 1 to 65535", port), http.StatusBadRequest)
		return
	}
	pod := a.podByName(parts[0], parts[1])
	if pod == nil || !a.servesNode(pod.Spec.NodeName) {
		http.Error(w, fmt.Sprintf("pod %s/%s not found on this node", parts[0], parts[1]), http.StatusNotFound)
		return
	}
	ip := pod.Status.PodIP
	if ip == "" {
		http.Error(w, fmt.Sprintf("pod %s/%s has no IP address yet", parts[0], parts[1]), http.StatusServiceUnavailable)
		return
	}
	path := "/"
	if len(parts) == 5 {
		path += parts[4]
	}
	loc := &url.URL{Scheme: scheme, Host: net.JoinHostPort(ip, port), Path: path, RawQuery: r.URL.RawQuery}
	h := proxy.NewUpgradeAwareHandler(loc, podProxyTransport, false, false, proxyErrors{})
	h.UseRequestLocation = false
	h.ServeHTTP(w, r)
}

// proxyErrors answers a failed proxy connection with 502 and the reason.
type proxyErrors struct{}

func (proxyErrors) Error(w http.ResponseWriter, _ *http.Request, err error) {
	http.Error(w, "error trying to reach the pod: "+err.Error(), http.StatusBadGateway)
}

// servesNode reports whether this agent runs node.
func (a *Agent) servesNode(node string) bool {
	for _, n := range a.cfg.NodeNames {
		if n == node {
			return true
		}
	}
	return false
}

// serveHealthz answers the kubelet's /healthz.
func (a *Agent) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(w, "ok")
}

// servePods answers the kubelet's /pods: the pods bound to this agent's
// nodes, as a v1 PodList.
func (a *Agent) servePods(w http.ResponseWriter, _ *http.Request) {
	list := &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}}
	for _, obj := range a.podInf.GetStore().List() {
		p := obj.(*corev1.Pod)
		if a.servesNode(p.Spec.NodeName) {
			list.Items = append(list.Items, *p)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(list)
}
