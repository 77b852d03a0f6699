package replicationcontroller

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	appsclient "k8s.io/client-go/kubernetes/typed/apps/v1"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// informerAdapter presents the ReplicationController informer as a
// ReplicaSet informer: handlers and the lister see converted objects.
type informerAdapter struct {
	rc coreinformers.ReplicationControllerInformer
}

var _ appsinformers.ReplicaSetInformer = informerAdapter{}

func (i informerAdapter) Informer() cache.SharedIndexInformer {
	return conversionInformer{i.rc.Informer()}
}

func (i informerAdapter) Lister() appslisters.ReplicaSetLister {
	return listerAdapter{i.rc.Lister()}
}

// conversionInformer converts the objects its event handlers receive.
type conversionInformer struct {
	cache.SharedIndexInformer
}

func (i conversionInformer) AddEventHandler(h cache.ResourceEventHandler) (cache.ResourceEventHandlerRegistration, error) {
	return i.SharedIndexInformer.AddEventHandler(conversionHandler{h})
}

type conversionHandler struct {
	h cache.ResourceEventHandler
}

func convertObj(obj interface{}) interface{} {
	switch o := obj.(type) {
	case *corev1.ReplicationController:
		return toReplicaSet(o)
	case cache.DeletedFinalStateUnknown:
		if rc, ok := o.Obj.(*corev1.ReplicationController); ok {
			return cache.DeletedFinalStateUnknown{Key: o.Key, Obj: toReplicaSet(rc)}
		}
	}
	return obj
}

func (h conversionHandler) OnAdd(obj interface{}, isInInitialList bool) {
	h.h.OnAdd(convertObj(obj), isInInitialList)
}

func (h conversionHandler) OnUpdate(oldObj, newObj interface{}) {
	h.h.OnUpdate(convertObj(oldObj), convertObj(newObj))
}

func (h conversionHandler) OnDelete(obj interface{}) { h.h.OnDelete(convertObj(obj)) }

// listerAdapter lists ReplicationControllers as ReplicaSets.
type listerAdapter struct {
	l corelisters.ReplicationControllerLister
}

func convertList(rcs []*corev1.ReplicationController) []*appsv1.ReplicaSet {
	out := make([]*appsv1.ReplicaSet, len(rcs))
	for i, rc := range rcs {
		out[i] = toReplicaSet(rc)
	}
	return out
}

func (l listerAdapter) List(selector labels.Selector) ([]*appsv1.ReplicaSet, error) {
	rcs, err := l.l.List(selector)
	return convertList(rcs), err
}

func (l listerAdapter) ReplicaSets(namespace string) appslisters.ReplicaSetNamespaceLister {
	return namespaceListerAdapter{l.l.ReplicationControllers(namespace)}
}

func (l listerAdapter) GetPodReplicaSets(pod *corev1.Pod) ([]*appsv1.ReplicaSet, error) {
	rcs, err := l.l.GetPodControllers(pod)
	return convertList(rcs), err
}

type namespaceListerAdapter struct {
	l corelisters.ReplicationControllerNamespaceLister
}

func (l namespaceListerAdapter) List(selector labels.Selector) ([]*appsv1.ReplicaSet, error) {
	rcs, err := l.l.List(selector)
	return convertList(rcs), err
}

func (l namespaceListerAdapter) Get(name string) (*appsv1.ReplicaSet, error) {
	rc, err := l.l.Get(name)
	if err != nil {
		return nil, err
	}
	return toReplicaSet(rc), nil
}

// clientsetAdapter serves the shared controller's ReplicaSet reads and
// status writes from the ReplicationController API; everything else (pods)
// goes to the real client.
type clientsetAdapter struct {
	kubernetes.Interface
}

func (c clientsetAdapter) AppsV1() appsclient.AppsV1Interface {
	return appsAdapter{AppsV1Interface: c.Interface.AppsV1(), core: c.Interface}
}

type appsAdapter struct {
	appsclient.AppsV1Interface
	core kubernetes.Interface
}

func (a appsAdapter) ReplicaSets(namespace string) appsclient.ReplicaSetInterface {
	return rsClientAdapter{namespace: namespace, core: a.core}
}

// rsClientAdapter implements the calls the shared controller makes: Get,
// Update and UpdateStatus. The embedded nil interface makes any other call
// fail loudly.
type rsClientAdapter struct {
	appsclient.ReplicaSetInterface
	namespace string
	core      kubernetes.Interface
}

func (c rsClientAdapter) Get(ctx context.Context, name string, opts metav1.GetOptions) (*appsv1.ReplicaSet, error) {
	rc, err := c.core.CoreV1().ReplicationControllers(c.namespace).Get(ctx, name, opts)
	if err != nil {
		return nil, err
	}
	return toReplicaSet(rc), nil
}

func (c rsClientAdapter) Update(ctx context.Context, rs *appsv1.ReplicaSet, opts metav1.UpdateOptions) (*appsv1.ReplicaSet, error) {
	rc, err := c.core.CoreV1().ReplicationControllers(c.namespace).Update(ctx, toReplicationController(rs), opts)
	if err != nil {
		return nil, err
	}
	return toReplicaSet(rc), nil
}

func (c rsClientAdapter) UpdateStatus(ctx context.Context, rs *appsv1.ReplicaSet, opts metav1.UpdateOptions) (*appsv1.ReplicaSet, error) {
	rc, err := c.core.CoreV1().ReplicationControllers(c.namespace).UpdateStatus(ctx, toReplicationController(rs), opts)
	if err != nil {
		return nil, err
	}
	return toReplicaSet(rc), nil
}

// recorderAdapter records events about the ReplicationController a
// converted ReplicaSet stands for.
type recorderAdapter struct {
	record.EventRecorder
}

func eventObject(obj runtime.Object) runtime.Object {
	if rs, ok := obj.(*appsv1.ReplicaSet); ok {
		return toReplicationController(rs)
	}
	return obj
}

func (r recorderAdapter) Event(obj runtime.Object, eventtype, reason, message string) {
	r.EventRecorder.Event(eventObject(obj), eventtype, reason, message)
}

func (r recorderAdapter) Eventf(obj runtime.Object, eventtype, reason, messageFmt string, args ...interface{}) {
	r.EventRecorder.Event(eventObject(obj), eventtype, reason, fmt.Sprintf(messageFmt, args...))
}

func (r recorderAdapter) AnnotatedEventf(obj runtime.Object, annotations map[string]string, eventtype, reason, messageFmt string, args ...interface{}) {
	r.EventRecorder.AnnotatedEventf(eventObject(obj), annotations, eventtype, reason, messageFmt, args...)
}
