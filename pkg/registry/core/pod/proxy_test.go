package pod

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type fakeNodes struct{}

func (fakeNodes) NodeLocation(_ context.Context, node string) (*url.URL, http.RoundTripper, error) {
	return &url.URL{Scheme: "https", Host: node + ":10250"}, http.DefaultTransport, nil
}

func TestPodProxyLocation(t *testing.T) {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{
			{Name: "a"},
			{Name: "b", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9090}}},
		}},
		Status: corev1.PodStatus{PodIP: "10.0.0.9"},
	}
	for _, tc := range []struct{ scheme, port, want string }{
		{"", "", "https://n1:10250/podProxy/ns/web/http/8080"},
		{"https", "metrics", "https://n1:10250/podProxy/ns/web/https/9090"},
		{"", "7000", "https://n1:10250/podProxy/ns/web/http/7000"},
	} {
		loc, _, err := PodProxyLocation(context.Background(), fakeNodes{}, p, tc.scheme, tc.port)
		if err != nil || loc.String() != tc.want {
			t.Errorf("%q %q: %v %v, want %s", tc.scheme, tc.port, loc, err, tc.want)
		}
	}
	if _, _, err := PodProxyLocation(context.Background(), fakeNodes{}, p, "", "nope"); !apierrors.IsBadRequest(err) {
		t.Errorf("unknown port name: %v", err)
	}
	pending := p.DeepCopy()
	pending.Status.PodIP = ""
	if _, _, err := PodProxyLocation(context.Background(), fakeNodes{}, pending, "", ""); !apierrors.IsServiceUnavailable(err) {
		t.Errorf("pod without IP: %v", err)
	}
	unscheduled := p.DeepCopy()
	unscheduled.Spec.NodeName = ""
	if _, _, err := PodProxyLocation(context.Background(), fakeNodes{}, unscheduled, "", ""); !apierrors.IsBadRequest(err) {
		t.Errorf("pod without node: %v", err)
	}
}

func TestJoinProxyPath(t *testing.T) {
	for _, tc := range []struct{ base, p, want string }{
		{"/podProxy/a", "", "/podProxy/a/"},
		{"/podProxy/a", "/", "/podProxy/a/"},
		{"/podProxy/a", "x/y", "/podProxy/a/x/y"},
		{"/podProxy/a", "/x/y/", "/podProxy/a/x/y/"},
		{"/", "healthz", "/healthz"},
		{"/", "", "/"},
	} {
		if got := JoinProxyPath(tc.base, tc.p); got != tc.want {
			t.Errorf("JoinProxyPath(%q, %q) = %q, want %q", tc.base, tc.p, got, tc.want)
		}
	}
}
