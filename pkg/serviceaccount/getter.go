package serviceaccount

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// Getter reads the objects a token names. uid, when not empty, is the UID
// the caller expects: a cached object with another UID is looked up again.
type Getter interface {
	ServiceAccount(ctx context.Context, ns, name string, uid types.UID) (*corev1.ServiceAccount, error)
	Pod(ctx context.Context, ns, name string, uid types.UID) (*corev1.Pod, error)
	Secret(ctx context.Context, ns, name string, uid types.UID) (*corev1.Secret, error)
	Node(ctx context.Context, name string, uid types.UID) (*corev1.Node, error)
}

// cachedGetter reads from informer listers and falls back to a live GET
// when the cache does not have the object (or has another incarnation of
// it), as Kubernetes' token getter does: a token issued for an object that
// was just created must work at once.
type cachedGetter struct {
	client kubernetes.Interface
	sa     corelisters.ServiceAccountLister
	pods   corelisters.PodLister
	secret corelisters.SecretLister
	nodes  corelisters.NodeLister
}

// NewGetter returns a Getter over f's listers (registering their informers;
// start f afterwards) with client for live lookups.
func NewGetter(client kubernetes.Interface, f informers.SharedInformerFactory) Getter {
	g := &cachedGetter{client: client}
	if f != nil {
		g.sa = f.Core().V1().ServiceAccounts().Lister()
		g.pods = f.Core().V1().Pods().Lister()
		g.secret = f.Core().V1().Secrets().Lister()
		g.nodes = f.Core().V1().Nodes().Lister()
	}
	return g
}

// fresh says whether a cached lookup can be used as is.
func fresh(o metav1.Object, err error, want types.UID) bool {
	return err == nil && (want == "" || o.GetUID() == want)
}

func (g *cachedGetter) ServiceAccount(ctx context.Context, ns, name string, uid types.UID) (*corev1.ServiceAccount, error) {
	if g.sa != nil {
		if o, err := g.sa.ServiceAccounts(ns).Get(name); fresh(o, err, uid) {
			return o, nil
		} else if err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return g.client.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{})
}

func (g *cachedGetter) Pod(ctx context.Context, ns, name string, uid types.UID) (*corev1.Pod, error) {
	if g.pods != nil {
		if o, err := g.pods.Pods(ns).Get(name); fresh(o, err, uid) {
			return o, nil
		} else if err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return g.client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
}

func (g *cachedGetter) Secret(ctx context.Context, ns, name string, uid types.UID) (*corev1.Secret, error) {
	if g.secret != nil {
		if o, err := g.secret.Secrets(ns).Get(name); fresh(o, err, uid) {
			return o, nil
		} else if err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return g.client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
}

func (g *cachedGetter) Node(ctx context.Context, name string, uid types.UID) (*corev1.Node, error) {
	if g.nodes != nil {
		if o, err := g.nodes.Get(name); fresh(o, err, uid) {
			return o, nil
		} else if err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return g.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
}
