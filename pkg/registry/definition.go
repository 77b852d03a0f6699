// Package registry turns a resource Definition (names, types, defaulting and
// validation hooks, selectable fields, table columns, subresources) into the
// k8s.io/apiserver generic registry stores that serve it. The per-resource
// packages under pkg/registry/<group>/<resource> say what is special about each
// resource; this package holds what is common: the create/update/delete
// strategies, the status and scale subresources, field selectors and the
// server-side apply reset fields.
package registry

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
)

// Definition describes one served resource.
type Definition struct {
	// GroupVersion and Resource (plural, lower case) locate it; Kind names its type.
	GroupVersion schema.GroupVersion
	// AlsoServedAs are more versions of the group serving the same storage
	// (converted by the scheme), e.g. autoscaling/v1 HorizontalPodAutoscalers.
	AlsoServedAs []schema.GroupVersion
	Resource     string
	Singular     string
	Kind         string
	Namespaced   bool
	ShortNames   []string
	Categories   []string

	New     func() runtime.Object
	NewList func() runtime.Object

	// HasStatus: the object has a Status field served by the /status
	// subresource; the main resource ignores status changes and /status
	// ignores everything but status (and metadata).
	HasStatus bool
	// HasGeneration: metadata.generation starts at 1 and increases on every
	// change of the Spec field.
	HasGeneration bool

	// PrepareForCreate and PrepareForUpdate run after the generic preparation.
	PrepareForCreate func(ctx context.Context, obj runtime.Object)
	PrepareForUpdate func(ctx context.Context, obj, old runtime.Object)
	// PrepareForStatusUpdate runs after the generic status preparation.
	PrepareForStatusUpdate func(ctx context.Context, obj, old runtime.Object)

	Validate             func(ctx context.Context, obj runtime.Object) field.ErrorList
	ValidateUpdate       func(ctx context.Context, obj, old runtime.Object) field.ErrorList
	ValidateStatusUpdate func(ctx context.Context, obj, old runtime.Object) field.ErrorList
	// Warnings returned on create/update (optional).
	Warnings func(ctx context.Context, obj runtime.Object) []string

	// AllowCreateOnUpdate lets PUT create a missing object.
	AllowCreateOnUpdate bool

	// SelectableFields returns the resource-specific fields usable in field
	// selectors; metadata.name (and metadata.namespace) are always added.
	SelectableFields func(obj runtime.Object) fields.Set
	// FieldLabels lists the names SelectableFields returns, for the scheme's
	// field label conversion (unknown labels are rejected like Kubernetes).
	FieldLabels []string
	// IndexFields are served from the watch cache's indexes (e.g. spec.nodeName).
	IndexFields []string

	// TTLSeconds, when set, gives stored objects an etcd lease (events).
	TTLSeconds func(obj runtime.Object) uint64

	Table rest.TableConvertor

	// Scale, when set, serves the /scale subresource.
	Scale *ScaleAccess

	// ExtraStorage adds more subresources: name (e.g. "binding") to a
	// constructor given the main store.
	ExtraStorage map[string]func(store *Store) rest.Storage

	// DefaultGCPolicy, when set, is the propagation used when a delete
	// request names none (Jobs orphan their pods for batch/v1 clients).
	DefaultGCPolicy func(ctx context.Context) rest.GarbageCollectionPolicy
	// CheckGracefulDelete, when set, makes deletion graceful (pods): it sets
	// options.GracePeriodSeconds and returns true when the object should get a
	// deletionTimestamp instead of being removed at once.
	CheckGracefulDelete func(ctx context.Context, obj runtime.Object, options *metav1.DeleteOptions) bool

	// ShouldDeleteDuringUpdate, when set, replaces the generic rule that an
	// update removing the last finalizer of a deleted object removes it
	// (namespaces also wait for spec.finalizers).
	ShouldDeleteDuringUpdate func(ctx context.Context, key string, obj, existing runtime.Object) bool

	// WrapMain optionally replaces the main storage (e.g. namespaces' delete).
	WrapMain func(store *Store) rest.Storage
}

// GroupResource returns the definition's group and resource.
func (d *Definition) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: d.GroupVersion.Group, Resource: d.Resource}
}

// GroupVersionKind returns the definition's external kind.
func (d *Definition) GroupVersionKind() schema.GroupVersionKind {
	return d.GroupVersion.WithKind(d.Kind)
}

// ScaleAccess reads and writes the replica fields behind /scale.
type ScaleAccess struct {
	SpecReplicas   func(obj runtime.Object) int32
	SetReplicas    func(obj runtime.Object, replicas int32)
	StatusReplicas func(obj runtime.Object) int32
	// Selector returns the label selector string for status.selector.
	Selector func(obj runtime.Object) string
}
