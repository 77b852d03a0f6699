package pod

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericrest "k8s.io/apiserver/pkg/registry/generic/rest"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/herd-project/herd/pkg/registry"
)

// NodeConnector tells the API server how to reach the agent of a node: the
// base URL of its HTTPS endpoint and a transport that authenticates to it.
type NodeConnector interface {
	NodeLocation(ctx context.Context, nodeName string) (*url.URL, http.RoundTripper, error)
}

// LogREST serves pods/log by streaming the container's log from the node
// agent that runs the pod, as the API server proxies to the kubelet.
type LogREST struct {
	store *registry.Store
	nodes NodeConnector
}

var (
	_ rest.GetterWithOptions = &LogREST{}
	_ rest.StorageMetadata   = &LogREST{}
)

// New implements rest.Storage.
func (r *LogREST) New() runtime.Object { return &corev1.Pod{} }

// Destroy implements rest.Storage.
func (r *LogREST) Destroy() {}

// ProducesMIMETypes implements rest.StorageMetadata.
func (r *LogREST) ProducesMIMETypes(string) []string { return []string{"text/plain"} }

// ProducesObject implements rest.StorageMetadata: the log is a string.
func (r *LogREST) ProducesObject(string) interface{} { return "" }

// NewGetOptions implements rest.GetterWithOptions.
func (r *LogREST) NewGetOptions() (runtime.Object, bool, string) {
	return &corev1.PodLogOptions{}, false, ""
}

// Get returns a streamer of the container's log.
func (r *LogREST) Get(ctx context.Context, name string, opts runtime.Object) (runtime.Object, error) {
	o, ok := opts.(*corev1.PodLogOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %#v", opts))
	}
	if errs := validateLogOptions(o); len(errs) > 0 {
		return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("PodLogOptions").GroupKind(), name, errs)
	}
	obj, err := r.store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	p := obj.(*corev1.Pod)
	container, err := logContainer(p, o.Container)
	if err != nil {
		return nil, err
	}
	if p.Spec.NodeName == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", name))
	}
	base, transport, err := r.nodes.NodeLocation(ctx, p.Spec.NodeName)
	if err != nil {
		return nil, err
	}
	loc := *base
	loc.Path = fmt.Sprintf("/containerLogs/%s/%s/%s", url.PathEscape(p.Namespace), url.PathEscape(p.Name), url.PathEscape(container))
	loc.RawQuery = logQuery(o).Encode()
	return &genericrest.LocationStreamer{
		Location:        &loc,
		Transport:       transport,
		ContentType:     "text/plain",
		Flush:           o.Follow,
		ResponseChecker: genericrest.NewGenericHttpResponseChecker(corev1.Resource("pods/log"), name),
		RedirectChecker: genericrest.PreventRedirects,
	}, nil
}

// logContainer picks the container whose log is asked for: the named one,
// or the pod's only container, or the default-container annotation's.
func logContainer(p *corev1.Pod, name string) (string, error) {
	var names, initNames, ephemeralNames []string
	for _, c := range p.Spec.Containers {
		names = append(names, c.Name)
	}
	for _, c := range p.Spec.InitContainers {
		initNames = append(initNames, c.Name)
	}
	for _, c := range p.Spec.EphemeralContainers {
		ephemeralNames = append(ephemeralNames, c.Name)
	}
	if name == "" {
		if d := p.Annotations["kubectl.kubernetes.io/default-container"]; d != "" {
			name = d
		} else if len(names) == 1 {
			return names[0], nil
		} else {
			msg := fmt.Sprintf("a container name must be specified for pod %s, choose one of: [%s]", p.Name, strings.Join(names, " "))
			if len(initNames) > 0 {
				msg += fmt.Sprintf(" or one of the init containers: [%s]", strings.Join(initNames, " "))
			}
			if len(ephemeralNames) > 0 {
				msg += fmt.Sprintf(" or one of the ephemeral containers: [%s]", strings.Join(ephemeralNames, " "))
			}
			return "", apierrors.NewBadRequest(msg)
		}
	}
	for _, list := range [][]string{names, initNames, ephemeralNames} {
		for _, n := range list {
			if n == name {
				return name, nil
			}
		}
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, p.Name))
}

func validateLogOptions(o *corev1.PodLogOptions) field.ErrorList {
	var errs field.ErrorList
	if o.TailLines != nil && *o.TailLines < 0 {
		errs = append(errs, field.Invalid(field.NewPath("tailLines"), *o.TailLines, "must be greater than or equal to 0"))
	}
	if o.SinceSeconds != nil && *o.SinceSeconds < 1 {
		errs = append(errs, field.Invalid(field.NewPath("sinceSeconds"), *o.SinceSeconds, "must be greater than 0"))
	}
	if o.LimitBytes != nil && *o.LimitBytes < 1 {
		errs = append(errs, field.Invalid(field.NewPath("limitBytes"), *o.LimitBytes, "must be greater than 0"))
	}
	if o.SinceSeconds != nil && o.SinceTime != nil {
		errs = append(errs, field.Forbidden(field.NewPath(""), "at most one of `sinceTime` or `sinceSeconds` may be specified"))
	}
	return errs
}

// logQuery encodes the options as the kubelet's containerLogs endpoint reads them.
func logQuery(o *corev1.PodLogOptions) url.Values {
	q := url.Values{}
	if o.Follow {
		q.Set("follow", "true")
	}
	if o.Previous {
		q.Set("previous", "true")
	}
	if o.Timestamps {
		q.Set("timestamps", "true")
	}
	if o.TailLines != nil {
		q.Set("tailLines", strconv.FormatInt(*o.TailLines, 10))
	}
	if o.SinceSeconds != nil {
		q.Set("sinceSeconds", strconv.FormatInt(*o.SinceSeconds, 10))
	}
	if o.SinceTime != nil {
		q.Set("sinceTime", o.SinceTime.UTC().Format(time.RFC3339))
	}
	if o.LimitBytes != nil {
		q.Set("limitBytes", strconv.FormatInt(*o.LimitBytes, 10))
	}
	return q
}
