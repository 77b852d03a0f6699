// Package namespace defines how the API server serves core/v1 Namespaces:
// the `kubernetes` finalizer and kubernetes.io/metadata.name label set on
// create, the two-step delete (first Terminating, removed once its finalizers
// are gone), and the /status and /finalize subresources. Emptying a
// terminating namespace is the namespace controller's job.
package namespace

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"

	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// NameLabel is the label every namespace carries with its own name.
const NameLabel = "kubernetes.io/metadata.name"

// Definition returns the namespaces resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion: corev1.SchemeGroupVersion,
		Resource:     "namespaces",
		Singular:     "namespace",
		Kind:         "Namespace",
		ShortNames:   []string{"ns"},
		New:          func() runtime.Object { return &corev1.Namespace{} },
		NewList:      func() runtime.Object { return &corev1.NamespaceList{} },
		HasStatus:    true,
		PrepareForCreate: registry.Preparer(func(ns *corev1.Namespace) {
			ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
			if !hasFinalizer(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
				ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
			}
			setNameLabel(ns)
		}),
		PrepareForUpdate: registry.UpdatePreparer(func(ns, old *corev1.Namespace) {
			// spec.finalizers change only through /finalize.
			ns.Spec.Finalizers = old.Spec.Finalizers
			setNameLabel(ns)
		}),
		PrepareForStatusUpdate: registry.UpdatePreparer(func(ns, old *corev1.Namespace) { setNameLabel(ns) }),
		Validate:               registry.Validator(core.ValidateNamespace),
		ValidateUpdate:         registry.UpdateValidator(core.ValidateNamespaceUpdate),
		ValidateStatusUpdate:   registry.UpdateValidator(core.ValidateNamespaceStatusUpdate),
		SelectableFields: func(obj runtime.Object) fields.Set {
			return fields.Set{"status.phase": string(obj.(*corev1.Namespace).Status.Phase)}
		},
		FieldLabels: []string{"status.phase"},
		ExtraStorage: map[string]func(*registry.Store) rest.Storage{
			"finalize": func(s *registry.Store) rest.Storage { return newFinalizeREST(s) },
		},
		WrapMain: func(s *registry.Store) rest.Storage { return &REST{Store: s} },
		// A Terminating namespace goes only once spec.finalizers is empty
		// too: a status or metadata update must not remove it before.
		ShouldDeleteDuringUpdate: func(ctx context.Context, key string, obj, existing runtime.Object) bool {
			ns, ok := obj.(*corev1.Namespace)
			return ok && len(ns.Spec.Finalizers) == 0 && genericregistry.ShouldDeleteDuringUpdate(ctx, key, obj, existing)
		},
		Table: printers.For(schema.GroupResource{Resource: "namespaces"}),
	}
}

func setNameLabel(ns *corev1.Namespace) {
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[NameLabel] = ns.Name
}

func hasFinalizer(list []corev1.FinalizerName, f corev1.FinalizerName) bool {
	for _, x := range list {
		if x == f {
			return true
		}
	}
	return false
}

// REST is the namespaces storage with Kubernetes' delete semantics.
type REST struct {
	*registry.Store
}

var (
	_ rest.ShortNamesProvider = &REST{}
	_ rest.GracefulDeleter    = &REST{}
)

// ShortNames implements rest.ShortNamesProvider.
func (r *REST) ShortNames() []string { return []string{"ns"} }

// Delete marks the namespace Terminating on the first request; it removes it
// once spec.finalizers is empty.
func (r *REST) Delete(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	obj, err := r.Store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, false, err
	}
	ns := obj.(*corev1.Namespace)
	if options == nil {
		options = metav1.NewDeleteOptions(0)
	}
	if options.Preconditions == nil {
		options.Preconditions = &metav1.Preconditions{}
	}
	if options.Preconditions.UID == nil {
		options.Preconditions.UID = &ns.UID
	} else if *options.Preconditions.UID != ns.UID {
		return nil, false, apierrors.NewConflict(corev1.Resource("namespaces"), name,
			fmt.Errorf("precondition failed: UID in precondition: %v, UID in object meta: %v", *options.Preconditions.UID, ns.UID))
	}
	if options.Preconditions.ResourceVersion != nil && *options.Preconditions.ResourceVersion != ns.ResourceVersion {
		return nil, false, apierrors.NewConflict(corev1.Resource("namespaces"), name,
			fmt.Errorf("precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *options.Preconditions.ResourceVersion, ns.ResourceVersion))
	}
	if deleteValidation != nil {
		if err := deleteValidation(ctx, ns); err != nil {
			return nil, false, err
		}
	}
	if ns.DeletionTimestamp.IsZero() && len(ns.Spec.Finalizers) > 0 {
		key, err := r.Store.KeyFunc(ctx, name)
		if err != nil {
			return nil, false, err
		}
		out := &corev1.Namespace{}
		pre := storage.Preconditions{UID: options.Preconditions.UID, ResourceVersion: options.Preconditions.ResourceVersion}
		err = r.Store.Storage.GuaranteedUpdate(ctx, key, out, false, &pre, storage.SimpleUpdate(func(existing runtime.Object) (runtime.Object, error) {
			e := existing.(*corev1.Namespace)
			if e.DeletionTimestamp.IsZero() {
				now := metav1.Now()
				e.DeletionTimestamp = &now
			}
			e.Status.Phase = corev1.NamespaceTerminating
			if options.PropagationPolicy != nil && *options.PropagationPolicy == metav1.DeletePropagationOrphan {
				e.Finalizers = appendOnce(e.Finalizers, metav1.FinalizerOrphanDependents)
			}
			return e, nil
		}), len(options.DryRun) > 0, nil)
		if err != nil {
			return nil, false, err
		}
		return out, false, nil
	}
	if len(ns.Spec.Finalizers) > 0 {
		return nil, false, apierrors.NewConflict(corev1.Resource("namespaces"), name,
			fmt.Errorf("The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system."))
	}
	return r.Store.Delete(ctx, name, deleteValidation, options)
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// finalizeREST serves namespaces/finalize: only spec.finalizers changes.
type finalizeREST struct {
	store *registry.Store
}

func newFinalizeREST(s *registry.Store) *finalizeREST {
	fs := *s
	fs.UpdateStrategy = finalizeStrategy{s.UpdateStrategy}
	return &finalizeREST{store: &fs}
}

func (r *finalizeREST) New() runtime.Object { return &corev1.Namespace{} }
func (r *finalizeREST) Destroy()            {}

// Update replaces spec.finalizers.
func (r *finalizeREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

type finalizeStrategy struct {
	rest.RESTUpdateStrategy
}

func (finalizeStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	ns, o := obj.(*corev1.Namespace), old.(*corev1.Namespace)
	finalizers := ns.Spec.Finalizers
	*ns = *o.DeepCopy()
	ns.Spec.Finalizers = finalizers
}

func (finalizeStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return core.ValidateNamespaceFinalizeUpdate(obj.(*corev1.Namespace), old.(*corev1.Namespace))
}
