// Package pod defines how the API server serves core/v1 Pods: validation,
// the initial Pending status with its QoS class, graceful deletion, the
// /status and /binding subresources, field selectors (spec.nodeName is
// indexed for node agents) and table columns. Scheduling and running pods is
// the business of pkg/scheduler and pkg/agent.
package pod

import (
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	storeerr "k8s.io/apiserver/pkg/storage/errors"

	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the pods resource; nodes locates node agents for the
// pods/log, pods/exec, pods/attach and pods/portforward subresources.
func Definition(nodes NodeConnector) *registry.Definition {
	return &registry.Definition{
		GroupVersion:  corev1.SchemeGroupVersion,
		Resource:      "pods",
		Singular:      "pod",
		Kind:          "Pod",
		Namespaced:    true,
		ShortNames:    []string{"po"},
		Categories:    []string{"all"},
		New:           func() runtime.Object { return &corev1.Pod{} },
		NewList:       func() runtime.Object { return &corev1.PodList{} },
		HasStatus:     true,
		HasGeneration: true,
		PrepareForCreate: registry.Preparer(func(p *corev1.Pod) {
			p.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: QOSClass(&p.Spec)}
		}),
		PrepareForStatusUpdate: registry.UpdatePreparer(func(p, old *corev1.Pod) {
			// The QoS class is decided at creation.
			if p.Status.QOSClass == "" {
				p.Status.QOSClass = old.Status.QOSClass
			}
		}),
		Validate:             registry.Validator(core.ValidatePod),
		ValidateUpdate:       registry.UpdateValidator(core.ValidatePodUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(core.ValidatePodStatusUpdate),
		SelectableFields:     selectableFields,
		FieldLabels: []string{"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
			"spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"},
		IndexFields:         []string{"spec.nodeName"},
		CheckGracefulDelete: checkGracefulDelete,
		ExtraStorage: map[string]func(*registry.Store) rest.Storage{
			"binding":     func(s *registry.Store) rest.Storage { return &BindingREST{store: s} },
			"log":         func(s *registry.Store) rest.Storage { return &LogREST{store: s, nodes: nodes} },
			"exec":        func(s *registry.Store) rest.Storage { return &ExecREST{store: s, nodes: nodes} },
			"attach":      func(s *registry.Store) rest.Storage { return &AttachREST{store: s, nodes: nodes} },
			"portforward": func(s *registry.Store) rest.Storage { return &PortForwardREST{store: s, nodes: nodes} },
			"proxy":       func(s *registry.Store) rest.Storage { return &ProxyREST{store: s, nodes: nodes} },
		},
		Table: printers.For(schema.GroupResource{Resource: "pods"}),
	}
}

func selectableFields(obj runtime.Object) fields.Set {
	p := obj.(*corev1.Pod)
	podIP := ""
	if len(p.Status.PodIPs) > 0 {
		podIP = p.Status.PodIPs[0].IP
	} else {
		podIP = p.Status.PodIP
	}
	return fields.Set{
		"spec.nodeName":            p.Spec.NodeName,
		"spec.restartPolicy":       string(p.Spec.RestartPolicy),
		"spec.schedulerName":       p.Spec.SchedulerName,
		"spec.serviceAccountName":  p.Spec.ServiceAccountName,
		"spec.hostNetwork":         strconv.FormatBool(p.Spec.HostNetwork),
		"status.phase":             string(p.Status.Phase),
		"status.podIP":             podIP,
		"status.nominatedNodeName": p.Status.NominatedNodeName,
	}
}

// checkGracefulDelete gives a pod its grace period: the request's, else the
// pod's terminationGracePeriodSeconds; an unscheduled or finished pod goes at
// once, as nothing runs it.
func checkGracefulDelete(_ context.Context, obj runtime.Object, options *metav1.DeleteOptions) bool {
	if options == nil {
		return false
	}
	p := obj.(*corev1.Pod)
	var period int64
	switch {
	case options.GracePeriodSeconds != nil:
		period = *options.GracePeriodSeconds
	case p.Spec.TerminationGracePeriodSeconds != nil:
		period = *p.Spec.TerminationGracePeriodSeconds
	default:
		period = corev1.DefaultTerminationGracePeriodSeconds
	}
	if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		period = 0
	}
	if period < 0 {
		period = 1
	}
	options.GracePeriodSeconds = &period
	return true
}

// BindingREST serves pods/binding: it assigns a pending pod to a node.
type BindingREST struct {
	store *registry.Store
}

var _ rest.NamedCreater = &BindingREST{}

// New implements rest.Storage.
func (r *BindingREST) New() runtime.Object { return &corev1.Binding{} }

// Destroy implements rest.Storage.
func (r *BindingREST) Destroy() {}

// Create binds the pod named in the Binding to its target node.
func (r *BindingREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	b, ok := obj.(*corev1.Binding)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a Binding object: %T", obj))
	}
	if name != b.Name {
		return nil, apierrors.NewBadRequest("name in URL does not match name in Binding object")
	}
	if errs := core.ValidatePodBinding(b); len(errs) > 0 {
		return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), b.Name, errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, b.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	key, err := r.store.KeyFunc(ctx, b.Name)
	if err != nil {
		return nil, err
	}
	var pre *storage.Preconditions
	if b.UID != "" || b.ResourceVersion != "" {
		pre = &storage.Preconditions{}
		if b.UID != "" {
			pre.UID = &b.UID
		}
		if b.ResourceVersion != "" {
			pre.ResourceVersion = &b.ResourceVersion
		}
	}
	dryRun := options != nil && len(options.DryRun) > 0
	err = r.store.Storage.GuaranteedUpdate(ctx, key, &corev1.Pod{}, false, pre, storage.SimpleUpdate(func(existing runtime.Object) (runtime.Object, error) {
		p := existing.(*corev1.Pod)
		if p.DeletionTimestamp != nil {
			return nil, apierrors.NewConflict(corev1.Resource("pods/binding"), b.Name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", b.Name))
		}
		if p.Spec.NodeName != "" {
			return nil, apierrors.NewConflict(corev1.Resource("pods/binding"), b.Name, fmt.Errorf("pod %v is already assigned to node %q", b.Name, p.Spec.NodeName))
		}
		for k, v := range b.Annotations {
			if p.Annotations == nil {
				p.Annotations = map[string]string{}
			}
			p.Annotations[k] = v
		}
		p.Spec.NodeName = b.Target.Name
		setCondition(&p.Status, corev1.PodCondition{
			Type:               corev1.PodScheduled,
			Status:             corev1.ConditionTrue,
			LastTransitionTime: metav1.Now(),
		})
		return p, nil
	}), dryRun, nil)
	if err != nil {
		// A storage error (a missing pod, a failed precondition) becomes
		// the API's answer: 404 pods "x" not found, 409, …
		return nil, storeerr.InterpretUpdateError(err, corev1.Resource("pods"), b.Name)
	}
	return &metav1.Status{Status: metav1.StatusSuccess, Code: 201}, nil
}

func setCondition(st *corev1.PodStatus, c corev1.PodCondition) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == c.Type {
			if st.Conditions[i].Status == c.Status {
				c.LastTransitionTime = st.Conditions[i].LastTransitionTime
			}
			st.Conditions[i] = c
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}
