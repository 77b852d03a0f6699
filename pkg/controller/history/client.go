package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/util/retry"
)

// maxCollisions bounds the renames of one Create; reaching it means the
// names are taken by something other than hash collisions.
const maxCollisions = 100

// History reads revisions from an informer's lister and writes them with a
// client.
type History struct {
	Client kubernetes.Interface
	Lister appslisters.ControllerRevisionLister
	// Decode compares revision data by meaning (see Equal); nil compares
	// generic JSON.
	Decode Decoder
}

// Owner is the controller whose revisions are listed.
type Owner struct {
	Object   metav1.Object
	Kind     schema.GroupVersionKind
	Selector labels.Selector
	// CanAdopt is called once before the first adoption; it should re-read
	// the owner and fail if it is gone or being deleted.
	CanAdopt func(ctx context.Context) error
}

// List returns the revisions owner controls, as Kubernetes' ClaimRevisions:
// revisions it controls that match its selector are kept; those that stopped
// matching are released; orphans that match are adopted (unless the owner is
// being deleted or CanAdopt fails); revisions of other controllers are never
// touched. The returned objects are the informer's and must not be modified.
func (h *History) List(ctx context.Context, owner Owner) ([]*appsv1.ControllerRevision, error) {
	all, err := h.Lister.ControllerRevisions(owner.Object.GetNamespace()).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var (
		claimed  []*appsv1.ControllerRevision
		errs     []error
		adoptErr error
		checked  bool
	)
	deleting := owner.Object.GetDeletionTimestamp() != nil
	for _, r := range all {
		match := owner.Selector.Matches(labels.Set(r.Labels))
		ref := metav1.GetControllerOfNoCopy(r)
		switch {
		case ref != nil && ref.UID != owner.Object.GetUID():
			continue
		case ref != nil && match:
			claimed = append(claimed, r)
		case ref != nil:
			if deleting {
				continue
			}
			if err := h.release(ctx, owner.Object, r); err != nil {
				errs = append(errs, err)
			}
		case match && !deleting && r.DeletionTimestamp == nil:
			if !checked {
				checked = true
				if owner.CanAdopt != nil {
					adoptErr = owner.CanAdopt(ctx)
				}
			}
			if adoptErr != nil {
				errs = append(errs, fmt.Errorf("can't adopt ControllerRevision %s/%s: %w", r.Namespace, r.Name, adoptErr))
				continue
			}
			adopted, err := h.adopt(ctx, owner, r)
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			claimed = append(claimed, adopted)
		}
	}
	return claimed, utilerrors.NewAggregate(errs)
}

func (h *History) adopt(ctx context.Context, owner Owner, r *appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []metav1.OwnerReference{*metav1.NewControllerRef(owner.Object, owner.Kind)},
		"uid":             r.UID,
	}})
	if err != nil {
		return nil, err
	}
	return h.Client.AppsV1().ControllerRevisions(r.Namespace).Patch(ctx, r.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
}

func (h *History) release(ctx context.Context, owner metav1.Object, r *appsv1.ControllerRevision) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []map[string]any{{"$patch": "delete", "uid": owner.GetUID()}},
		"uid":             r.UID,
	}})
	if err != nil {
		return err
	}
	_, err = h.Client.AppsV1().ControllerRevisions(r.Namespace).Patch(ctx, r.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		return nil
	}
	return err
}

// ErrCollisionCountNil is returned by Create without a collision count.
var ErrCollisionCountNil = errors.New("history: collisionCount must not be nil")

// Create creates rev (built by New) for parent. When its name is taken by a
// revision of parent with equal data, that revision is returned; when it is
// taken by anything else (a hash collision), *collisionCount is incremented
// and the revision renamed with the new hash, as Kubernetes does. The
// caller stores *collisionCount in its status.
func (h *History) Create(ctx context.Context, parent metav1.Object, rev *appsv1.ControllerRevision, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	if collisionCount == nil {
		return nil, ErrCollisionCountNil
	}
	clone := rev.DeepCopy()
	clone.Namespace = parent.GetNamespace()
	for i := 0; i < maxCollisions; i++ {
		hash := Hash(rev, collisionCount)
		clone.Name = Name(parent.GetName(), hash)
		if clone.Labels == nil {
			clone.Labels = map[string]string{}
		}
		clone.Labels[HashLabel] = hash
		created, err := h.Client.AppsV1().ControllerRevisions(clone.Namespace).Create(ctx, clone, metav1.CreateOptions{})
		if !apierrors.IsAlreadyExists(err) {
			return created, err
		}
		existing, err := h.Client.AppsV1().ControllerRevisions(clone.Namespace).Get(ctx, clone.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		if ref := metav1.GetControllerOfNoCopy(existing); ref != nil && ref.UID == parent.GetUID() && Equal(existing, clone, h.Decode) {
			return existing, nil
		}
		*collisionCount++
	}
	return nil, fmt.Errorf("history: no free name for a revision of %s/%s after %d hash collisions", parent.GetNamespace(), parent.GetName(), maxCollisions)
}

// Renumber sets rev's revision number, retrying on conflicts with a fresh
// copy. rev is not modified.
func (h *History) Renumber(ctx context.Context, rev *appsv1.ControllerRevision, revision int64) (*appsv1.ControllerRevision, error) {
	clone := rev.DeepCopy()
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if clone.Revision == revision {
			return nil
		}
		clone.Revision = revision
		updated, err := h.Client.AppsV1().ControllerRevisions(clone.Namespace).Update(ctx, clone, metav1.UpdateOptions{})
		if err == nil {
			clone = updated
			return nil
		}
		if fresh, gerr := h.Client.AppsV1().ControllerRevisions(clone.Namespace).Get(ctx, clone.Name, metav1.GetOptions{}); gerr == nil {
			clone = fresh
		}
		return err
	})
	return clone, err
}

// Delete deletes a revision; one already gone is not an error.
func (h *History) Delete(ctx context.Context, rev *appsv1.ControllerRevision) error {
	err := h.Client.AppsV1().ControllerRevisions(rev.Namespace).Delete(ctx, rev.Name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
