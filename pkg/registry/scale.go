package registry

import (
	"context"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
)

// ScaleREST serves the /scale subresource as autoscaling/v1 Scale.
type ScaleREST struct {
	store *Store
	def   *Definition
}

var (
	_ rest.Patcher                  = &ScaleREST{}
	_ rest.GroupVersionKindProvider = &ScaleREST{}
)

// GroupVersionKind says that /scale speaks autoscaling/v1 Scale.
func (r *ScaleREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return autoscalingv1.SchemeGroupVersion.WithKind("Scale")
}

// New implements rest.Storage.
func (r *ScaleREST) New() runtime.Object { return &autoscalingv1.Scale{} }

// Destroy implements rest.Storage.
func (r *ScaleREST) Destroy() {}

// Get returns the Scale of the named object.
func (r *ScaleREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	obj, err := r.store.Get(ctx, name, options)
	if err != nil {
		return nil, err
	}
	return r.toScale(obj)
}

// Update sets spec.replicas of the named object from a Scale.
func (r *ScaleREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	obj, _, err := r.store.Update(ctx, name, &scaleUpdate{name: name, req: objInfo, r: r},
		r.scaleCreateValidation(createValidation), r.scaleUpdateValidation(updateValidation), false, options)
	if err != nil {
		return nil, false, err
	}
	s, err := r.toScale(obj)
	return s, false, err
}

// ConvertToTable implements rest.TableConvertor.
func (r *ScaleREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return rest.NewDefaultTableConvertor(r.def.GroupResource()).ConvertToTable(ctx, object, tableOptions)
}

func (r *ScaleREST) toScale(obj runtime.Object) (*autoscalingv1.Scale, error) {
	m, err := metaOf(obj)
	if err != nil {
		return nil, err
	}
	return &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{
			Name:              m.Name,
			Namespace:         m.Namespace,
			UID:               m.UID,
			ResourceVersion:   m.ResourceVersion,
			CreationTimestamp: m.CreationTimestamp,
		},
		Spec:   autoscalingv1.ScaleSpec{Replicas: r.def.Scale.SpecReplicas(obj)},
		Status: autoscalingv1.ScaleStatus{Replicas: r.def.Scale.StatusReplicas(obj), Selector: r.def.Scale.Selector(obj)},
	}, nil
}

func metaOf(obj runtime.Object) (*metav1.ObjectMeta, error) {
	a, ok := obj.(metav1.ObjectMetaAccessor)
	if !ok {
		return nil, fmt.Errorf("%T has no ObjectMeta", obj)
	}
	return a.GetObjectMeta().(*metav1.ObjectMeta), nil
}

func (r *ScaleREST) scaleCreateValidation(f rest.ValidateObjectFunc) rest.ValidateObjectFunc {
	return func(ctx context.Context, obj runtime.Object) error {
		s, err := r.toScale(obj)
		if err != nil {
			return err
		}
		return f(ctx, s)
	}
}

func (r *ScaleREST) scaleUpdateValidation(f rest.ValidateObjectUpdateFunc) rest.ValidateObjectUpdateFunc {
	return func(ctx context.Context, obj, old runtime.Object) error {
		ns, err := r.toScale(obj)
		if err != nil {
			return err
		}
		os, err := r.toScale(old)
		if err != nil {
			return err
		}
		return f(ctx, ns, os)
	}
}

// scaleUpdate applies the requested Scale to the stored object.
type scaleUpdate struct {
	name string
	req  rest.UpdatedObjectInfo
	r    *ScaleREST
}

func (u *scaleUpdate) Preconditions() *metav1.Preconditions { return u.req.Preconditions() }

func (u *scaleUpdate) UpdatedObject(ctx context.Context, oldObj runtime.Object) (runtime.Object, error) {
	if oldObj == nil {
		return nil, apierrors.NewNotFound(u.r.def.GroupResource(), u.name)
	}
	obj := oldObj.DeepCopyObject()
	oldScale, err := u.r.toScale(obj)
	if err != nil {
		return nil, err
	}
	newObj, err := u.req.UpdatedObject(ctx, oldScale)
	if err != nil {
		return nil, err
	}
	if newObj == nil {
		return nil, apierrors.NewBadRequest("nil update passed to Scale")
	}
	scale, ok := newObj.(*autoscalingv1.Scale)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("expected input object type to be Scale, but %T", newObj))
	}
	if scale.Spec.Replicas < 0 {
		return nil, apierrors.NewInvalid(autoscalingv1.SchemeGroupVersion.WithKind("Scale").GroupKind(), u.name, field.ErrorList{
			field.Invalid(field.NewPath("spec", "replicas"), scale.Spec.Replicas, "must be greater than or equal to 0"),
		})
	}
	m, err := metaOf(obj)
	if err != nil {
		return nil, err
	}
	if scale.ResourceVersion != "" {
		m.ResourceVersion = scale.ResourceVersion
	}
	u.r.def.Scale.SetReplicas(obj, scale.Spec.Replicas)
	return obj, nil
}

// ReplicaFields gives /scale access to an object with a *int32
// spec.replicas, a status.replicas and a label selector.
func ReplicaFields[T runtime.Object](f func(T) (spec **int32, status int32, selector *metav1.LabelSelector)) *ScaleAccess {
	return &ScaleAccess{
		SpecReplicas: func(obj runtime.Object) int32 {
			spec, _, _ := f(obj.(T))
			if *spec == nil {
				return 1
			}
			return **spec
		},
		SetReplicas: func(obj runtime.Object, n int32) {
			spec, _, _ := f(obj.(T))
			*spec = &n
		},
		StatusReplicas: func(obj runtime.Object) int32 {
			_, status, _ := f(obj.(T))
			return status
		},
		Selector: func(obj runtime.Object) string {
			_, _, sel := f(obj.(T))
			s, err := metav1.LabelSelectorAsSelector(sel)
			if err != nil {
				return ""
			}
			return s.String()
		},
	}
}
