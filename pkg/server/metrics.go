package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsclientset "k8s.io/metrics/pkg/client/clientset/versioned"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/agent/stats"
	"github.com/herd-project/herd/pkg/apiserver"
	"github.com/herd-project/herd/pkg/controller/podautoscaler"
	metricsregistry "github.com/herd-project/herd/pkg/registry/metrics"
)

// withMetrics serves metrics.k8s.io/v1beta1 from the node agents' usage
// summaries, reached through the node connector.
func withMetrics(c *apiserver.Config, nodes *nodeConnector) *metricsregistry.Scraper {
	scraper := metricsregistry.NewScraper(metricsSource{nodes}, nil)
	prev := c.ExtraStorage
	c.ExtraStorage = func(authn authenticator.Request) map[schema.GroupVersion]map[string]rest.Storage {
		m := map[schema.GroupVersion]map[string]rest.Storage{}
		if prev != nil {
			m = prev(authn)
		}
		m[metricsv1beta1.SchemeGroupVersion] = metricsregistry.Storage(scraper)
		return m
	}
	return scraper
}

// newHPAController builds the HorizontalPodAutoscaler controller; it reads
// metrics.k8s.io as its own identity, like its other requests.
func newHPAController(srv *apiserver.Server, ids *identities, client kubernetes.Interface, f informers.SharedInformerFactory,
	rec record.EventRecorder, clk clock.WithTicker) (*podautoscaler.Controller, error) {
	mc, err := metricsclientset.NewForConfig(ids.config(srv.Loopback, "horizontal-pod-autoscaler"))
	if err != nil {
		return nil, err
	}
	return podautoscaler.New(client, podautoscaler.NewMetricsClient(mc.MetricsV1beta1()), f, rec, clk, podautoscaler.Options{}), nil
}

// metricsSource implements metricsregistry.Source over the loopback client
// and the agents' /stats/resource endpoint.
type metricsSource struct{ n *nodeConnector }

func (s metricsSource) Nodes(ctx context.Context, selector labels.Selector) ([]corev1.Node, error) {
	cp := s.n.client.Load()
	if cp == nil {
		return nil, apierrors.NewServiceUnavailable("the API server is still starting")
	}
	l, err := (*cp).CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: selector.String(), ResourceVersion: "0"})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

func (s metricsSource) Pods(ctx context.Context, namespace string, selector labels.Selector, fieldSelector fields.Selector) ([]corev1.Pod, error) {
	cp := s.n.client.Load()
	if cp == nil {
		return nil, apierrors.NewServiceUnavailable("the API server is still starting")
	}
	l, err := (*cp).CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String(),
		FieldSelector: fieldSelector.String(), ResourceVersion: "0"})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

func (s metricsSource) Summary(ctx context.Context, node string) (*stats.Summary, error) {
	loc, rt, err := s.n.NodeLocation(ctx, node)
	if err != nil {
		return nil, err
	}
	u := *loc
	u.Path = stats.Path
	u.RawQuery = url.Values{"node": {node}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("node %s: %s: %s", node, resp.Status, b)
	}
	var sum stats.Summary
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&sum); err != nil {
		return nil, fmt.Errorf("node %s: decoding usage: %w", node, err)
	}
	return &sum, nil
}
