package replication

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/kubernetes"
)

// RefManager claims objects for a controller: it adopts orphans whose labels
// match its selector and releases owned objects whose labels stopped
// matching, as Kubernetes' BaseControllerRefManager. Objects controlled by
// another owner are never touched.
type RefManager struct {
	Controller     metav1.Object
	ControllerKind schema.GroupVersionKind
	Selector       labels.Selector
	// CanAdopt is checked once, before the first adoption: it must re-read
	// the controller from the API server and fail if it is gone or deleting.
	CanAdopt func(ctx context.Context) error

	once        sync.Once
	canAdoptErr error
}

func (m *RefManager) canAdopt(ctx context.Context) error {
	m.once.Do(func() {
		if m.CanAdopt != nil {
			m.canAdoptErr = m.CanAdopt(ctx)
		}
	})
	return m.canAdoptErr
}

// RecheckDeletionTimestamp returns a CanAdopt func that fetches the owner
// fresh and fails if its UID changed or it is being deleted.
func RecheckDeletionTimestamp(get func(ctx context.Context) (metav1.Object, error), want metav1.Object) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		fresh, err := get(ctx)
		if err != nil {
			return err
		}
		if fresh.GetUID() != want.GetUID() {
			return fmt.Errorf("original %v/%v is gone: got uid %v, wanted %v", want.GetNamespace(), want.GetName(), fresh.GetUID(), want.GetUID())
		}
		if fresh.GetDeletionTimestamp() != nil {
			return fmt.Errorf("%v/%v has just been deleted at %v", want.GetNamespace(), want.GetName(), fresh.GetDeletionTimestamp())
		}
		return nil
	}
}

// claimObject decides ownership of one object and adopts/releases it.
func (m *RefManager) claimObject(ctx context.Context, obj metav1.Object, match func(metav1.Object) bool, adopt, release func(context.Context, metav1.Object) error) (bool, error) {
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		if ref.UID != m.Controller.GetUID() {
			return false, nil
		}
		if match(obj) {
			return true, nil
		}
		if m.Controller.GetDeletionTimestamp() != nil {
			return false, nil
		}
		if err := release(ctx, obj); err != nil {
			if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
				return false, nil
			}
			return false, err
		}
		return false, nil
	}
	if m.Controller.GetDeletionTimestamp() != nil || !match(obj) || obj.GetDeletionTimestamp() != nil {
		return false, nil
	}
	if ns := m.Controller.GetNamespace(); ns != "" && ns != obj.GetNamespace() {
		return false, nil
	}
	if err := adopt(ctx, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

func (m *RefManager) adoptPatch(obj metav1.Object) ([]byte, error) {
	return json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []metav1.OwnerReference{*metav1.NewControllerRef(m.Controller, m.ControllerKind)},
		"uid":             obj.GetUID(),
	}})
}

func (m *RefManager) releasePatch(obj metav1.Object) ([]byte, error) {
	return json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []map[string]any{{"$patch": "delete", "uid": m.Controller.GetUID()}},
		"uid":             obj.GetUID(),
	}})
}

func (m *RefManager) matchSelector(obj metav1.Object) bool {
	return m.Selector.Matches(labels.Set(obj.GetLabels()))
}

// ClaimPods returns the pods the controller owns after adopting and
// releasing; filters further restrict which pods may be claimed.
func (m *RefManager) ClaimPods(ctx context.Context, client kubernetes.Interface, pods []*corev1.Pod, filters ...func(*corev1.Pod) bool) ([]*corev1.Pod, error) {
	var claimed []*corev1.Pod
	var errs []error
	match := func(o metav1.Object) bool {
		if !m.matchSelector(o) {
			return false
		}
		for _, f := range filters {
			if !f(o.(*corev1.Pod)) {
				return false
			}
		}
		return true
	}
	adopt := func(ctx context.Context, o metav1.Object) error {
		if err := m.canAdopt(ctx); err != nil {
			return fmt.Errorf("can't adopt Pod %v/%v (%v): %v", o.GetNamespace(), o.GetName(), o.GetUID(), err)
		}
		patch, err := m.adoptPatch(o)
		if err != nil {
			return err
		}
		_, err = client.CoreV1().Pods(o.GetNamespace()).Patch(ctx, o.GetName(), types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	}
	release := func(ctx context.Context, o metav1.Object) error {
		patch, err := m.releasePatch(o)
		if err != nil {
			return err
		}
		_, err = client.CoreV1().Pods(o.GetNamespace()).Patch(ctx, o.GetName(), types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	}
	for _, p := range pods {
		ok, err := m.claimObject(ctx, p, match, adopt, release)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			claimed = append(claimed, p)
		}
	}
	return claimed, utilerrors.NewAggregate(errs)
}

// ClaimReplicaSets is ClaimPods for ReplicaSets (used by Deployments).
func (m *RefManager) ClaimReplicaSets(ctx context.Context, client kubernetes.Interface, sets []*appsv1.ReplicaSet) ([]*appsv1.ReplicaSet, error) {
	var claimed []*appsv1.ReplicaSet
	var errs []error
	// adopted remembers the patched object so that later writes in the
	// same sync start from the current resourceVersion.
	var adopted *appsv1.ReplicaSet
	adopt := func(ctx context.Context, o metav1.Object) error {
		if err := m.canAdopt(ctx); err != nil {
			return fmt.Errorf("can't adopt ReplicaSet %v/%v (%v): %v", o.GetNamespace(), o.GetName(), o.GetUID(), err)
		}
		patch, err := m.adoptPatch(o)
		if err != nil {
			return err
		}
		adopted, err = client.AppsV1().ReplicaSets(o.GetNamespace()).Patch(ctx, o.GetName(), types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	}
	release := func(ctx context.Context, o metav1.Object) error {
		patch, err := m.releasePatch(o)
		if err != nil {
			return err
		}
		_, err = client.AppsV1().ReplicaSets(o.GetNamespace()).Patch(ctx, o.GetName(), types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	}
	for _, rs := range sets {
		adopted = nil
		ok, err := m.claimObject(ctx, rs, m.matchSelector, adopt, release)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			if adopted != nil {
				rs = adopted
			}
			claimed = append(claimed, rs)
		}
	}
	return claimed, utilerrors.NewAggregate(errs)
}
