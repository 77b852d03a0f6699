package rootcacertpublisher

import (
	"errors"

	"context"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const caPEM = "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n"

func activeNS(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
}

// newPublisher returns a publisher whose listers hold objs (not started
// informers: the test drives sync directly).
func newPublisher(t *testing.T, objs ...interface{}) (*Publisher, *fake.Clientset, informers.SharedInformerFactory) {
	t.Helper()
	c := fake.NewClientset()
	f := informers.NewSharedInformerFactory(c, 0)
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Namespace:
			c.Tracker().Add(o)
			f.Core().V1().Namespaces().Informer().GetIndexer().Add(o)
		case *corev1.ConfigMap:
			c.Tracker().Add(o)
			f.Core().V1().ConfigMaps().Informer().GetIndexer().Add(o)
		}
	}
	p := New(c, []byte(caPEM), f.Core().V1().Namespaces(), f.Core().V1().ConfigMaps())
	return p, c, f
}

func writes(c *fake.Clientset) []string {
	var out []string
	for _, a := range c.Actions() {
		if a.GetVerb() != "get" && a.GetVerb() != "list" && a.GetVerb() != "watch" {
			out = append(out, a.GetVerb()+" "+a.GetResource().Resource)
		}
	}
	return out
}

func TestCreatesConfigMapInActiveNamespace(t *testing.T) {
	p, c, _ := newPublisher(t, activeNS("a"))
	if err := p.sync(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	cm, err := c.CoreV1().ConfigMaps("a").Get(context.Background(), ConfigMapName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data[DataKey] != caPEM || cm.Annotations[DescriptionAnnotation] != Description || len(cm.Data) != 1 {
		t.Errorf("configmap %+v", cm)
	}
}

func TestLeavesCorrectConfigMapAlone(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: "a",
		Annotations: map[string]string{DescriptionAnnotation: Description}}, Data: map[string]string{DataKey: caPEM}}
	p, c, _ := newPublisher(t, activeNS("a"), cm)
	c.ClearActions()
	if err := p.sync(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if w := writes(c); len(w) != 0 {
		t.Errorf("writes for a correct configmap: %v", w)
	}
}

func TestRepairsChangedConfigMap(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: "a", Labels: map[string]string{"keep": "me"}},
		Data: map[string]string{DataKey: "tampered", "extra": "x"}}
	p, c, _ := newPublisher(t, activeNS("a"), cm)
	if err := p.sync(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	got, _ := c.CoreV1().ConfigMaps("a").Get(context.Background(), ConfigMapName, metav1.GetOptions{})
	if got.Data[DataKey] != caPEM || len(got.Data) != 1 || got.Annotations[DescriptionAnnotation] != Description || got.Labels["keep"] != "me" {
		t.Errorf("repaired configmap %+v", got)
	}
}

func TestSkipsTerminatingAndMissingNamespaces(t *testing.T) {
	term := activeNS("t")
	term.Status.Phase = corev1.NamespaceTerminating
	p, c, _ := newPublisher(t, term)
	c.ClearActions()
	for _, ns := range []string{"t", "gone"} {
		if err := p.sync(context.Background(), ns); err != nil {
			t.Errorf("%s: %v", ns, err)
		}
	}
	if w := writes(c); len(w) != 0 {
		t.Errorf("writes: %v", w)
	}
}

func TestCreateRaceWithNamespaceDeletionIsNotRetried(t *testing.T) {
	p, c, _ := newPublisher(t, activeNS("a"))
	c.PrependReactor("create", "configmaps", func(k8stesting.Action) (bool, runtimeObject, error) {
		return true, nil, errTerminating()
	})
	if err := p.sync(context.Background(), "a"); err != nil {
		t.Errorf("create into a terminating namespace: %v", err)
	}
}

func TestEventsQueueTheNamespace(t *testing.T) {
	p, _, _ := newPublisher(t)
	p.namespaceChanged(activeNS("a"))
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: "b"}}
	p.configMapChanged(cm)
	p.configMapChanged(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "c"}})
	if p.queue.Len() != 2 {
		t.Errorf("queue length %d, want 2 (a and b)", p.queue.Len())
	}
}

type runtimeObject = runtime.Object

func errTerminating() error {
	err := apierrors.NewForbidden(corev1.Resource("configmaps"), ConfigMapName, errors.New("namespace a is being terminated"))
	err.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause}}
	return err
}
