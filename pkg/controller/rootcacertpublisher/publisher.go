// Package rootcacertpublisher keeps the ConfigMap kube-root-ca.crt, holding
// the CA bundle that verifies the API server, in every namespace — created
// with the namespace, restored when deleted or changed — as Kubernetes'
// root-ca-cert-publisher controller does. Pods read it through the
// kube-api-access volume (ca.crt). It does not manage certificates.
package rootcacertpublisher

import (
	"context"
	"reflect"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

const (
	// ConfigMapName is the published ConfigMap's name.
	ConfigMapName = "kube-root-ca.crt"
	// DataKey holds the PEM bundle.
	DataKey = "ca.crt"
	// DescriptionAnnotation and Description say what the ConfigMap is for.
	DescriptionAnnotation = "kubernetes.io/description"
	Description           = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. " +
		"No other usage is guaranteed across distributions of Kubernetes clusters."
)

// Publisher is the controller.
type Publisher struct {
	client     kubernetes.Interface
	rootCA     []byte
	namespaces corelisters.NamespaceLister
	configMaps corelisters.ConfigMapLister
	synced     []cache.InformerSynced
	queue      workqueue.TypedRateLimitingInterface[string]
}

// New wires the publisher of rootCA (PEM) to its informers.
func New(client kubernetes.Interface, rootCA []byte, nsInformer coreinformers.NamespaceInformer, cmInformer coreinformers.ConfigMapInformer) *Publisher {
	p := &Publisher{
		client:     client,
		rootCA:     rootCA,
		namespaces: nsInformer.Lister(),
		configMaps: cmInformer.Lister(),
		synced:     []cache.InformerSynced{nsInformer.Informer().HasSynced, cmInformer.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "root_ca_cert_publisher"}),
	}
	nsInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: p.namespaceChanged,
		UpdateFunc: func(old, cur interface{}) {
			// Re-sync only when the namespace becomes active again or on
			// resyncs; other namespace updates do not matter.
			p.namespaceChanged(cur)
		},
	})
	cmInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, cur interface{}) { p.configMapChanged(cur) },
		DeleteFunc: p.configMapChanged,
	})
	return p
}

func (p *Publisher) namespaceChanged(obj interface{}) {
	if ns, ok := obj.(*corev1.Namespace); ok && ns.Status.Phase == corev1.NamespaceActive && ns.DeletionTimestamp == nil {
		p.queue.Add(ns.Name)
	}
}

func (p *Publisher) configMapChanged(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if cm, ok := obj.(*corev1.ConfigMap); ok && cm.Name == ConfigMapName {
		p.queue.Add(cm.Namespace)
	}
}

// Run processes namespaces until ctx is done.
func (p *Publisher) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer p.queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), p.synced...) {
		return
	}
	for i := 0; i < workers; i++ {
		go wait.UntilWithContext(ctx, p.worker, time.Second)
	}
	<-ctx.Done()
}

func (p *Publisher) worker(ctx context.Context) {
	for p.next(ctx) {
	}
}

func (p *Publisher) next(ctx context.Context) bool {
	key, quit := p.queue.Get()
	if quit {
		return false
	}
	defer p.queue.Done(key)
	if err := p.sync(ctx, key); err != nil {
		klog.V(2).InfoS("publishing the root CA", "namespace", key, "err", err)
		p.queue.AddRateLimited(key)
		return true
	}
	p.queue.Forget(key)
	return true
}

// sync makes the namespace's kube-root-ca.crt hold exactly the root CA and
// the description annotation.
func (p *Publisher) sync(ctx context.Context, namespace string) error {
	ns, err := p.namespaces.Get(namespace)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.Status.Phase != corev1.NamespaceActive || ns.DeletionTimestamp != nil {
		return nil
	}
	data := map[string]string{DataKey: string(p.rootCA)}
	cm, err := p.configMaps.ConfigMaps(namespace).Get(ConfigMapName)
	if apierrors.IsNotFound(err) {
		_, err = p.client.CoreV1().ConfigMaps(namespace).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Annotations: map[string]string{DescriptionAnnotation: Description}},
			Data:       data,
		}, metav1.CreateOptions{})
		// A namespace that is gone or terminating gets no ConfigMap.
		if apierrors.IsNotFound(err) || apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) || apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	if reflect.DeepEqual(cm.Data, data) && cm.Annotations[DescriptionAnnotation] != "" {
		return nil
	}
	cm = cm.DeepCopy()
	cm.Data = data
	if cm.Annotations == nil {
		cm.Annotations = map[string]string{}
	}
	cm.Annotations[DescriptionAnnotation] = Description
	_, err = p.client.CoreV1().ConfigMaps(namespace).Update(ctx, cm, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		// Deleted meanwhile: the delete event requeues it.
		return nil
	}
	return err
}
