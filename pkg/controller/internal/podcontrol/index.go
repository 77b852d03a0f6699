package podcontrol

import (
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// PodControllerUIDIndex is the name of the one index every controller adds
// to the shared pod informer: a pod with a controller reference is indexed
// by that controller's UID, a pod without one by OrphanKey(namespace).
const PodControllerUIDIndex = "podControllerUID"

// orphanPrefix cannot start a UID key: UIDs never contain '/'.
const orphanPrefix = "orphan/"

// OrphanKey is the index key of the pods of namespace without controller.
func OrphanKey(namespace string) string { return orphanPrefix + namespace }

// indexByControllerUID is the index function of PodControllerUIDIndex.
func indexByControllerUID(obj interface{}) ([]string, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, nil
	}
	if ref := metav1.GetControllerOfNoCopy(p); ref != nil {
		return []string{string(ref.UID)}, nil
	}
	return []string{OrphanKey(p.Namespace)}, nil
}

// addMu makes the check-then-add of AddPodIndex atomic: controllers built
// on one shared informer factory share the pod informer.
var addMu sync.Mutex

// AddPodIndex registers PodControllerUIDIndex on the pod informer, once: a
// second call on the same informer is a no-op. It returns the informer's
// error (for example an index of that name with another function).
func AddPodIndex(podInformer cache.SharedIndexInformer) error {
	addMu.Lock()
	defer addMu.Unlock()
	if _, ok := podInformer.GetIndexer().GetIndexers()[PodControllerUIDIndex]; ok {
		return nil
	}
	if err := podInformer.AddIndexers(cache.Indexers{PodControllerUIDIndex: indexByControllerUID}); err != nil {
		return fmt.Errorf("adding the pod index %q: %w", PodControllerUIDIndex, err)
	}
	return nil
}

// ControlledPods returns the pods in namespace whose controller has the UID
// owner. An error (the index is missing, say) must not be read as "no
// pods": the caller has to retry, or it would create pods without end.
func ControlledPods(indexer cache.Indexer, namespace string, owner types.UID) ([]*corev1.Pod, error) {
	if owner == "" {
		return nil, fmt.Errorf("listing controlled pods in %q: the owner has no UID", namespace)
	}
	return byKey(indexer, namespace, string(owner))
}

// OrphanPods returns the pods in namespace without a controller reference.
func OrphanPods(indexer cache.Indexer, namespace string) ([]*corev1.Pod, error) {
	return byKey(indexer, namespace, OrphanKey(namespace))
}

// ControlledAndOrphanPods returns ControlledPods followed by OrphanPods: the
// candidates of a controller that adopts and releases pods.
func ControlledAndOrphanPods(indexer cache.Indexer, namespace string, owner types.UID) ([]*corev1.Pod, error) {
	owned, err := ControlledPods(indexer, namespace, owner)
	if err != nil {
		return nil, err
	}
	orphans, err := OrphanPods(indexer, namespace)
	if err != nil {
		return nil, err
	}
	return append(owned, orphans...), nil
}

func byKey(indexer cache.Indexer, namespace, key string) ([]*corev1.Pod, error) {
	objs, err := indexer.ByIndex(PodControllerUIDIndex, key)
	if err != nil {
		return nil, fmt.Errorf("listing pods of %s in namespace %q from the informer cache: %w", key, namespace, err)
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok && p.Namespace == namespace {
			out = append(out, p)
		}
	}
	return out, nil
}
